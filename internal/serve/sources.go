package serve

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/harborport/terraform-provider-harborport/internal/catalog"
	"github.com/harborport/terraform-provider-harborport/internal/listener"
	"github.com/harborport/terraform-provider-harborport/internal/webhookpolicy"
)

// resyncer runs full syncs through the same engine and deletion guards as
// terraform apply, one at a time: the periodic resync and the audit-log
// feed's resync after lost records share it.
type resyncer struct {
	eng   *catalog.Engine
	log   *slog.Logger
	skips *kindSkips // kinds the account cannot read: logged once, not every cycle
	mu    sync.Mutex
}

// loop runs a full sync every interval: Harbor drops events after 3 failed
// attempts (internal/harbor/API-NOTES.md "Webhook delivery"), so this is what
// bounds staleness.
func (r *resyncer) loop(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		_ = r.run(ctx, "periodic") // logged by run
	}
}

// run is one full sync. While it runs, the engine logs at info what terraform
// shows under TF_LOG=INFO: per Harbor kind the items read and mapped and the
// rate (at most every 2 s, and when the kind is done), per blueprint the
// writes, and a summary line for the plan and for the apply.
func (r *resyncer) run(ctx context.Context, reason string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	log := r.log
	title := "periodic resync"
	if reason != "periodic" {
		title = "full resync (" + reason + ")"
	}
	eng := r.eng.WithProgress(func(msg string, kv ...any) { log.Info(msg, append(kv, "component", "resync")...) })
	start := time.Now()
	rep, err := eng.Compute(ctx)
	if err != nil {
		log.Error(title+": reading failed", "error", err.Error())
		return fmt.Errorf("resync: %w", err)
	}
	cs := rep.Changeset
	if r.skips != nil {
		r.skips.set(cs.SkippedKinds)
	}
	if cs.DeletesBlocked != "" {
		log.Error(title+": deletes blocked", "reason", cs.DeletesBlocked)
	}
	res, err := eng.Apply(ctx, cs)
	c := cs.Counts()
	attrs := []any{"created", res.Created, "updated", res.Updated, "deleted", res.Deleted, "unchanged", c.Unchanged,
		"already_done", res.AlreadyDone, "skipped", len(res.Skipped), "failed", len(res.Failed), "seconds", time.Since(start).Seconds()}
	if len(res.Skipped) > 0 {
		// The workers wrote these entities while the resync computed: their
		// write is newer than the resync's read, so it stands.
		log.Info(title+" left entities the workers changed meanwhile", "skipped", len(res.Skipped), "first", res.Skipped[0].String())
	}
	if err != nil {
		log.Error(title+": applying failed", append(attrs, "error", err.Error())...)
		return fmt.Errorf("resync: %w", err)
	}
	log.Info(title+" done", attrs...)
	return nil
}

// feedSink is the listener's spool as the audit-log feed's sink: keys and
// cursor in one transaction, metrics, and the workers woken.
type feedSink struct{ srv *listener.Server }

func (s feedSink) Enqueue(keys []catalog.Key, name string, state []byte) (int, error) {
	return s.srv.Enqueue(keys, name, state)
}

func (s feedSink) State(name string) ([]byte, error) { return s.srv.Spool().State(name) }

// coverageEvery is how often serve checks which projects have no webhook
// policy (one list of projects and one of policies per project).
const coverageEvery = 5 * time.Minute

// coverage reports the projects without an enabled harborport webhook policy:
// Harbor sends the listener nothing from them, so only the audit-log feed
// (and resyncs) keep them current.
type coverage struct {
	policies *webhookpolicy.Client
	name     string
	log      *slog.Logger

	mu        sync.Mutex
	checked   bool
	err       error
	projects  int
	uncovered []webhookpolicy.Uncovered
	gauge     prometheus.Gauge
}

// registry is the listener's metrics registry with coverage's gauge.
func registry(c *coverage) *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	c.gauge = prometheus.NewGauge(prometheus.GaugeOpts{Name: "harborport_projects_without_policy",
		Help: "Harbor projects without an enabled harborport webhook policy (--webhook-policy-name): only the audit-log feed and resyncs report their changes."})
	reg.MustRegister(c.gauge)
	return reg
}

func (c *coverage) loop(ctx context.Context, every time.Duration, feedOn bool) {
	for {
		c.check(ctx, feedOn)
		select {
		case <-ctx.Done():
			return
		case <-time.After(every):
		}
	}
}

func (c *coverage) check(ctx context.Context, feedOn bool) {
	un, n, err := c.policies.Coverage(ctx, c.name)
	if ctx.Err() != nil {
		return
	}
	c.mu.Lock()
	prev := c.names()
	c.checked, c.err = true, err
	if err == nil {
		c.projects, c.uncovered = n, un
	}
	now := c.names()
	c.mu.Unlock()
	if err != nil {
		c.log.Warn("checking which projects have a webhook policy failed", "error", err.Error())
		return
	}
	c.gauge.Set(float64(len(un)))
	if now == prev {
		return // said already
	}
	switch {
	case len(un) == 0:
		c.log.Info("every project has a webhook policy", "policy", c.name, "projects", n)
	case feedOn:
		c.log.Info(fmt.Sprintf("%d of %d projects have no enabled webhook policy %q: only the audit-log feed reports their changes "+
			"(within --audit-poll-interval); add them with harborport_webhook", len(un), n, c.name), "projects", now)
	default:
		c.log.Warn(fmt.Sprintf("%d of %d projects have no enabled webhook policy %q and the audit-log feed is off: their changes "+
			"reach Port only with resyncs and applies; add them with harborport_webhook, or turn the feed on", len(un), n, c.name), "projects", now)
	}
}

// names lists the first uncovered projects with their reasons (c.mu held).
func (c *coverage) names() string {
	var parts []string
	for i, u := range c.uncovered {
		if i == 10 {
			parts = append(parts, fmt.Sprintf("… and %d more", len(c.uncovered)-i))
			break
		}
		parts = append(parts, u.Project+" ("+u.Reason+")")
	}
	return strings.Join(parts, ", ")
}

func (c *coverage) status(feedOn bool) listener.PartStatus {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case !c.checked:
		return listener.PartStatus{State: "starting"}
	case c.err != nil:
		return listener.PartStatus{State: "unknown", Reason: c.err.Error()}
	case len(c.uncovered) == 0:
		return listener.PartStatus{State: "ok", Details: map[string]any{"projects": c.projects}}
	}
	cover := "only the audit-log feed reports their changes"
	if !feedOn {
		cover = "the audit-log feed is off: their changes reach Port only with resyncs and applies"
	}
	return listener.PartStatus{State: "partial", Reason: fmt.Sprintf("%d of %d projects have no enabled webhook policy %q (%s): %s",
		len(c.uncovered), c.projects, c.name, cover, c.names()),
		Details: map[string]any{"projects": c.projects, "projects_without_policy": len(c.uncovered)}}
}
