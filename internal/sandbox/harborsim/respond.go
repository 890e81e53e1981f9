package harborsim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// apiError is one Harbor error. Codes and their statuses follow src/lib/errors
// (internal/harbor/API-NOTES.md "Errors").
type apiError struct {
	status  int
	code    string
	message string
}

func (e *apiError) Error() string { return e.code + ": " + e.message }

func errBadRequest(format string, a ...any) *apiError {
	return &apiError{http.StatusBadRequest, "BAD_REQUEST", fmt.Sprintf(format, a...)}
}
func errNotFound(format string, a ...any) *apiError {
	return &apiError{http.StatusNotFound, "NOT_FOUND", fmt.Sprintf(format, a...)}
}
func errConflict(format string, a ...any) *apiError {
	return &apiError{http.StatusConflict, "CONFLICT", fmt.Sprintf(format, a...)}
}
func errForbidden(msg string) *apiError { return &apiError{http.StatusForbidden, "FORBIDDEN", msg} }
func errUnauthorized() *apiError {
	return &apiError{http.StatusUnauthorized, "UNAUTHORIZED", "unauthorized"}
}

// errValidation is go-swagger's parameter validation failure: 422 with code
// upper(StatusText) and a "validation failure list:\n..." message (goharbor/harbor#13765).
func errValidation(msgs []string) *apiError {
	return &apiError{http.StatusUnprocessableEntity, "UNPROCESSABLE_ENTITY",
		"validation failure list:\n" + strings.Join(msgs, "\n")}
}

// errorBody renders Harbor's error body. src/lib/http/error.go writes it with fmt.Fprintln of
// json.Marshal output, hence the trailing newline and HTML escaping.
func errorBody(code, message string) []byte {
	b, _ := json.Marshal(map[string][]map[string]string{"errors": {{"code": code, "message": message}}})
	return append(b, '\n')
}

func writeError(w http.ResponseWriter, e *apiError) {
	msg := e.message
	if e.status >= 500 {
		msg = "internal server error" // Harbor rewrites every 5xx message (internal/harbor/API-NOTES.md "Errors")
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(e.status)
	_, _ = w.Write(errorBody(e.code, msg))
}

// writeJSON mimics go-openapi's JSON producer: json.Encoder without HTML escaping, so the body
// ends with a newline.
func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		writeError(w, &apiError{500, "UNKNOWN", err.Error()})
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// dateTime marshals like strfmt.DateTime: RFC3339 with milliseconds, in UTC; the zero time is
// "0001-01-01T00:00:00.000Z" (never-pulled artifacts, internal/harbor/API-NOTES.md "Artifacts").
type dateTime time.Time

const millisFormat = "2006-01-02T15:04:05.000Z07:00"

func (d dateTime) MarshalJSON() ([]byte, error) {
	return []byte(`"` + time.Time(d).UTC().Format(millisFormat) + `"`), nil
}

func dt(t time.Time) dateTime { return dateTime(t) }
func dtp(t time.Time) *dateTime {
	d := dateTime(t)
	return &d
}

// UnmarshalJSON accepts what MarshalJSON writes (used by tests and demo tooling).
func (d *dateTime) UnmarshalJSON(b []byte) error {
	t, err := time.Parse(`"`+time.RFC3339Nano+`"`, string(b))
	if err != nil {
		return err
	}
	*d = dateTime(t)
	return nil
}
