package listener

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/harborport/terraform-provider-harborport/internal/catalog"
)

const testSecret = "Bearer s3cret-webhook-value"

func pushBody(digest string) []byte {
	return []byte(`{"type":"PUSH_ARTIFACT","occur_at":1,"operator":"admin","event_data":{"resources":[{"digest":"` + digest +
		`","tag":"v1","resource_url":"h/p/r:v1"}],"repository":{"name":"r","namespace":"p","repo_full_name":"p/r","repo_type":"private"}}}`)
}

// digestN is a valid digest per n.
func digestN(n int) string {
	const hex = "0123456789abcdef"
	return "sha256:" + strings.Repeat(string(hex[n%16]), 63) + string(hex[(n/16)%16])
}

// recorder is a fake Reconciler: it counts calls per key, can block on a
// gate, and tracks how many calls per key overlap (must never exceed 1).
type recorder struct {
	mu         sync.Mutex
	calls      map[string]int
	times      map[string][]time.Time
	running    map[string]int
	maxPerKey  int
	maxOverall int
	total      int
	fn         func(ctx context.Context, k catalog.Key, n int) error
	gate       chan struct{} // when set, each call waits on it (or ctx)
}

func (r *recorder) Reconcile(ctx context.Context, k catalog.Key) error {
	id := k.String()
	r.mu.Lock()
	if r.calls == nil {
		r.calls, r.times, r.running = map[string]int{}, map[string][]time.Time{}, map[string]int{}
	}
	r.calls[id]++
	n := r.calls[id]
	r.times[id] = append(r.times[id], time.Now())
	r.running[id]++
	r.total++
	r.maxPerKey = max(r.maxPerKey, r.running[id])
	r.maxOverall = max(r.maxOverall, r.total)
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		r.running[id]--
		r.total--
		r.mu.Unlock()
	}()
	if r.gate != nil {
		select {
		case <-r.gate:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if r.fn != nil {
		return r.fn(ctx, k, n)
	}
	return nil
}

func (r *recorder) count(k catalog.Key) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.calls[k.String()]
}

// syncBuffer collects logs from concurrent goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type testServer struct {
	*Server
	logs *syncBuffer
}

func newTestServer(t *testing.T, dir string, rec Reconciler, tweak ...func(*Config)) testServer {
	t.Helper()
	logs := &syncBuffer{}
	cfg := Config{Secret: testSecret, SpoolDir: dir, Reconciler: rec, Workers: 2,
		MinBackoff: 5 * time.Millisecond, MaxBackoff: 20 * time.Millisecond, PollInterval: 50 * time.Millisecond,
		Jitter: func(int64) int64 { return 0 },
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	for _, f := range tweak {
		f(&cfg)
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("closing the server's spool: %v", err)
		}
		if strings.Contains(logs.String(), "s3cret") {
			t.Errorf("the secret reached the logs:\n%s", logs)
		}
	})
	return testServer{s, logs}
}

// run starts s on a loopback port; stop cancels and returns Run's error.
func run(t *testing.T, s testServer, drain time.Duration) (url string, stop func() error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, ln, drain, nil) }()
	var once sync.Once
	var runErr error
	stop = func() error {
		once.Do(func() { cancel(); runErr = <-done })
		return runErr
	}
	t.Cleanup(func() { _ = stop() })
	return "http://" + ln.Addr().String(), stop
}

// post delivers body to the webhook endpoint with the test secret and
// returns the status.
func post(t *testing.T, url string, body []byte) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url+WebhookPath, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", testSecret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close() // drained; only the status matters
	return resp.StatusCode
}

// serve runs one request through the handler, without a network.
func serve(h http.Handler, method, path, auth, ct string, body []byte) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, bytes.NewReader(body))
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func metricsText(t *testing.T, h http.Handler) string {
	t.Helper()
	w := serve(h, http.MethodGet, "/metrics", "", "", nil)
	if w.Code != 200 {
		t.Fatalf("/metrics: %d", w.Code)
	}
	return w.Body.String()
}
