package harbor

import (
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// ErrBadCredentials: Harbor never rejects bad Basic credentials outright; it serves the request
// as anonymous (internal/harbor/API-NOTES.md "Authentication and CSRF"). Verify detects that from
// /systeminfo.
var ErrBadCredentials = errors.New("Harbor accepted the request as anonymous: the username/password (HARBOR_USERNAME/HARBOR_PASSWORD) are wrong, or the robot is disabled/expired")

// ErrInvalidCACert is returned by New when the CA certificate option holds
// no PEM certificate (a file name instead of its contents, say).
var ErrInvalidCACert = errors.New("harbor_ca_certificate (HARBOR_CA_CERTIFICATE) holds no valid PEM certificate: expected one or more -----BEGIN CERTIFICATE----- blocks")

// APIError is a non-2xx answer from Harbor. Harbor's body is {"errors":[{"code","message"}]}
// (src/lib/http/error.go); a body that is not in that shape (a proxy page) is kept, shortened, in Body.
type APIError struct {
	Status    int
	Code      string // Harbor's code, e.g. NOT_FOUND; "" when the body was not Harbor's JSON
	Message   string
	Method    string
	Path      string // escaped request path, without the query
	RequestID string // Harbor's X-Request-Id, else the one this client sent
	Hint      string // what to do about it, when we know
	Body      string // excerpt of a non-Harbor body
	Attempts  int    // > 1 when retries were exhausted
}

func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Harbor API %s %s: %d", e.Method, e.Path, e.Status)
	if e.Code != "" {
		b.WriteString(" " + e.Code)
	}
	switch {
	case e.Message != "":
		b.WriteString(": " + e.Message)
	case e.Body != "":
		fmt.Fprintf(&b, ": non-Harbor response %q", e.Body)
	}
	if e.Attempts > 1 {
		fmt.Fprintf(&b, " (after %d attempts)", e.Attempts)
	}
	if e.RequestID != "" {
		fmt.Fprintf(&b, " (request id %s)", e.RequestID)
	}
	if e.Hint != "" {
		b.WriteString(". " + e.Hint)
	}
	return b.String()
}

// routeMiss: Harbor answers an unmatched route with 404 NOT_FOUND "path … was not found"
// (goharbor/harbor#10860, #12224), which must not be mistaken for "resource absent".
func (e *APIError) routeMiss() bool {
	return e.Status == 404 && strings.HasPrefix(e.Message, "path ") && strings.HasSuffix(e.Message, " was not found")
}

// IsNotFound reports whether Harbor said the resource does not exist: a 404 with Harbor's JSON
// body that is not a route miss. A proxy's 404 page or an unknown route is not "not found".
func IsNotFound(err error) bool {
	var e *APIError
	return errors.As(err, &e) && e.Status == 404 && e.Code != "" && !e.routeMiss()
}

// IsRouteNotFound reports a 404 for an API path Harbor does not have (wrong harbor_url, old Harbor,
// or a badly encoded repository name).
func IsRouteNotFound(err error) bool {
	var e *APIError
	return errors.As(err, &e) && e.routeMiss()
}

// IsConflict reports Harbor's 409 CONFLICT (e.g. a webhook policy name already used in the project).
func IsConflict(err error) bool {
	var e *APIError
	return errors.As(err, &e) && e.Status == 409
}

// IsExecutionsNotFinal reports Harbor refusing to delete a webhook policy while one of its
// delivery executions is not in a final status: 412 with code UNKNOWN, "… contains executions
// that aren't in final status, stop the execution first" (internal/harbor/API-NOTES.md "Webhook
// policies"; testdata/real-api-webhook-policy-delete-412.txt). It passes once Harbor has marked
// the execution final, up to about a minute after the last delivery attempt.
func IsExecutionsNotFinal(err error) bool {
	var e *APIError
	return errors.As(err, &e) && e.Status == 412 && strings.Contains(e.Message, "aren't in final status")
}

// IsForbidden reports 401 or 403.
func IsForbidden(err error) bool {
	var e *APIError
	return errors.As(err, &e) && (e.Status == 401 || e.Status == 403)
}

// newAPIError builds an APIError from a response and attaches a hint for the common cases.
func newAPIError(method, path string, status int, requestID string, body []byte, attempts int) *APIError {
	e := &APIError{Status: status, Method: method, Path: path, RequestID: requestID, Attempts: attempts}
	var hb struct {
		Errors []struct{ Code, Message string } `json:"errors"`
	}
	if json.Unmarshal(body, &hb) == nil && len(hb.Errors) > 0 {
		codes, msgs := make([]string, 0, len(hb.Errors)), make([]string, 0, len(hb.Errors))
		for _, x := range hb.Errors {
			codes = append(codes, x.Code)
			msgs = append(msgs, x.Message)
		}
		e.Code, e.Message = strings.Join(codes, ","), strings.Join(msgs, "; ")
	} else {
		e.Body = excerpt(body, 200)
	}
	e.Hint = statusHint(e)
	return e
}

func statusHint(e *APIError) string {
	switch {
	case e.Status == 401:
		return "Harbor treated the request as anonymous: check harbor_username/harbor_password (HARBOR_USERNAME/HARBOR_PASSWORD); a robot account must be enabled and not expired"
	case e.Status == 403 && strings.Contains(e.Message, "CSRF"):
		return "a session cookie was sent, which turns on Harbor's CSRF check: use an HTTP client without a cookie jar"
	case e.Status == 403:
		return "the account lacks the permission for this call (a robot needs e.g. project repository:list/artifact:list, system project:list), or the project does not exist (Harbor answers 403 to non-admins for unknown projects)"
	case e.routeMiss():
		return "Harbor has no such API route: check that harbor_url is the Harbor base URL and Harbor is v2.x"
	case e.Status == 404 && e.Code == "":
		return "the server did not answer like Harbor: check harbor_url"
	case e.Status == 400 && e.Code == "" && looksLikePlainHTTPToTLS(e.Body):
		return "the server expects HTTPS: change harbor_url to https://"
	case e.Status >= 300 && e.Status < 400:
		return "Harbor redirected the request (redirects are not followed, they would drop the method or credentials): set harbor_url to the final URL"
	}
	return ""
}

// looksLikePlainHTTPToTLS spots a TLS server's answer to plain HTTP: nginx says
// "The plain HTTP request was sent to HTTPS port", Go servers say "Client
// sent an HTTP request to an HTTPS server.".
func looksLikePlainHTTPToTLS(body string) bool {
	return strings.Contains(body, "plain HTTP request was sent to HTTPS") || strings.Contains(body, "HTTP request to an HTTPS server")
}

func excerpt(b []byte, n int) string {
	s := strings.Join(strings.Fields(string(b)), " ")
	if len(s) > n {
		s = s[:n] + "…"
	}
	return s
}

// TransportError is a request that got no HTTP answer (or an unusable one). Hint names the
// setting to change.
type TransportError struct {
	Method, URL string // URL without query
	Attempts    int
	Hint        string
	Err         error
}

func (e *TransportError) Error() string {
	s := fmt.Sprintf("Harbor API %s %s: %v", e.Method, e.URL, e.Err)
	if e.Attempts > 1 {
		s += fmt.Sprintf(" (after %d attempts)", e.Attempts)
	}
	if e.Hint != "" {
		s += ". " + e.Hint
	}
	return s
}

func (e *TransportError) Unwrap() error { return e.Err }

// transportHint maps low-level failures to the provider setting that fixes them.
func transportHint(u *url.URL, err error, timeout time.Duration) string {
	var unknownCA x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var invalid x509.CertificateInvalidError
	var dnsErr *net.DNSError
	msg := err.Error()
	switch {
	case errors.As(err, &unknownCA) || strings.Contains(msg, "certificate signed by unknown authority"):
		return "Harbor's TLS certificate is signed by an unknown authority: set harbor_ca_certificate (HARBOR_CA_CERTIFICATE) to the PEM of the signing CA, or harbor_insecure = true (HARBOR_INSECURE) to skip verification (not recommended)"
	case errors.As(err, &hostErr):
		return fmt.Sprintf("Harbor's TLS certificate is not valid for %q: use a harbor_url host the certificate names, or harbor_insecure = true (not recommended)", u.Hostname())
	case errors.As(err, &invalid):
		return "Harbor's TLS certificate is invalid (expired or not yet valid?): renew it, or set harbor_insecure = true (not recommended)"
	case strings.Contains(msg, "server gave HTTP response to HTTPS client"):
		return "harbor_url uses https:// but the server speaks plain HTTP: change harbor_url to http:// (or enable TLS on Harbor)"
	case strings.Contains(msg, "first record does not look like a TLS handshake") || strings.Contains(msg, "tls: "):
		return "the TLS handshake failed: check harbor_url's scheme and port, and harbor_ca_certificate"
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Sprintf("nothing accepts connections at %s: check harbor_url's host, port and scheme, and that Harbor is running", u.Host)
	case errors.As(err, &dnsErr):
		return fmt.Sprintf("cannot resolve host %q: check harbor_url", u.Hostname())
	case isTimeout(err):
		return fmt.Sprintf("Harbor did not answer within the per-request timeout (%s): Harbor, a proxy or the network is hanging", timeout)
	}
	return ""
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}
