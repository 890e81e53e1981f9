package listener

import "github.com/prometheus/client_golang/prometheus"

type metrics struct {
	received  prometheus.Counter
	accepted  *prometheus.CounterVec
	rejected  *prometheus.CounterVec
	ignored   *prometheus.CounterVec
	coalesced prometheus.Counter
	processed *prometheus.CounterVec
	retried   prometheus.Counter
	failed    prometheus.Counter
	duration  prometheus.Histogram
	latency   prometheus.Histogram
}

func newMetrics(reg *prometheus.Registry, sp *Spool) *metrics {
	m := &metrics{
		received: prometheus.NewCounter(prometheus.CounterOpts{Name: "harborport_webhooks_received_total",
			Help: "Webhook POSTs received."}),
		accepted: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "harborport_webhooks_accepted_total",
			Help: "Webhooks stored in the spool, by Harbor event type and payload format."}, []string{"type", "format"}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "harborport_webhooks_rejected_total",
			Help: "Webhooks refused, by reason (auth, too_large, payload, spool, draining, method, read)."}, []string{"reason"}),
		ignored: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "harborport_webhooks_ignored_total",
			Help: "Authenticated webhooks that change no catalog entity, by event type."}, []string{"type"}),
		coalesced: prometheus.NewCounter(prometheus.CounterOpts{Name: "harborport_keys_coalesced_total",
			Help: "Keys that joined one already pending in the spool."}),
		processed: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "harborport_reconciles_total",
			Help: "Keys reconciled with Port, by kind."}, []string{"kind"}),
		retried: prometheus.NewCounter(prometheus.CounterOpts{Name: "harborport_reconcile_retries_total",
			Help: "Reconciles that failed and were rescheduled."}),
		failed: prometheus.NewCounter(prometheus.CounterOpts{Name: "harborport_reconcile_failures_total",
			Help: "Reconciles that failed permanently (moved to the dead records)."}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "harborport_reconcile_duration_seconds",
			Help: "Time of one reconcile (Harbor read + Port diff and write).", Buckets: prometheus.DefBuckets}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "harborport_event_to_port_seconds",
			Help:    "From accepting an event to Port matching Harbor for its key.",
			Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300}}),
	}
	reg.MustRegister(m.received, m.accepted, m.rejected, m.ignored, m.coalesced, m.processed, m.retried, m.failed, m.duration, m.latency,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "harborport_spool_depth", Help: "Keys waiting in the spool."},
			func() float64 { return float64(sp.Depth()) }))
	return m
}
