package port

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const (
	testID     = "client-id"
	testSecret = "s3cr3t-value-never-logged"
)

// fakePort is a small targeted Port stand-in: it issues tokens, rejects
// requests without a valid one, and serves whatever routes a test adds.
type fakePort struct {
	t   *testing.T
	srv *httptest.Server
	mux *http.ServeMux

	mu        sync.Mutex
	issued    int
	valid     map[string]bool
	expiresIn float64
	sameToken bool // re-issue the current token with its remaining life until it expires (internal/port/API-NOTES.md "Authentication and token lifetime"); needs clock
	clock     *fakeClock
	expiry    time.Time
	authDelay time.Duration // slow token route, to exercise singleflight
	authCalls atomic.Int32
	userAgent atomic.Value
}

func newFake(t *testing.T) *fakePort {
	t.Helper()
	f := &fakePort{t: t, mux: http.NewServeMux(), valid: map[string]bool{}, expiresIn: 10800}
	f.mux.HandleFunc("POST /v1/auth/access_token", f.auth)
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.userAgent.Store(r.Header.Get("User-Agent"))
		if r.URL.Path != "/v1/auth/access_token" {
			f.mu.Lock()
			ok := len(r.Header.Get("Authorization")) > 7 && f.valid[r.Header.Get("Authorization")[7:]]
			f.mu.Unlock()
			if !ok {
				writeJSON(w, 401, map[string]any{"ok": false, "error": "unauthorized", "message": "invalid token"})
				return
			}
		}
		f.mux.ServeHTTP(w, r)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakePort) auth(w http.ResponseWriter, r *http.Request) {
	f.authCalls.Add(1)
	if f.authDelay > 0 {
		time.Sleep(f.authDelay)
	}
	var body map[string]string
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil || len(body) != 2 {
		writeJSON(w, 422, map[string]any{"ok": false, "error": "invalid_request", "message": "bad body"})
		return
	}
	if body["clientId"] != testID || body["clientSecret"] != testSecret {
		writeJSON(w, 401, map[string]any{"ok": false, "error": "unauthorized", "message": "bad credentials"})
		return
	}
	f.mu.Lock()
	exp := f.expiresIn
	if f.sameToken && f.issued > 0 && f.clock.Now().Before(f.expiry) {
		exp = f.expiry.Sub(f.clock.Now()).Seconds()
	} else {
		f.issued++
		if f.clock != nil {
			f.expiry = f.clock.Now().Add(time.Duration(exp) * time.Second)
		}
	}
	tok := fmt.Sprintf("tok-%d", f.issued)
	f.valid[tok] = true
	f.mu.Unlock()
	writeJSON(w, 200, map[string]any{"ok": true, "accessToken": tok, "expiresIn": exp, "tokenType": "Bearer"})
}

// revokeAll invalidates every issued token (as Port does on rotation).
func (f *fakePort) revokeAll() {
	f.mu.Lock()
	f.valid = map[string]bool{}
	f.mu.Unlock()
}

func (f *fakePort) handle(pattern string, h http.HandlerFunc) { f.mux.HandleFunc(pattern, h) }

func (f *fakePort) client(t *testing.T, mods ...func(*Config)) *Client {
	t.Helper()
	cfg := Config{BaseURL: f.srv.URL, ClientID: testID, ClientSecret: testSecret, UserAgent: "harborport/test",
		MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond, MaxWait: 20 * time.Millisecond,
		PollInterval: time.Millisecond}
	for _, m := range mods {
		m(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func readJSON(t *testing.T, r *http.Request, v any) {
	t.Helper()
	b, err := io.ReadAll(r.Body)
	if err != nil {
		t.Errorf("reading body: %v", err)
		return
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Errorf("request body %q: %v", b, err)
	}
}

// fakeClock is a settable clock for token expiry and rate-limit resets.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *fakeClock { return &fakeClock{now: time.Unix(1_750_000_000, 0)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// recordSleeps replaces the client's sleeper (throttle and poll waits) with
// one that records and returns at once.
func recordSleeps(c *Client) *[]time.Duration {
	var mu sync.Mutex
	var got []time.Duration
	c.sleep = func(ctx context.Context, d time.Duration) error {
		mu.Lock()
		got = append(got, d)
		mu.Unlock()
		return ctx.Err()
	}
	return &got
}

func nopBody(b []byte) io.ReadCloser { return io.NopCloser(bytes.NewReader(b)) }
