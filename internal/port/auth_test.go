package port

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

func okBlueprints(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, 200, map[string]any{"ok": true, "blueprints": []any{}})
}

func TestAuthenticateBadCredentials(t *testing.T) {
	f := newFake(t)
	c := f.client(t, func(cfg *Config) { cfg.ClientSecret = "wrong-secret-value" })
	err := c.Authenticate(t.Context())
	if !IsUnauthorized(err) {
		t.Fatalf("err = %v, want 401", err)
	}
	msg := err.Error()
	if strings.Contains(msg, "wrong-secret-value") || !strings.Contains(msg, "PORT_CLIENT_SECRET") || !strings.Contains(msg, "/v1/auth/access_token") {
		t.Errorf("error = %q: must name the route and the fix, never the secret", msg)
	}
	if f.authCalls.Load() != 1 {
		t.Errorf("auth calls = %d: a 401 from the auth route must not be retried", f.authCalls.Load())
	}
}

func TestTokenIsCached(t *testing.T) {
	f := newFake(t)
	f.handle("GET /v1/blueprints", okBlueprints)
	c := f.client(t)
	for range 5 {
		if _, err := c.ListBlueprints(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	if n := f.authCalls.Load(); n != 1 {
		t.Errorf("auth calls = %d, want 1", n)
	}
}

func TestProactiveRefresh(t *testing.T) {
	tests := []struct {
		name      string
		expiresIn float64
		noRefresh time.Duration // still cached at this age
		refresh   time.Duration // refreshed at this age
	}{
		{"3h token refreshes at 80%", 10800, 8639 * time.Second, 8640 * time.Second},
		{"short token keeps 60s margin", 200, 139 * time.Second, 140 * time.Second},
		{"tiny token refreshes at half life", 30, 14 * time.Second, 15 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t)
			f.expiresIn = tt.expiresIn
			f.handle("GET /v1/blueprints", okBlueprints)
			clk := newClock()
			c := f.client(t, func(cfg *Config) { cfg.Clock = clk.Now })
			call := func() {
				t.Helper()
				if _, err := c.ListBlueprints(t.Context()); err != nil {
					t.Fatal(err)
				}
			}
			call()
			clk.Advance(tt.noRefresh)
			call()
			if n := f.authCalls.Load(); n != 1 {
				t.Fatalf("auth calls at %v = %d, want 1", tt.noRefresh, n)
			}
			clk.Advance(tt.refresh - tt.noRefresh)
			call()
			if n := f.authCalls.Load(); n != 2 {
				t.Fatalf("auth calls at %v = %d, want 2", tt.refresh, n)
			}
		})
	}
}

// Port re-issues the same token, with its remaining life, until it expires:
// refreshing early must not turn into one auth call per request.
func TestSameTokenIsKeptUntilExpiry(t *testing.T) {
	f := newFake(t)
	clk := newClock()
	f.sameToken, f.clock, f.expiresIn = true, clk, 100
	f.handle("GET /v1/blueprints", okBlueprints)
	c := f.client(t, func(cfg *Config) { cfg.Clock = clk.Now })
	call := func() {
		t.Helper()
		if _, err := c.ListBlueprints(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	call() // t=0: tok-1, expires at 100s, refresh due at 50s
	clk.Advance(60 * time.Second)
	call() // t=60: refresh → same token (40s left)
	if n := f.authCalls.Load(); n != 2 {
		t.Fatalf("auth calls = %d, want 2", n)
	}
	for range 39 { // t=61..99: the same token is all Port would give
		clk.Advance(time.Second)
		call()
	}
	if n := f.authCalls.Load(); n != 2 {
		t.Errorf("auth calls before expiry = %d, want still 2", n)
	}
	clk.Advance(time.Second)
	call() // t=100: expired → a new token
	if n := f.authCalls.Load(); n != 3 || f.issued != 2 {
		t.Errorf("auth calls = %d, tokens issued = %d; want 3 and 2", n, f.issued)
	}
}

func TestRefreshOnceOn401AndReplayBody(t *testing.T) {
	f := newFake(t)
	var bodies []string
	f.handle("POST /v1/blueprints", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		bodies = append(bodies, string(b))
		writeJSON(w, 201, map[string]any{"ok": true, "blueprint": map[string]any{"identifier": "svc", "title": "S", "schema": map[string]any{"properties": map[string]any{}}}})
	})
	c := f.client(t)
	if err := c.Authenticate(t.Context()); err != nil {
		t.Fatal(err)
	}
	f.revokeAll() // the cached token is now rejected
	if _, err := c.CreateBlueprint(t.Context(), Blueprint{Identifier: "svc", Title: "S"}); err != nil {
		t.Fatal(err)
	}
	if n := f.authCalls.Load(); n != 2 {
		t.Errorf("auth calls = %d, want 2", n)
	}
	if len(bodies) != 1 || !strings.Contains(bodies[0], `"identifier":"svc"`) {
		t.Errorf("bodies = %q", bodies)
	}
	if got := c.Stats()["POST /v1/blueprints"]; got != 2 {
		t.Errorf("POST attempts = %d, want 2 (401 then replay)", got)
	}
}

func TestSecond401IsReturned(t *testing.T) {
	f := newFake(t)
	f.handle("GET /v1/blueprints", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 401, map[string]any{"ok": false, "error": "unauthorized", "message": "token revoked"})
	})
	c := f.client(t)
	_, err := c.ListBlueprints(t.Context())
	if !IsUnauthorized(err) {
		t.Fatalf("err = %v, want 401", err)
	}
	if n := f.authCalls.Load(); n != 2 {
		t.Errorf("auth calls = %d, want 2 (initial + one refresh)", n)
	}
	if got := c.Stats()["GET /v1/blueprints"]; got != 2 {
		t.Errorf("attempts = %d, want 2", got)
	}
}

func TestConcurrentCallersShareOneRefresh(t *testing.T) {
	f := newFake(t)
	f.authDelay = 30 * time.Millisecond
	f.handle("GET /v1/blueprints", okBlueprints)
	c := f.client(t)
	var wg sync.WaitGroup
	errs := make(chan error, 50)
	for range 50 {
		wg.Go(func() {
			_, err := c.ListBlueprints(t.Context())
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := f.authCalls.Load(); n != 1 {
		t.Errorf("auth calls = %d, want 1", n)
	}

	// All 50 hit a revoked token at once: still a single refresh.
	f.revokeAll()
	errs = make(chan error, 50)
	for range 50 {
		wg.Go(func() {
			_, err := c.ListBlueprints(t.Context())
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := f.authCalls.Load(); n != 2 {
		t.Errorf("auth calls after revocation = %d, want 2", n)
	}
}

func TestCancelledCallerDoesNotFailSharedRefresh(t *testing.T) {
	f := newFake(t)
	f.authDelay = 60 * time.Millisecond
	c := f.client(t)
	ctx1, cancel := context.WithCancel(t.Context())
	first := make(chan error, 1)
	go func() { first <- c.Authenticate(ctx1) }()
	time.Sleep(10 * time.Millisecond) // let the first caller start the fetch
	second := make(chan error, 1)
	go func() { second <- c.Authenticate(t.Context()) }()
	time.Sleep(10 * time.Millisecond)
	cancel()
	if err := <-first; err == nil || !strings.Contains(err.Error(), "context canceled") {
		t.Errorf("first = %v, want context canceled", err)
	}
	if err := <-second; err != nil {
		t.Errorf("second = %v, want the shared token", err)
	}
	if n := f.authCalls.Load(); n != 1 {
		t.Errorf("auth calls = %d, want 1", n)
	}
}

func TestAuthRequestShape(t *testing.T) {
	var got []byte
	var ct string
	c, err := New(Config{BaseURL: "http://port.test", ClientID: testID, ClientSecret: testSecret,
		HTTPClient: &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
			got, _ = io.ReadAll(r.Body)
			ct = r.Header.Get("Content-Type")
			return &http.Response{StatusCode: 200, Header: http.Header{}, Request: r,
				Body: io.NopCloser(strings.NewReader(`{"ok":true,"accessToken":"abc","expiresIn":10800,"tokenType":"Bearer"}`))}, nil
		})}})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Authenticate(t.Context()); err != nil {
		t.Fatal(err)
	}
	if want := `{"clientId":"client-id","clientSecret":"s3cr3t-value-never-logged"}`; !bytes.Equal(got, []byte(want)) || ct != "application/json" {
		t.Errorf("body %s (%s), want %s", got, ct, want)
	}
}
