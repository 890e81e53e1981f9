package catalog

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"testing"

	"github.com/harborport/terraform-provider-harborport/internal/blueprint"
	"github.com/harborport/terraform-provider-harborport/internal/harbor"
	"github.com/harborport/terraform-provider-harborport/internal/mapping"
	"github.com/harborport/terraform-provider-harborport/internal/port"
	"github.com/harborport/terraform-provider-harborport/internal/sandbox/harborsim"
	"github.com/harborport/terraform-provider-harborport/internal/sandbox/portsim"
)

// rcEnv is a self-contained Harbor + Port pair with the default blueprints.
func rcEnv(t *testing.T, yaml string) (*Engine, *harborsim.Server, *portsim.Server) {
	t.Helper()
	hs := harborsim.New(harborsim.Options{})
	hsrv := httptest.NewServer(hs)
	t.Cleanup(hsrv.Close)
	ps := portsim.New(portsim.Options{ClientID: "id", ClientSecret: "secret"})
	psrv := httptest.NewServer(ps)
	t.Cleanup(psrv.Close)
	set := blueprint.Desired(nil)
	toMap := func(v any) map[string]any {
		b, _ := json.Marshal(v)
		var m map[string]any
		_ = json.Unmarshal(b, &m)
		return m
	}
	for _, k := range blueprint.Kinds {
		if err := ps.SetBlueprint(toMap(blueprint.Bare(set[k]))); err != nil {
			t.Fatal(err)
		}
	}
	for _, k := range blueprint.Kinds {
		if err := ps.SetBlueprint(toMap(set[k])); err != nil {
			t.Fatal(err)
		}
	}
	hc, err := harbor.New(harbor.Config{URL: hsrv.URL, Username: "admin", Password: "Harbor12345"})
	if err != nil {
		t.Fatal(err)
	}
	pc, err := port.New(port.Config{BaseURL: psrv.URL, ClientID: "id", ClientSecret: "secret"})
	if err != nil {
		t.Fatal(err)
	}
	m := mapping.Default(mapping.DefaultIDs())
	if yaml != "" {
		if m, err = mapping.Parse(yaml, "test.yaml"); err != nil {
			t.Fatal(err)
		}
	}
	eng, err := New(hc, pc, m)
	if err != nil {
		t.Fatal(err)
	}
	return eng, hs, ps
}

func TestReconcile_artifactLifecycle(t *testing.T) {
	ctx := context.Background()
	eng, hs, ps := rcEnv(t, "")
	hs.CreateProject("apps", true)
	d, err := hs.PushArtifact("apps", "team/web", []string{"1.0"}, harborsim.PushOptions{})
	if err != nil {
		t.Fatal(err)
	}
	key := Key{Kind: mapping.KindArtifact, Project: "apps", Repository: "apps/team/web", Digest: d}
	id := "apps/team/web@" + d

	// Push: created (the repository and project too, as relation stubs).
	cs, res, err := eng.Reconcile(ctx, key)
	if err != nil || res.Created != 1 || cs.Counts().Create != 1 {
		t.Fatalf("first reconcile: %+v %+v %v", cs.Counts(), res, err)
	}
	if _, ok := ps.Entity("harborArtifact", id); !ok {
		t.Fatal("artifact not in Port")
	}

	// Replay: nothing written.
	ps.ResetRequests()
	cs, _, err = eng.Reconcile(ctx, key)
	if err != nil || !cs.Empty() || cs.Unchanged != 1 {
		t.Fatalf("replay: %+v %v", cs, err)
	}
	for route := range ps.Requests() {
		if route != "GET /v1/blueprints/{blueprint}/entities/{entity}" && route != "POST /v1/auth/access_token" {
			t.Errorf("replay sent %s", route)
		}
	}

	// Tag added and scanned: one update naming the fields (the title is the newest tag).
	if err := hs.AddTag("apps", "team/web", d, "stable"); err != nil {
		t.Fatal(err)
	}
	if err := hs.ScanArtifact("apps", "team/web", d, map[string]int{"Critical": 1}); err != nil {
		t.Fatal(err)
	}
	cs, _, err = eng.Reconcile(ctx, key)
	if err != nil || cs.Counts().Update != 1 {
		t.Fatalf("after tag+scan: %+v %v", cs, err)
	}
	if got := cs.Changes[0].Summary(); got != "update: $title, scanOverview, tags" {
		t.Errorf("update summary = %q", got)
	}

	// Deleted in Harbor: the entity goes; a second delete event is a no-op.
	if err := hs.DeleteArtifact("apps", "team/web", d); err != nil {
		t.Fatal(err)
	}
	cs, res, err = eng.Reconcile(ctx, key)
	if err != nil || res.Deleted != 1 {
		t.Fatalf("delete: %+v %+v %v", cs, res, err)
	}
	if _, ok := ps.Entity("harborArtifact", id); ok {
		t.Fatal("artifact still in Port")
	}
	cs, _, err = eng.Reconcile(ctx, key)
	if err != nil || !cs.Empty() {
		t.Fatalf("second delete: %+v %v", cs, err)
	}
}

// An item that stops passing its selector is deleted, as Ocean's live events do.
func TestReconcile_selectorTurnsFalse(t *testing.T) {
	ctx := context.Background()
	eng, hs, ps := rcEnv(t, `
resources:
  - kind: artifact
    selector:
      tag: release
`)
	hs.CreateProject("apps", true)
	d, _ := hs.PushArtifact("apps", "web", []string{"release"}, harborsim.PushOptions{})
	key := Key{Kind: mapping.KindArtifact, Project: "apps", Repository: "apps/web", Digest: d}
	if _, res, err := eng.Reconcile(ctx, key); err != nil || res.Created != 1 {
		t.Fatalf("create: %+v %v", res, err)
	}
	if err := hs.DeleteTag("apps", "web", d, "release"); err != nil {
		t.Fatal(err)
	}
	if _, res, err := eng.Reconcile(ctx, key); err != nil || res.Deleted != 1 {
		t.Fatalf("selector false: %+v %v", res, err)
	}
	if ps.EntityCount("harborArtifact") != 0 {
		t.Fatal("entity survived")
	}
}
