package listener

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestNew_config(t *testing.T) {
	dir := t.TempDir()
	for name, c := range map[string]struct {
		cfg  Config
		want string
	}{
		"no secret":      {Config{SpoolDir: dir, Reconciler: &recorder{}}, "webhook secret is required"},
		"no reconciler":  {Config{Secret: "x", SpoolDir: dir}, "Reconciler is nil"},
		"no spool dir":   {Config{Secret: "x", Reconciler: &recorder{}}, "SpoolDir is empty"},
		"backoff":        {Config{Secret: "x", SpoolDir: dir, Reconciler: &recorder{}, MinBackoff: 10, MaxBackoff: 5}, "below MinBackoff"},
		"previous alone": {Config{PreviousSecret: "x", SpoolDir: dir, Reconciler: &recorder{}}, "webhook secret is required"},
		"previous without auth": {Config{PreviousSecret: "x", NoAuth: true, SpoolDir: dir, Reconciler: &recorder{}},
			"only accepted beside the current one"},
		"previous equals current": {Config{Secret: "x", PreviousSecret: "x", SpoolDir: dir, Reconciler: &recorder{}}, "equals the current one"},
	} {
		if _, err := New(c.cfg); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want %q", name, err, c.want)
		}
	}
	s, err := New(Config{NoAuth: true, SpoolDir: dir, Reconciler: &recorder{}})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	}()
	if w := serve(s.Handler(), http.MethodPost, WebhookPath, "", "application/json", pushBody(digestN(1))); w.Code != 200 {
		t.Fatalf("NoAuth: %d %s", w.Code, w.Body)
	}
}

func TestWebhook_auth(t *testing.T) {
	s := newTestServer(t, t.TempDir(), &recorder{})
	h := s.Handler()
	cases := []struct {
		name, auth string
		code       int
	}{
		{"missing", "", 401},
		{"wrong", "Bearer wrong", 401},
		{"prefix of the secret", testSecret[:len(testSecret)-1], 401},
		{"secret plus suffix", testSecret + "x", 401},
		{"without the scheme", strings.TrimPrefix(testSecret, "Bearer "), 401},
		{"other case", strings.ToUpper(testSecret), 401},
		{"right", testSecret, 200},
	}
	for _, c := range cases {
		w := serve(h, http.MethodPost, WebhookPath, c.auth, "application/json", pushBody(digestN(1)))
		if w.Code != c.code {
			t.Errorf("%s: %d, want %d", c.name, w.Code, c.code)
		}
		if c.code == 401 {
			var e map[string]string
			if json.Unmarshal(w.Body.Bytes(), &e) != nil || !strings.Contains(e["error"], "auth_header") || strings.Contains(w.Body.String(), "s3cret") {
				t.Errorf("%s: 401 body %q must be a JSON error naming the fix and never echo the secret", c.name, w.Body)
			}
			if s.Spool().Depth() != 0 {
				t.Fatalf("%s: unauthenticated request spooled keys", c.name)
			}
		}
	}
	m := metricsText(t, h)
	for _, want := range []string{`harborport_webhook_auth_failures_total{reason="missing"} 1`, `harborport_webhook_auth_failures_total{reason="mismatch"} 5`,
		`harborport_webhooks_rejected_total{reason="auth"} 6`} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	// By construction the comparison is of SHA-256 digests with
	// subtle.ConstantTimeCompare; the plain secret is not kept.
	if s.cfg.Secret != "" {
		t.Error("the plain secret is kept in the server's config")
	}
}

// A rotation: while the previous secret is configured, deliveries with
// either secret are accepted, and the metrics and logs say which matched
// (never its value); once the listener runs with the new secret alone, the
// old one is refused.
func TestWebhook_secretRotation(t *testing.T) {
	const oldSecret, newSecret = "Bearer s3cret-old-rotation-value", "Bearer s3cret-new-rotation-value"
	dir := t.TempDir()
	s := newTestServer(t, dir, &recorder{}, func(c *Config) { c.Secret, c.PreviousSecret = newSecret, oldSecret })
	h := s.Handler()
	for i, c := range []struct {
		auth string
		code int
	}{{oldSecret, 200}, {newSecret, 200}, {oldSecret, 200}, {"Bearer s3cret-neither", 401}, {"", 401}} {
		if w := serve(h, http.MethodPost, WebhookPath, c.auth, "application/json", pushBody(digestN(i+1))); w.Code != c.code {
			t.Errorf("during the rotation, delivery %d: %d %s, want %d", i, w.Code, w.Body, c.code)
		}
	}
	m := metricsText(t, h)
	for _, want := range []string{`harborport_webhook_auth_matches_total{secret="current"} 1`, `harborport_webhook_auth_matches_total{secret="previous"} 2`,
		`harborport_webhook_auth_failures_total{reason="mismatch"} 1`, `harborport_webhook_auth_failures_total{reason="missing"} 1`} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics during the rotation lack %q", want)
		}
	}
	logs := s.logs.String()
	if n := strings.Count(logs, "secret=previous"); n != 2 {
		t.Errorf("%d accepted deliveries logged secret=previous, want 2:\n%s", n, logs)
	}
	if !strings.Contains(logs, "webhook secret rotation") {
		t.Errorf("the listener did not announce the rotation window at start:\n%s", logs)
	}
	if s.cfg.PreviousSecret != "" {
		t.Error("the plain previous secret is kept in the server's config")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// The rotation is over: the listener restarts with the new secret alone.
	after := newTestServer(t, dir, &recorder{}, func(c *Config) { c.Secret = newSecret })
	h = after.Handler()
	if w := serve(h, http.MethodPost, WebhookPath, oldSecret, "application/json", pushBody(digestN(9))); w.Code != 401 {
		t.Errorf("after the rotation the old secret got %d %s, want 401", w.Code, w.Body)
	}
	if w := serve(h, http.MethodPost, WebhookPath, newSecret, "application/json", pushBody(digestN(10))); w.Code != 200 {
		t.Errorf("after the rotation the new secret got %d %s, want 200", w.Code, w.Body)
	}
	m = metricsText(t, h)
	if strings.Contains(m, `secret="previous"`) || !strings.Contains(m, `harborport_webhook_auth_failures_total{reason="mismatch"} 1`) {
		t.Errorf("metrics after the rotation:\n%s", m)
	}
}

func TestWebhook_refusals(t *testing.T) {
	s := newTestServer(t, t.TempDir(), &recorder{}, func(c *Config) { c.MaxBody = 4096 })
	h := s.Handler()
	padded := func(n int) []byte { // a valid delivery of exactly n bytes
		b := pushBody(digestN(1))
		return append(b, bytes.Repeat([]byte(" "), n-len(b))...)
	}
	// Exactly the limit passes; one byte over is 413, whether the length is
	// announced (Content-Length) or not (chunked).
	if w := serve(h, http.MethodPost, WebhookPath, testSecret, "application/json", padded(4096)); w.Code != 200 {
		t.Errorf("body of exactly MaxBody: %d %s", w.Code, w.Body)
	}
	if w := serve(h, http.MethodPost, WebhookPath, testSecret, "application/json", padded(4097)); w.Code != 413 {
		t.Errorf("MaxBody+1 with Content-Length: %d", w.Code)
	}
	req, _ := http.NewRequest(http.MethodPost, WebhookPath, bytes.NewReader(padded(4097)))
	req.ContentLength = -1
	req.Header.Set("Authorization", testSecret)
	req.Header.Set("Content-Type", "application/json")
	if w := serveReq(h, req); w.Code != 413 {
		t.Errorf("MaxBody+1 chunked: %d", w.Code)
	}
	w := serve(h, http.MethodGet, WebhookPath, testSecret, "", nil)
	if w.Code != 405 || w.Header().Get("Allow") != "POST" {
		t.Errorf("GET: %d Allow=%q, want 405 Allow=POST", w.Code, w.Header().Get("Allow"))
	}
	if w := serve(h, http.MethodPost, WebhookPath, testSecret, "text/plain", pushBody(digestN(1))); w.Code != 415 {
		t.Errorf("text/plain: %d", w.Code)
	}
	w = serve(h, http.MethodPost, WebhookPath, testSecret, "application/json", []byte(`{"type":"PUSH_ARTIFACT","event_data":{"resources":[{"digest":"`+digestN(1)+`"}]}}`))
	if w.Code != 400 || !strings.Contains(w.Body.String(), "event_data.repository") {
		t.Errorf("bad payload: %d %s, want 400 naming event_data.repository", w.Code, w.Body)
	}
	w = serve(h, http.MethodPost, WebhookPath, testSecret, "application/json", []byte(`{"type":"QUOTA_EXCEED","event_data":{}}`))
	if w.Code != 202 || !strings.Contains(w.Body.String(), `"ignored"`) {
		t.Errorf("ignored type: %d %s", w.Code, w.Body)
	}
	if w := serve(h, http.MethodPost, WebhookPath, testSecret, "application/json", []byte(`{"type":"NO_SUCH_EVENT"}`)); w.Code != 202 {
		t.Errorf("unknown type: %d, want 202 (never 5xx: Harbor would retry for nothing)", w.Code)
	}
	if d := s.Spool().Depth(); d != 3 {
		t.Fatalf("spool depth %d, want 3 (only the exact-limit delivery)", d)
	}
	m := metricsText(t, h)
	for _, want := range []string{`reason="too_large"} 2`, `reason="method"} 1`, `reason="media_type"} 1`, `reason="payload"} 1`,
		`harborport_webhooks_ignored_total{type="QUOTA_EXCEED"} 1`, `harborport_webhooks_ignored_total{type="unknown"} 1`,
		`harborport_keys_enqueued_total{kind="artifact"} 1`, `harborport_spool_depth 3`} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}

func serveReq(h http.Handler, req *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

// The spool write happens before the reply: if it fails, Harbor gets 503
// (and retries) instead of a 2xx for an event that was not stored.
func TestWebhook_spoolFailureIs503(t *testing.T) {
	s := newTestServer(t, t.TempDir(), &recorder{})
	if err := s.Spool().Close(); err != nil {
		t.Fatal(err)
	}
	w := serve(s.Handler(), http.MethodPost, WebhookPath, testSecret, "application/json", pushBody(digestN(1)))
	if w.Code != 503 || w.Header().Get("Retry-After") == "" {
		t.Fatalf("closed spool: %d, want 503 with Retry-After", w.Code)
	}
	if w := serve(s.Handler(), http.MethodGet, "/readyz", "", "", nil); w.Code != 503 || !strings.Contains(w.Body.String(), "spool") {
		t.Fatalf("readyz with the spool closed: %d %s", w.Code, w.Body)
	}
}

func TestHealthAndReady(t *testing.T) {
	var readyErr error
	s := newTestServer(t, t.TempDir(), &recorder{}, func(c *Config) {
		c.Ready = func(context.Context) error { return readyErr }
	})
	h := s.Handler()
	if w := serve(h, http.MethodGet, "/healthz", "", "", nil); w.Code != 200 {
		t.Errorf("healthz: %d", w.Code)
	}
	if w := serve(h, http.MethodGet, "/readyz", "", "", nil); w.Code != 200 {
		t.Errorf("readyz: %d", w.Code)
	}
	readyErr = errors.New("port: token request failed")
	if w := serve(h, http.MethodGet, "/readyz", "", "", nil); w.Code != 503 || !strings.Contains(w.Body.String(), "token request failed") {
		t.Errorf("readyz with Port down: %d %s", w.Code, w.Body)
	}
	readyErr = nil
	s.drain.Store(true)
	if w := serve(h, http.MethodGet, "/readyz", "", "", nil); w.Code != 503 {
		t.Errorf("readyz draining: %d", w.Code)
	}
	w := serve(h, http.MethodPost, WebhookPath, testSecret, "application/json", pushBody(digestN(1)))
	if w.Code != 503 || w.Header().Get("Retry-After") == "" || s.Spool().Depth() != 0 {
		t.Errorf("webhook while draining: %d, depth %d; want 503 with Retry-After so Harbor retries elsewhere", w.Code, s.Spool().Depth())
	}
	if w := serve(h, http.MethodGet, "/healthz", "", "", nil); w.Code != 200 {
		t.Errorf("healthz draining: %d (the process is alive)", w.Code)
	}
}
