package auditfeed

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/harborport/terraform-provider-harborport/internal/catalog"
	"github.com/harborport/terraform-provider-harborport/internal/harbor"
	"github.com/harborport/terraform-provider-harborport/internal/listener"
	"github.com/harborport/terraform-provider-harborport/internal/sandbox/harborsim"
)

// clock is a clock the test moves (Harbor's op_times and the feed's now).
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }
func (c *clock) set(t time.Time)     { c.mu.Lock(); c.t = t; c.mu.Unlock() }

// sink is the real spool, recording what each Enqueue spooled; failNext
// makes the next calls fail as a full disk would.
type sink struct {
	sp       *listener.Spool
	mu       sync.Mutex
	keys     []string
	failNext int
}

func (s *sink) Enqueue(keys []catalog.Key, name string, state []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failNext > 0 {
		s.failNext--
		return 0, errors.New("write spool.db: no space left on device")
	}
	n, err := s.sp.PutWithState(keys, time.Now(), name, state)
	if err == nil {
		for _, k := range keys {
			s.keys = append(s.keys, k.String())
		}
	}
	return n, err
}

func (s *sink) State(name string) ([]byte, error) { return s.sp.State(name) }

// take returns the keys spooled since the last take.
func (s *sink) take() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.keys
	s.keys = nil
	return out
}

type fx struct {
	t       *testing.T
	front   *swapHandler
	clk     *clock
	hs      *harborsim.Server
	hc      *harbor.Client
	sink    *sink
	feed    *Feed
	resyncs int
	logs    *bytes.Buffer
	reg     *prometheus.Registry
}

func newFx(t *testing.T, opts harborsim.Options) *fx {
	t.Helper()
	clk := &clock{t: time.Date(2026, 12, 6, 7, 50, 16, 210_000_000, time.UTC)}
	opts.Clock = clk.now
	opts.NoLibraryProject = true
	hs := harborsim.New(opts)
	front := &swapHandler{h: hs}
	srv := httptest.NewServer(front)
	t.Cleanup(srv.Close)
	hc, err := harbor.New(harbor.Config{URL: srv.URL, Username: "admin", Password: "Harbor12345", MaxRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	sp, err := listener.OpenSpool(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sp.Close() })
	f := &fx{t: t, front: front, clk: clk, hs: hs, hc: hc, sink: &sink{sp: sp}, logs: &bytes.Buffer{}, reg: prometheus.NewRegistry()}
	f.build(hc)
	return f
}

// swapHandler lets a test put another Harbor behind the same URL.
type swapHandler struct {
	mu sync.Mutex
	h  http.Handler
}

func (s *swapHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	h := s.h
	s.mu.Unlock()
	h.ServeHTTP(w, r)
}

func (f *fx) swapHarbor(h http.Handler) {
	f.front.mu.Lock()
	f.front.h = h
	f.front.mu.Unlock()
}

// build (re)creates the feed on client hc, as a restarted listener would.
func (f *fx) build(hc *harbor.Client, tweak ...func(*Config)) {
	cfg := Config{Harbor: hc, Sink: f.sink, Interval: time.Second, Now: f.clk.now, Grace: time.Minute,
		Mapping: Mapping{FollowScans: false}, Registry: prometheus.NewRegistry(),
		Logger: slog.New(slog.NewTextHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Resync: func(context.Context, string) error { f.resyncs++; return nil }}
	for _, tw := range tweak {
		tw(&cfg)
	}
	f.reg = cfg.Registry
	feed, err := New(cfg)
	if err != nil {
		f.t.Fatal(err)
	}
	f.feed = feed
}

func (f *fx) poll() {
	f.t.Helper()
	if err := f.feed.Poll(context.Background()); err != nil {
		f.t.Fatalf("poll: %v\n%s", err, f.logs)
	}
}

func (f *fx) cursor() *cursor {
	f.t.Helper()
	raw, err := f.sink.State(StateName)
	if err != nil {
		f.t.Fatal(err)
	}
	c, err := decodeCursor(raw)
	if err != nil {
		f.t.Fatal(err)
	}
	return c
}

// metric reads one sample from the feed's registry (label "" for none).
func (f *fx) metric(name, label, value string) float64 {
	f.t.Helper()
	mfs, err := f.reg.Gather()
	if err != nil {
		f.t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			match := label == ""
			for _, lp := range m.GetLabel() {
				if lp.GetName() == label && lp.GetValue() == value {
					match = true
				}
			}
			if !match {
				continue
			}
			switch {
			case m.GetCounter() != nil:
				return m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				return m.GetGauge().GetValue()
			}
		}
	}
	f.t.Fatalf("no sample %s{%s=%q}", name, label, value)
	return 0
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// The first poll starts after the newest record; what happens later is
// spooled once, with its keys; a replay of the boundary spools nothing.
func TestFeed_startsAtTheNewestRecordAndReadsOn(t *testing.T) {
	f := newFx(t, harborsim.Options{})
	f.hs.CreateProject("old", false)
	f.clk.add(time.Second)
	f.poll()
	if got := f.sink.take(); len(got) != 0 {
		t.Fatalf("the first poll spooled %v: the terraform apply covers what came before", got)
	}
	if c := f.cursor(); c.MaxID != 1 {
		t.Fatalf("cursor %+v", c)
	}
	f.clk.add(time.Second)
	f.hs.CreateProject("apps", false)
	d, err := f.hs.PushArtifact("apps", "web", []string{"v1"}, harborsim.PushOptions{})
	must(t, err)
	must(t, f.hs.AddTag("apps", "web", d, "prod"))
	f.poll()
	want := []string{"project apps", "artifact apps/web@" + d, "repository apps/web", "project apps",
		"artifact apps/web@prod", "repository apps/web"}
	if got := f.sink.take(); !slices.Equal(got, want) {
		t.Fatalf("spooled %v\nwant    %v", got, want)
	}
	f.poll()
	f.poll()
	if got := f.sink.take(); len(got) != 0 {
		t.Fatalf("polls without news spooled %v", got)
	}
	if st := f.feed.Status(); st.State != "ok" {
		t.Fatalf("status %+v", st)
	}
	if n := f.metric("harborport_audit_feed_records_total", "type", "create_tag"); n != 1 {
		t.Errorf("records_total{type=create_tag} = %v", n)
	}
}

// One request's records share a millisecond with their ids reversed, and
// here they span two pages: every record is spooled exactly once.
func TestFeed_tiesAcrossPages(t *testing.T) {
	f := newFx(t, harborsim.Options{})
	f.hs.CreateProject("apps", false)
	f.poll()
	var tags []string
	for i := range 150 {
		tags = append(tags, fmt.Sprintf("t%03d", i))
	}
	f.clk.add(time.Second)
	_, err := f.hs.PushArtifact("apps", "web", tags, harborsim.PushOptions{}) // one push record per tag, one request
	must(t, err)
	f.clk.add(time.Second)
	f.hs.CreateProject("after", false)
	f.poll()
	got := f.sink.take()
	if n := strings.Count(strings.Join(got, "\n"), "artifact apps/web@"); n != 150 {
		t.Fatalf("%d artifact keys for 150 push records", n)
	}
	if got[len(got)-1] != "project after" {
		t.Fatalf("last key %s", got[len(got)-1])
	}
	if c := f.cursor(); c.MaxID != 152 || len(c.Missing) != 0 {
		t.Fatalf("cursor max %d missing %v", c.MaxID, c.Missing)
	}
}

// A record committed with an op_time before the cursor (its id above the
// highest read): found by id, spooled once, nothing counted as lost.
func TestFeed_lateCommitIsFoundByID(t *testing.T) {
	f := newFx(t, harborsim.Options{})
	f.hs.CreateProject("a", false)
	f.poll()
	f.clk.add(10 * time.Second)
	f.hs.CreateProject("b", false) // id 2
	back := f.clk.now().Add(-5 * time.Second)
	f.clk.set(back)
	f.hs.CreateProject("late", false) // id 3, op_time before id 2's
	f.clk.add(10 * time.Second)
	f.poll()
	got := f.sink.take()
	slices.Sort(got)
	if !slices.Equal(got, []string{"project b", "project late"}) {
		t.Fatalf("spooled %v", got)
	}
	f.clk.add(10 * time.Minute)
	f.poll()
	if f.resyncs != 0 || len(f.sink.take()) != 0 {
		t.Fatalf("resyncs %d", f.resyncs)
	}
}

// Records purged before the feed read them: counted as lost, one full
// resync, the cursor moves to the newest record and reading goes on. A purge
// of records already read, and the tag records every purge leaves, cause no
// resync.
func TestFeed_purgedCursorRunsOneResync(t *testing.T) {
	f := newFx(t, harborsim.Options{})
	f.hs.CreateProject("apps", false)
	d, err := f.hs.PushArtifact("apps", "web", []string{"v1"}, harborsim.PushOptions{})
	must(t, err)
	f.poll()
	// Read, then purged: no resync.
	f.clk.add(time.Hour)
	must(t, f.hs.AddTag("apps", "web", d, "keep")) // tag records survive every purge
	f.poll()
	f.sink.take()
	f.clk.add(time.Hour)
	if _, err := f.hs.PurgeAuditLog(harborsim.AuditPurge{Before: f.clk.now(), EventTypes: []string{"create_project", "create_artifact", "other"}}); err != nil {
		t.Fatal(err)
	}
	f.clk.add(time.Minute)
	f.hs.CreateProject("fresh", false)
	f.poll()
	if f.resyncs != 0 {
		t.Fatalf("a purge of records already read ran a resync:\n%s", f.logs)
	}
	if got := f.sink.take(); !slices.Equal(got, []string{"project fresh"}) {
		t.Fatalf("spooled %v", got)
	}

	// The listener is down; records come and are purged unread; more come.
	f.clk.add(time.Hour)
	for _, p := range []string{"gone1", "gone2", "gone3"} {
		f.hs.CreateProject(p, false)
	}
	f.clk.add(time.Hour)
	if _, err := f.hs.PurgeAuditLog(harborsim.AuditPurge{Before: f.clk.now(), EventTypes: []string{"create_project", "other"}}); err != nil {
		t.Fatal(err)
	}
	f.clk.add(time.Minute)
	f.hs.CreateProject("kept", false)
	f.clk.add(2 * time.Minute)
	f.build(f.hc) // restarted
	f.poll()
	if f.resyncs != 1 {
		t.Fatalf("%d resyncs after records were purged unread, want 1:\n%s", f.resyncs, f.logs)
	}
	if !strings.Contains(f.logs.String(), lostLine) {
		t.Fatalf("the loss is not logged with the ids:\n%s", f.logs)
	}
	c := f.cursor()
	if c.Resync || len(c.Missing) != 0 {
		t.Fatalf("cursor after the resync: %+v", c)
	}
	f.sink.take()
	f.clk.add(time.Minute)
	f.hs.CreateProject("next", false)
	f.poll()
	f.poll()
	if f.resyncs != 1 {
		t.Fatalf("%d resyncs, want still 1", f.resyncs)
	}
	if got := f.sink.take(); !slices.Equal(got, []string{"project next"}) {
		t.Fatalf("after the resync spooled %v", got)
	}
}

// A crash (here: a failing resync, then a rebuilt feed) between noting the
// loss and finishing the resync runs it again, once.
func TestFeed_resyncOwedSurvivesARestart(t *testing.T) {
	f := newFx(t, harborsim.Options{})
	f.hs.CreateProject("a", false)
	f.poll()
	f.clk.add(time.Hour)
	f.hs.CreateProject("gone", false)
	f.clk.add(time.Hour)
	if _, err := f.hs.PurgeAuditLog(harborsim.AuditPurge{Before: f.clk.now(), EventTypes: []string{"create_project"}}); err != nil {
		t.Fatal(err)
	}
	f.hs.CreateProject("b", false)
	f.clk.add(2 * time.Minute)
	failing := errors.New("port: 503")
	f.build(f.hc, func(c *Config) {
		c.Resync = func(context.Context, string) error { f.resyncs++; return failing }
	})
	if err := f.feed.Poll(context.Background()); !errors.Is(err, failing) {
		t.Fatalf("poll: %v", err)
	}
	if !f.cursor().Resync {
		t.Fatal("the owed resync is not in the cursor")
	}
	f.build(f.hc)
	f.poll()
	f.poll()
	if f.resyncs != 2 || f.cursor().Resync {
		t.Fatalf("%d resync attempts, cursor %+v", f.resyncs, f.cursor())
	}
}

// A spool that cannot write: the cursor stays, and the next poll spools the
// same records (nothing lost, nothing twice).
func TestFeed_spoolFailureKeepsTheCursor(t *testing.T) {
	f := newFx(t, harborsim.Options{})
	f.hs.CreateProject("a", false)
	f.poll()
	f.hs.CreateProject("b", false)
	f.sink.failNext = 1
	if err := f.feed.Poll(context.Background()); err == nil || !strings.Contains(err.Error(), "no space left") {
		t.Fatalf("poll: %v", err)
	}
	if c := f.cursor(); c.MaxID != 1 {
		t.Fatalf("the cursor moved without its keys: %+v", c)
	}
	f.poll()
	if got := f.sink.take(); !slices.Equal(got, []string{"project b"}) {
		t.Fatalf("spooled %v", got)
	}
}

// Degraded states: each names the fix, on /readyz and once in the log, and
// the feed reads nothing while it cannot.
func TestFeed_degraded(t *testing.T) {
	t.Run("no audit-log:list", func(t *testing.T) {
		f := newFx(t, harborsim.Options{})
		must(t, f.hs.AddRobotE("sync", "Robot-Secret1", harborsim.RobotPermissions{UserList: true}))
		robot, err := harbor.New(harbor.Config{URL: strings.TrimSuffix(f.hc.BaseURL(), "/api/v2.0"), Username: "robot$sync", Password: "Robot-Secret1", MaxRetries: -1})
		must(t, err)
		f.build(robot)
		f.poll()
		f.poll()
		st := f.feed.Status()
		if st.State != "degraded" || st.Reason != ReasonForbidden {
			t.Fatalf("status %+v", st)
		}
		if n := strings.Count(f.logs.String(), "audit-log feed degraded: the Harbor account lacks the system permission audit-log:list"); n != 1 {
			t.Fatalf("logged %d times:\n%s", n, f.logs)
		}
		if f.cursor() != nil {
			t.Fatal("a cursor was started without the permission")
		}
		if f.metric("harborport_audit_feed_degraded", "", "") != 1 || f.metric("harborport_audit_feed_polls_total", "outcome", "degraded") != 2 {
			t.Fatal("metrics")
		}
	})
	t.Run("Harbor 2.11, a robot without audit-log:list", func(t *testing.T) {
		// 2.11's /audit-logs answers such a robot 200 with nothing, and has no
		// /events route to refuse it: the account's system permissions tell.
		f := newFx(t, harborsim.Options{Version: harborsim.Version211})
		must(t, f.hs.AddRobotE("sync", "Robot-Secret1", harborsim.RobotPermissions{}))
		robot, err := harbor.New(harbor.Config{URL: strings.TrimSuffix(f.hc.BaseURL(), "/api/v2.0"), Username: "robot$sync", Password: "Robot-Secret1", MaxRetries: -1})
		must(t, err)
		f.build(robot)
		f.poll()
		if st := f.feed.Status(); st.State != "degraded" || st.Reason != ReasonForbidden || f.cursor() != nil {
			t.Fatalf("status %+v, cursor %+v", st, f.cursor())
		}
	})
	t.Run("skip_audit_log_database", func(t *testing.T) {
		f := newFx(t, harborsim.Options{})
		must(t, f.hs.SetAuditLogConfig(harborsim.AuditLogConfig{SkipDatabase: true, ForwardEndpoint: "syslog.example.com:514"}))
		f.poll()
		if st := f.feed.Status(); st.State != "degraded" || st.Reason != ReasonSkipDatabase {
			t.Fatalf("status %+v", st)
		}
		must(t, f.hs.SetAuditLogConfig(harborsim.AuditLogConfig{}))
		f.poll()
		if st := f.feed.Status(); st.State != "ok" {
			t.Fatalf("status after switching it back: %+v", st)
		}
	})
	t.Run("disabled event types", func(t *testing.T) {
		f := newFx(t, harborsim.Options{})
		must(t, f.hs.SetAuditLogConfig(harborsim.AuditLogConfig{DisabledEventTypes: []string{"create_user", "delete_user", "login_user"}}))
		f.poll()
		st := f.feed.Status()
		if st.State != "degraded" || !strings.Contains(st.Reason, "Harbor does not record these event types (disabled_audit_log_event_types): create_user, delete_user;") {
			t.Fatalf("status %+v", st)
		}
		f.hs.CreateProject("still", false)
		f.poll()
		if got := f.sink.take(); !slices.Equal(got, []string{"project still"}) {
			t.Fatalf("the other types are still read: %v", got)
		}
	})
}

// The lost-records line as the troubleshooting guide quotes it.
const lostLine = "audit-log feed lost records: audit records 5-7 were never read and are gone (purged by Harbor's log rotation, " +
	"or never committed); running one full resync, then reading on from the newest record"

// docs/guides/troubleshooting.md quotes every degraded reason and the
// lost-records line word for word.
func TestTroubleshootingGuideFeed(t *testing.T) {
	raw, err := os.ReadFile("../../docs/guides/troubleshooting.md")
	if err != nil {
		t.Fatalf("the troubleshooting guide is missing (make docs renders templates/guides/troubleshooting.md.tmpl): %v", err)
	}
	doc := strings.Join(strings.Fields(string(raw)), " ")
	for _, w := range []string{
		"audit-log feed degraded: " + ReasonForbidden,
		"audit-log feed degraded: " + ReasonUnsupported,
		"audit-log feed running with gaps: " + ReasonLegacy,
		"audit-log feed degraded: " + ReasonSkipDatabase,
		"audit-log feed degraded: " + fmt.Sprintf(ReasonDisabledTypes, "create_user, delete_user"),
		lostLine,
		"full resync (audit records lost) done",
	} {
		if !strings.Contains(doc, strings.Join(strings.Fields(w), " ")) {
			t.Errorf("docs/guides/troubleshooting.md does not quote %q", w)
		}
	}
}

// Harbor's audit log reset (a database restored from a backup, a new
// install at the same URL): ids start again below the cursor. Left alone the
// feed would take every new record for one it read; it resyncs once and
// reads on from the newest record.
func TestFeed_resetLogRunsOneResync(t *testing.T) {
	f := newFx(t, harborsim.Options{})
	for i := range 5 {
		f.hs.CreateProject(fmt.Sprintf("p%d", i), false)
	}
	f.poll()
	f.clk.add(time.Minute)
	f.hs.CreateProject("seen", false)
	f.poll()
	f.sink.take()
	// The same URL now serves a Harbor whose log starts again at id 1.
	fresh := harborsim.New(harborsim.Options{Clock: f.clk.now, NoLibraryProject: true})
	f.clk.add(time.Hour)
	fresh.CreateProject("after-reset", false)
	f.hs = fresh
	f.swapHarbor(fresh)
	f.poll()
	if f.resyncs != 1 || !strings.Contains(f.logs.String(), "Harbor's audit log was reset or restored") {
		t.Fatalf("%d resyncs:\n%s", f.resyncs, f.logs)
	}
	f.clk.add(time.Minute)
	fresh.CreateProject("next", false)
	f.poll()
	if got := f.sink.take(); f.resyncs != 1 || !slices.Equal(got, []string{"project next"}) {
		t.Fatalf("after the reset: %d resyncs, spooled %v", f.resyncs, got)
	}
}
