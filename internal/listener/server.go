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
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/harborport/terraform-provider-harborport/internal/catalog"
)

// WebhookPath is where Harbor's policies point (Ocean serves the same path,
// internal/port/API-NOTES.md "Ocean's live events").
const WebhookPath = "/integration/webhook"

// Config configures a Server. Zero values take the defaults noted.
type Config struct {
	// Secret is the exact Authorization header Harbor sends: the policy's
	// auth_header verbatim, e.g. "Bearer …" (internal/harbor/API-NOTES.md
	// "Webhook delivery"). Required unless NoAuth. It is hashed at New and not
	// kept.
	Secret     string
	NoAuth     bool
	SpoolDir   string     // directory of spool.db; one per process
	Workers    int        // concurrent reconciles; default 4
	Reconciler Reconciler // required
	Logger     *slog.Logger
	MaxBody    int64         // default 1 MiB (Harbor's payloads are a few KB)
	Timeout    time.Duration // per reconcile; default 60s
	MinBackoff time.Duration // first retry delay; default 1s
	MaxBackoff time.Duration // cap; default 5m
	// Jitter returns a uniform value in [0, n); default math/rand/v2.Int64N.
	// Tests pin it to make backoff deterministic.
	Jitter func(n int64) int64
	// PollInterval bounds how long the dispatcher sleeps without news
	// (events and completions wake it at once); default 1s.
	PollInterval time.Duration
	// Ready reports whether Harbor and Port are usable, for /readyz (5 s
	// budget); nil means always. Its error text is shown on /readyz: it must
	// not carry secrets.
	Ready func(context.Context) error
	// Now is the clock for due times and latencies; default time.Now.
	Now func() time.Time
	// Registry receives the metrics (plus Go and process collectors); default
	// a new one. Served on /metrics.
	Registry *prometheus.Registry

	// Parts reports the optional parts of the listener on /readyz, each
	// under its name (e.g. "audit_feed"). A degraded part does not make the
	// listener unready: webhooks still work, so /readyz stays 200 and names
	// the part and its reason. nil reports none.
	Parts func() map[string]PartStatus

	// PreviousSecret, when set, is accepted too: the rotation window in
	// which Harbor still sends the old value (policies not yet updated, and
	// queued deliveries, which carry the header they were enqueued with:
	// goharbor/harbor src/pkg/notifier/handler/notification/http_handler.go
	// puts it in the job's parameters). Hashed at New and not kept, like Secret.
	PreviousSecret string
}

// PartStatus is the state of an optional part on /readyz.
type PartStatus struct {
	State  string `json:"state"`            // "ok", "starting", "degraded" or "off"
	Reason string `json:"reason,omitempty"` // what is wrong and the fix, when degraded or off
	// Details are figures worth seeing at a glance (e.g. the feed's lag).
	Details map[string]any `json:"details,omitempty"`
}

// Server is the listener: HTTP intake into the spool, and workers draining it.
type Server struct {
	cfg        Config
	spool      *Spool
	log        *slog.Logger
	m          *metrics
	secret     [sha256.Size]byte
	prev       [sha256.Size]byte
	hasPrev    bool
	wake       chan struct{}
	busyMu     sync.Mutex
	busy       map[string]bool
	busyNarrow map[string]int // repository → reconciles of its artifacts by digest running (repoScope)
	busyWide   map[string]int // repository → reconciles of any of its artifacts running
	drain      atomic.Bool
	handler    http.Handler
	running    atomic.Bool
}

// New validates cfg, opens the spool and builds the server. Handler serves at
// once (events are spooled); reconciles start with Run.
func New(cfg Config) (*Server, error) {
	if cfg.Secret == "" && !cfg.NoAuth {
		return nil, errors.New("listener: a webhook secret is required: set it to the auth_header of Harbor's webhook policy (or run with no authentication explicitly, only behind a trusted proxy)")
	}
	if cfg.PreviousSecret != "" && (cfg.NoAuth || cfg.Secret == "") {
		return nil, errors.New("listener: a previous webhook secret is only accepted beside the current one: set the new secret too, or drop the previous one")
	}
	if cfg.PreviousSecret != "" && cfg.PreviousSecret == cfg.Secret {
		return nil, errors.New("listener: the previous webhook secret equals the current one: a rotation needs the new value as the secret and the old one as the previous")
	}
	if cfg.Reconciler == nil {
		return nil, errors.New("listener: Config.Reconciler is nil")
	}
	if cfg.SpoolDir == "" {
		return nil, errors.New("listener: Config.SpoolDir is empty: the spool needs a directory that survives restarts")
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
	if cfg.MaxBackoff < cfg.MinBackoff {
		return nil, fmt.Errorf("listener: MaxBackoff %s is below MinBackoff %s", cfg.MaxBackoff, cfg.MinBackoff)
	}
	if cfg.Jitter == nil {
		cfg.Jitter = rand.Int64N
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Registry == nil {
		cfg.Registry = prometheus.NewRegistry()
		cfg.Registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	sp, err := OpenSpool(cfg.SpoolDir)
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, spool: sp, log: cfg.Logger, wake: make(chan struct{}, 1), busy: map[string]bool{},
		busyNarrow: map[string]int{}, busyWide: map[string]int{}}
	// Compare fixed-length digests so the comparison's time depends on
	// neither the secret's content nor its length; drop the plain secret.
	s.secret = sha256.Sum256([]byte(cfg.Secret))
	s.cfg.Secret = ""
	if cfg.PreviousSecret != "" {
		s.prev, s.hasPrev = sha256.Sum256([]byte(cfg.PreviousSecret)), true
		s.cfg.PreviousSecret = ""
		s.log.Warn("webhook secret rotation: deliveries with the previous secret are accepted too; remove it once " +
			`harborport_webhook_auth_matches_total{secret="previous"} stops growing`)
	}
	if cfg.NoAuth {
		s.log.Warn("webhook authentication is off: anyone who can reach the listener can make it reconcile keys")
	}
	s.m = newMetrics(cfg.Registry, sp)
	if !cfg.NoAuth { // export the zero, so a rate() over the rotation window starts from it
		s.m.authMatches.WithLabelValues(matchedCurrent)
		if s.hasPrev {
			s.m.authMatches.WithLabelValues(matchedPrevious)
		}
	}
	mux := http.NewServeMux()
	mux.HandleFunc(WebhookPath, s.webhook)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", s.readyz)
	mux.Handle("GET /metrics", promhttp.HandlerFor(cfg.Registry, promhttp.HandlerOpts{Registry: cfg.Registry}))
	s.handler = mux
	return s, nil
}

// Handler is the HTTP surface (for tests and custom servers).
func (s *Server) Handler() http.Handler { return s.handler }

// Registry is where the server's metrics are (other parts add theirs).
func (s *Server) Registry() *prometheus.Registry { return s.cfg.Registry }

// Spool exposes the spool (depth, dead records) for operators and tests.
func (s *Server) Spool() *Spool { return s.spool }

// Close closes the spool of a server that will not Run (Run closes it itself).
func (s *Server) Close() error { return s.spool.Close() }

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func (s *Server) refuse(w http.ResponseWriter, code int, reason, msg string) {
	s.m.rejected.WithLabelValues(reason).Inc()
	writeJSON(w, code, map[string]string{"error": msg})
}

// Which secret authenticated a delivery: the label of
// harborport_webhook_auth_matches_total and the "secret" field of the logs.
// They name the slot, never the value.
const (
	matchedCurrent  = "current"
	matchedPrevious = "previous"
	matchedNone     = "none" // authentication is off
)

// authorized compares the Authorization header with the secret, and with
// the previous one during a rotation, in constant time: both digests are
// always compared. It returns which one matched, or why none did. The header
// is never logged or echoed.
func (s *Server) authorized(r *http.Request) (ok bool, matched, reason string) {
	if s.cfg.NoAuth {
		return true, matchedNone, ""
	}
	h := r.Header.Get("Authorization")
	got := sha256.Sum256([]byte(h))
	cur := subtle.ConstantTimeCompare(got[:], s.secret[:])
	prev := 0
	if s.hasPrev {
		prev = subtle.ConstantTimeCompare(got[:], s.prev[:])
	}
	switch {
	case cur == 1:
		return true, matchedCurrent, ""
	case prev == 1:
		return true, matchedPrevious, ""
	case h == "":
		return false, "", "missing"
	}
	return false, "", "mismatch"
}

// webhook: method → auth → draining → media type → size → parse → spool →
// reply. Unauthenticated requests are never read.
func (s *Server) webhook(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		s.refuse(w, http.StatusMethodNotAllowed, "method", r.Method+" is not allowed: Harbor delivers webhooks with POST")
		return
	}
	s.m.received.Inc()
	ok, matched, why := s.authorized(r)
	if !ok {
		s.m.authFailures.WithLabelValues(why).Inc()
		s.log.Warn("webhook rejected: Authorization "+why, "remote", r.RemoteAddr)
		s.refuse(w, http.StatusUnauthorized, "auth",
			"the Authorization header does not match the configured webhook secret: set the Harbor policy's auth_header to the secret, verbatim")
		return
	}
	if matched != matchedNone {
		s.m.authMatches.WithLabelValues(matched).Inc()
	}
	if s.drain.Load() {
		w.Header().Set("Retry-After", "5")
		s.refuse(w, http.StatusServiceUnavailable, "draining", "the listener is shutting down; Harbor retries the delivery")
		return
	}
	if r.ContentLength > s.cfg.MaxBody {
		s.refuse(w, http.StatusRequestEntityTooLarge, "too_large", fmt.Sprintf("body of %d bytes is over the %d-byte limit", r.ContentLength, s.cfg.MaxBody))
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxBody))
	if err != nil {
		if tooBig := (*http.MaxBytesError)(nil); errors.As(err, &tooBig) {
			s.refuse(w, http.StatusRequestEntityTooLarge, "too_large", fmt.Sprintf("body is over the %d-byte limit", s.cfg.MaxBody))
			return
		}
		s.refuse(w, http.StatusBadRequest, "read", "reading the body: "+err.Error())
		return
	}
	ev, err := ParseEvent(r.Header, body)
	if errors.Is(err, ErrMediaType) {
		s.log.Warn("webhook rejected: unsupported Content-Type", "content_type", r.Header.Get("Content-Type"))
		s.refuse(w, http.StatusUnsupportedMediaType, "media_type", err.Error())
		return
	}
	if err != nil {
		s.log.Warn("webhook rejected: bad payload", "type", ev.Type, "format", ev.Format, "id", ev.ID, "error", err.Error())
		s.refuse(w, http.StatusBadRequest, "payload", err.Error())
		return
	}
	for _, warn := range ev.Warnings {
		s.log.Warn("webhook partly skipped", "type", ev.Type, "id", ev.ID, "reason", warn)
	}
	if len(ev.Targets) == 0 {
		s.m.ignored.WithLabelValues(metricType(ev.Type)).Inc()
		s.log.Info("webhook ignored", "type", ev.Type, "format", ev.Format, "id", ev.ID, "secret", matched, "reason", ev.Ignored)
		writeJSON(w, http.StatusAccepted, map[string]string{"status": "ignored", "reason": ev.Ignored})
		return
	}
	// Durable before the reply: after a 2xx Harbor never sends this again
	// (internal/harbor/API-NOTES.md "Webhook delivery").
	coalesced, err := s.spool.Put(ev.Targets, s.cfg.Now())
	if err != nil {
		s.log.Error("spool write failed; answering 503 so Harbor retries", "error", err.Error())
		w.Header().Set("Retry-After", "5")
		s.refuse(w, http.StatusServiceUnavailable, "spool", "could not store the event; Harbor retries the delivery")
		return
	}
	s.m.accepted.WithLabelValues(ev.Type, ev.Format).Inc()
	for _, k := range ev.Targets {
		s.m.enqueued.WithLabelValues(string(k.Kind)).Inc()
	}
	s.m.coalesced.Add(float64(coalesced))
	s.log.Info("webhook accepted", "type", ev.Type, "format", ev.Format, "id", ev.ID, "operator", ev.Operator,
		"secret", matched, "keys", len(ev.Targets), "coalesced", coalesced)
	s.poke()
	writeJSON(w, http.StatusOK, map[string]any{"status": "accepted", "keys": len(ev.Targets), "coalesced": coalesced})
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	switch {
	case s.drain.Load():
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "draining"})
		return
	case !s.spool.Open():
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "not ready", "error": "the spool is closed"})
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
	out := map[string]any{"status": "ready", "spool_depth": s.spool.Depth()}
	if s.cfg.Parts != nil {
		for name, st := range s.cfg.Parts() {
			if name != "status" && name != "spool_depth" {
				out[name] = st
			}
		}
	}
	writeJSON(w, http.StatusOK, out)
}

// Enqueue spools keys from an event source other than webhooks (the
// audit-log feed) together with the source's new position (state, stored
// under stateName in the same transaction: Spool.PutWithState), counts them
// in the metrics and wakes the workers.
func (s *Server) Enqueue(keys []catalog.Key, stateName string, state []byte) (coalesced int, err error) {
	coalesced, err = s.spool.PutWithState(keys, s.cfg.Now(), stateName, state)
	if err != nil {
		return 0, err
	}
	for _, k := range keys {
		s.m.enqueued.WithLabelValues(string(k.Kind)).Inc()
	}
	s.m.coalesced.Add(float64(coalesced))
	if len(keys) > 0 {
		s.poke()
	}
	return coalesced, nil
}

// Run serves on ln (through serve, default http.Server.Serve; pass one for
// TLS) and reconciles spooled keys until ctx ends or serving fails. Then it
// drains within drain: /readyz and new deliveries answer 503 (Harbor
// retries), in-flight requests finish, no new reconcile starts, running ones
// get the rest of the budget and are then cancelled (their keys stay
// spooled, attempt count unchanged), and the spool is closed.
func (s *Server) Run(ctx context.Context, ln net.Listener, drain time.Duration, serve func(*http.Server, net.Listener) error) error {
	if s.running.Swap(true) {
		return errors.New("listener: Run called twice")
	}
	srv := &http.Server{Handler: s.handler, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute,
		ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelWarn)}
	if serve == nil {
		serve = func(hs *http.Server, l net.Listener) error { return hs.Serve(l) }
	}
	errc := make(chan error, 1)
	go func() {
		if err := serve(srv, ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			errc <- err
		}
	}()
	stopDispatch, stop := context.WithCancel(context.Background())
	defer stop()
	workCtx, cancelWork := context.WithCancel(context.Background())
	defer cancelWork()
	dispatched := make(chan struct{})
	go func() { defer close(dispatched); s.dispatch(stopDispatch, workCtx) }()

	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
		err = fmt.Errorf("serving HTTP: %w", err)
	}
	s.drain.Store(true)
	stop()
	s.log.Info("draining", "spool_depth", s.spool.Depth(), "budget", drain.String())
	deadline, cancel := context.WithTimeout(context.Background(), drain)
	defer cancel()
	if serr := srv.Shutdown(deadline); serr != nil {
		s.log.Warn("HTTP requests still open at the drain deadline were cut", "error", serr.Error())
	}
	select {
	case <-dispatched:
	case <-deadline.Done():
		cancelWork() // unfinished reconciles stay spooled
		select {
		case <-dispatched:
		case <-time.After(max(drain/4, 100*time.Millisecond)):
			s.log.Error("reconciles ignored cancellation; closing the spool under them (their keys stay spooled)")
		}
	}
	if cerr := s.spool.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("closing the spool: %w", cerr)
	}
	s.log.Info("stopped", "spool_depth", s.spool.Depth())
	return err
}
