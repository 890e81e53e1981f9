package port

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"
)

// APIError is a non-2xx answer from Port (or a per-entity failure inside a
// 207 bulk answer). Port's error body is {"ok":false,"error":<code>,"message":<text>}
// (internal/port/API-NOTES.md "Errors"); X-Trace-Id identifies the request for
// Port support (internal/port/API-NOTES.md "Base URLs and request limits").
type APIError struct {
	Status  int    // HTTP status (per-entity statusCode for bulk results)
	Code    string // Port's "error" field, e.g. "not_found", "has_dependents"
	Message string // Port's "message", or a short snippet of a non-JSON body
	TraceID string // X-Trace-Id response header
	Method  string
	Path    string // request path without query, e.g. /v1/blueprints/service

	// Attempts is how many times the request was sent (>1 after retries).
	Attempts int
	// Hint tells the user what to do about the error, when the client knows.
	Hint string
}

func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Port API %s %s: ", e.Method, e.Path)
	head := make([]string, 0, 2)
	if e.Status != 0 {
		head = append(head, strconv.Itoa(e.Status))
	}
	if e.Code != "" {
		head = append(head, e.Code)
	}
	b.WriteString(strings.Join(head, " "))
	if e.Message != "" {
		if len(head) > 0 {
			b.WriteString(": ")
		}
		b.WriteString(e.Message)
	}
	if e.TraceID != "" {
		fmt.Fprintf(&b, " (trace id: %s)", e.TraceID)
	}
	if e.Attempts > 1 {
		fmt.Fprintf(&b, " after %d attempts", e.Attempts)
	}
	if e.Hint != "" {
		b.WriteString("; ")
		b.WriteString(e.Hint)
	}
	return b.String()
}

// IsNotFound reports whether err is a Port 404.
func IsNotFound(err error) bool { return hasStatus(err, http.StatusNotFound) }

// IsConflict reports whether err is a Port 409 (the identifier is already taken).
func IsConflict(err error) bool { return hasStatus(err, http.StatusConflict) }

// IsUnauthorized reports whether err is a Port 401 (bad credentials, or a
// token that stayed invalid after one refresh).
func IsUnauthorized(err error) bool { return hasStatus(err, http.StatusUnauthorized) }

// HasCode reports whether err is a Port error with the given "error" code,
// e.g. HasCode(err, "has_dependents").
func HasCode(err error, code string) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Code == code
}

func hasStatus(err error, status int) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Status == status
}

// maxSnippet bounds how much of a non-JSON error body goes into an error.
const maxSnippet = 200

// parseAPIError builds an APIError from an error response body. redact
// removes secrets that a misbehaving server or proxy might echo back.
func parseAPIError(method, path string, status int, traceID string, body []byte, redact func(string) string) *APIError {
	e := &APIError{Status: status, TraceID: traceID, Method: method, Path: path}
	var wire struct {
		Error   string `json:"error"`
		Message string `json:"message"`
	}
	if err := json.Unmarshal(body, &wire); err == nil && (wire.Error != "" || wire.Message != "") {
		e.Code, e.Message = wire.Error, wire.Message
	} else {
		e.Message = snippet(body)
		if e.Message == "" {
			e.Message = http.StatusText(status)
		} else {
			e.Message = "unexpected non-JSON response: " + e.Message
		}
	}
	e.Message = redact(e.Message)
	e.Hint = hintFor(e)
	return e
}

// snippet returns the start of body on one line, cut at a rune boundary.
func snippet(body []byte) string {
	s := strings.Join(strings.Fields(string(body)), " ")
	if len(s) <= maxSnippet {
		return s
	}
	cut := maxSnippet
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

func hintFor(e *APIError) string {
	switch {
	case e.Status == http.StatusUnauthorized && e.Path == authPath:
		return "check port_client_id / port_client_secret (PORT_CLIENT_ID / PORT_CLIENT_SECRET) and that port_base_url is your organization's region (https://api.port.io for EU, https://api.us.port.io for US)"
	case e.Status == http.StatusUnauthorized:
		return "the access token was rejected even after a refresh; check that the Port credentials are still valid"
	case e.Status == http.StatusForbidden:
		return "the Port credentials lack permission for this operation; use credentials with admin rights on the blueprint"
	case e.Status == http.StatusTooManyRequests:
		return "Port's rate limit was still exceeded after all retries; lower max_concurrency or retry later"
	case e.Status >= 500:
		return "Port appears to be unavailable; retry later"
	}
	return ""
}
