package port

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestRetryAfterParsing(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"3", 3 * time.Second, true},
		{"0.5", 500 * time.Millisecond, true},
		{"Thu, 01 Jan 2026 12:00:07 GMT", 7 * time.Second, true},
		{"Thu, 01 Jan 2026 11:00:00 GMT", 0, true},
		{"", 0, false},
		{"-1", 0, false},
		{"soon", 0, false},
	}
	for _, tt := range tests {
		got, ok := retryAfter(tt.in, now)
		if got != tt.want || ok != tt.ok {
			t.Errorf("retryAfter(%q) = %v,%v want %v,%v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestRateLimitReset(t *testing.T) {
	now := time.Unix(1_750_000_000, 0)
	tests := []struct {
		name, remaining, reset string
		want                   time.Time
		ok                     bool
	}{
		{"relative seconds", "0", "30", now.Add(30 * time.Second), true},
		{"relative fractional", "0", "1.5", now.Add(1500 * time.Millisecond), true},
		{"epoch seconds", "0", "1750000042", time.Unix(1_750_000_042, 0), true},
		{"threshold is relative", "0", "10000", now.Add(10000 * time.Second), true},
		{"above threshold is epoch", "0", "10001", time.Unix(10001, 0), true},
		{"budget left", "5", "30", time.Time{}, false},
		{"no remaining header", "", "30", time.Time{}, false},
		{"bad reset", "0", "later", time.Time{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			if tt.remaining != "" {
				h.Set("x-ratelimit-remaining", tt.remaining)
			}
			h.Set("x-ratelimit-reset", tt.reset)
			got, ok := rateLimitReset(h, now)
			if !got.Equal(tt.want) || ok != tt.ok {
				t.Errorf("= %v,%v want %v,%v", got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestExpBackoffIsJitteredAndCapped(t *testing.T) {
	lo, hi := 100*time.Millisecond, time.Second
	for attempt := range 10 {
		base := lo << attempt
		if base > hi {
			base = hi
		}
		seen := map[time.Duration]bool{}
		for range 50 {
			d := expBackoff(lo, hi, attempt)
			if d < base/2 || d > base {
				t.Fatalf("attempt %d: %v outside [%v, %v]", attempt, d, base/2, base)
			}
			seen[d] = true
		}
		if len(seen) < 10 {
			t.Errorf("attempt %d: only %d distinct waits, want jitter", attempt, len(seen))
		}
	}
}

// Retry-After becomes a client-wide pause taken before the next request
// (and the retry itself); backoff adds only its minimum on top.
func TestRetryAfterPausesTheClient(t *testing.T) {
	tests := []struct {
		status     int
		retryAfter string
		want       time.Duration // 0: no pause
	}{
		{503, "7", 7 * time.Second},
		{429, "2", 2 * time.Second},
		{503, "3600", time.Minute}, // capped at MaxWait
		{502, "7", 0},              // Retry-After only means something on 429/503
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d_%s", tt.status, tt.retryAfter), func(t *testing.T) {
			f := newFake(t)
			var n atomic.Int32
			f.handle("GET /v1/blueprints", func(w http.ResponseWriter, r *http.Request) {
				if n.Add(1) == 1 {
					w.Header().Set("Retry-After", tt.retryAfter)
					writeJSON(w, tt.status, map[string]any{"ok": false, "error": "x", "message": "later"})
					return
				}
				okBlueprints(w, r)
			})
			clk := newClock()
			c := f.client(t, func(cfg *Config) { cfg.Clock = clk.Now; cfg.MaxWait = time.Minute })
			sleeps := recordSleeps(c)
			if _, err := c.ListBlueprints(t.Context()); err != nil {
				t.Fatal(err)
			}
			if tt.want == 0 {
				if len(*sleeps) != 0 {
					t.Errorf("paused %v", *sleeps)
				}
				return
			}
			if len(*sleeps) != 1 || !within((*sleeps)[0], tt.want) {
				t.Errorf("pauses = %v, want one of %v (+≤10%% jitter)", *sleeps, tt.want)
			}
		})
	}
	c, _ := New(Config{BaseURL: "https://api.port.io", ClientID: "a", ClientSecret: "b"})
	resp := &http.Response{StatusCode: 429, Header: http.Header{"Retry-After": {"7"}}}
	if d := c.backoff(time.Millisecond, time.Second, 5, resp); d != time.Millisecond {
		t.Errorf("backoff with Retry-After = %v, want the minimum", d)
	}
}

// within: got is want plus at most 10% jitter, or exactly a cap.
func within(got, want time.Duration) bool {
	return got == want || got >= want && got <= want+want/10
}

func TestCheckRetry(t *testing.T) {
	c, _ := New(Config{BaseURL: "https://api.port.io", ClientID: "a", ClientSecret: "b"})
	retry := map[int]bool{408: true, 429: true, 500: true, 502: true, 503: true, 504: true,
		400: false, 401: false, 403: false, 404: false, 409: false, 413: false, 422: false, 501: false}
	for status, want := range retry {
		got, _ := c.checkRetry(t.Context(), &http.Response{StatusCode: status}, nil)
		if got != want {
			t.Errorf("status %d: retry = %v, want %v", status, got, want)
		}
	}
	if got, _ := c.checkRetry(t.Context(), nil, errors.New("connection reset")); !got {
		t.Error("transport error not retried")
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if got, err := c.checkRetry(ctx, &http.Response{StatusCode: 503}, nil); got || err == nil {
		t.Error("retried after cancellation")
	}
}

// A 429 storm with x-ratelimit-* headers: the client pauses until the reset
// (both header readings), then succeeds; no attempt is wasted during the pause.
func Test429StormWithRateLimitHeaders(t *testing.T) {
	clk := newClock()
	tests := []struct {
		name  string
		reset string
		want  time.Duration
	}{
		{"relative reset", "2", 2 * time.Second},
		{"epoch reset", strconv.FormatInt(clk.Now().Unix()+3, 10), 3 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t)
			var n atomic.Int32
			f.handle("GET /v1/blueprints", func(w http.ResponseWriter, r *http.Request) {
				if n.Add(1) <= 3 {
					w.Header().Set("x-ratelimit-limit", "100")
					w.Header().Set("x-ratelimit-remaining", "0")
					w.Header().Set("x-ratelimit-reset", tt.reset)
					writeJSON(w, 429, map[string]any{"ok": false, "error": "too_many_requests", "message": "slow down"})
					return
				}
				okBlueprints(w, r)
			})
			c := f.client(t, func(cfg *Config) { cfg.Clock = clk.Now; cfg.MaxWait = time.Hour })
			sleeps := recordSleeps(c)
			if _, err := c.ListBlueprints(t.Context()); err != nil {
				t.Fatal(err)
			}
			if n.Load() != 4 {
				t.Errorf("attempts = %d, want 4", n.Load())
			}
			if len(*sleeps) != 3 {
				t.Fatalf("throttle waits = %v, want 3", *sleeps)
			}
			for _, d := range *sleeps {
				if !within(d, tt.want) {
					t.Errorf("wait %v, want %v", d, tt.want)
				}
			}
		})
	}
}

// After a 2xx that exhausts the window, the next request waits for the reset
// before being sent (proactive throttle), instead of collecting a 429.
func TestProactiveThrottle(t *testing.T) {
	f := newFake(t)
	var n atomic.Int32
	f.handle("GET /v1/blueprints", func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			w.Header().Set("x-ratelimit-remaining", "0")
			w.Header().Set("x-ratelimit-reset", "5")
		}
		okBlueprints(w, r)
	})
	clk := newClock()
	c := f.client(t, func(cfg *Config) { cfg.Clock = clk.Now; cfg.MaxWait = time.Hour })
	sleeps := recordSleeps(c)
	for range 3 {
		if _, err := c.ListBlueprints(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	if len(*sleeps) != 1 || !within((*sleeps)[0], 5*time.Second) {
		t.Errorf("waits = %v, want exactly one of 5s", *sleeps)
	}
}

func TestThrottleWaitRespectsDeadline(t *testing.T) {
	f := newFake(t)
	f.handle("GET /v1/blueprints", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("x-ratelimit-remaining", "0")
		w.Header().Set("x-ratelimit-reset", "60")
		okBlueprints(w, r)
	})
	c := f.client(t, func(cfg *Config) { cfg.MaxWait = time.Hour })
	if _, err := c.ListBlueprints(t.Context()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.ListBlueprints(ctx)
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "rate limit") {
		t.Errorf("err = %v, want a rate-limit deadline error", err)
	}
	if time.Since(start) > 50*time.Millisecond {
		t.Errorf("took %v: must fail at once, not sleep into the deadline", time.Since(start))
	}
}

func TestCancelDuringBackoff(t *testing.T) {
	f := newFake(t)
	f.handle("GET /v1/blueprints", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "30")
		writeJSON(w, 503, map[string]any{"ok": false, "error": "unavailable", "message": "maintenance"})
	})
	c := f.client(t, func(cfg *Config) { cfg.MaxWait = time.Hour })
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.ListBlueprints(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want deadline exceeded", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("returned after %v: slept past the context", d)
	}
}

func Test5xxBurstThenSuccess(t *testing.T) {
	f := newFake(t)
	statuses := []int{502, 500, 503, 504}
	var n atomic.Int32
	var bodies []string
	f.handle("POST /v1/blueprints/{blueprint}/entities/bulk", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		bodies = append(bodies, string(b))
		if i := int(n.Add(1)) - 1; i < len(statuses) {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(statuses[i])
			_, _ = w.Write([]byte("<html>upstream error</html>"))
			return
		}
		writeJSON(w, 200, map[string]any{"ok": true, "entities": []any{map[string]any{"created": true, "identifier": "a", "index": 0}}, "errors": []any{}})
	})
	c := f.client(t)
	res, err := c.UpsertEntities(t.Context(), "bp", []Entity{{Identifier: "a"}}, UpsertOptions{})
	if err != nil || res[0].Err != nil || !res[0].Created {
		t.Fatalf("res = %+v, err = %v", res, err)
	}
	if len(bodies) != 5 {
		t.Fatalf("attempts = %d, want 5", len(bodies))
	}
	for _, b := range bodies[1:] {
		if b != bodies[0] {
			t.Errorf("retried body differs: %q vs %q", b, bodies[0])
		}
	}
}

func TestRetriesExhausted(t *testing.T) {
	f := newFake(t)
	f.handle("GET /v1/blueprints", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Trace-Id", "trace-9")
		writeJSON(w, 503, map[string]any{"ok": false, "error": "service_unavailable", "message": "try later"})
	})
	c := f.client(t, func(cfg *Config) { cfg.MaxRetries = 3 })
	_, err := c.ListBlueprints(t.Context())
	var ae *APIError
	if !errors.As(err, &ae) || ae.Status != 503 || ae.Attempts != 4 || ae.TraceID != "trace-9" {
		t.Fatalf("err = %#v", err)
	}
	want := "Port API GET /v1/blueprints: 503 service_unavailable: try later (trace id: trace-9) after 4 attempts; Port appears to be unavailable; retry later"
	if err.Error() != want {
		t.Errorf("got  %q\nwant %q", err.Error(), want)
	}
}

func TestNoRetryOnClientErrors(t *testing.T) {
	f := newFake(t)
	var n atomic.Int32
	f.handle("GET /v1/blueprints/{blueprint}", func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		writeJSON(w, 404, map[string]any{"ok": false, "error": "not_found", "message": "Blueprint with identifier \"x\" was not found"})
	})
	c := f.client(t)
	_, err := c.GetBlueprint(t.Context(), "x")
	if !IsNotFound(err) || n.Load() != 1 {
		t.Errorf("err = %v after %d attempts; want one 404", err, n.Load())
	}
}

func TestTransportErrorIsRetried(t *testing.T) {
	f := newFake(t)
	var n atomic.Int32
	f.handle("GET /v1/blueprints", func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			hj, ok := w.(http.Hijacker)
			if !ok {
				t.Errorf("%T cannot hijack the connection", w)
				return
			}
			conn, _, err := hj.Hijack()
			if err != nil {
				t.Errorf("hijack: %v", err)
				return
			}
			_ = conn.Close() // connection dropped mid-request; nothing to report
			return
		}
		okBlueprints(w, r)
	})
	c := f.client(t)
	if _, err := c.ListBlueprints(t.Context()); err != nil {
		t.Fatal(err)
	}
	if n.Load() != 2 {
		t.Errorf("attempts = %d, want 2", n.Load())
	}
}

func TestTransportErrorsExhausted(t *testing.T) {
	c, _ := New(Config{BaseURL: "http://127.0.0.1:1", ClientID: "a", ClientSecret: testSecret,
		MinBackoff: time.Millisecond, MaxBackoff: time.Millisecond, MaxRetries: 2})
	err := c.Authenticate(t.Context())
	if err == nil || !strings.Contains(err.Error(), "after 3 attempts") || !strings.Contains(err.Error(), "port_base_url") ||
		strings.Contains(err.Error(), testSecret) {
		t.Errorf("err = %v", err)
	}
}

// 429s that name their wait do not use up MaxRetries: a long storm is waited
// out; a 429 that names no wait, and other failures, count as failures; the
// throttled budget is bounded too.
func TestThrottledRetriesHaveTheirOwnBudget(t *testing.T) {
	tests := []struct {
		name       string
		limited    int32 // 429s before the 200
		headers    bool  // the 429s carry x-ratelimit-* (a named wait)
		wantOK     bool
		wantCalled int32
	}{
		{"storm longer than MaxRetries, waits named", 12, true, true, 13},
		{"429s naming no wait count as failures", 12, false, false, 4},
		{"throttled budget exhausted", 1000, true, false, 1 + throttledRetries},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t)
			var n atomic.Int32
			f.handle("GET /v1/blueprints", func(w http.ResponseWriter, r *http.Request) {
				if n.Add(1) <= tt.limited {
					if tt.headers {
						w.Header().Set("x-ratelimit-remaining", "0")
						w.Header().Set("x-ratelimit-reset", "1")
					}
					writeJSON(w, 429, map[string]any{"ok": false, "error": "too_many_requests", "message": "slow down"})
					return
				}
				okBlueprints(w, r)
			})
			c := f.client(t, func(cfg *Config) { cfg.MaxRetries = 3; cfg.MinBackoff = time.Microsecond })
			recordSleeps(c)
			_, err := c.ListBlueprints(t.Context())
			if (err == nil) != tt.wantOK {
				t.Fatalf("err = %v, want success %v", err, tt.wantOK)
			}
			var ae *APIError
			if err != nil && (!errors.As(err, &ae) || ae.Status != 429) {
				t.Errorf("err = %#v, want the last 429", err)
			}
			if n.Load() != tt.wantCalled {
				t.Errorf("requests = %d, want %d", n.Load(), tt.wantCalled)
			}
		})
	}
}
