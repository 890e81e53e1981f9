package auditfeed

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/harborport/terraform-provider-harborport/internal/catalog"
	"github.com/harborport/terraform-provider-harborport/internal/harbor"
	"github.com/harborport/terraform-provider-harborport/internal/mapping"
	"github.com/harborport/terraform-provider-harborport/internal/sandbox/harborsim"
)

func TestFollowSchedule(t *testing.T) {
	var total time.Duration
	for n := range maxFollowUps {
		total += followDelay(n)
	}
	if followDelay(0) != 2*time.Second || followDelay(4) != 32*time.Second || followDelay(5) != time.Minute || followDelay(40) != time.Minute {
		t.Errorf("delays %v %v %v", followDelay(0), followDelay(4), followDelay(5))
	}
	if total < followLimit || total > followLimit+time.Minute || maxFollowUps != 19 {
		t.Errorf("%d looks over %s", maxFollowUps, total)
	}
}

// A push into a project that scans on push is followed while the scan is
// to come or running, and no longer once it is final; a project that does
// not scan on push, and an artifact that is gone, are not followed; nor is a
// scan past the time limit.
func TestScanFollower(t *testing.T) {
	hs := harborsim.New(harborsim.Options{Clock: time.Now, ScanOnPush: true, ScanOnPushDelay: 300 * time.Millisecond, NoLibraryProject: true})
	srv := httptest.NewServer(hs)
	t.Cleanup(srv.Close)
	hc, err := harbor.New(harbor.Config{URL: srv.URL, Username: "admin", Password: "Harbor12345", MaxRetries: -1})
	must(t, err)
	hs.CreateProject("scanned", false)
	hs.CreateProject("plain", false)
	must(t, hs.SetProjectMetadata("scanned", "auto_scan", "true"))
	ctx := context.Background()
	sf := &ScanFollower{Harbor: hc}
	key := func(project, d string) catalog.Key {
		return catalog.Key{Kind: mapping.KindArtifact, Project: project, Repository: project + "/app", Digest: d, FollowScan: true}
	}
	d, err := hs.PushArtifact("scanned", "app", []string{"v1"}, harborsim.PushOptions{})
	must(t, err)
	again, why, err := sf.Check(ctx, key("scanned", d), 0)
	if err != nil || again != 2*time.Second || why != "scan Running" {
		t.Fatalf("running: %v %q %v", again, why, err)
	}
	if again, _, _ := sf.Check(ctx, key("scanned", d), maxFollowUps); again != 0 {
		t.Fatalf("past the limit: %v", again)
	}
	deadline := time.Now().Add(5 * time.Second)
	for hs.ScansRunning() > 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if again, _, err := sf.Check(ctx, key("scanned", d), 3); err != nil || again != 0 {
		t.Fatalf("after the scan: %v %v", again, err)
	}

	p, err := hs.PushArtifact("plain", "app", []string{"v1"}, harborsim.PushOptions{})
	must(t, err)
	if again, _, err := sf.Check(ctx, key("plain", p), 0); err != nil || again != 0 {
		t.Fatalf("no scan on push: %v %v", again, err)
	}
	if again, _, err := sf.Check(ctx, key("scanned", "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"), 0); err != nil || again != 0 {
		t.Fatalf("gone: %v %v", again, err)
	}
	// A project that scans on push, the scan not started yet (no report).
	hs2 := harborsim.New(harborsim.Options{NoLibraryProject: true})
	srv2 := httptest.NewServer(hs2)
	t.Cleanup(srv2.Close)
	hc2, err := harbor.New(harbor.Config{URL: srv2.URL, Username: "admin", Password: "Harbor12345", MaxRetries: -1})
	must(t, err)
	hs2.CreateProject("scanned", false)
	must(t, hs2.SetProjectMetadata("scanned", "auto_scan", "true"))
	d2, err := hs2.PushArtifact("scanned", "app", []string{"v1"}, harborsim.PushOptions{})
	must(t, err)
	if again, why, err := (&ScanFollower{Harbor: hc2}).Check(ctx, key("scanned", d2), 1); err != nil || again != 4*time.Second || why != "scan on push not started yet" {
		t.Fatalf("not started: %v %q %v", again, why, err)
	}
}
