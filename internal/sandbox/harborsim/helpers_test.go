package harborsim

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

type tc struct {
	t  *testing.T
	s  *Server
	ts *httptest.Server
}

func newTC(t *testing.T, opts Options) *tc {
	t.Helper()
	s := New(opts)
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	return &tc{t: t, s: s, ts: ts}
}

type resp struct {
	status int
	header http.Header
	body   string
}

func (r resp) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(r.body), v); err != nil {
		t.Fatalf("decode %q: %v", r.body, err)
	}
}

// req sends a request; auth "user:pass" ("" = anonymous); rawPath is used verbatim.
func (c *tc) req(method, rawPath, auth string, body string, hdr ...string) resp {
	c.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	rq, err := http.NewRequest(method, c.ts.URL+rawPath, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	if auth != "" {
		u, p, _ := strings.Cut(auth, ":")
		rq.SetBasicAuth(u, p)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		rq.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := c.ts.Client().Do(rq)
	if err != nil {
		c.t.Fatal(err)
	}
	defer func() { _ = res.Body.Close() }()
	b, _ := io.ReadAll(res.Body)
	return resp{status: res.StatusCode, header: res.Header, body: string(b)}
}

const admin = "admin:Harbor12345"

func mustPush(t *testing.T, s *Server, project, repo string, tags []string, opts PushOptions) string {
	t.Helper()
	d, err := s.PushArtifact(project, repo, tags, opts)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func errBody(code, msg string) string { return string(errorBody(code, msg)) }

// as asserts v's dynamic type for decoded JSON in tests, failing with what was found instead of
// panicking.
func as[T any](tb testing.TB, v any) T {
	tb.Helper()
	x, ok := v.(T)
	if !ok {
		tb.Fatalf("got %T %v, want %T", v, v, x)
	}
	return x
}
