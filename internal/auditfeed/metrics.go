package auditfeed

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics of the feed, on the listener's registry. Labels are bounded: record
// types come from a fixed list (recordType), outcomes are three words.
type metrics struct {
	polls    *prometheus.CounterVec // outcome: ok, error, degraded
	records  *prometheus.CounterVec // type
	ignored  prometheus.Counter
	errors   prometheus.Counter
	resyncs  prometheus.Counter
	cursor   prometheus.Gauge
	degraded prometheus.Gauge
}

func newMetrics(reg *prometheus.Registry, f *Feed) *metrics {
	started := time.Now()
	m := &metrics{
		polls: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "harborport_audit_feed_polls_total",
			Help: "Polls of Harbor's audit log, by outcome (ok, error, degraded: the feed cannot read, see /readyz)."}, []string{"outcome"}),
		records: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "harborport_audit_feed_records_total",
			Help: "Audit records read, by type (operation_resource_type, or other)."}, []string{"type"}),
		ignored: prometheus.NewCounter(prometheus.CounterOpts{Name: "harborport_audit_feed_records_ignored_total",
			Help: "Audit records that name nothing to reconcile (failed requests, robots, configuration, logins)."}),
		errors: prometheus.NewCounter(prometheus.CounterOpts{Name: "harborport_audit_feed_errors_total",
			Help: "Polls that failed (Harbor or the spool); the next poll tries again."}),
		resyncs: prometheus.NewCounter(prometheus.CounterOpts{Name: "harborport_audit_feed_resyncs_total",
			Help: "Full resyncs the feed ran because audit records were lost (purged before it read them)."}),
		cursor: prometheus.NewGauge(prometheus.GaugeOpts{Name: "harborport_audit_feed_cursor_timestamp_seconds",
			Help: "op_time of the newest audit record read (Unix seconds); now minus it grows while Harbor records nothing."}),
		degraded: prometheus.NewGauge(prometheus.GaugeOpts{Name: "harborport_audit_feed_degraded",
			Help: "1 while the feed is degraded (no permission, no audit-log API, records switched off; the reason is on /readyz and in the log)."}),
	}
	if reg == nil {
		return m
	}
	reg.MustRegister(m.polls, m.records, m.ignored, m.errors, m.resyncs, m.cursor, m.degraded,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "harborport_audit_feed_lag_seconds",
			Help: "Seconds since the start of the last poll that read the audit log to its end: how old the newest change the feed can have missed is."},
			func() float64 {
				f.mu.Lock()
				defer f.mu.Unlock()
				since := f.readUpTo
				if since.IsZero() {
					since = started
				}
				return f.cfg.Now().Sub(since).Seconds()
			}))
	for _, o := range []string{"ok", "error", "degraded"} {
		m.polls.WithLabelValues(o)
	}
	return m
}

func (m *metrics) setDegraded(on bool) {
	if on {
		m.degraded.Set(1)
	} else {
		m.degraded.Set(0)
	}
}
