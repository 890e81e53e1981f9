package portsim

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestAccessToken(t *testing.T) {
	h := newHarness(t)
	tests := []struct {
		name     string
		body     any
		status   int
		code     string
		msg      string
		noEchoed string
	}{
		{"wrong secret", map[string]any{"clientId": testClientID, "clientSecret": "nope-secret"}, 401, codeUnauthorized, "wrong", "nope-secret"},
		{"wrong id", map[string]any{"clientId": "other", "clientSecret": testClientSecret}, 401, codeUnauthorized, "", testClientSecret},
		{"missing secret", map[string]any{"clientId": testClientID}, 422, codeInvalidRequest, "clientSecret", ""},
		{"unknown key", map[string]any{"clientId": testClientID, "clientSecret": testClientSecret, "scope": "x"}, 422, codeInvalidRequest, "additional properties", ""},
		{"secret not a string", map[string]any{"clientId": testClientID, "clientSecret": 5}, 422, codeInvalidRequest, "must be string", ""},
		{"not JSON", []byte("{"), 400, codeBadJSON, "JSON", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := h.sub(t)
			st, body, _ := h.raw("POST", "/v1/auth/access_token", "", tc.body)
			expectError(t, st, body, tc.status, tc.code, tc.msg)
			if tc.noEchoed != "" && strings.Contains(as[string](t, body["message"]), tc.noEchoed) {
				t.Errorf("message echoes a credential: %q", body["message"])
			}
		})
	}

	t.Run("success shape", func(t *testing.T) {
		h := h.sub(t)
		st, body, _ := h.raw("POST", "/v1/auth/access_token", "", map[string]any{"clientId": testClientID, "clientSecret": testClientSecret})
		if st != 200 || body["ok"] != true || body["tokenType"] != "Bearer" || body["expiresIn"] != float64(10800) || body["accessToken"] == "" {
			t.Fatalf("got %d %v", st, body)
		}
	})
}

// Re-requesting before expiry returns the same token with its remaining
// lifetime (internal/port/API-NOTES.md "Authentication and token lifetime").
func TestTokenReuseAndExpiry(t *testing.T) {
	h := newHarness(t)
	first := h.token
	h.clock.Advance(time.Hour)
	_, body, _ := h.raw("POST", "/v1/auth/access_token", "", map[string]any{"clientId": testClientID, "clientSecret": testClientSecret})
	if body["accessToken"] != first || body["expiresIn"] != float64(7200) {
		t.Fatalf("re-request: got token change=%v expiresIn=%v, want same token and 7200", body["accessToken"] != first, body["expiresIn"])
	}
	h.must(200, "GET", "/v1/blueprints", nil)

	h.clock.Advance(2 * time.Hour) // exactly 3h after issue
	st, out := h.do("GET", "/v1/blueprints", nil)
	expectError(t, st, out, 401, codeUnauthorized, "expired")

	second := h.login()
	if second == first {
		t.Fatal("a new token must be issued after expiry")
	}
	h.token = second
	h.must(200, "GET", "/v1/blueprints", nil)

	h.srv.ExpireTokens()
	st, out = h.do("GET", "/v1/blueprints", nil)
	expectError(t, st, out, 401, codeUnauthorized, "expired")

	h.srv.SetTokenTTL(90 * time.Second)
	_, body, _ = h.raw("POST", "/v1/auth/access_token", "", map[string]any{"clientId": testClientID, "clientSecret": testClientSecret})
	if body["expiresIn"] != float64(90) || body["accessToken"] == second {
		t.Fatalf("after ExpireTokens+SetTokenTTL: %v", body)
	}
}

func TestBearerRequired(t *testing.T) {
	h := newHarness(t)
	routes := []struct{ method, path string }{
		{"GET", "/v1/blueprints"},
		{"POST", "/v1/blueprints"},
		{"GET", "/v1/blueprints/x"},
		{"DELETE", "/v1/blueprints/x/all-entities"},
		{"GET", "/v1/migrations/m"},
		{"POST", "/v1/blueprints/x/entities?upsert=true"},
		{"GET", "/v1/blueprints/x/entities/a%2Fb"},
		{"POST", "/v1/blueprints/x/entities/bulk?upsert=true"},
		{"POST", "/v1/blueprints/x/bulk/entities/delete"},
		{"POST", "/v1/blueprints/x/entities/search"},
		{"GET", "/v1/blueprints/x/entities-count"},
		{"POST", "/v1/entities/search"},
	}
	headers := []struct {
		name, value, msg string
	}{
		{"none", "", "Missing Authorization"},
		{"basic scheme", "Basic abc", "Bearer"},
		{"unknown token", "Bearer not-a-token", "Invalid access token"},
	}
	for _, r := range routes {
		for _, hd := range headers {
			t.Run(r.method+" "+r.path+" "+hd.name, func(t *testing.T) {
				h := h.sub(t)
				req, _ := http.NewRequest(r.method, h.hs.URL+r.path, strings.NewReader("{}"))
				if hd.value != "" {
					req.Header.Set("Authorization", hd.value)
				}
				resp, err := h.hs.Client().Do(req)
				if err != nil {
					t.Fatal(err)
				}
				_ = resp.Body.Close()
				if resp.StatusCode != 401 {
					t.Fatalf("status %d, want 401", resp.StatusCode)
				}
				if resp.Header.Get("X-Trace-Id") == "" {
					t.Error("missing X-Trace-Id")
				}
			})
		}
	}
}

func TestTraceIDAndUnknownRoute(t *testing.T) {
	h := newHarness(t)
	seen := map[string]bool{}
	for _, r := range []struct {
		method, path string
		status       int
	}{
		{"GET", "/v1/blueprints", 200},
		{"GET", "/v1/blueprints/missing", 404},
		{"GET", "/v1/nope", 404},
		{"PUT", "/v1/entities/search", 404},
	} {
		st, body, hdr := h.raw(r.method, r.path, h.token, nil)
		if st != r.status {
			t.Errorf("%s %s: %d, want %d", r.method, r.path, st, r.status)
		}
		id := hdr.Get("X-Trace-Id")
		if id == "" || seen[id] {
			t.Errorf("%s %s: X-Trace-Id %q missing or reused", r.method, r.path, id)
		}
		seen[id] = true
		if st != 200 {
			expectError(t, st, body, r.status, codeNotFound, "")
		}
	}
}
