package portsim

import (
	"fmt"
	"net/http"
)

// apiError is an error answered with Port's error shape
// {"ok":false,"error":<code>,"message":<text>} (internal/port/API-NOTES.md
// "Errors").
type apiError struct {
	status  int
	code    string
	message string
}

func (e *apiError) Error() string { return fmt.Sprintf("%d %s: %s", e.status, e.code, e.message) }

func (e *apiError) body() map[string]any {
	return map[string]any{"ok": false, "error": e.code, "message": e.message}
}

// Error codes. not_found and has_dependents are documented
// (internal/port/API-NOTES.md "Errors"). The others are INFERRED: the documents do
// not list them.
const (
	codeNotFound       = "not_found"
	codeHasDependents  = "has_dependents"
	codeInvalidRequest = "invalid_request"
	codeTaken          = "identifier_taken"
	codeUnauthorized   = "unauthorized"
	codeTooLarge       = "request_too_large"
	codeBadJSON        = "invalid_json"
	codeRateLimited    = "rate_limit_exceeded"
	codeInternal       = "internal_error"
)

// invalid reports a request that does not match the route's schema: Port
// answers 422 "The json provided does not match the route's schema" with an
// ajv-style message such as `"query" must have required property
// 'combinator'` (spec 422 responses; github.com/port-labs/port-mcp-server/issues/57).
func invalid(format string, args ...any) *apiError {
	return &apiError{status: http.StatusUnprocessableEntity, code: codeInvalidRequest, message: fmt.Sprintf(format, args...)}
}

func notFound(format string, args ...any) *apiError {
	return &apiError{status: http.StatusNotFound, code: codeNotFound, message: fmt.Sprintf(format, args...)}
}

// hasDependents is answered with 422: the spec lists only 200/401/404/413/422
// for DELETE /v1/blueprints/{identifier} and the entity delete routes, and the
// TF provider matches the code, not the status (port/blueprint/resource.go).
func hasDependents(format string, args ...any) *apiError {
	return &apiError{status: http.StatusUnprocessableEntity, code: codeHasDependents, message: fmt.Sprintf(format, args...)}
}

// taken: creating something that exists. 409 is INFERRED (the spec lists no
// 409 for these routes, but the code must differ from validation errors).
func taken(format string, args ...any) *apiError {
	return &apiError{status: http.StatusConflict, code: codeTaken, message: fmt.Sprintf(format, args...)}
}

func unauthorized(msg string) *apiError {
	return &apiError{status: http.StatusUnauthorized, code: codeUnauthorized, message: msg}
}

func blueprintNotFound(id string) *apiError {
	// Wording from a real response quoted in terraform-provider-port-labs PR #438.
	return notFound("Blueprint with identifier %q was not found", id)
}

func entityNotFound(bp, id string) *apiError {
	return notFound("Entity with identifier %q of blueprint %q was not found", id, bp)
}
