package listener

import "github.com/prometheus/client_golang/prometheus"

// metrics are registered on the server's own registry (Config.Registry),
// never the global one. Label values are bounded: event types outside
// Harbor's list are "unknown" (metricType), kinds come from the parser.
type metrics struct {
	received     prometheus.Counter
	accepted     *prometheus.CounterVec // type, format
	rejected     *prometheus.CounterVec // reason
	ignored      *prometheus.CounterVec // type
	authFailures *prometheus.CounterVec // reason: missing, mismatch
	authMatches  *prometheus.CounterVec // secret: current, previous
	enqueued     *prometheus.CounterVec // kind
	coalesced    prometheus.Counter
	processed    *prometheus.CounterVec // kind (success)
	retried      *prometheus.CounterVec // kind
	failed       *prometheus.CounterVec // kind (permanent → dead)
	followUps    *prometheus.CounterVec // kind (Again)
	duration     *prometheus.HistogramVec
	latency      prometheus.Histogram
	inFlight     prometheus.Gauge
}

func newMetrics(reg *prometheus.Registry, sp *Spool) *metrics {
	m := &metrics{
		received: prometheus.NewCounter(prometheus.CounterOpts{Name: "harborport_webhooks_received_total",
			Help: "Webhook POSTs received."}),
		accepted: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "harborport_webhooks_accepted_total",
			Help: "Webhooks stored in the spool, by Harbor event type and payload format."}, []string{"type", "format"}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "harborport_webhooks_rejected_total",
			Help: "Webhooks refused, by reason (auth, method, draining, media_type, too_large, read, payload, spool)."}, []string{"reason"}),
		ignored: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "harborport_webhooks_ignored_total",
			Help: "Authenticated webhooks that change no catalog entity, by event type."}, []string{"type"}),
		authFailures: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "harborport_webhook_auth_failures_total",
			Help: "Webhooks refused with 401, by reason (missing, mismatch)."}, []string{"reason"}),
		authMatches: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "harborport_webhook_auth_matches_total",
			Help: "Webhooks whose Authorization matched, by which secret (current, previous: the rotation window's old one)."}, []string{"secret"}),
		enqueued: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "harborport_keys_enqueued_total",
			Help: "Keys written to the spool (coalesced ones included), by kind."}, []string{"kind"}),
		coalesced: prometheus.NewCounter(prometheus.CounterOpts{Name: "harborport_keys_coalesced_total",
			Help: "Keys that joined one already pending in the spool."}),
		processed: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "harborport_reconciles_total",
			Help: "Keys reconciled with Port successfully, by kind."}, []string{"kind"}),
		retried: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "harborport_reconcile_retries_total",
			Help: "Reconciles that failed and were rescheduled with backoff, by kind."}, []string{"kind"}),
		failed: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "harborport_reconcile_failures_total",
			Help: "Reconciles that failed permanently (moved to the dead records), by kind."}, []string{"kind"}),
		followUps: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "harborport_reconcile_follow_ups_total",
			Help: "Reconciles that asked to look at their key again later (a scan still running), by kind."}, []string{"kind"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "harborport_reconcile_duration_seconds",
			Help:    "Time of one reconcile (Harbor read + Port diff and write), by kind and outcome (ok, error, permanent).",
			Buckets: prometheus.DefBuckets}, []string{"kind", "outcome"}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "harborport_event_to_port_seconds",
			Help:    "From accepting an event to Port matching Harbor for its key.",
			Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300}}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{Name: "harborport_reconciles_in_flight",
			Help: "Reconciles running now."}),
	}
	reg.MustRegister(m.received, m.accepted, m.rejected, m.ignored, m.authFailures, m.authMatches, m.enqueued, m.coalesced,
		m.processed, m.retried, m.failed, m.followUps, m.duration, m.latency, m.inFlight,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "harborport_spool_depth", Help: "Keys waiting in the spool."},
			func() float64 { return float64(sp.Depth()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "harborport_spool_dead", Help: "Keys that failed permanently (dead records)."},
			func() float64 { return float64(sp.DeadCount()) }))
	return m
}
