package harbor

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"
)

const (
	testUser = "admin"
	testPass = "Harbor12345"
)

// stub is a small Harbor stand-in built from the real v2.15.2 captures in testdata/. It is strict
// where the client must be: Basic auth on every call (else Harbor's anonymous behaviour), a sid
// cookie on every answer with CSRF enforcement when one comes back (internal/harbor/API-NOTES.md
// "Authentication and CSRF"), page_size capped at 100 with Harbor's 422
// (internal/harbor/API-NOTES.md "Paging"), and X-Request-Id echoed.
type stub struct {
	t      *testing.T
	mu     sync.Mutex
	routes map[string]http.HandlerFunc // "METHOD escaped-path"
	log    []recorded
	srv    *httptest.Server
}

type recorded struct {
	Method, URI string // URI = RequestURI (escaped, as sent)
	Header      http.Header
	Body        []byte
}

func newStub(t *testing.T) *stub {
	t.Helper()
	s := &stub{t: t, routes: map[string]http.HandlerFunc{}}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *stub) handle(method, escapedPath string, h http.HandlerFunc) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.routes[method+" "+escapedPath] = h
}

func (s *stub) requests() []recorded {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]recorded(nil), s.log...)
}

func (s *stub) serve(w http.ResponseWriter, r *http.Request) {
	var body []byte
	if r.Body != nil {
		body, _ = readAllLimit(r)
	}
	s.mu.Lock()
	s.log = append(s.log, recorded{Method: r.Method, URI: r.RequestURI, Header: r.Header.Clone(), Body: body})
	h := s.routes[r.Method+" "+r.URL.EscapedPath()]
	s.mu.Unlock()

	rid := r.Header.Get("X-Request-Id")
	if rid == "" {
		rid = "stub-request-id"
	}
	w.Header().Set("X-Request-Id", rid)
	w.Header().Set("Set-Cookie", "sid=c82a1d15defd31ba5ee4fa2eb55ee402; Path=/; HttpOnly")
	if _, err := r.Cookie("sid"); err == nil && r.Method != http.MethodGet {
		harborError(w, 403, "FORBIDDEN", "CSRF token invalid")
		return
	}
	if ps := r.URL.Query().Get("page_size"); ps != "" {
		if n, _ := strconv.Atoi(ps); n > 100 {
			harborError(w, 422, "UNPROCESSABLE_ENTITY", "validation failure list:\npage_size in query should be less than or equal to 100")
			return
		}
	}
	u, p, ok := r.BasicAuth()
	authed := ok && u == testUser && p == testPass
	if r.URL.Path == "/api/v2.0/systeminfo" && !authed {
		// Anonymous callers get only the public subset (systeminfo controller GetInfo).
		writeJSON(w, map[string]any{"auth_mode": "db_auth", "primary_auth_mode": false, "self_registration": false, "banner_message": "", "oidc_provider_name": ""})
		return
	}
	if !authed {
		harborError(w, 401, "UNAUTHORIZED", "unauthorized")
		return
	}
	if h == nil {
		harborError(w, 404, "NOT_FOUND", "path "+r.URL.Path+" was not found")
		return
	}
	h(w, r)
}

func readAllLimit(r *http.Request) ([]byte, error) {
	defer func() { _ = r.Body.Close() }() // the server closes it too; read errors are returned
	return io.ReadAll(io.LimitReader(r.Body, 1<<20))
}

func harborError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	b, _ := json.Marshal(map[string]any{"errors": []map[string]string{{"code": code, "message": msg}}})
	_, _ = fmt.Fprintln(w, string(b)) // a failed write shows as a client error in the test; Harbor writes a trailing newline (src/lib/http/error.go)
}

// writeJSON answers 200 with v as JSON.
func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_ = json.NewEncoder(w).Encode(v)
}

// pageOf serves items the way Harbor pages them: page/page_size (default 10), X-Total-Count,
// and a relative Link header (lib/link.go).
func pageOf(items []any) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		page, _ := strconv.Atoi(q.Get("page"))
		size, _ := strconv.Atoi(q.Get("page_size"))
		if page <= 0 {
			page = 1
		}
		if size <= 0 {
			size = 10
		}
		lo := min((page-1)*size, len(items))
		hi := min(lo+size, len(items))
		w.Header().Set("X-Total-Count", strconv.Itoa(len(items)))
		if hi < len(items) {
			w.Header().Set("Link", fmt.Sprintf(`<%s?page=%d&page_size=%d>; rel="next"`, r.URL.Path, page+1, size))
		}
		writeJSON(w, items[lo:hi])
	}
}

func loadJSON(t *testing.T, name string) any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return v
}

// fastConfig returns a Config for url with test-sized backoff and timeout.
func fastConfig(url string) Config {
	return Config{
		URL: url, Username: testUser, Password: testPass,
		MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond,
		Timeout: 2 * time.Second,
	}
}

func newTestClient(t *testing.T, cfg Config) *Client {
	t.Helper()
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// genItems makes n objects with a numeric id field.
func genItems(n int, idField string) []any {
	out := make([]any, n)
	for i := range out {
		out[i] = map[string]any{idField: i + 1, "name": fmt.Sprintf("item-%03d", i+1)}
	}
	return out
}

func parseURIQuery(t *testing.T, uri string) url.Values {
	t.Helper()
	u, err := url.ParseRequestURI(uri)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query()
}

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}
