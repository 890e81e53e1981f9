package port

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

func TestAPIErrorString(t *testing.T) {
	tests := []struct {
		e    APIError
		want string
	}{
		{APIError{Status: 422, Code: "invalid_request", Message: "bad", TraceID: "abc", Method: "POST", Path: "/v1/blueprints"},
			"Port API POST /v1/blueprints: 422 invalid_request: bad (trace id: abc)"},
		{APIError{Status: 404, Code: "not_found", Message: "gone", Method: "GET", Path: "/v1/x"},
			"Port API GET /v1/x: 404 not_found: gone"},
		{APIError{Code: CodeInvalidEntity, Message: "empty", Method: "POST", Path: "/v1/b"},
			"Port API POST /v1/b: invalid_entity: empty"},
		{APIError{Status: 503, Message: "down", Method: "GET", Path: "/v1/x", Attempts: 9, Hint: "retry later"},
			"Port API GET /v1/x: 503: down after 9 attempts; retry later"},
	}
	for _, tt := range tests {
		if got := tt.e.Error(); got != tt.want {
			t.Errorf("got  %q\nwant %q", got, tt.want)
		}
	}
}

func TestParseAPIError(t *testing.T) {
	noRedact := func(s string) string { return s }
	e := parseAPIError("DELETE", "/v1/blueprints/a", 422, "t1", []byte(`{"ok":false,"error":"has_dependents","message":"has 3 entities"}`), noRedact)
	if e.Code != "has_dependents" || e.Message != "has 3 entities" || e.TraceID != "t1" || !HasCode(fmt.Errorf("wrap: %w", e), "has_dependents") {
		t.Errorf("parsed %+v", e)
	}

	long := "<html><body>" + strings.Repeat("Bad gateway ", 100) + "</body></html>"
	e = parseAPIError("GET", "/v1/x", 502, "", []byte(long), noRedact)
	if !strings.HasPrefix(e.Message, "unexpected non-JSON response: <html><body>Bad gateway") || len(e.Message) > 260 || !strings.HasSuffix(e.Message, "…") {
		t.Errorf("snippet = %q", e.Message)
	}
	if e.Hint == "" {
		t.Error("5xx error has no hint")
	}

	e = parseAPIError("GET", "/v1/x", 504, "", nil, noRedact)
	if e.Message != "Gateway Timeout" {
		t.Errorf("empty body message = %q", e.Message)
	}
}

func TestErrorsNeverEchoTheSecret(t *testing.T) {
	f := newFake(t)
	f.handle("GET /v1/blueprints", func(w http.ResponseWriter, r *http.Request) {
		// A misbehaving proxy echoing what it saw.
		writeJSON(w, 400, map[string]any{"ok": false, "error": "bad", "message": "saw " + testSecret + " and " + r.Header.Get("Authorization")})
	})
	c := f.client(t)
	_, err := c.ListBlueprints(t.Context())
	if err == nil {
		t.Fatal("want error")
	}
	if strings.Contains(err.Error(), testSecret) || strings.Contains(err.Error(), "tok-1") {
		t.Errorf("error leaks a secret: %v", err)
	}
	if !strings.Contains(err.Error(), "[REDACTED]") {
		t.Errorf("error = %v", err)
	}
}

func TestStatusPredicates(t *testing.T) {
	wrap := func(s int) error { return fmt.Errorf("ctx: %w", &APIError{Status: s}) }
	if !IsNotFound(wrap(http.StatusNotFound)) || IsNotFound(wrap(400)) || IsNotFound(nil) {
		t.Error("IsNotFound")
	}
	if !IsConflict(wrap(http.StatusConflict)) || !IsUnauthorized(wrap(http.StatusUnauthorized)) {
		t.Error("IsConflict/IsUnauthorized")
	}
}
