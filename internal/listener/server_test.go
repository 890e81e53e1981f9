package listener

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/harborport/terraform-provider-harborport/internal/catalog"
	"github.com/harborport/terraform-provider-harborport/internal/mapping"
)

const testSecret = "Bearer s3cret-webhook"

func pushBody(digest string) []byte {
	return []byte(`{"type":"PUSH_ARTIFACT","occur_at":1,"operator":"admin","event_data":{"resources":[{"digest":"` + digest +
		`","tag":"v1","resource_url":"h/p/r:v1"}],"repository":{"name":"r","namespace":"p","repo_full_name":"p/r","repo_type":"private"}}}`)
}

// recorder is a fake reconciler counting calls per key.
type recorder struct {
	mu    sync.Mutex
	calls map[string]int
	fn    func(k catalog.Key, n int) error
	gate  chan struct{} // when set, each call waits on it
}

func (r *recorder) Reconcile(ctx context.Context, k catalog.Key) error {
	if r.gate != nil {
		select {
		case <-r.gate:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	r.mu.Lock()
	if r.calls == nil {
		r.calls = map[string]int{}
	}
	r.calls[k.String()]++
	n := r.calls[k.String()]
	r.mu.Unlock()
	if r.fn != nil {
		return r.fn(k, n)
	}
	return nil
}

func (r *recorder) count(k string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.calls[k]
}

func newTestServer(t *testing.T, dir string, rec Reconciler) *Server {
	t.Helper()
	s, err := New(Config{Secret: testSecret, SpoolDir: dir, Reconciler: rec, Workers: 2,
		MinBackoff: 5 * time.Millisecond, MaxBackoff: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// run starts s and returns its URL and a stop function.
func run(t *testing.T, s *Server) (string, func()) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, ln, 300*time.Millisecond, nil) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return "http://" + ln.Addr().String(), stop
}

func post(t *testing.T, url, auth string, body []byte) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url+"/integration/webhook", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestWebhook_authAndLimits(t *testing.T) {
	rec := &recorder{}
	s := newTestServer(t, t.TempDir(), rec)
	h := s.Handler()
	do := func(method, auth string, body []byte) int {
		req := httptest.NewRequest(method, "/integration/webhook", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		return w.Code
	}
	if c := do(http.MethodPost, "", pushBody("sha256:a")); c != 401 {
		t.Errorf("missing auth: %d", c)
	}
	if c := do(http.MethodPost, "Bearer wrong", pushBody("sha256:a")); c != 401 {
		t.Errorf("wrong auth: %d", c)
	}
	if c := do(http.MethodPost, testSecret+"x", pushBody("sha256:a")); c != 401 {
		t.Errorf("longer auth: %d", c)
	}
	if d := s.Spool().Depth(); d != 0 {
		t.Fatalf("unauthenticated requests spooled %d keys", d)
	}
	big := append(pushBody("sha256:a")[:0:0], bytes.Repeat([]byte(" "), 2<<20)...)
	if c := do(http.MethodPost, testSecret, big); c != 413 {
		t.Errorf("2 MiB body: %d", c)
	}
	if c := do(http.MethodGet, testSecret, nil); c != 405 {
		t.Errorf("GET: %d", c)
	}
	if c := do(http.MethodPost, testSecret, []byte(`{"type":"PUSH_ARTIFACT"}`)); c != 400 {
		t.Errorf("bad payload: %d", c)
	}
	if c := do(http.MethodPost, testSecret, []byte(`{"type":"QUOTA_EXCEED","event_data":{}}`)); c != 202 {
		t.Errorf("ignored type: %d", c)
	}
	if d := s.Spool().Depth(); d != 0 {
		t.Fatalf("refused requests spooled %d keys", d)
	}
	if c := do(http.MethodPost, testSecret, pushBody("sha256:a")); c != 200 {
		t.Errorf("good request: %d", c)
	}
	if d := s.Spool().Depth(); d != 3 {
		t.Fatalf("spool depth %d, want 3 (artifact, repository, project)", d)
	}
	s.Spool().Close()
}

func TestWebhook_reconcilesCoalescesAndMetrics(t *testing.T) {
	gate := make(chan struct{})
	rec := &recorder{gate: gate}
	s := newTestServer(t, t.TempDir(), rec)
	url, stop := run(t, s)
	for range 10 {
		if r := post(t, url, testSecret, pushBody("sha256:a")); r.StatusCode != 200 {
			t.Fatalf("status %d", r.StatusCode)
		}
	}
	close(gate)
	eventually(t, "spool drained", func() bool { return s.Spool().Depth() == 0 })
	art := catalog.Key{Kind: mapping.KindArtifact, Project: "p", Repository: "p/r", Digest: "sha256:a"}.String()
	// At most one reconcile may have started before the later events landed;
	// those then coalesce into one more.
	if n := rec.count(art); n < 1 || n > 2 {
		t.Errorf("10 identical events → %d reconciles, want 1 (2 if one was in flight)", n)
	}
	resp, err := http.Get(url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	_, _ = buf.ReadFrom(resp.Body)
	resp.Body.Close()
	for _, m := range []string{`harborport_webhooks_accepted_total{format="default",type="PUSH_ARTIFACT"} 10`, "harborport_spool_depth 0", "harborport_keys_coalesced_total"} {
		if !strings.Contains(buf.String(), m) {
			t.Errorf("metrics lack %q", m)
		}
	}
	for _, p := range []string{"/healthz", "/readyz"} {
		r, err := http.Get(url + p)
		if err != nil || r.StatusCode != 200 {
			t.Errorf("%s: %v %v", p, r, err)
		}
	}
	stop()
}

func TestWorker_retryPermanentAndInFlightEvent(t *testing.T) {
	var perm atomic.Int32
	rec := &recorder{}
	started := make(chan struct{}, 10)
	release := make(chan struct{})
	rec.fn = func(k catalog.Key, n int) error {
		switch {
		case k.Digest == "sha256:flaky" && n <= 2:
			return errors.New("port 503")
		case k.Digest == "sha256:bad":
			perm.Add(1)
			return Permanent(errors.New("selector is not boolean"))
		case k.Digest == "sha256:slow" && n == 1:
			started <- struct{}{}
			<-release
		}
		return nil
	}
	s := newTestServer(t, t.TempDir(), rec)
	url, _ := run(t, s)

	post(t, url, testSecret, pushBody("sha256:flaky"))
	post(t, url, testSecret, pushBody("sha256:bad"))
	post(t, url, testSecret, pushBody("sha256:slow"))
	<-started
	// An event for the key being reconciled must cause one more reconcile.
	post(t, url, testSecret, pushBody("sha256:slow"))
	close(release)

	key := func(d string) string {
		return catalog.Key{Kind: mapping.KindArtifact, Project: "p", Repository: "p/r", Digest: d}.String()
	}
	eventually(t, "drained", func() bool { return s.Spool().Depth() == 0 })
	if n := rec.count(key("sha256:flaky")); n != 3 {
		t.Errorf("flaky reconciled %d times, want 3 (2 failures, 1 success)", n)
	}
	if n := rec.count(key("sha256:slow")); n != 2 {
		t.Errorf("slow reconciled %d times, want 2 (the event during the first must not be lost)", n)
	}
	if perm.Load() != 1 {
		t.Errorf("permanent error retried: %d calls", perm.Load())
	}
	dead, err := s.Spool().Dead()
	if err != nil || len(dead) != 1 || dead[0].Key.Digest != "sha256:bad" || !strings.Contains(dead[0].LastError, "not boolean") {
		t.Errorf("dead records = %+v %v", dead, err)
	}
}

func TestSpool_survivesRestart(t *testing.T) {
	dir := t.TempDir()
	gate := make(chan struct{}) // never opened: nothing is reconciled in the first life
	s := newTestServer(t, dir, &recorder{gate: gate})
	url, stop := run(t, s)
	post(t, url, testSecret, pushBody("sha256:a"))
	post(t, url, testSecret, pushBody("sha256:b"))
	stop()

	rec := &recorder{}
	s2 := newTestServer(t, dir, rec)
	if d := s2.Spool().Depth(); d != 4 {
		t.Fatalf("after restart the spool holds %d keys, want 4 (2 artifacts, their repository and project)", d)
	}
	run(t, s2)
	eventually(t, "drained after restart", func() bool { return s2.Spool().Depth() == 0 })
	for _, d := range []string{"sha256:a", "sha256:b"} {
		k := catalog.Key{Kind: mapping.KindArtifact, Project: "p", Repository: "p/r", Digest: d}.String()
		if rec.count(k) != 1 {
			t.Errorf("%s reconciled %d times after restart", d, rec.count(k))
		}
	}
}

func TestDrain_refusesNewEvents(t *testing.T) {
	s := newTestServer(t, t.TempDir(), &recorder{})
	s.drain.Store(true)
	req := httptest.NewRequest(http.MethodPost, "/integration/webhook", bytes.NewReader(pushBody("sha256:a")))
	req.Header.Set("Authorization", testSecret)
	w := httptest.NewRecorder()
	s.Handler().ServeHTTP(w, req)
	if w.Code != 503 {
		t.Errorf("draining webhook: %d, want 503 so Harbor retries", w.Code)
	}
	w = httptest.NewRecorder()
	s.Handler().ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	if w.Code != 503 {
		t.Errorf("draining readyz: %d", w.Code)
	}
	s.Spool().Close()
}
