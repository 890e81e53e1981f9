package serve

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/harborport/terraform-provider-harborport/internal/catalog"
	"github.com/harborport/terraform-provider-harborport/internal/harbor"
	"github.com/harborport/terraform-provider-harborport/internal/mapping"
	"github.com/harborport/terraform-provider-harborport/internal/port"
	"github.com/harborport/terraform-provider-harborport/internal/sandbox/harborsim"
	"github.com/harborport/terraform-provider-harborport/internal/sandbox/portsim"
	"github.com/harborport/terraform-provider-harborport/internal/testenv"
)

// The listener's periodic resync logs the same progress lines as terraform
// under TF_LOG=INFO: per-kind counts, and the plan and apply summaries.
func TestResyncLoopLogsProgress(t *testing.T) {
	sims := testenv.StartSims(t, harborsim.Options{NoLibraryProject: true},
		portsim.Options{ClientID: "resync-id", ClientSecret: "resync-port-secret", MigrationPolls: 1}, nil)
	hs := sims.Harbor
	hs.CreateProject("apps", false)
	for i := range 3 {
		if _, err := hs.PushArtifact("apps", "web", []string{fmt.Sprintf("v%d", i)}, harborsim.PushOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	hc, err := harbor.New(harbor.Config{URL: sims.HarborURL, Username: "admin", Password: "Harbor12345"})
	if err != nil {
		t.Fatal(err)
	}
	pc, err := port.New(port.Config{BaseURL: sims.PortURL, ClientID: "resync-id", ClientSecret: "resync-port-secret"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := testenv.CreateDefaultBlueprints(ctx, pc); err != nil {
		t.Fatal(err)
	}
	eng, err := catalog.New(hc, pc, mapping.Default(mapping.DefaultIDs()))
	if err != nil {
		t.Fatal(err)
	}

	var out testenv.LockedBuffer
	log := slog.New(slog.NewJSONHandler(&out, &slog.HandlerOptions{Level: slog.LevelInfo}))
	done := make(chan struct{})
	go func() {
		defer close(done)
		(&resyncer{eng: eng, log: log}).loop(ctx, 10*time.Millisecond)
	}()
	deadline := time.Now().Add(2 * time.Minute)
	for !strings.Contains(out.String(), `"msg":"periodic resync done"`) {
		if time.Now().After(deadline) {
			t.Fatalf("no resync finished in 2 minutes; logs:\n%s", out.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	<-done

	// The first resync: 1 project, 1 user (admin), 1 repository, 3 artifacts.
	type line map[string]any
	var lines []line
	for _, raw := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var l line
		if err := json.Unmarshal([]byte(raw), &l); err != nil {
			t.Fatalf("not JSON: %q", raw)
		}
		lines = append(lines, l)
	}
	find := func(prefix string) line {
		for _, l := range lines {
			if msg, _ := l["msg"].(string); strings.HasPrefix(msg, prefix) {
				return l
			}
		}
		t.Fatalf("no line starting %q in:\n%s", prefix, out.String())
		return nil
	}
	art := find("harborport: sync plan: Harbor artifacts done: 3 read, 3 mapped to 3 entities in ")
	if art["component"] != "resync" || art["level"] != "INFO" || art["items_read"] != 3.0 || art["kind"] != "artifact" {
		t.Fatalf("artifact line: %v", art)
	}
	find("harborport: sync plan: Harbor projects done: 1 read, 1 mapped to 1 entities in ")
	sum := find("harborport: sync plan computed: 4 blueprints, 6 entities desired, create=6 update=0 delete=0 unchanged=0 in ")
	if sum["create"] != 6.0 || sum["port_search_pages"] != 4.0 {
		t.Fatalf("plan summary: %v", sum)
	}
	find("harborport: sync applied: created=6 updated=0 deleted=0 already_done=0 skipped=0 failed=0 of 6 changes in ")
	if strings.Contains(out.String(), "resync-port-secret") || strings.Contains(out.String(), "Harbor12345") {
		t.Fatal("a secret is in the logs")
	}
}

// The periodic resync with an account that cannot list users: every cycle
// syncs the other kinds and succeeds; the skipped kind is logged once, and
// once more only when it changes (readable again).
func TestResyncSkippedKindLoggedOnce(t *testing.T) {
	sims := testenv.StartSims(t, harborsim.Options{NoLibraryProject: true, Version: harborsim.Version211},
		portsim.Options{ClientID: "resync-id", ClientSecret: "resync-port-secret", MigrationPolls: 1}, nil)
	sims.Harbor.CreateProject("apps", false)
	sims.Harbor.AddRobot("sync", "Robot-Secret-123", false)
	hc, err := harbor.New(harbor.Config{URL: sims.HarborURL, Username: "robot$sync", Password: "Robot-Secret-123"})
	must(t, err)
	pc, err := port.New(port.Config{BaseURL: sims.PortURL, ClientID: "resync-id", ClientSecret: "resync-port-secret"})
	must(t, err)
	ctx := context.Background()
	must(t, testenv.CreateDefaultBlueprints(ctx, pc))
	eng, err := catalog.New(hc, pc, mapping.Default(mapping.DefaultIDs()))
	must(t, err)
	var out testenv.LockedBuffer
	log := slog.New(slog.NewTextHandler(&out, &slog.HandlerOptions{Level: slog.LevelInfo}))
	skips := &kindSkips{log: log}
	sks, err := eng.UnreadableKinds(ctx)
	must(t, err)
	skips.set(sks)
	rs := &resyncer{eng: eng, log: log, skips: skips}
	for i := range 3 {
		if err := rs.run(ctx, "periodic"); err != nil {
			t.Fatalf("resync %d: %v", i, err)
		}
		_, err := sims.Harbor.PushArtifact("apps", "web", []string{fmt.Sprintf("v%d", i)}, harborsim.PushOptions{})
		must(t, err)
	}
	const warning = "Harbor users are not synced: Harbor answered GET /api/v2.0/users with 403 FORBIDDEN (robot$sync)"
	if n := strings.Count(out.String(), warning); n != 1 {
		t.Fatalf("logged %d times:\n%s", n, out.String())
	}
	if n := strings.Count(out.String(), "periodic resync done"); n != 3 {
		t.Fatalf("%d resyncs done:\n%s", n, out.String())
	}
	if n := sims.Port.EntityCount("harborArtifact"); n != 2 {
		t.Fatalf("%d artifacts in Port, want the 2 pushed before the last resync", n)
	}
	if st := skips.status(); st.State != "partial" || !strings.HasPrefix(st.Reason, warning) {
		t.Fatalf("/readyz harbor_kinds %+v", st)
	}
	skips.set(nil) // the permission granted (the next resync reads users)
	if !strings.Contains(out.String(), "Harbor users are readable again") || skips.status().State != "ok" {
		t.Fatalf("not said once readable:\n%s", out.String())
	}
}
