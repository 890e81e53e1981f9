package auditfeed

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/harborport/terraform-provider-harborport/internal/harbor"
	"github.com/harborport/terraform-provider-harborport/internal/sandbox/harborsim"
)

// On Harbor 2.11 the feed reads GET /audit-logs: a push names its tag (the
// reconcile resolves it through the repository), tag and repository changes
// and projects come through, user changes do not exist there; /readyz says
// the feed runs with that gap.
func TestFeed_harbor211(t *testing.T) {
	f := newFx(t, harborsim.Options{Version: harborsim.Version211})
	f.hs.CreateProject("apps", false)
	f.poll() // starts after the newest record
	st := f.feed.Status()
	if st.State != "partial" || st.Reason != ReasonLegacy || st.Details["source"] != "audit-logs" {
		t.Fatalf("status %+v", st)
	}
	if c := f.cursor(); c.Source != "audit-logs" || c.MaxID != 1 {
		t.Fatalf("cursor %+v", c)
	}
	if !strings.Contains(f.logs.String(), "audit-log feed running with gaps: "+ReasonLegacy) {
		t.Fatalf("the gap is not logged:\n%s", f.logs)
	}

	f.clk.add(time.Second)
	d, err := f.hs.PushArtifact("apps", "team/web", []string{"v1"}, harborsim.PushOptions{})
	must(t, err)
	f.poll()
	if got := f.sink.take(); !slices.Equal(got, []string{"artifact apps/team/web@v1", "repository apps/team/web", "project apps"}) {
		t.Fatalf("push: spooled %v", got)
	}
	f.clk.add(time.Second)
	must(t, f.hs.AddTag("apps", "team/web", d, "prod"))
	must(t, f.hs.DeleteTag("apps", "team/web", d, "v1"))
	_, err = f.hs.AddUserE("newcomer", "Passw0rd-9", false) // not in 2.11's audit log
	must(t, err)
	must(t, f.hs.DeleteRepository("apps", "team/web"))
	f.poll()
	want := []string{"artifact apps/team/web@prod", "repository apps/team/web", // tag create
		"artifacts of repository apps/team/web", "repository apps/team/web", // tag delete
		"artifact apps/team/web@" + d, "repository apps/team/web", "project apps", // the repository's artifact
		"repository apps/team/web", "project apps"} // the repository
	got := f.sink.take()
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("spooled\n %v\nwant\n %v", got, want)
	}
	if f.resyncs != 0 {
		t.Fatalf("%d resyncs", f.resyncs)
	}
}

// Harbor upgraded from 2.11 to 2.15 under the listener: at the next probe
// (every 10 minutes) the feed finds /auditlog-exts; the cursor of the old log
// means nothing in the new one, so it resyncs once (which covers what
// happened since) and reads on from the newest record.
func TestFeed_upgradeTo213RunsOneResync(t *testing.T) {
	f := newFx(t, harborsim.Options{Version: harborsim.Version211})
	f.hs.CreateProject("old", false)
	f.poll()
	f.clk.add(11 * time.Minute)
	upgraded := harborsim.New(harborsim.Options{Clock: f.clk.now, NoLibraryProject: true, Version: harborsim.Version215})
	upgraded.CreateProject("old", false)
	upgraded.CreateProject("during-upgrade", false)
	f.hs = upgraded
	f.swapHarbor(upgraded)
	f.poll()
	if f.resyncs != 1 || !strings.Contains(f.logs.String(), "the audit log moved from audit-logs to auditlog-exts") {
		t.Fatalf("%d resyncs:\n%s", f.resyncs, f.logs)
	}
	if c := f.cursor(); c.Source != "" || c.Resync || c.MaxID != 2 {
		t.Fatalf("cursor %+v", c)
	}
	if st := f.feed.Status(); st.State != "ok" {
		t.Fatalf("status %+v", st)
	}
	f.clk.add(time.Second)
	upgraded.CreateProject("next", false)
	f.poll()
	if got := f.sink.take(); f.resyncs != 1 || !slices.Equal(got, []string{"project next"}) {
		t.Fatalf("after the upgrade: %d resyncs, spooled %v", f.resyncs, got)
	}
}

// The client reads 2.11's records as successful ones, with the fields the
// capture shows.
func TestAuditLogsClientOn211(t *testing.T) {
	f := newFx(t, harborsim.Options{Version: harborsim.Version211})
	f.hs.CreateProject("apps", false)
	_, err := f.hs.PushArtifact("apps", "web", []string{"v1"}, harborsim.PushOptions{})
	must(t, err)
	p, err := f.hc.AuditLogsPage(t.Context(), harbor.AuditQuery{}, 1)
	must(t, err)
	if p.Total != 2 || len(p.Records) != 2 || !p.Records[0].Successful || p.Records[1].Resource != "apps/web:v1" || p.Records[1].Description != "" {
		t.Fatalf("page %+v", p)
	}
	latest, err := f.hc.LatestAuditLog(t.Context())
	must(t, err)
	byID, err := f.hc.AuditLogsByID(t.Context(), []int64{1})
	must(t, err)
	if latest == nil || latest.ID != 2 || len(byID) != 1 || byID[0].ResourceType != "project" || !byID[0].Successful {
		t.Fatalf("latest %+v, by id %+v", latest, byID)
	}
}
