package harbor

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/harborport/terraform-provider-harborport/internal/sandbox/harborsim"
)

// manualClock is a simulator clock the test moves.
type manualClock struct {
	mu sync.Mutex
	t  time.Time
}

func (m *manualClock) now() time.Time      { m.mu.Lock(); defer m.mu.Unlock(); return m.t }
func (m *manualClock) set(t time.Time)     { m.mu.Lock(); m.t = t; m.mu.Unlock() }
func (m *manualClock) add(d time.Duration) { m.mu.Lock(); m.t = m.t.Add(d); m.mu.Unlock() }

func TestSimAuditLogWindow(t *testing.T) {
	clk := &manualClock{}
	t0 := time.Date(2026, 12, 6, 7, 50, 16, 210_456_000, time.UTC)
	clk.set(t0)
	sim, c := newSim(t, harborsim.Options{Clock: clk.now})
	ctx := ctxT(t)
	sim.CreateProject("team", false)
	clk.add(500 * time.Millisecond) // 16.710456
	d, err := sim.PushArtifact("team", "app", []string{"v1"}, harborsim.PushOptions{})
	if err != nil {
		t.Fatal(err)
	}
	clk.add(time.Second) // 17.710456
	if err := sim.DeleteRepository("team", "app"); err != nil {
		t.Fatal(err)
	}
	clk.add(time.Second) // 18.710456
	if err := sim.DeleteProject("team"); err != nil {
		t.Fatal(err)
	}

	all, err := c.ListAuditLogExts(ctx, AuditQuery{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range all {
		got = append(got, fmt.Sprintf("%d %s %s %s", r.ID, r.OpTime.Format("05.000"), r.Operation, r.Resource))
	}
	want := []string{
		"1 16.210 create team",
		"2 16.710 create team/app:v1",
		"4 17.710 delete team/app@" + d, // the artifact of the repository delete: op_time first, id last
		"3 17.710 delete team/app",
		"5 18.710 delete team",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("records:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if r := all[0]; r.Username != "admin" || r.ResourceType != "project" || r.Description != "create project: team" || !r.Successful || r.OpTime.Location() != time.UTC {
		t.Fatalf("first record %+v", r)
	}

	// Bounds are inclusive at the millisecond shown, although Harbor stores microseconds:
	// From=16.710 finds the record stored at 16.710456, To=17.710 the two at 17.710456(+1µs).
	shown := func(s string) time.Time { return time.Date(2026, 12, 6, 7, 50, 0, 0, time.UTC).Add(mustDur(t, s)) }
	for _, tc := range []struct {
		q    AuditQuery
		want int
	}{
		{AuditQuery{From: shown("16.710s"), To: shown("17.710s")}, 3},
		{AuditQuery{From: shown("16.711s")}, 3},
		{AuditQuery{To: shown("16.709s")}, 1},
		{AuditQuery{From: shown("17.710s"), To: shown("17.710s")}, 2},
		{AuditQuery{From: shown("18.711s")}, 0},
	} {
		recs, err := c.ListAuditLogExts(ctx, tc.q)
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) != tc.want {
			t.Errorf("%v..%v: %d records, want %d", tc.q.From.Format("05.000"), tc.q.To.Format("05.000"), len(recs), tc.want)
		}
	}
	if _, err := c.ListAuditLogExts(ctx, AuditQuery{From: shown("18s"), To: shown("17s")}); err == nil || !strings.Contains(err.Error(), "before From") {
		t.Fatalf("inverted window: %v", err)
	}
	// The query on the wire: Harbor's range with microseconds, sort=op_time, page_size=100.
	var line harborsim.LoggedRequest
	for _, l := range sim.RequestLog() {
		if strings.HasPrefix(l.RawQuery, "page=1") && strings.Contains(l.RawQuery, "16.710000") {
			line = l
		}
	}
	if line.RawQuery != "page=1&page_size=100&q=op_time%3D%5B2026-12-06T07%3A50%3A16.710000~2026-12-06T07%3A50%3A17.710999%5D&sort=op_time" {
		t.Fatalf("request %q", line.RawQuery)
	}
}

func mustDur(t *testing.T, s string) time.Duration {
	d, err := time.ParseDuration(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestSimAuditLogPaging(t *testing.T) {
	sim, c := newSim(t, harborsim.Options{NoLibraryProject: true})
	ctx := ctxT(t)
	for i := 0; i < 230; i++ {
		sim.CreateProject(fmt.Sprintf("p%03d", i), false)
	}
	recs, err := c.ListAuditLogExts(ctx, AuditQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 230 || recs[0].Resource != "p000" || recs[229].Resource != "p229" {
		t.Fatalf("%d records, %q … %q", len(recs), recs[0].Resource, recs[len(recs)-1].Resource)
	}
	if n := c.Stats()["GET /auditlog-exts"]; n != 3 {
		t.Fatalf("%d requests for 230 records, want 3", n)
	}
	p, err := c.AuditLogExtsPage(ctx, AuditQuery{}, 3)
	if err != nil {
		t.Fatal(err)
	}
	if p.Total != 230 || len(p.Records) != 30 || p.More || p.Records[0].Resource != "p200" {
		t.Fatalf("page 3: total %d, %d records, more %v", p.Total, len(p.Records), p.More)
	}
	if p, err = c.AuditLogExtsPage(ctx, AuditQuery{}, 2); err != nil || !p.More {
		t.Fatalf("page 2: %+v %v", p, err)
	}
	if _, err := c.AuditLogExtsPage(ctx, AuditQuery{}, 0); err == nil {
		t.Fatal("page 0 accepted")
	}
}

// Without audit-log:list the list is empty, not refused; the events probe tells.
func TestSimAuditLogPermission(t *testing.T) {
	sim, c := newSim(t, harborsim.Options{})
	ctx := ctxT(t)
	sim.CreateProject("p", false)
	if err := sim.AddRobotE("sync", "Robot-Secret1", harborsim.RobotPermissions{UserList: true}); err != nil {
		t.Fatal(err)
	}
	if err := sim.AddRobotE("feed", "Robot-Secret1", harborsim.RobotPermissions{AuditLogList: true}); err != nil {
		t.Fatal(err)
	}
	without := simClientAs(t, c, "robot$sync", "Robot-Secret1")
	recs, err := without.ListAuditLogExts(ctx, AuditQuery{})
	if err != nil || len(recs) != 0 {
		t.Fatalf("robot without audit-log:list: %v, %v", recs, err)
	}
	_, err = without.AuditLogEventTypes(ctx)
	var ae *APIError
	if !errors.Is(err, ErrAuditLogForbidden) || !errors.As(err, &ae) || ae.Status != 403 || ae.Message != "robot$sync" {
		t.Fatalf("probe without the permission: %v", err)
	}
	for _, want := range []string{"403 FORBIDDEN: robot$sync", "audit-log:list", "{resource: audit-log, action: list}"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q does not mention %q", err, want)
		}
	}
	with := simClientAs(t, c, "robot$feed", "Robot-Secret1")
	types, err := with.AuditLogEventTypes(ctx)
	if err != nil || len(types) != 14 || types[0] != "create_artifact" || types[13] != "update_configuration" {
		t.Fatalf("probe with the permission: %v, %v", types, err)
	}
	if recs, err := with.ListAuditLogExts(ctx, AuditQuery{}); err != nil || len(recs) == 0 {
		t.Fatalf("robot with audit-log:list: %d records, %v", len(recs), err)
	}
	// Wrong credentials: Harbor's anonymous answer, 401, stays a credentials error.
	_, err = simClientAs(t, c, "robot$feed", "wrong").ListAuditLogExts(ctx, AuditQuery{})
	if !IsForbidden(err) || errors.Is(err, ErrAuditLogForbidden) || !strings.Contains(err.Error(), "audit-log:list") {
		t.Fatalf("401: %v", err)
	}
}

// Harbor < 2.13 answers a route miss for both endpoints.
func TestAuditLogUnsupportedHarbor(t *testing.T) {
	s := newStub(t) // no audit routes: 404 "path … was not found", as nginx+core answer
	c := newTestClient(t, fastConfig(s.srv.URL))
	ctx := ctxT(t)
	_, err := c.ListAuditLogExts(ctx, AuditQuery{From: time.Now()})
	if !errors.Is(err, ErrAuditLogUnsupported) || !IsRouteNotFound(err) || IsNotFound(err) {
		t.Fatalf("list: %v", err)
	}
	if !strings.Contains(err.Error(), "path /api/v2.0/auditlog-exts was not found") || !strings.Contains(err.Error(), "Harbor 2.13") {
		t.Fatalf("message: %v", err)
	}
	if _, err := c.AuditLogEventTypes(ctx); !errors.Is(err, ErrAuditLogUnsupported) {
		t.Fatalf("events: %v", err)
	}
	if _, err := c.AuditLogExtsPage(ctx, AuditQuery{}, 1); !errors.Is(err, ErrAuditLogUnsupported) {
		t.Fatalf("page: %v", err)
	}
	// Any other failure is passed through unclassified.
	s.handle("GET", "/api/v2.0/auditlog-exts", func(w http.ResponseWriter, _ *http.Request) {
		harborError(w, 400, "BAD_REQUEST", "invalid query string value")
	})
	_, err = c.ListAuditLogExts(ctx, AuditQuery{})
	if errors.Is(err, ErrAuditLogUnsupported) || errors.Is(err, ErrAuditLogForbidden) {
		t.Fatalf("400 classified: %v", err)
	}
}

// Look-ups a cursor needs: records by id (a gap), the last record, and the switches that turn
// records off (readable by a system administrator only).
func TestSimAuditLogByIDLatestAndSwitches(t *testing.T) {
	sim, c := newSim(t, harborsim.Options{NoLibraryProject: true})
	ctx := ctxT(t)
	if rec, err := c.LatestAuditLogExt(ctx); err != nil || rec != nil {
		t.Fatalf("empty log: %+v, %v", rec, err)
	}
	for i := range 60 {
		sim.CreateProject(fmt.Sprintf("p%02d", i), false)
	}
	last, err := c.LatestAuditLogExt(ctx)
	if err != nil || last == nil || last.ID != 60 || last.Resource != "p59" {
		t.Fatalf("latest: %+v, %v", last, err)
	}
	ids := []int64{3, 59, 7, 999}
	for i := int64(10); i < 60; i++ { // over one q list of 50
		ids = append(ids, i)
	}
	recs, err := c.AuditLogExtsByID(ctx, ids)
	if err != nil || len(recs) != 53 {
		t.Fatalf("by id: %d records, %v", len(recs), err)
	}
	got := map[int64]string{}
	for _, r := range recs {
		got[r.ID] = r.Resource
	}
	if got[3] != "p02" || got[59] != "p58" || got[7] != "p06" || got[999] != "" {
		t.Fatalf("by id: %v", got)
	}

	if err := sim.SetAuditLogConfig(harborsim.AuditLogConfig{DisabledEventTypes: []string{"Create_User", " pull_artifact"}}); err != nil {
		t.Fatal(err)
	}
	sw, err := c.AuditLogSwitches(ctx)
	if err != nil || sw.SkipDatabase || strings.Join(sw.DisabledEventTypes, ",") != "create_user,pull_artifact" {
		t.Fatalf("switches: %+v, %v", sw, err)
	}
	if err := sim.AddRobotE("feed", "Robot-Secret1", harborsim.RobotPermissions{AuditLogList: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := simClientAs(t, c, "robot$feed", "Robot-Secret1").AuditLogSwitches(ctx); !IsForbidden(err) {
		t.Fatalf("a robot read the configuration: %v", err)
	}
}
