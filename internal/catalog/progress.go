package catalog

import (
	"fmt"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/harborport/terraform-provider-harborport/internal/mapping"
)

// Progress receives the progress lines of a long sync: a sentence for people
// (it carries the numbers too), then the same numbers as slog-style
// key/value pairs. The engine knows nothing of the logger behind it: the
// provider forwards to tflog (TF_LOG=INFO), the listener to slog.
//
// It is called one line at a time, from the engine's goroutines.
type Progress func(msg string, kv ...any)

// defaultProgressEvery is how often, at most, a long read or apply reports
// while it runs (each kind's end and the summary are always reported).
const defaultProgressEvery = 2 * time.Second

// WithProgress returns a copy of e that reports to p while it computes and
// applies: per Harbor kind, items read, items mapped, entities mapped and the
// rate, at most every 2 s and once when the kind is done; per blueprint, the
// writes done; and one summary line per Compute, Preview and Apply. A nil p
// reports nothing. The copy shares everything else with e.
func (e *Engine) WithProgress(p Progress) *Engine {
	c := *e
	c.progress = p
	if c.progressEvery <= 0 {
		c.progressEvery = defaultProgressEvery
	}
	return &c
}

// kindProgress is one Harbor kind of a compute.
type kindProgress struct {
	kind                   mapping.Kind
	read, mapped, entities int
	readDone, reported     bool
	start                  time.Time
}

// computeProgress follows one compute. Its methods are no-ops on nil, so the
// engine calls them unconditionally.
type computeProgress struct {
	p      Progress
	what   string // "sync plan" or "sync preview"
	start  time.Time
	harbor int // Harbor client requests before the compute (the client counts)

	mu          sync.Mutex
	kinds       []*kindProgress
	portPages   int
	portEnts    int
	changed     bool // since the last periodic line
	stop, ended chan struct{}
}

func (e *Engine) startCompute(what string) *computeProgress {
	if e.progress == nil {
		return nil
	}
	cp := &computeProgress{p: e.progress, what: what, start: time.Now(), harbor: e.harborRequests(),
		stop: make(chan struct{}), ended: make(chan struct{})}
	go cp.tick(e.progressEvery)
	return cp
}

// harborRequests is the Harbor client's request count so far (retries
// included). Another user of the same client in the meantime is counted too.
func (e *Engine) harborRequests() int {
	if e.harbor == nil {
		return 0
	}
	n := 0
	for _, v := range e.harbor.Stats() {
		n += v
	}
	return n
}

// portRequests counts the Port client's requests so far whose route contains sub.
func (e *Engine) portRequests(sub string) int {
	if e.port == nil {
		return 0
	}
	n := 0
	for k, v := range e.port.Stats() {
		if strings.Contains(k, sub) {
			n += v
		}
	}
	return n
}

func (cp *computeProgress) tick(every time.Duration) {
	defer close(cp.ended)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-cp.stop:
			return
		case <-t.C:
			cp.periodic()
		}
	}
}

// periodic reports the kind being read, if anything moved since last time.
func (cp *computeProgress) periodic() {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	if !cp.changed {
		return
	}
	cp.changed = false
	var k *kindProgress
	for _, x := range cp.kinds {
		if !x.reported {
			k = x
			break
		}
	}
	elapsed := time.Since(cp.start)
	if k == nil {
		cp.p(fmt.Sprintf("harborport: %s: Harbor read; Port: %d entities read (%d search pages), %s elapsed",
			cp.what, cp.portEnts, cp.portPages, roundDur(elapsed)),
			"port_entities", cp.portEnts, "port_search_pages", cp.portPages, "elapsed_s", seconds(elapsed))
		return
	}
	rate := perSecond(k.read, time.Since(k.start))
	cp.p(fmt.Sprintf("harborport: %s: Harbor %s: %d read, %d mapped to %d entities, %.0f items/s; Port: %d entities read (%d search pages), %s elapsed",
		cp.what, plural(k.kind), k.read, k.mapped, k.entities, rate, cp.portEnts, cp.portPages, roundDur(elapsed)),
		"kind", string(k.kind), "items_read", k.read, "items_mapped", k.mapped, "entities", k.entities, "items_per_s", round1(rate),
		"port_entities", cp.portEnts, "port_search_pages", cp.portPages, "elapsed_s", seconds(elapsed))
}

func (cp *computeProgress) kind(kind mapping.Kind) *kindProgress {
	for _, k := range cp.kinds {
		if k.kind == kind {
			return k
		}
	}
	k := &kindProgress{kind: kind, start: time.Now()}
	cp.kinds = append(cp.kinds, k)
	return k
}

// readStart marks the start of a kind's listing.
func (cp *computeProgress) readStart(kind mapping.Kind) {
	if cp == nil {
		return
	}
	cp.mu.Lock()
	defer cp.mu.Unlock()
	cp.kind(kind).start = time.Now()
	cp.changed = true
}

// read counts items listed from Harbor.
func (cp *computeProgress) read(kind mapping.Kind, n int) {
	if cp == nil {
		return
	}
	cp.mu.Lock()
	defer cp.mu.Unlock()
	cp.kind(kind).read += n
	cp.changed = true
}

// readEnd marks a kind's listing complete.
func (cp *computeProgress) readEnd(kind mapping.Kind) {
	if cp == nil {
		return
	}
	cp.mu.Lock()
	defer cp.mu.Unlock()
	k := cp.kind(kind)
	k.readDone = true
	cp.maybeDone(k)
}

// mapped counts items mapped and diffed, and the entities they gave.
func (cp *computeProgress) mapped(kind mapping.Kind, items, ents int) {
	if cp == nil {
		return
	}
	cp.mu.Lock()
	defer cp.mu.Unlock()
	k := cp.kind(kind)
	k.mapped += items
	k.entities += ents
	cp.changed = true
	cp.maybeDone(k)
}

// portPage counts one search page read from Port.
func (cp *computeProgress) portPage(n int) {
	if cp == nil {
		return
	}
	cp.mu.Lock()
	defer cp.mu.Unlock()
	cp.portPages++
	cp.portEnts += n
	cp.changed = true
}

// maybeDone reports a kind once it is read and every item of it is mapped.
func (cp *computeProgress) maybeDone(k *kindProgress) {
	if k.reported || !k.readDone || k.mapped < k.read {
		return
	}
	k.reported = true
	d := time.Since(k.start)
	rate := perSecond(k.read, d)
	cp.p(fmt.Sprintf("harborport: %s: Harbor %s done: %d read, %d mapped to %d entities in %s (%.0f items/s)",
		cp.what, plural(k.kind), k.read, k.mapped, k.entities, roundDur(d), rate),
		"kind", string(k.kind), "items_read", k.read, "items_mapped", k.mapped, "entities", k.entities,
		"items_per_s", round1(rate), "seconds", seconds(d))
}

// end stops the periodic lines and reports the summary of a successful
// compute (a failed one returns its error, which says enough).
func (cp *computeProgress) end(e *Engine, rep *Report) {
	if cp == nil {
		return
	}
	close(cp.stop)
	<-cp.ended
	if rep == nil {
		return
	}
	cp.mu.Lock()
	defer cp.mu.Unlock()
	c := rep.Changeset.Counts()
	d := time.Since(cp.start)
	harbor := e.harborRequests() - cp.harbor
	desired := c.Create + c.Update + c.Unchanged
	cp.p(fmt.Sprintf("harborport: %s computed: %d blueprints, %d entities desired, create=%d update=%d delete=%d unchanged=%d in %s (Harbor %d requests, Port %d search pages)",
		cp.what, len(e.owned), desired, c.Create, c.Update, c.Delete, c.Unchanged, roundDur(d), harbor, cp.portPages),
		"blueprints", len(e.owned), "desired", desired, "create", c.Create, "update", c.Update, "delete", c.Delete,
		"unchanged", c.Unchanged, "port_entities", rep.Changeset.Owned, "skipped_deletes", rep.Changeset.SkippedDeletes,
		"harbor_requests", harbor, "port_search_pages", cp.portPages, "seconds", seconds(d))
}

// applyProgress follows one Apply.
type applyProgress struct {
	p      Progress
	start  time.Time
	total  int
	bulk   int // Port bulk requests before the apply
	search int // Port search requests before the apply (conditional apply's re-reads)
	harbor int // Harbor requests before the apply (bodies re-derived)

	mu          sync.Mutex
	done        int    // changes finished (confirmed or failed)
	current     string // the run being written, e.g. "harborArtifact upserts (1000)"
	runStart    time.Time
	stop, ended chan struct{}
}

func (e *Engine) startApply(total int) *applyProgress {
	if e.progress == nil {
		return nil
	}
	ap := &applyProgress{p: e.progress, start: time.Now(), total: total, bulk: e.portRequests("/bulk"),
		search: e.portRequests("/search"), harbor: e.harborRequests(),
		stop: make(chan struct{}), ended: make(chan struct{})}
	go ap.tick(e, e.progressEvery)
	return ap
}

func (ap *applyProgress) tick(e *Engine, every time.Duration) {
	defer close(ap.ended)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ap.stop:
			return
		case <-t.C:
			ap.mu.Lock()
			cur, done := ap.current, ap.done
			ap.mu.Unlock()
			if cur == "" {
				continue
			}
			bulk := e.portRequests("/bulk") - ap.bulk
			d := time.Since(ap.start)
			ap.p(fmt.Sprintf("harborport: sync apply: writing %s; %d of %d changes done, Port %d bulk requests so far, %s elapsed",
				cur, done, ap.total, bulk, roundDur(d)),
				"writing", cur, "done", done, "total", ap.total, "port_bulk_requests", bulk, "elapsed_s", seconds(d))
		}
	}
}

// runStarted marks the start of a run of writes to one blueprint.
func (ap *applyProgress) runStarted(bp string, op Op, n int) {
	if ap == nil {
		return
	}
	what := "upserts"
	if op == OpDelete {
		what = "deletes"
	}
	ap.mu.Lock()
	defer ap.mu.Unlock()
	ap.current = fmt.Sprintf("%s %s (%d)", bp, what, n)
	ap.runStart = time.Now()
}

// runEnded reports a finished run: changes done (written, or found already
// made), skipped (changed since the plan) and failed.
func (ap *applyProgress) runEnded(bp string, op Op, n, ok, skipped, failed int) {
	if ap == nil {
		return
	}
	ap.mu.Lock()
	defer ap.mu.Unlock()
	ap.done += n
	ap.current = ""
	d := time.Since(ap.runStart)
	what := "upserted"
	if op == OpDelete {
		what = "deleted"
	}
	rate := perSecond(ok+skipped+failed, d)
	skip := ""
	if skipped > 0 {
		skip = fmt.Sprintf(", %d skipped (changed since the plan)", skipped)
	}
	ap.p(fmt.Sprintf("harborport: sync apply: %s: %d %s%s, %d failed in %s (%.0f entities/s); %d of %d changes done",
		bp, ok, what, skip, failed, roundDur(d), rate, ap.done, ap.total),
		"blueprint", bp, "op", what, "ok", ok, "skipped", skipped, "failed", failed, "entities_per_s", round1(rate), "seconds", seconds(d),
		"done", ap.done, "total", ap.total)
}

// end reports the apply's summary, also when it stopped early (err).
func (ap *applyProgress) end(e *Engine, res Result, err error) {
	if ap == nil {
		return
	}
	close(ap.stop)
	<-ap.ended
	d := time.Since(ap.start)
	bulk := e.portRequests("/bulk") - ap.bulk
	search := e.portRequests("/search") - ap.search
	hreq := e.harborRequests() - ap.harbor
	state := "applied"
	if err != nil {
		state = "stopped"
	}
	kv := []any{"created", res.Created, "updated", res.Updated, "deleted", res.Deleted, "already_done", res.AlreadyDone,
		"skipped", len(res.Skipped), "failed", len(res.Failed), "total", ap.total, "port_bulk_requests", bulk,
		"port_check_searches", search, "harbor_requests", hreq, "seconds", seconds(d)}
	msg := fmt.Sprintf("harborport: sync %s: created=%d updated=%d deleted=%d already_done=%d skipped=%d failed=%d of %d changes in %s "+
		"(%.0f changes/s, Port %d bulk requests and %d check searches, Harbor %d requests)",
		state, res.Created, res.Updated, res.Deleted, res.AlreadyDone, len(res.Skipped), len(res.Failed), ap.total, roundDur(d),
		perSecond(res.Done()+len(res.Skipped)+len(res.Failed), d), bulk, search, hreq)
	if err != nil {
		msg += ": " + err.Error()
		kv = append(kv, "error", err.Error())
	}
	ap.p(msg, kv...)
}

// plural names a kind's items: projects, users, repositories, artifacts.
func plural(k mapping.Kind) string {
	if s, ok := strings.CutSuffix(string(k), "y"); ok {
		return s + "ies"
	}
	return string(k) + "s"
}

func perSecond(n int, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

func seconds(d time.Duration) float64 { return math.Round(d.Seconds()*100) / 100 }

func round1(f float64) float64 { return math.Round(f*10) / 10 }

// roundDur renders d for people: 850ms, 2.3s, 1m12s.
func roundDur(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return d.Round(time.Microsecond).String()
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	case d < time.Minute:
		return d.Round(100 * time.Millisecond).String()
	default:
		return d.Round(time.Second).String()
	}
}
