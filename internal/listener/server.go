package listener

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/harborport/terraform-provider-harborport/internal/catalog"
)

// Reconciler makes Port match Harbor for one key (catalog.Engine.Reconcile).
type Reconciler interface {
	Reconcile(ctx context.Context, k catalog.Key) error
}

// ReconcileFunc adapts a function to Reconciler.
type ReconcileFunc func(ctx context.Context, k catalog.Key) error

func (f ReconcileFunc) Reconcile(ctx context.Context, k catalog.Key) error { return f(ctx, k) }

// permanent marks errors retrying cannot fix.
type permanent struct{ err error }

func (p permanent) Error() string { return p.err.Error() }
func (p permanent) Unwrap() error { return p.err }

// Permanent marks err as not worth retrying (a mapping error, say); the key
// goes to the dead bucket and a metric counts it.
func Permanent(err error) error { return permanent{err} }

// Config configures a Server.
type Config struct {
	Secret     string // required unless InsecureNoAuth
	NoAuth     bool
	SpoolDir   string
	Workers    int // default 4
	Reconciler Reconciler
	Logger     *slog.Logger
	MaxBody    int64         // default 1 MiB (Harbor's payloads are a few KB)
	Timeout    time.Duration // per reconcile; default 60s
	MinBackoff time.Duration // default 1s
	MaxBackoff time.Duration // default 5m
	// Ready reports whether Harbor and Port are usable, for /readyz; nil = always.
	Ready func(context.Context) error
	Now   func() time.Time
	// Registry receives the metrics; default a new one, served on /metrics.
	Registry *prometheus.Registry
}

// Server is the listener: HTTP intake into the spool, and workers draining it.
type Server struct {
	cfg     Config
	spool   *Spool
	log     *slog.Logger
	m       *metrics
	secret  [32]byte
	wake    chan struct{}
	busyMu  sync.Mutex
	busy    map[string]bool
	drain   atomic.Bool
	handler http.Handler
}

// New opens the spool and builds the server; Run starts it.
func New(cfg Config) (*Server, error) {
	if cfg.Secret == "" && !cfg.NoAuth {
		return nil, errors.New("listener: a webhook secret is required")
	}
	if cfg.Reconciler == nil {
		return nil, errors.New("listener: no reconciler")
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 4
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = 1 << 20
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 60 * time.Second
	}
	if cfg.MinBackoff <= 0 {
		cfg.MinBackoff = time.Second
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = 5 * time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.Registry == nil {
		cfg.Registry = prometheus.NewRegistry()
	}
	sp, err := OpenSpool(cfg.SpoolDir)
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, spool: sp, log: cfg.Logger, wake: make(chan struct{}, 1), busy: map[string]bool{}}
	// Hash once: comparing fixed-length digests keeps the comparison constant
	// time even in the secret's length.
	s.secret = sha256.Sum256([]byte(cfg.Secret))
	s.m = newMetrics(cfg.Registry, sp)
	mux := http.NewServeMux()
	mux.HandleFunc("/integration/webhook", s.webhook)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, 200, map[string]string{"status": "ok"}) })
	mux.HandleFunc("GET /readyz", s.readyz)
	mux.Handle("GET /metrics", promhttp.HandlerFor(cfg.Registry, promhttp.HandlerOpts{}))
	s.handler = mux
	return s, nil
}

// Handler is the HTTP surface (for tests and custom servers).
func (s *Server) Handler() http.Handler { return s.handler }

// Spool exposes the spool (dead records, depth) for operators and tests.
func (s *Server) Spool() *Spool { return s.spool }

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func (s *Server) webhook(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		s.m.rejected.WithLabelValues("method").Inc()
		writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "use POST"})
		return
	}
	s.m.received.Inc()
	if !s.cfg.NoAuth {
		got := sha256.Sum256([]byte(r.Header.Get("Authorization")))
		if subtle.ConstantTimeCompare(got[:], s.secret[:]) != 1 {
			s.m.rejected.WithLabelValues("auth").Inc()
			s.log.Warn("webhook rejected: wrong or missing Authorization", "remote", r.RemoteAddr)
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "the Authorization header does not match the configured webhook secret"})
			return
		}
	}
	if s.drain.Load() {
		s.m.rejected.WithLabelValues("draining").Inc()
		w.Header().Set("Retry-After", "5")
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "shutting down; Harbor will retry"})
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			s.m.rejected.WithLabelValues("too_large").Inc()
			writeJSON(w, http.StatusRequestEntityTooLarge, map[string]string{"error": fmt.Sprintf("body over %d bytes", s.cfg.MaxBody)})
			return
		}
		s.m.rejected.WithLabelValues("read").Inc()
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "reading body: " + err.Error()})
		return
	}
	ev, err := ParseEvent(r.Header.Get("Content-Type"), body)
	if err != nil {
		s.m.rejected.WithLabelValues("payload").Inc()
		s.log.Warn("webhook rejected: bad payload", "error", err)
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
		return
	}
	if len(ev.Targets) == 0 {
		s.m.ignored.WithLabelValues(ev.Type).Inc()
		s.log.Info("webhook ignored", "type", ev.Type, "format", ev.Format, "reason", ev.Ignored)
		writeJSON(w, http.StatusAccepted, map[string]string{"status": "ignored", "reason": ev.Ignored})
		return
	}
	// Durable before the reply: once Harbor sees 2xx it never sends again.
	coalesced, err := s.spool.Put(ev.Targets, s.cfg.Now())
	if err != nil {
		s.m.rejected.WithLabelValues("spool").Inc()
		s.log.Error("spool write failed; answering 503 so Harbor retries", "error", err)
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "could not store the event; retry later"})
		return
	}
	s.m.accepted.WithLabelValues(ev.Type, ev.Format).Inc()
	s.m.coalesced.Add(float64(coalesced))
	s.log.Info("webhook accepted", "type", ev.Type, "format", ev.Format, "id", ev.ID, "keys", len(ev.Targets), "coalesced", coalesced)
	s.poke()
	writeJSON(w, http.StatusOK, map[string]any{"status": "accepted", "keys": len(ev.Targets)})
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	if s.drain.Load() {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "draining"})
		return
	}
	if s.cfg.Ready != nil {
		ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
		defer cancel()
		if err := s.cfg.Ready(ctx); err != nil {
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "not ready", "error": err.Error()})
			return
		}
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

func (s *Server) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Run serves on ln and drains the spool until ctx ends; then it stops
// accepting (readyz 503, webhooks 503 so Harbor retries), lets in-flight
// requests and reconciles finish within drain, and closes the spool.
func (s *Server) Run(ctx context.Context, ln net.Listener, drain time.Duration, serve func(*http.Server, net.Listener) error) error {
	srv := &http.Server{Handler: s.handler, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second}
	if serve == nil {
		serve = func(hs *http.Server, l net.Listener) error { return hs.Serve(l) }
	}
	errc := make(chan error, 1)
	go func() {
		if err := serve(srv, ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			errc <- err
		}
	}()
	workCtx, stopWork := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); s.dispatch(ctx, workCtx) }()

	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	s.drain.Store(true)
	s.log.Info("draining", "spool_depth", s.spool.Depth())
	shutdownCtx, cancel := context.WithTimeout(context.Background(), drain)
	defer cancel()
	_ = srv.Shutdown(shutdownCtx)
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-shutdownCtx.Done():
		stopWork() // unfinished reconciles stay spooled
		<-done
	}
	stopWork()
	if cerr := s.spool.Close(); err == nil {
		err = cerr
	}
	s.log.Info("stopped")
	return err
}

// dispatch hands due records to workers until stop ends (no new work) and
// running reconciles (bounded by work's cancellation) return.
func (s *Server) dispatch(stop, work context.Context) {
	sem := make(chan struct{}, s.cfg.Workers)
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		recs, next, err := s.spool.Due(s.cfg.Now(), s.cfg.Workers, s.isBusy)
		if err != nil {
			s.log.Error("reading the spool", "error", err)
		}
		for _, rec := range recs {
			select {
			case sem <- struct{}{}:
			case <-stop.Done():
				return
			}
			s.setBusy(rec.Key, true)
			wg.Add(1)
			go func(rec Record) {
				defer wg.Done()
				defer func() { <-sem; s.setBusy(rec.Key, false); s.poke() }()
				s.process(work, rec)
			}(rec)
		}
		wait := time.Second
		if !next.IsZero() {
			wait = min(wait, max(time.Until(next), 10*time.Millisecond))
		}
		if len(recs) > 0 {
			wait = 0
		}
		t := time.NewTimer(wait)
		select {
		case <-stop.Done():
			t.Stop()
			return
		case <-s.wake:
		case <-t.C:
		}
		t.Stop()
	}
}

func (s *Server) isBusy(k catalog.Key) bool {
	s.busyMu.Lock()
	defer s.busyMu.Unlock()
	return s.busy[string(spoolKey(k))]
}

func (s *Server) setBusy(k catalog.Key, b bool) {
	s.busyMu.Lock()
	defer s.busyMu.Unlock()
	if b {
		s.busy[string(spoolKey(k))] = true
	} else {
		delete(s.busy, string(spoolKey(k)))
	}
}

func (s *Server) process(ctx context.Context, rec Record) {
	start := s.cfg.Now()
	rctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	err := s.cfg.Reconciler.Reconcile(rctx, rec.Key)
	cancel()
	s.m.duration.Observe(s.cfg.Now().Sub(start).Seconds())
	var perm permanent
	switch {
	case err == nil:
		s.m.processed.WithLabelValues(string(rec.Key.Kind)).Inc()
		s.m.latency.Observe(s.cfg.Now().Sub(rec.FirstSeen).Seconds())
		if _, derr := s.spool.Done(rec); derr != nil {
			s.log.Error("spool update failed", "key", rec.Key.String(), "error", derr)
		}
		s.log.Debug("reconciled", "key", rec.Key.String(), "attempt", rec.Attempts+1)
	case errors.As(err, &perm):
		s.m.failed.Inc()
		s.log.Error("reconcile failed permanently; moved to the dead records", "key", rec.Key.String(), "error", err)
		if berr := s.spool.Bury(rec, err); berr != nil {
			s.log.Error("spool update failed", "key", rec.Key.String(), "error", berr)
		}
	default:
		s.m.retried.Inc()
		delay := s.backoff(rec.Attempts)
		if ctx.Err() != nil {
			delay = 0 // shutting down: due again at the next start
		}
		s.log.Warn("reconcile failed; will retry", "key", rec.Key.String(), "attempt", rec.Attempts+1, "retry_in", delay.String(), "error", err)
		if rerr := s.spool.Retry(rec, s.cfg.Now().Add(delay), err); rerr != nil {
			s.log.Error("spool update failed", "key", rec.Key.String(), "error", rerr)
		}
	}
}

// backoff is exponential with full jitter in [d/2, d].
func (s *Server) backoff(attempts int) time.Duration {
	d := s.cfg.MinBackoff << min(attempts, 20)
	if d <= 0 || d > s.cfg.MaxBackoff {
		d = s.cfg.MaxBackoff
	}
	return d/2 + time.Duration(rand.Int64N(int64(d/2)+1))
}
