package portsim

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	testClientID     = "cid-123"
	testClientSecret = "s3cret-value"
)

// fakeClock is an injectable clock tests advance by hand.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

type harness struct {
	t     *testing.T
	srv   *Server
	hs    *httptest.Server
	clock *fakeClock
	token string
}

func newHarness(t *testing.T, mod ...func(*Options)) *harness {
	t.Helper()
	clock := &fakeClock{now: time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)}
	opts := Options{ClientID: testClientID, ClientSecret: testClientSecret, Clock: clock.Now, Seed: 42}
	for _, m := range mod {
		m(&opts)
	}
	srv := New(opts)
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	h := &harness{t: t, srv: srv, hs: hs, clock: clock}
	h.token = h.login()
	return h
}

// sub returns the harness bound to a subtest's t, so failures land on it.
func (h *harness) sub(t *testing.T) *harness {
	c := *h
	c.t = t
	return &c
}

func (h *harness) login() string {
	h.t.Helper()
	st, body, _ := h.raw("POST", "/v1/auth/access_token", "", map[string]any{"clientId": testClientID, "clientSecret": testClientSecret})
	if st != 200 {
		h.t.Fatalf("login: %d %v", st, body)
	}
	return as[string](h.t, body["accessToken"])
}

// raw sends a request with the given bearer token ("" = none). body may be
// nil, []byte (sent as is) or any JSON-encodable value.
func (h *harness) raw(method, path, token string, body any) (int, map[string]any, http.Header) {
	h.t.Helper()
	var rdr io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rdr = bytes.NewReader(b)
	default:
		buf, err := json.Marshal(b)
		if err != nil {
			h.t.Fatal(err)
		}
		rdr = bytes.NewReader(buf)
	}
	req, err := http.NewRequest(method, h.hs.URL+path, rdr)
	if err != nil {
		h.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if rdr != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := h.hs.Client().Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	data, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(data, &out); err != nil {
		h.t.Fatalf("%s %s: response is not a JSON object: %q", method, path, data)
	}
	return resp.StatusCode, out, resp.Header
}

func (h *harness) do(method, path string, body any) (int, map[string]any) {
	h.t.Helper()
	st, out, _ := h.raw(method, path, h.token, body)
	return st, out
}

// must sends a request and fails the test unless the status matches.
func (h *harness) must(want int, method, path string, body any) map[string]any {
	h.t.Helper()
	st, out := h.do(method, path, body)
	if st != want {
		h.t.Fatalf("%s %s: status %d, want %d; body %v", method, path, st, want, out)
	}
	return out
}

// expectError checks Port's error shape: status, ok:false, error code, message substring.
func expectError(t *testing.T, st int, body map[string]any, wantStatus int, wantCode, wantMsg string) {
	t.Helper()
	if st != wantStatus {
		t.Fatalf("status %d, want %d; body %v", st, wantStatus, body)
	}
	if body["ok"] != false {
		t.Errorf("ok = %v, want false", body["ok"])
	}
	if wantCode != "" && body["error"] != wantCode {
		t.Errorf("error = %v, want %q (message %v)", body["error"], wantCode, body["message"])
	}
	msg, _ := body["message"].(string)
	if msg == "" {
		t.Errorf("message is empty")
	}
	if wantMsg != "" && !strings.Contains(msg, wantMsg) {
		t.Errorf("message %q does not contain %q", msg, wantMsg)
	}
}

// Fixture blueprints: project ← repository ← artifact (relations), with every property type.
func projectBP() map[string]any {
	return map[string]any{
		"identifier": "project", "title": "Project",
		"schema": map[string]any{
			"properties": map[string]any{
				"name":    map[string]any{"type": "string"},
				"public":  map[string]any{"type": "boolean"},
				"count":   map[string]any{"type": "number"},
				"created": map[string]any{"type": "string", "format": "date-time"},
				"owner":   map[string]any{"type": "string", "format": "email"},
				"link":    map[string]any{"type": "string", "format": "url"},
				"tags":    map[string]any{"type": "array", "items": map[string]any{"type": "string"}},
				"meta":    map[string]any{"type": "object"},
				"level":   map[string]any{"type": "string", "enum": []any{"low", "high"}},
			},
			"required": []any{"name"},
		},
	}
}

func repositoryBP() map[string]any {
	return map[string]any{
		"identifier": "repository", "title": "Repository",
		"schema": map[string]any{"properties": map[string]any{
			"name":  map[string]any{"type": "string"},
			"pulls": map[string]any{"type": "number"},
		}},
		"relations": map[string]any{"project": map[string]any{"target": "project", "required": false, "many": false}},
	}
}

func artifactBP() map[string]any {
	return map[string]any{
		"identifier": "artifact", "title": "Artifact",
		"schema": map[string]any{"properties": map[string]any{
			"digest": map[string]any{"type": "string"},
		}},
		"relations": map[string]any{
			"repository": map[string]any{"target": "repository", "required": false, "many": false},
			"related":    map[string]any{"target": "repository", "required": false, "many": true},
		},
	}
}

// withFixtures creates the three blueprints.
func (h *harness) withFixtures() *harness {
	h.t.Helper()
	for _, bp := range []map[string]any{projectBP(), repositoryBP(), artifactBP()} {
		h.must(201, "POST", "/v1/blueprints", bp)
	}
	return h
}

func (h *harness) upsert(bp string, e map[string]any) map[string]any {
	h.t.Helper()
	return h.must(201, "POST", "/v1/blueprints/"+bp+"/entities?upsert=true", e)
}

func ids(t *testing.T, body map[string]any) []string {
	t.Helper()
	arr, _ := body["entities"].([]any)
	out := []string{}
	for _, x := range arr {
		out = append(out, as[string](t, as[map[string]any](t, x)["identifier"]))
	}
	return out
}

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
