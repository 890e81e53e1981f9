package auditfeed

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/harborport/terraform-provider-harborport/internal/catalog"
	"github.com/harborport/terraform-provider-harborport/internal/harbor"
	"github.com/harborport/terraform-provider-harborport/internal/listener"
)

// Sink is where the feed puts keys: the listener's spool, with the cursor in
// the same transaction (listener.Server.Enqueue).
type Sink interface {
	Enqueue(keys []catalog.Key, stateName string, state []byte) (coalesced int, err error)
	State(name string) ([]byte, error)
}

// Config configures a Feed. Zero values take the defaults noted.
type Config struct {
	Harbor   *harbor.Client // required
	Sink     Sink           // required
	Mapping  Mapping
	Interval time.Duration // between polls; required (> 0)
	// Resync runs one full sync (catalog Compute + Apply, as the periodic
	// resync does); required. The feed calls it when records were lost.
	Resync func(ctx context.Context, reason string) error
	Logger *slog.Logger
	// Registry receives the feed's metrics; nil registers none.
	Registry *prometheus.Registry
	Now      func() time.Time // default time.Now
	// Grace is how long an id below the highest one read may stay missing
	// before its record counts as lost; default 30 s (an insert commits in
	// milliseconds; a wrong "lost" costs one full resync).
	Grace time.Duration
	// ProbeEvery is how often the permission and configuration are checked
	// again while all is well (a degraded feed checks at every poll);
	// default 10 minutes.
	ProbeEvery time.Duration
}

// Feed polls Harbor's audit log and spools the keys its records name
// (internal/DESIGN.md "Event sources").
type Feed struct {
	cfg Config
	log *slog.Logger
	m   *metrics

	mu          sync.Mutex
	status      listener.PartStatus
	lastProbe   time.Time
	readUpTo    time.Time // the start of the last poll that read to the end of the log
	cursorAt    time.Time
	unsupported bool    // Harbor has no audit-log API: probe rarely
	src         *source // the audit log read (probe decides; auditlog-exts until then)

	switchesNoted atomic.Bool // said once that the configuration cannot be read
}

// Reasons the feed is degraded: logged once per change, shown on /readyz.
// Each names the fix; webhooks keep working in every case.
const (
	ReasonForbidden = "the Harbor account lacks the system permission audit-log:list, so Harbor lists no audit records to it (it does not refuse the list). " +
		"Fix: use a system robot account with {resource: audit-log, action: list}, or a system administrator; webhooks still work"
	ReasonUnsupported = "this Harbor has no audit-log API (neither GET /api/v2.0/auditlog-exts, Harbor 2.13+, nor GET /api/v2.0/audit-logs). " +
		"Fix: upgrade Harbor, or turn the feed off with --audit-poll-interval 0; webhooks still work"
	// ReasonLegacy is not a failure (state "partial"): the feed runs on the
	// older log, which lacks one kind of change.
	ReasonLegacy = "Harbor before 2.13 has no GET /api/v2.0/auditlog-exts: the feed reads the older GET /api/v2.0/audit-logs, which records " +
		"projects, repositories, artifacts and tags but no user changes: new, changed and deleted users reach Port only with the periodic resync " +
		"(--resync-interval) and applies. Upgrade Harbor to 2.13 or later for user changes within the poll interval"
	ReasonSkipDatabase = "Harbor's audit log is switched off: skip_audit_log_database is true, so records only go to the audit_log_forward_endpoint and the API lists none. " +
		"Fix: set skip_audit_log_database to false (Administration → Configuration → System Settings); webhooks still work"
	ReasonDisabledTypes = "Harbor does not record these event types (disabled_audit_log_event_types): %s; the changes they stand for reach Port only through webhooks and resyncs. " +
		"Fix: remove them from disabled_audit_log_event_types (Administration → Configuration → System Settings)"
)

// relevantTypes are the configurable event types the feed reads
// (internal/harbor/API-NOTES.md "Audit log"; tag records cannot be disabled).
var relevantTypes = []string{"create_artifact", "delete_artifact", "pull_artifact", "create_project", "delete_project",
	"delete_repository", "create_user", "delete_user", "update_user"}

// New checks cfg and builds a feed; Run starts it.
func New(cfg Config) (*Feed, error) {
	switch {
	case cfg.Harbor == nil || cfg.Sink == nil || cfg.Resync == nil:
		return nil, errors.New("auditfeed: Harbor, Sink and Resync are required")
	case cfg.Interval <= 0:
		return nil, errors.New("auditfeed: Interval must be positive")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Grace <= 0 {
		cfg.Grace = 30 * time.Second
	}
	if cfg.ProbeEvery <= 0 {
		cfg.ProbeEvery = 10 * time.Minute
	}
	f := &Feed{cfg: cfg, log: cfg.Logger.With("component", "audit-feed"), status: listener.PartStatus{State: "starting"},
		src: extsSource(cfg.Harbor)}
	f.m = newMetrics(cfg.Registry, f)
	return f, nil
}

// Status is the feed's state for /readyz.
func (f *Feed) Status() listener.PartStatus {
	f.mu.Lock()
	defer f.mu.Unlock()
	st := f.status
	if !f.readUpTo.IsZero() {
		st.Details = map[string]any{"lag_seconds": f.cfg.Now().Sub(f.readUpTo).Seconds(),
			"cursor_op_time": f.cursorAt.UTC().Format(time.RFC3339Nano), "interval": f.cfg.Interval.String(),
			"source": f.src.label()}
	}
	return st
}

func (f *Feed) setStatus(state, reason string) {
	f.mu.Lock()
	changed := f.status.State != state || f.status.Reason != reason
	f.status = listener.PartStatus{State: state, Reason: reason}
	f.mu.Unlock()
	f.m.setDegraded(state == "degraded")
	if !changed {
		return
	}
	switch state {
	case "degraded":
		f.log.Error("audit-log feed degraded: " + reason)
	case "partial":
		f.log.Warn("audit-log feed running with gaps: "+reason, "interval", f.cfg.Interval.String())
	case "ok":
		f.log.Info("audit-log feed running", "interval", f.cfg.Interval.String())
	}
}

// Run polls every Interval until ctx ends.
func (f *Feed) Run(ctx context.Context) {
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := f.Poll(ctx); err != nil && ctx.Err() == nil {
			f.m.errors.Inc()
			f.log.Warn("audit-log poll failed; trying again at the next poll", "error", err.Error())
		}
		next := f.cfg.Interval
		f.mu.Lock()
		if f.unsupported {
			next = max(next, f.cfg.ProbeEvery) // the API will not appear before an upgrade
		}
		f.mu.Unlock()
		t.Reset(next)
	}
}

// Poll checks the feed's health when due, then reads the records after the
// cursor, page by page, spooling each page's keys with the advanced cursor.
func (f *Feed) Poll(ctx context.Context) error {
	start := f.cfg.Now()
	ok, err := f.probe(ctx, start)
	if err != nil || !ok {
		f.m.polls.WithLabelValues("degraded").Inc()
		return err
	}
	if err := f.read(ctx, start); err != nil {
		f.m.polls.WithLabelValues("error").Inc()
		return err
	}
	f.m.polls.WithLabelValues("ok").Inc()
	return nil
}

// probe checks, when due, that Harbor has the audit-log API, that the account
// may read it, and what the configuration lets Harbor record. It returns
// whether the feed can read at all.
func (f *Feed) probe(ctx context.Context, now time.Time) (bool, error) {
	f.mu.Lock()
	healthy := f.status.State == "ok" || (f.status.State == "partial" && f.status.Reason == ReasonLegacy)
	due := !healthy || now.Sub(f.lastProbe) >= f.cfg.ProbeEvery
	f.mu.Unlock()
	if !due {
		return true, nil
	}
	src := extsSource(f.cfg.Harbor)
	_, err := f.cfg.Harbor.AuditLogEventTypes(ctx)
	switch {
	case errors.Is(err, harbor.ErrAuditLogUnsupported):
		// Harbor before 2.13: the older audit log, if the account may read it.
		ok, lerr := f.probeLegacy(ctx)
		if lerr != nil || !ok {
			return false, lerr
		}
		src = legacySource(f.cfg.Harbor)
	case errors.Is(err, harbor.ErrAuditLogForbidden):
		f.setStatus("degraded", ReasonForbidden)
		return false, nil
	case err != nil:
		return false, fmt.Errorf("checking the audit-log permission (GET /auditlog-exts/events): %w", err)
	}
	f.mu.Lock()
	f.unsupported = false
	f.lastProbe = now
	f.src = src
	f.mu.Unlock()
	sw, err := f.cfg.Harbor.AuditLogSwitches(ctx)
	switch {
	case harbor.IsForbidden(err):
		// Only a system administrator may read the configuration: say once
		// what cannot be checked, and read what there is.
		if !f.switchesNoted.Swap(true) {
			f.log.Info("the audit-log feed cannot check whether Harbor records everything it needs: reading skip_audit_log_database and " +
				"disabled_audit_log_event_types (GET /api/v2.0/configurations) needs a system administrator; if they are set, those changes " +
				"reach Port only through webhooks and resyncs")
		}
	case err != nil:
		f.log.Warn("reading Harbor's audit-log configuration failed; assuming it records everything", "error", err.Error())
	case sw.SkipDatabase:
		f.setStatus("degraded", ReasonSkipDatabase)
		return true, nil // keep polling: records appear once it is switched back
	default:
		var off []string
		for _, t := range relevantTypes {
			if slices.Contains(sw.DisabledEventTypes, t) {
				off = append(off, t)
			}
		}
		if len(off) > 0 {
			f.setStatus("degraded", fmt.Sprintf(ReasonDisabledTypes, strings.Join(off, ", ")))
			return true, nil
		}
	}
	if src.name == legacySourceName {
		f.setStatus("partial", ReasonLegacy)
	} else {
		f.setStatus("ok", "")
	}
	return true, nil
}

// probeLegacy checks, on a Harbor without /auditlog-exts, that the account
// may read GET /audit-logs: that log does not refuse a caller without
// audit-log:list (it lists nothing), so the account's system permissions
// tell (internal/harbor/API-NOTES.md "Audit log").
func (f *Feed) probeLegacy(ctx context.Context) (bool, error) {
	perms, err := f.cfg.Harbor.SystemPermissions(ctx)
	switch {
	case harbor.IsRouteNotFound(err):
		f.mu.Lock()
		f.unsupported = true
		f.mu.Unlock()
		f.setStatus("degraded", ReasonUnsupported)
		return false, nil
	case err != nil:
		return false, fmt.Errorf("checking the audit-log permission (GET /users/current/permissions): %w", err)
	}
	for _, p := range perms {
		if p.Resource == "audit-log" && p.Action == "list" {
			return true, nil
		}
	}
	f.setStatus("degraded", ReasonForbidden)
	return false, nil
}

// read advances the cursor over everything Harbor holds after it.
func (f *Feed) read(ctx context.Context, start time.Time) error {
	raw, err := f.cfg.Sink.State(StateName)
	if err != nil {
		return err
	}
	cur, err := decodeCursor(raw)
	if err != nil {
		f.log.Error(err.Error() + "; starting from the newest record (changes since the last good poll reach Port at the next resync or apply)")
	}
	if cur != nil && cur.Harbor != f.cfg.Harbor.BaseURL() {
		f.log.Warn("the audit-log feed's cursor is for another Harbor; starting from the newest record", "was", cur.Harbor)
		cur = nil
	}
	if cur == nil {
		return f.begin(ctx, start)
	}
	f.mu.Lock()
	src := f.src
	f.mu.Unlock()
	if cur.Source != src.name {
		return f.switchSource(ctx, cur, src, start)
	}
	if cur.Resync {
		return f.resync(ctx, cur, start)
	}
	from := cur.OpTime
	for page := 1; ; {
		p, err := src.page(ctx, harbor.AuditQuery{From: from}, page)
		if err != nil {
			return fmt.Errorf("reading the audit log: %w", err)
		}
		next := cur.clone()
		var fresh []harbor.AuditLogRecord
		for _, r := range p.Records {
			if !next.isNew(r.ID) && r.OpTime.After(cur.OpTime.Add(f.cfg.Grace)) {
				// An id already passed on a record newer than the cursor: ids
				// went back, so Harbor's database was restored or reset, and
				// nothing the cursor says holds any more.
				return f.markLost(ctx, src, cur, fmt.Sprintf("audit record %d is newer than the cursor but its id is not above the highest read (%d): "+
					"Harbor's audit log was reset or restored", r.ID, cur.MaxID), start, true)
			}
			if next.isNew(r.ID) {
				fresh = append(fresh, r)
			}
			next.saw(r.ID, r.OpTime, f.cfg.Now())
		}
		if err := f.commit(fresh, cur, next); err != nil {
			return err
		}
		cur = next
		if !p.More || len(p.Records) == 0 {
			break
		}
		if last := p.Records[len(p.Records)-1].OpTime; last.Truncate(time.Millisecond).After(from.Truncate(time.Millisecond)) {
			from, page = last, 1 // move the window: pages shift while Harbor writes
		} else {
			page++ // a page full of one millisecond
		}
	}
	// Ids skipped over: not committed yet, or gone.
	if len(cur.Missing) > 0 {
		found, err := src.byID(ctx, cur.missingIDs())
		if err != nil {
			return fmt.Errorf("looking up audit records by id: %w", err)
		}
		next := cur.clone()
		var fresh []harbor.AuditLogRecord
		for _, r := range found {
			if next.isNew(r.ID) {
				fresh = append(fresh, r)
				next.saw(r.ID, r.OpTime, f.cfg.Now())
			}
		}
		if len(fresh) > 0 {
			if err := f.commit(fresh, cur, next); err != nil {
				return err
			}
			cur = next
		}
		if lost := cur.lost(f.cfg.Now(), f.cfg.Grace); len(lost) > 0 {
			reason := fmt.Sprintf("audit records %s were never read and are gone (purged by Harbor's log rotation, or never committed)", idRange(lost))
			return f.markLost(ctx, src, cur, reason, start, false)
		}
	}
	f.mu.Lock()
	f.readUpTo, f.cursorAt = start, cur.OpTime
	f.mu.Unlock()
	return nil
}

// commit spools the keys of fresh records together with next, the cursor
// after them.
func (f *Feed) commit(fresh []harbor.AuditLogRecord, cur, next *cursor) error {
	var keys []catalog.Key
	for _, r := range fresh {
		ks, why := f.cfg.Mapping.Keys(r)
		f.m.records.WithLabelValues(recordType(r)).Inc()
		if len(ks) == 0 {
			f.m.ignored.Inc()
			f.log.Debug("audit record ignored", "id", r.ID, "type", r.Operation+"_"+r.ResourceType, "resource", r.Resource, "reason", why)
			continue
		}
		keys = append(keys, ks...)
	}
	if len(fresh) == 0 && next.OpTime.Equal(cur.OpTime) && next.MaxID == cur.MaxID && len(next.Missing) == len(cur.Missing) {
		return nil // nothing moved
	}
	coalesced, err := f.cfg.Sink.Enqueue(keys, StateName, next.encode())
	if err != nil {
		return fmt.Errorf("spooling the keys of audit records: %w", err)
	}
	if len(fresh) > 0 {
		ids := make([]int64, len(fresh))
		for i, r := range fresh {
			ids[i] = r.ID
		}
		slices.Sort(ids)
		f.log.Info("audit records spooled", "records", len(fresh), "ids", idList(ids), "keys", len(keys), "coalesced", coalesced,
			"cursor_op_time", next.OpTime.UTC().Format(time.RFC3339Nano), "cursor_max_id", next.MaxID)
	}
	f.m.cursor.Set(float64(next.OpTime.UnixMilli()) / 1000)
	return nil
}

// begin starts a fresh cursor at the newest record: the terraform apply that
// preceded the listener did the full sync (internal/DESIGN.md "Event sources").
func (f *Feed) begin(ctx context.Context, start time.Time) error {
	f.mu.Lock()
	src := f.src
	f.mu.Unlock()
	latest, err := src.latest(ctx)
	if err != nil {
		return fmt.Errorf("reading the newest audit record: %w", err)
	}
	c := &cursor{Version: cursorVersion, Harbor: f.cfg.Harbor.BaseURL(), Source: src.name}
	if latest != nil {
		c.OpTime, c.MaxID = latest.OpTime, latest.ID
	}
	if _, err := f.cfg.Sink.Enqueue(nil, StateName, c.encode()); err != nil {
		return fmt.Errorf("storing the audit-log cursor: %w", err)
	}
	f.log.Info("audit-log feed starts after the newest record; earlier changes are the last terraform apply's (or the next resync's)",
		"source", src.label(), "cursor_max_id", c.MaxID, "cursor_op_time", c.OpTime.UTC().Format(time.RFC3339Nano))
	f.mu.Lock()
	f.readUpTo, f.cursorAt = start, c.OpTime
	f.mu.Unlock()
	return nil
}

// markLost moves the cursor to the newest record with a resync owed, in one
// commit, then runs the resync: records after the newest one are read by the
// next polls, everything before it is covered by the resync, which reads
// Harbor after the cursor moved. reset: the ids went back, so the newest
// record replaces the cursor even with a lower id.
func (f *Feed) markLost(ctx context.Context, src *source, cur *cursor, reason string, start time.Time, reset bool) error {
	latest, err := src.latest(ctx)
	if err != nil {
		return fmt.Errorf("reading the newest audit record: %w", err)
	}
	next := &cursor{Version: cursorVersion, Harbor: cur.Harbor, Source: cur.Source, OpTime: cur.OpTime, MaxID: cur.MaxID, Resync: true, LostReason: reason}
	switch {
	case latest != nil && (reset || latest.ID > next.MaxID):
		next.OpTime, next.MaxID = latest.OpTime, latest.ID
	case reset:
		next.OpTime, next.MaxID = time.Time{}, 0
	}
	if _, err := f.cfg.Sink.Enqueue(nil, StateName, next.encode()); err != nil {
		return fmt.Errorf("storing the audit-log cursor: %w", err)
	}
	f.log.Error("audit-log feed lost records: " + reason + "; running one full resync, then reading on from the newest record")
	return f.resync(ctx, next, start)
}

// switchSource moves the cursor to another audit log (Harbor upgraded to 2.13
// or later, or the other way): its ids and times say nothing about the new
// one, and records between the last poll and the upgrade may be in neither.
// So: the newest record of the new log, with one full resync owed.
func (f *Feed) switchSource(ctx context.Context, cur *cursor, src *source, start time.Time) error {
	from := (&source{name: cur.Source}).label()
	latest, err := src.latest(ctx)
	if err != nil {
		return fmt.Errorf("reading the newest audit record: %w", err)
	}
	reason := "the audit log moved from " + from + " to " + src.label() + " (Harbor was upgraded or downgraded)"
	next := &cursor{Version: cursorVersion, Harbor: cur.Harbor, Source: src.name, Resync: true, LostReason: reason}
	if latest != nil {
		next.OpTime, next.MaxID = latest.OpTime, latest.ID
	}
	if _, err := f.cfg.Sink.Enqueue(nil, StateName, next.encode()); err != nil {
		return fmt.Errorf("storing the audit-log cursor: %w", err)
	}
	f.log.Warn(reason + "; running one full resync, then reading on from the newest record of " + src.label())
	return f.resync(ctx, next, start)
}

// resync runs the full resync a lost cursor owes, and clears the debt.
func (f *Feed) resync(ctx context.Context, cur *cursor, start time.Time) error {
	f.m.resyncs.Inc()
	if err := f.cfg.Resync(ctx, "audit records lost"); err != nil {
		return fmt.Errorf("the full resync after lost audit records failed (it runs again at the next poll): %w", err)
	}
	next := cur.clone()
	next.Resync, next.LostReason = false, ""
	if _, err := f.cfg.Sink.Enqueue(nil, StateName, next.encode()); err != nil {
		return fmt.Errorf("storing the audit-log cursor: %w", err)
	}
	f.log.Info("full resync after lost audit records done; the feed reads on")
	f.mu.Lock()
	f.readUpTo, f.cursorAt = start, next.OpTime
	f.mu.Unlock()
	return nil
}

// idList renders sorted ids compactly: "3-7,9".
func idList(ids []int64) string {
	var b strings.Builder
	for i := 0; i < len(ids); {
		j := i
		for j+1 < len(ids) && ids[j+1] == ids[j]+1 {
			j++
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		if j > i {
			fmt.Fprintf(&b, "%d-%d", ids[i], ids[j])
		} else {
			fmt.Fprintf(&b, "%d", ids[i])
		}
		i = j + 1
	}
	return b.String()
}

func idRange(ids []int64) string {
	if len(ids) > 20 {
		return fmt.Sprintf("%d ids from %d to %d", len(ids), ids[0], ids[len(ids)-1])
	}
	return idList(ids)
}
