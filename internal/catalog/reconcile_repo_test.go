package catalog

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/harborport/terraform-provider-harborport/internal/mapping"
	"github.com/harborport/terraform-provider-harborport/internal/sandbox/harborsim"
	"github.com/harborport/terraform-provider-harborport/internal/sandbox/portsim"
)

func repoArtifactsKey(repo string) Key {
	return Key{Kind: KindRepositoryArtifacts, Project: "apps", Repository: "apps/" + repo}
}

func tagsOf(t *testing.T, ps *portsim.Server, id string) string {
	t.Helper()
	ent, ok := ps.Entity("harborArtifact", id)
	if !ok {
		return "<absent>"
	}
	props, _ := ent["properties"].(map[string]any)
	return fmt.Sprint(props["tags"])
}

// A tag deleted through the API: the repository's artifacts are re-read as a
// batch, and only the artifact that lost the tag is written, after one Port
// search for all of them.
func TestReconcile_repositoryArtifactsAfterTagDelete(t *testing.T) {
	ctx := context.Background()
	eng, hs, ps := rcEnv(t, "")
	hs.CreateProject("apps", true)
	d1, _ := hs.PushArtifact("apps", "web", []string{"v1"}, harborsim.PushOptions{})
	d2, _ := hs.PushArtifact("apps", "web", []string{"v2"}, harborsim.PushOptions{})
	must(t, hs.AddTag("apps", "web", d1, "prod"))
	if _, res, err := eng.Reconcile(ctx, repoArtifactsKey("web")); err != nil || res.Created != 2 {
		t.Fatalf("first batch: %+v %v", res, err)
	}
	if got := tagsOf(t, ps, "apps/web@"+d1); got != "[prod v1]" {
		t.Fatalf("tags of d1 = %s", got)
	}

	must(t, hs.DeleteTag("apps", "web", d1, "prod"))
	ps.ResetRequests()
	cs, res, err := eng.Reconcile(ctx, repoArtifactsKey("web"))
	if err != nil || res.Updated != 1 || cs.Unchanged != 1 || len(cs.Changes) != 1 || cs.Changes[0].Identifier != "apps/web@"+d1 {
		t.Fatalf("after the tag delete: %v %+v %v", describe(cs.Changes), res, err)
	}
	if got := tagsOf(t, ps, "apps/web@"+d1); got != "[v1]" {
		t.Fatalf("tags of d1 = %s", got)
	}
	if n := ps.Requests()["POST /v1/blueprints/{blueprint}/entities/search"]; n != 1 {
		t.Errorf("%d Port searches, want 1", n)
	}
	if got := tagsOf(t, ps, "apps/web@"+d2); got != "[v2]" {
		t.Fatalf("tags of d2 = %s", got)
	}

	// In sync: nothing to write; a repository Harbor no longer has is an empty batch.
	if cs, _, err := eng.Reconcile(ctx, repoArtifactsKey("web")); err != nil || !cs.Empty() || cs.Unchanged != 2 {
		t.Fatalf("replay: %v %v", cs, err)
	}
	if cs, _, err := eng.Reconcile(ctx, repoArtifactsKey("gone")); err != nil || !cs.Empty() {
		t.Fatalf("missing repository: %v %v", cs, err)
	}
}

// An artifact key by tag (a tag create in the audit log) reconciles the
// artifact the tag resolves to; once the tag is gone it falls back to the
// repository's artifacts.
func TestReconcile_tagKeyFallsBackToRepository(t *testing.T) {
	ctx := context.Background()
	eng, hs, ps := rcEnv(t, "")
	hs.CreateProject("apps", true)
	d, _ := hs.PushArtifact("apps", "web", []string{"v1"}, harborsim.PushOptions{})
	must(t, hs.AddTag("apps", "web", d, "prod"))
	byTag := Key{Kind: mapping.KindArtifact, Project: "apps", Repository: "apps/web", Digest: "prod"}
	if _, res, err := eng.Reconcile(ctx, byTag); err != nil || res.Created != 1 {
		t.Fatalf("by tag: %+v %v", res, err)
	}
	if got := tagsOf(t, ps, "apps/web@"+d); got != "[prod v1]" {
		t.Fatalf("tags = %s", got)
	}
	must(t, hs.DeleteTag("apps", "web", d, "prod"))
	if _, res, err := eng.Reconcile(ctx, byTag); err != nil || res.Updated != 1 {
		t.Fatalf("tag gone: %+v %v", res, err)
	}
	if got := tagsOf(t, ps, "apps/web@"+d); got != "[v1]" {
		t.Fatalf("tags after the fallback = %s", got)
	}
}

// With a mapping that selects by tag, losing the tag means losing the entity:
// the batch deletes the entities of listed artifacts their selector now
// excludes (never those of artifacts Harbor no longer lists).
func TestReconcile_repositoryArtifactsSelectorExcludes(t *testing.T) {
	ctx := context.Background()
	eng, hs, ps := rcEnv(t, `
resources:
  - kind: artifact
    selector:
      tag: release
`)
	hs.CreateProject("apps", true)
	d1, _ := hs.PushArtifact("apps", "web", []string{"release", "x"}, harborsim.PushOptions{})
	d2, _ := hs.PushArtifact("apps", "web", []string{"other"}, harborsim.PushOptions{})
	if _, res, err := eng.Reconcile(ctx, repoArtifactsKey("web")); err != nil || res.Created != 1 {
		t.Fatalf("first batch: %+v %v", res, err)
	}
	must(t, hs.DeleteTag("apps", "web", d1, "release"))
	if _, res, err := eng.Reconcile(ctx, repoArtifactsKey("web")); err != nil || res.Deleted != 1 {
		t.Fatalf("selector false: %+v %v", res, err)
	}
	if n := ps.EntityCount("harborArtifact"); n != 0 {
		t.Fatalf("%d artifacts left", n)
	}
	_ = d2
}

// A deleted repository takes its artifact entities along (found by the
// identifier prefix "project/repo@"), artifacts first, also when Port keeps
// dependents; a repository whose name extends it ("web2") is untouched.
func TestReconcile_repositoryDeleteTakesItsArtifacts(t *testing.T) {
	for _, dependents := range []bool{true, false} {
		t.Run(fmt.Sprintf("deleteDependentEntities=%v", dependents), func(t *testing.T) {
			ctx := context.Background()
			y := ""
			if !dependents {
				y = strings.Replace(mapping.DefaultYAML(mapping.DefaultIDs()), "deleteDependentEntities: true", "deleteDependentEntities: false", 1)
			}
			eng, hs, ps := rcEnv(t, y)
			hs.CreateProject("apps", true)
			for _, r := range []string{"web", "web", "web2"} {
				d, err := hs.PushArtifact("apps", r, []string{"v1-" + r}, harborsim.PushOptions{})
				must(t, err)
				if _, _, err := eng.Reconcile(ctx, Key{Kind: mapping.KindArtifact, Project: "apps", Repository: "apps/" + r, Digest: d}); err != nil {
					t.Fatal(err)
				}
			}
			for _, r := range []string{"web", "web2"} {
				if _, _, err := eng.Reconcile(ctx, Key{Kind: mapping.KindRepository, Project: "apps", Repository: "apps/" + r}); err != nil {
					t.Fatal(err)
				}
			}
			if n := ps.EntityCount("harborArtifact"); n != 3 {
				t.Fatalf("%d artifacts in Port, want 3", n)
			}
			must(t, hs.DeleteRepository("apps", "web"))
			cs, res, err := eng.Reconcile(ctx, Key{Kind: mapping.KindRepository, Project: "apps", Repository: "apps/web"})
			if err != nil || res.Deleted != 3 {
				t.Fatalf("repository delete: %v %+v %v", describe(cs.Changes), res, err)
			}
			if got := describe(cs.Changes); !strings.HasPrefix(got[0], "delete harborArtifact/") || !strings.HasPrefix(got[2], "delete harborRepository/apps/web") {
				t.Fatalf("order: %v", got)
			}
			if n := ps.EntityCount("harborArtifact"); n != 1 {
				t.Fatalf("%d artifacts left, want web2's", n)
			}
			if _, ok := ps.Entity("harborRepository", "apps/web2"); !ok {
				t.Fatal("apps/web2 deleted")
			}
		})
	}
}

// A repository deleted and re-created with a push between the reconcile's
// Harbor read and its Port search: the confirm read sees it back, and no
// artifact of it is deleted.
func TestReconcile_repositoryDeleteConfirmed(t *testing.T) {
	var (
		mu   sync.Mutex
		hook func()
	)
	e := newEnv(t, envOptions{noLibrary: true, portFront: func(_ *portsim.Server, next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPost && strings.Contains(r.URL.Path, "/harborArtifact/entities/search") {
				mu.Lock()
				h := hook
				hook = nil
				mu.Unlock()
				if h != nil {
					h()
				}
			}
			next.ServeHTTP(w, r)
		})
	}})
	e.smallHarbor()
	eng := e.engine()
	e.sync(eng)
	before := e.psim.EntityCount("harborArtifact")
	var d string
	repoKey := Key{Kind: mapping.KindRepository, Project: "alpha", Repository: "alpha/web"}
	must(t, e.hsim.DeleteRepository("alpha", "web"))
	mu.Lock()
	hook = func() {
		var err error
		d, err = e.hsim.PushArtifact("alpha", "web", []string{"again"}, harborsim.PushOptions{})
		must(t, err)
	}
	mu.Unlock()
	cs, _, err := eng.Reconcile(context.Background(), repoKey)
	must(t, err)
	for _, ch := range cs.Changes {
		if ch.Op == OpDelete {
			t.Fatalf("deleted %s although the repository came back: %v", ch.Identifier, describe(cs.Changes))
		}
	}
	if n := e.psim.EntityCount("harborArtifact"); n != before {
		t.Fatalf("%d artifacts in Port, want %d", n, before)
	}
	e.reconcile(eng, Key{Kind: KindRepositoryArtifacts, Project: "alpha", Repository: "alpha/web"})
	if _, ok := e.psim.Entity("harborArtifact", "alpha/web@"+d); !ok {
		t.Fatal("the new artifact is not in Port")
	}
}

// Users: read by name, created, updated, deleted (Harbor renames a deleted
// user, so the name no longer matches); an all-digit name works too.
func TestReconcile_user(t *testing.T) {
	ctx := context.Background()
	eng, hs, ps := rcEnv(t, "")
	for _, name := range []string{"alice", "1234"} {
		if _, err := hs.AddUserE(name, "Passw0rd-long", false); err != nil {
			t.Fatal(err)
		}
		k := Key{Kind: mapping.KindUser, User: name}
		if _, res, err := eng.Reconcile(ctx, k); err != nil || res.Created != 1 {
			t.Fatalf("%s create: %+v %v", name, res, err)
		}
		mail := name + "@example.com"
		must(t, hs.UpdateUser(name, harborsim.UserUpdate{Email: &mail}))
		if _, res, err := eng.Reconcile(ctx, k); err != nil || res.Updated != 1 {
			t.Fatalf("%s update: %+v %v", name, res, err)
		}
		ent, _ := ps.Entity("harborUser", name)
		props, _ := ent["properties"].(map[string]any)
		if got := props["email"]; got != mail {
			t.Fatalf("%s email = %v", name, got)
		}
		must(t, hs.DeleteUser(name))
		if _, res, err := eng.Reconcile(ctx, k); err != nil || res.Deleted != 1 {
			t.Fatalf("%s delete: %+v %v", name, res, err)
		}
		if _, ok := ps.Entity("harborUser", name); ok {
			t.Fatalf("%s still in Port", name)
		}
	}
}

// What the feed asks of the mapping.
func TestMappingProbes(t *testing.T) {
	eng, _, _ := rcEnv(t, "")
	if eng.ArtifactsReadPulls() || !eng.ArtifactsFollowScans() || len(eng.RepositoryDeleteGaps()) != 0 {
		t.Fatalf("default mapping: pulls %v scans %v gaps %v", eng.ArtifactsReadPulls(), eng.ArtifactsFollowScans(), eng.RepositoryDeleteGaps())
	}
	custom, _, _ := rcEnv(t, `
resources:
  - kind: artifact
    selector:
      query: "true"
      withScanOverview: false
    port:
      entity:
        mappings:
          identifier: .digest
          title: .digest
          blueprint: '"harborArtifact"'
          properties:
            digest: .digest
            pushTime: .pull_time
`)
	if !custom.ArtifactsReadPulls() || custom.ArtifactsFollowScans() || len(custom.RepositoryDeleteGaps()) != 1 {
		t.Fatalf("custom mapping: pulls %v scans %v gaps %v", custom.ArtifactsReadPulls(), custom.ArtifactsFollowScans(), custom.RepositoryDeleteGaps())
	}
}

// The batch's confirm read: a scan lands and another replica writes it while
// the batch's Port search is on its way; the batch must not write its older
// read over it.
func TestReconcile_repositoryArtifactsDoesNotWriteAnOlderRead(t *testing.T) {
	var (
		mu   sync.Mutex
		hook func()
	)
	e := newEnv(t, envOptions{noLibrary: true, portFront: func(_ *portsim.Server, next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPost && strings.Contains(r.URL.Path, "/harborArtifact/entities/search") {
				mu.Lock()
				h := hook
				hook = nil
				mu.Unlock()
				if h != nil {
					h()
				}
			}
			next.ServeHTTP(w, r)
		})
	}})
	e.smallHarbor()
	first, second := e.engine(), e.engine()
	e.sync(first)
	d, err := e.hsim.PushArtifact("alpha", "web", []string{"v4"}, harborsim.PushOptions{})
	must(t, err)
	id := "alpha/web@" + d
	mu.Lock()
	hook = func() {
		must(t, e.hsim.ScanArtifact("alpha", "web", d, map[string]int{"Critical": 1}))
		e.reconcile(second, artifactKey("alpha", "web", d))
	}
	mu.Unlock()
	cs, res, err := first.Reconcile(context.Background(), Key{Kind: KindRepositoryArtifacts, Project: "alpha", Repository: "alpha/web"})
	must(t, err)
	if got := fmt.Sprint(e.prop(id, "scanOverview")); !strings.Contains(got, "Critical:1") {
		t.Fatalf("scanOverview = %s: the batch wrote its older read over the newer one (changes %v, result %+v)",
			got, describe(cs.Changes), res)
	}
	e.reconcile(first, Key{Kind: mapping.KindRepository, Project: "alpha", Repository: "alpha/web"})
	if again := e.compute(first); !again.Changeset.Empty() {
		t.Fatalf("next plan: %v", describe(again.Changeset.Changes))
	}
}
