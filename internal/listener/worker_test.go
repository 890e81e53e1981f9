package listener

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/harborport/terraform-provider-harborport/internal/catalog"
	"github.com/harborport/terraform-provider-harborport/internal/mapping"
)

func pr(d string) catalog.Key {
	return catalog.Key{Kind: mapping.KindArtifact, Project: "p", Repository: "p/r", Digest: d}
}

var (
	repoKey    = catalog.Key{Kind: mapping.KindRepository, Project: "p", Repository: "p/r"}
	projectKey = catalog.Key{Kind: mapping.KindProject, Project: "p"}
)

// Workers start with Run, so events posted before it wait in the spool:
// 10 identical events are 3 keys and exactly 3 reconciles.
func TestWorkers_coalesceWhilePaused(t *testing.T) {
	rec := &recorder{}
	s := newTestServer(t, t.TempDir(), rec)
	for range 10 {
		if w := serve(s.Handler(), http.MethodPost, WebhookPath, testSecret, "application/json", pushBody(digestN(1))); w.Code != 200 {
			t.Fatalf("status %d", w.Code)
		}
	}
	if d := s.Spool().Depth(); d != 3 {
		t.Fatalf("spool depth %d, want 3", d)
	}
	run(t, s, time.Second)
	eventually(t, "spool drained", func() bool { return s.Spool().Depth() == 0 })
	for _, k := range []catalog.Key{pr(digestN(1)), repoKey, projectKey} {
		if n := rec.count(k); n != 1 {
			t.Errorf("%s reconciled %d times, want 1", k, n)
		}
	}
	if m := metricsText(t, s.Handler()); !strings.Contains(m, "harborport_keys_coalesced_total 27") ||
		!strings.Contains(m, `harborport_reconciles_total{kind="artifact"} 1`) {
		t.Errorf("metrics: want 27 coalesced keys and 1 artifact reconcile:\n%s", grepLines(m, "harborport_"))
	}
}

func TestWorkers_retryThenSuccess(t *testing.T) {
	rec := &recorder{fn: func(_ context.Context, k catalog.Key, n int) error {
		if k.Kind == mapping.KindArtifact && n <= 2 {
			return errors.New("port: 503 Service Unavailable")
		}
		return nil
	}}
	s := newTestServer(t, t.TempDir(), rec, func(c *Config) { c.MinBackoff, c.MaxBackoff = 20*time.Millisecond, time.Second })
	url, _ := run(t, s, time.Second)
	post(t, url, pushBody(digestN(1)))
	eventually(t, "spool drained", func() bool { return s.Spool().Depth() == 0 })
	k := pr(digestN(1))
	if n := rec.count(k); n != 3 {
		t.Fatalf("reconciled %d times, want 3 (2 failures, 1 success)", n)
	}
	rec.mu.Lock()
	ts := rec.times[k.String()]
	rec.mu.Unlock()
	// Jitter is pinned to 0: waits are MinBackoff, then twice that.
	if g1, g2 := ts[1].Sub(ts[0]), ts[2].Sub(ts[1]); g1 < 20*time.Millisecond || g2 < 40*time.Millisecond {
		t.Errorf("retry gaps %v, %v; want ≥ 20ms and ≥ 40ms (exponential backoff)", g1, g2)
	}
	m := metricsText(t, s.Handler())
	if !strings.Contains(m, `harborport_reconcile_retries_total{kind="artifact"} 2`) {
		t.Errorf("metrics lack 2 retries:\n%s", grepLines(m, "retries"))
	}
	if !strings.Contains(s.logs.String(), "will retry") || !strings.Contains(s.logs.String(), "503 Service Unavailable") {
		t.Error("the retry is not logged with its cause")
	}
}

func TestWorkers_permanentGoesDeadAndEventRevives(t *testing.T) {
	var calls atomic.Int32
	rec := &recorder{fn: func(_ context.Context, k catalog.Key, _ int) error {
		if k.Kind == mapping.KindArtifact {
			if calls.Add(1) == 1 {
				return Permanent(errors.New("mapping: selector is not boolean"))
			}
		}
		return nil
	}}
	s := newTestServer(t, t.TempDir(), rec)
	url, _ := run(t, s, time.Second)
	post(t, url, pushBody(digestN(1)))
	eventually(t, "dead record", func() bool { return s.Spool().DeadCount() == 1 && s.Spool().Depth() == 0 })
	dead, err := s.Spool().Dead()
	if err != nil || len(dead) != 1 || dead[0].Key != pr(digestN(1)) || !strings.Contains(dead[0].LastError, "not boolean") {
		t.Fatalf("dead = %+v, %v", dead, err)
	}
	time.Sleep(30 * time.Millisecond) // > MaxBackoff: a retry would have happened
	if calls.Load() != 1 {
		t.Fatalf("a permanent error was retried: %d calls", calls.Load())
	}
	if m := metricsText(t, s.Handler()); !strings.Contains(m, `harborport_reconcile_failures_total{kind="artifact"} 1`) ||
		!strings.Contains(m, "harborport_spool_dead 1") {
		t.Errorf("metrics:\n%s", grepLines(m, "failures", "dead"))
	}
	post(t, url, pushBody(digestN(1))) // the mapping was fixed; a new event retries the key
	eventually(t, "revived and reconciled", func() bool { return calls.Load() == 2 && s.Spool().DeadCount() == 0 })
}

// An event for a key being reconciled must cause one more reconcile after it.
func TestWorkers_eventDuringReconcile(t *testing.T) {
	started, release := make(chan struct{}), make(chan struct{})
	rec := &recorder{fn: func(_ context.Context, k catalog.Key, n int) error {
		if k.Kind == mapping.KindArtifact && n == 1 {
			close(started)
			<-release
		}
		return nil
	}}
	s := newTestServer(t, t.TempDir(), rec)
	url, _ := run(t, s, time.Second)
	post(t, url, pushBody(digestN(1)))
	<-started
	post(t, url, pushBody(digestN(1)))
	close(release)
	eventually(t, "drained", func() bool { return s.Spool().Depth() == 0 })
	if n := rec.count(pr(digestN(1))); n != 2 {
		t.Fatalf("reconciled %d times, want 2: the event during the first reconcile was lost", n)
	}
}

// Never two reconciles of one key at once, while distinct keys do run in
// parallel, under a stream of events.
func TestWorkers_oneReconcilePerKeyAtATime(t *testing.T) {
	rec := &recorder{fn: func(context.Context, catalog.Key, int) error { time.Sleep(3 * time.Millisecond); return nil }}
	s := newTestServer(t, t.TempDir(), rec, func(c *Config) { c.Workers = 4 })
	url, _ := run(t, s, time.Second)
	for i := range 40 {
		if c := post(t, url, pushBody(digestN(i%3))); c != 200 {
			t.Fatalf("status %d", c)
		}
	}
	eventually(t, "drained", func() bool { return s.Spool().Depth() == 0 })
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if rec.maxPerKey != 1 {
		t.Errorf("a key was reconciled by %d workers at once", rec.maxPerKey)
	}
	if rec.maxOverall < 2 {
		t.Errorf("at most %d reconcile ran at once with 4 workers and 5 keys", rec.maxOverall)
	}
}

func TestWorkers_panicAndTimeoutAreRetried(t *testing.T) {
	rec := &recorder{fn: func(ctx context.Context, k catalog.Key, n int) error {
		switch {
		case k.Kind == mapping.KindArtifact && n == 1:
			panic("nil map")
		case k.Kind == mapping.KindRepository && n == 1:
			<-ctx.Done() // hangs until the per-key timeout
			return ctx.Err()
		}
		return nil
	}}
	s := newTestServer(t, t.TempDir(), rec, func(c *Config) { c.Timeout = 20 * time.Millisecond })
	url, _ := run(t, s, time.Second)
	post(t, url, pushBody(digestN(1)))
	eventually(t, "drained", func() bool { return s.Spool().Depth() == 0 })
	if a, r := rec.count(pr(digestN(1))), rec.count(repoKey); a != 2 || r != 2 {
		t.Fatalf("artifact %d, repository %d reconciles; want 2 each (failure, then success)", a, r)
	}
	if logs := s.logs.String(); !strings.Contains(logs, "reconciler panicked") || !strings.Contains(logs, "deadline exceeded") {
		t.Errorf("panic and timeout not logged:\n%s", logs)
	}
}

// Drain: in-flight requests and reconciles finish; readyz and new deliveries
// answer 503 meanwhile; the spool is closed with the finished key removed.
func TestRun_gracefulDrain(t *testing.T) {
	dir := t.TempDir()
	started, release := make(chan struct{}), make(chan struct{})
	rec := &recorder{fn: func(_ context.Context, k catalog.Key, _ int) error {
		if k.Kind == mapping.KindArtifact {
			close(started)
			<-release
		}
		return nil
	}}
	s := newTestServer(t, dir, rec, func(c *Config) { c.Workers = 1 })
	url, stop := run(t, s, 5*time.Second)
	post(t, url, pushBody(digestN(1)))
	<-started
	stopped := make(chan error, 1)
	go func() { stopped <- stop() }()
	eventually(t, "draining", func() bool { return s.drain.Load() })
	if w := serve(s.Handler(), http.MethodGet, "/readyz", "", "", nil); w.Code != 503 {
		t.Errorf("readyz while draining: %d", w.Code)
	}
	select {
	case err := <-stopped:
		t.Fatalf("Run returned (%v) with a reconcile in flight", err)
	case <-time.After(30 * time.Millisecond):
	}
	close(release)
	if err := <-stopped; err != nil {
		t.Fatalf("Run: %v", err)
	}
	if s.Spool().Open() {
		t.Error("spool still open after Run")
	}
	sp := openTestSpool(t, dir)
	recs, _ := sp.Pending()
	for _, r := range recs {
		if r.Key.Kind == mapping.KindArtifact {
			t.Errorf("the reconciled artifact is still spooled: %+v", r)
		}
	}
}

// Past the drain budget a running reconcile is cancelled; its key stays
// spooled with its attempt count unchanged (shutdown is not its failure).
func TestRun_drainTimeoutKeepsKey(t *testing.T) {
	dir := t.TempDir()
	started := make(chan struct{})
	rec := &recorder{fn: func(ctx context.Context, k catalog.Key, _ int) error {
		if k.Kind == mapping.KindArtifact {
			close(started)
			<-ctx.Done()
			return ctx.Err()
		}
		return nil
	}}
	s := newTestServer(t, dir, rec, func(c *Config) { c.Workers = 1 })
	url, stop := run(t, s, 50*time.Millisecond)
	post(t, url, pushBody(digestN(1)))
	<-started
	begin := time.Now()
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(begin); took > 2*time.Second {
		t.Errorf("drain took %v with a 50ms budget", took)
	}
	sp := openTestSpool(t, dir)
	recs, _ := sp.Pending()
	var art *Record
	for i := range recs {
		if recs[i].Key.Kind == mapping.KindArtifact {
			art = &recs[i]
		}
	}
	if art == nil || art.Attempts != 0 || art.LastError != "" {
		t.Fatalf("artifact after a cut-short drain: %+v, want spooled with 0 attempts", art)
	}
}

func TestRun_restartResumes(t *testing.T) {
	dir := t.TempDir()
	gate := make(chan struct{}) // never opened: nothing finishes in the first life
	s := newTestServer(t, dir, &recorder{gate: gate}, func(c *Config) { c.Workers = 1 })
	url, stop := run(t, s, 20*time.Millisecond)
	post(t, url, pushBody(digestN(1)))
	post(t, url, pushBody(digestN(2)))
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	s2 := newTestServer(t, dir, rec)
	if d := s2.Spool().Depth(); d != 4 {
		t.Fatalf("after restart the spool holds %d keys, want 4 (2 artifacts, their repository and project)", d)
	}
	run(t, s2, time.Second)
	eventually(t, "drained after restart", func() bool { return s2.Spool().Depth() == 0 })
	for _, d := range []string{digestN(1), digestN(2)} {
		if n := rec.count(pr(d)); n != 1 {
			t.Errorf("%s reconciled %d times after restart", d, n)
		}
	}
}

func TestBackoffDelay(t *testing.T) {
	lo, hi := time.Second, 5*time.Minute
	zero := func(int64) int64 { return 0 }
	top := func(n int64) int64 { return n - 1 }
	cases := []struct {
		failures int
		jitter   func(int64) int64
		want     time.Duration
	}{
		{0, zero, time.Second}, {0, top, 1500*time.Millisecond - 1},
		{1, zero, 2 * time.Second}, {3, zero, 8 * time.Second},
		{8, zero, 256 * time.Second}, {8, top, hi - 1}, // 1.5×256s is over the cap
		{9, zero, hi - hi/4}, {9, top, hi - 1}, {1000, zero, hi - hi/4}, {1000, top, hi - 1},
	}
	for _, c := range cases {
		if got := backoffDelay(lo, hi, c.failures, c.jitter); got != c.want {
			t.Errorf("failures=%d: %v, want %v", c.failures, got, c.want)
		}
	}
	for f := range 100 {
		if d := backoffDelay(lo, hi, f, top); d < lo || d > hi {
			t.Fatalf("failures=%d: %v outside [%v, %v]", f, d, lo, hi)
		}
	}
	if d := backoffDelay(time.Second, time.Second, 5, top); d != time.Second {
		t.Errorf("min == max: %v", d)
	}
}

func TestPermanent(t *testing.T) {
	base := errors.New("bad mapping")
	err := Permanent(base)
	if !IsPermanent(err) || !IsPermanent(errors.Join(errors.New("ctx"), err)) || !errors.Is(err, base) || err.Error() != "bad mapping" {
		t.Fatal("Permanent does not wrap transparently")
	}
	if IsPermanent(base) || Permanent(nil) != nil {
		t.Fatal("IsPermanent(plain) or Permanent(nil)")
	}
}

func grepLines(s string, subs ...string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		for _, sub := range subs {
			if strings.Contains(l, sub) && !strings.HasPrefix(l, "#") {
				out = append(out, l)
				break
			}
		}
	}
	return strings.Join(out, "\n")
}
