package portsim

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

var creds = map[string]any{"clientId": testClientID, "clientSecret": testClientSecret}

func TestFailNext(t *testing.T) {
	h := newHarness(t).withFixtures()
	h.srv.SetFaults(Faults{FailNext: 2})
	// Auth is exempt: a client's token refresh never eats the fault.
	if st, _, _ := h.raw("POST", "/v1/auth/access_token", "", creds); st != 200 {
		t.Fatalf("auth during FailNext: %d", st)
	}
	for i := range 2 {
		st, body := h.do("GET", "/v1/blueprints", nil)
		expectError(t, st, body, 503, codeInternal, "injected")
		_ = i
	}
	h.must(200, "GET", "/v1/blueprints", nil)

	h.srv.SetFaults(Faults{FailNext: 1, FailStatus: 502})
	st, body := h.do("POST", "/v1/blueprints/repository/entities?upsert=true", map[string]any{"identifier": "r1"})
	expectError(t, st, body, 502, codeInternal, "")
	if _, found := h.srv.Entity("repository", "r1"); found {
		t.Fatal("FailNext without FailAfterWrite performed the write")
	}

	h.srv.SetFaults(Faults{FailNext: 1, FailAfterWrite: true})
	st, body = h.do("POST", "/v1/blueprints/repository/entities?upsert=true", map[string]any{"identifier": "r1"})
	expectError(t, st, body, 503, codeInternal, "")
	if _, found := h.srv.Entity("repository", "r1"); !found {
		t.Fatal("FailAfterWrite did not perform the write")
	}
}

func TestRateLimitNext(t *testing.T) {
	tests := []struct {
		name       string
		faults     Faults
		retryAfter string
		epoch      bool
	}{
		{"default 1s relative", Faults{RateLimitNext: 1}, "1", false},
		{"rounds up", Faults{RateLimitNext: 1, RetryAfter: 1500 * time.Millisecond}, "2", false},
		{"epoch reset", Faults{RateLimitNext: 1, RetryAfter: 3 * time.Second, ResetEpoch: true}, "3", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			h.srv.SetFaults(tc.faults)
			st, body, hdr := h.raw("GET", "/v1/blueprints", h.token, nil)
			expectError(t, st, body, 429, codeRateLimited, "Retry-After")
			if hdr.Get("Retry-After") != tc.retryAfter || hdr.Get("x-ratelimit-remaining") != "0" || hdr.Get("x-ratelimit-limit") == "" || hdr.Get("x-ratelimit-period") == "" {
				t.Fatalf("headers %v", hdr)
			}
			reset, _ := strconv.ParseInt(hdr.Get("x-ratelimit-reset"), 10, 64)
			if tc.epoch {
				// Ocean's heuristic: > 10000 means epoch seconds
				// (internal/port/API-NOTES.md "Rate limits").
				want := h.clock.Now().Unix() + 3
				if reset != want {
					t.Fatalf("epoch reset %d, want %d", reset, want)
				}
			} else if strconv.FormatInt(reset, 10) != tc.retryAfter {
				t.Fatalf("relative reset %d, want %s", reset, tc.retryAfter)
			}
			h.must(200, "GET", "/v1/blueprints", nil)
		})
	}
}

func TestSteadyRateLimit(t *testing.T) {
	h := newHarness(t)
	h.srv.SetFaults(Faults{RateLimit: 3, RateLimitPeriod: time.Minute})
	for i := range 3 {
		st, _, hdr := h.raw("GET", "/v1/blueprints", h.token, nil)
		if st != 200 || hdr.Get("x-ratelimit-remaining") != strconv.Itoa(2-i) || hdr.Get("x-ratelimit-limit") != "3" || hdr.Get("x-ratelimit-period") != "60" {
			t.Fatalf("request %d: %d %v", i, st, hdr)
		}
	}
	h.clock.Advance(20 * time.Second)
	st, body, hdr := h.raw("GET", "/v1/blueprints", h.token, nil)
	expectError(t, st, body, 429, codeRateLimited, "")
	if hdr.Get("Retry-After") != "40" || hdr.Get("x-ratelimit-reset") != "40" {
		t.Fatalf("429 headers %v", hdr)
	}
	// Auth is not counted but still carries the headers.
	if st, _, hdr := h.raw("POST", "/v1/auth/access_token", "", creds); st != 200 || hdr.Get("x-ratelimit-limit") != "3" {
		t.Fatalf("auth under rate limit: %d %v", st, hdr)
	}
	h.clock.Advance(40 * time.Second)
	h.must(200, "GET", "/v1/blueprints", nil)
}

func TestError5xxRateIsSeeded(t *testing.T) {
	count := func() int {
		h := newHarness(t)
		h.srv.SetFaults(Faults{Error5xxRate: 0.5})
		fails := 0
		for range 40 {
			if st, _ := h.do("GET", "/v1/blueprints", nil); st == 503 {
				fails++
			}
		}
		return fails
	}
	a, b := count(), count()
	if a != b || a < 5 || a > 35 {
		t.Fatalf("5xx counts %d and %d: want equal (seeded) and near half of 40", a, b)
	}
	h := newHarness(t)
	h.srv.SetFaults(Faults{Error5xxRate: 1})
	st, body := h.do("GET", "/v1/blueprints", nil)
	expectError(t, st, body, 503, codeInternal, "random")
}

func TestLatency(t *testing.T) {
	h := newHarness(t)
	h.srv.SetFaults(Faults{Latency: 30 * time.Millisecond})
	start := time.Now()
	h.must(200, "GET", "/v1/blueprints", nil)
	if d := time.Since(start); d < 30*time.Millisecond {
		t.Fatalf("request took %v, want >= 30ms", d)
	}
}

func TestBodyLimit(t *testing.T) {
	h := newHarness(t).withFixtures()
	big := []byte(`{"identifier":"r","title":"` + strings.Repeat("x", 1<<20) + `"}`)
	st, body, hdr := h.raw("POST", "/v1/blueprints/repository/entities?upsert=true", h.token, big)
	expectError(t, st, body, 413, codeTooLarge, "Request body is too large (limit is 1MiB)")
	if hdr.Get("X-Trace-Id") == "" {
		t.Error("no X-Trace-Id on 413")
	}
	// Exactly 1 MiB is allowed through to validation.
	exact := append([]byte(`{"identifier":"r","title":"`), bytes.Repeat([]byte("x"), 1<<20-len(`{"identifier":"r","title":""}`))...)
	exact = append(exact, `"}`...)
	if st, _, _ := h.raw("POST", "/v1/blueprints/repository/entities?upsert=true", h.token, exact); st != 201 {
		t.Fatalf("1 MiB body: %d", st)
	}
}

func TestRequestLog(t *testing.T) {
	h := newHarness(t).withFixtures()
	h.srv.ResetRequests()
	h.must(200, "POST", "/v1/blueprints/repository/entities/bulk?upsert=true", map[string]any{"entities": repos(2, "r")})
	h.must(200, "POST", "/v1/blueprints/repository/entities/bulk?upsert=true", map[string]any{"entities": repos(1, "r")})
	h.must(404, "GET", "/v1/blueprints/repository/entities/r%2F1?include=identifier", nil)
	h.must(404, "GET", "/v1/nowhere", nil)
	counts := h.srv.Requests()
	want := map[string]int{"POST /v1/blueprints/{blueprint}/entities/bulk": 2,
		"GET /v1/blueprints/{blueprint}/entities/{entity}": 1, "GET (no route)": 1}
	if !reflect.DeepEqual(counts, want) {
		t.Fatalf("counts %v, want %v", counts, want)
	}
	log := h.srv.RequestLog()
	last := log[len(log)-2]
	if last.Path != "/v1/blueprints/repository/entities/r%2F1" || last.Query != "include=identifier" || last.Status != 404 || last.Method != "GET" {
		t.Fatalf("last log entry %+v", last)
	}
	if log[0].BodyBytes == 0 || log[0].Time.IsZero() {
		t.Fatalf("first log entry %+v", log[0])
	}
	h.srv.ResetRequests()
	if len(h.srv.RequestLog()) != 0 || len(h.srv.Requests()) != 0 {
		t.Fatal("ResetRequests left data")
	}
}

func TestContentTypeRequired(t *testing.T) {
	h := newHarness(t)
	for _, ct := range []string{"", "text/plain"} {
		req, _ := http.NewRequest("POST", h.hs.URL+"/v1/blueprints", strings.NewReader(`{"identifier":"x"}`))
		req.Header.Set("Authorization", "Bearer "+h.token)
		if ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		resp, err := h.hs.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusUnsupportedMediaType {
			t.Errorf("Content-Type %q: status %d, want 415", ct, resp.StatusCode)
		}
	}
	st, _, _ := h.raw("POST", "/v1/blueprints", h.token, bp("ok", nil)) // application/json
	if st != 201 {
		t.Fatalf("JSON body: %d", st)
	}
}

// The handler works without a network listener too.
func TestServeHTTPDirect(t *testing.T) {
	srv := New(Options{ClientID: "a", ClientSecret: "b"})
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("POST", "/v1/auth/access_token", strings.NewReader(`{"clientId":"a","clientSecret":"b"}`))
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	srv.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") == "" {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
}
