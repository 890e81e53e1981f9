package mapping

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/harborport/terraform-provider-harborport/internal/harbor"
	"github.com/harborport/terraform-provider-harborport/internal/sandbox/harborsim"
)

// seedWorld is a Harbor (the strict simulator, over loopback HTTP) holding a
// deterministic seeded data set plus the objects the seed document's examples
// talk about, read with the real Harbor client exactly as the catalog reads
// it: ListProjects, ListAllRepositories, ListArtifacts per repository with the
// selector's with_tag / with_scan_overview. The client enriches repositories
// with "projectName" and artifacts with "projectName" and "repositoryName";
// newSeedWorld checks that, since the examples depend on it.
//
// Fixtures (besides harborsim.Seed's projects acme-0000, data.lake-0001,
// ml_ops-0002, 9003, infra-core-0004, web-0005 and the built-in "library"):
//
//	projects   prod-web, prod-api, preprod-x, staging (public); prod-db, production (private)
//	library/busybox                      1.36
//	staging/service-backend-api          digestShared [latest]          Critical 3, High 5, Medium 2  (old)
//	production/service-backend-api       A2 [v1]                        High 2, Low 51               (old)
//	                                     A3 untagged                    not scanned                  (old)
//	                                     digestShared [latest]          Critical 3, High 5, Medium 2, pulled 3× (recent)
//	production/service-frontend          F1 [v3, latest] (v3 added later, so listed first)  scanned clean (old)
//	production/service-backend-worker    W1 [latest]                    not scanned                  (old)
//	production/backend-service           [v1]                                                        (old)
//	production/team/service-backend      [v1]                                                        (old)
//
// "old" is 60 days before the wall clock, "recent" one hour before it, so the
// repository-activity example's `now`-based isActive has something to tell.
type seedWorld struct {
	sim    *harborsim.Server
	client *harbor.Client
	ctx    context.Context

	projects []harbor.Item // every project (admin view)
	repos    []harbor.Item // every repository, GET /repositories

	// digests of the fixtures above
	digestShared, digestA2, digestA3, digestF1, digestW1 string

	mu        sync.Mutex
	artifacts map[[2]bool][]harbor.Item // by {withTag, withScanOverview}
}

// simClock is a harborsim clock that advances one second per call from a
// position the test sets, so fixtures get "old" and "recent" timestamps.
type simClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *simClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Second)
	return c.t
}

func (c *simClock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func fixtureDigest(name string) string {
	sum := sha256.Sum256([]byte("seed-examples/" + name))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// newSeedWorld builds the world; scanMIME overrides the MIME type scan
// reports are stored under ("" = Trivy's generic 1.1 report).
func newSeedWorld(t *testing.T, scanMIME string) *seedWorld {
	t.Helper()
	wall := time.Now().UTC().Truncate(time.Second)
	clk := &simClock{t: wall.Add(-60 * 24 * time.Hour)}
	sim := harborsim.New(harborsim.Options{Clock: clk.now, ScanReportMimeType: scanMIME})
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	client, err := harbor.New(harbor.Config{
		URL: srv.URL, Username: "admin", Password: "Harbor12345",
		MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond, Timeout: 5 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	// Harbor serves wrong credentials as anonymous, which sees only public
	// projects: without this check the private "production" would silently vanish.
	if _, err := client.Verify(ctx); err != nil {
		t.Fatalf("Verify: %v", err)
	}

	w := &seedWorld{sim: sim, client: client, ctx: ctx, artifacts: map[[2]bool][]harbor.Item{},
		digestShared: fixtureDigest("shared"), digestA2: fixtureDigest("A2"), digestA3: fixtureDigest("A3"),
		digestF1: fixtureDigest("F1"), digestW1: fixtureDigest("W1")}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	push := func(project, repo, digest string, tags ...string) {
		t.Helper()
		_, err := sim.PushArtifact(project, repo, tags, harborsim.PushOptions{Digest: digest})
		must(err)
	}
	critical := map[string]int{"Critical": 3, "High": 5, "Medium": 2}

	sim.Seed(harborsim.SeedConfig{Projects: 6, ReposPerProject: 4, ArtifactsPerRepo: 6, Seed: 42})
	push("library", "busybox", fixtureDigest("busybox"), "1.36")
	for _, p := range []struct {
		name   string
		public bool
	}{{"prod-web", true}, {"prod-api", true}, {"prod-db", false}, {"preprod-x", true}, {"production", false}, {"staging", true}} {
		sim.CreateProject(p.name, p.public)
	}
	push("staging", "service-backend-api", w.digestShared, "latest")
	must(sim.ScanArtifact("staging", "service-backend-api", w.digestShared, critical))
	push("production", "service-backend-api", w.digestA2, "v1")
	must(sim.ScanArtifact("production", "service-backend-api", w.digestA2, map[string]int{"High": 2, "Low": 51}))
	push("production", "service-backend-api", w.digestA3)
	push("production", "service-frontend", w.digestF1, "latest")
	must(sim.AddTag("production", "service-frontend", w.digestF1, "v3"))
	must(sim.ScanArtifact("production", "service-frontend", w.digestF1, nil))
	push("production", "service-backend-worker", w.digestW1, "latest")
	push("production", "backend-service", fixtureDigest("bs"), "v1")
	push("production", "team/service-backend", fixtureDigest("tsb"), "v1")

	clk.set(wall.Add(-time.Hour))
	push("production", "service-backend-api", w.digestShared, "latest")
	must(sim.ScanArtifact("production", "service-backend-api", w.digestShared, critical))
	for range 3 {
		must(sim.PullArtifact("production", "service-backend-api", "latest"))
	}

	if w.projects, err = client.ListProjects(ctx, harbor.ProjectQuery{}); err != nil {
		t.Fatal(err)
	}
	if w.repos, err = client.ListAllRepositories(ctx, harbor.RepoQuery{}); err != nil {
		t.Fatal(err)
	}
	if len(w.projects) != 13 || len(w.repos) != 5*4+1+1+5 {
		t.Fatalf("world has %d projects and %d repositories, want 13 and 27", len(w.projects), len(w.repos))
	}
	for _, r := range w.repos {
		name, _ := r["name"].(string)
		if p, _ := r["projectName"].(string); p == "" || !strings.HasPrefix(name, p+"/") {
			t.Fatalf("repository %q not enriched with its projectName (got %q): the seed examples need it", name, p)
		}
	}
	return w
}

// artifactsFor lists the artifacts of every repository as the catalog does
// for a resource with selector s (what Harbor embeds follows withTag and
// withScanOverview).
func (w *seedWorld) artifactsFor(t *testing.T, s Selector) []harbor.Item {
	t.Helper()
	key := [2]bool{s.FetchTags(), s.FetchScanOverview()}
	w.mu.Lock()
	defer w.mu.Unlock()
	if arts, ok := w.artifacts[key]; ok {
		return cloneItems(arts)
	}
	var all []harbor.Item
	for _, r := range w.repos {
		arts := w.listArtifacts(t, r, harbor.ArtifactQuery{WithTag: key[0], WithScanOverview: key[1]})
		all = append(all, arts...)
	}
	w.artifacts[key] = all
	return cloneItems(all)
}

func (w *seedWorld) listArtifacts(t *testing.T, repo harbor.Item, q harbor.ArtifactQuery) []harbor.Item {
	t.Helper()
	project, name := as[string](t, repo["projectName"]), as[string](t, repo["name"])
	arts, err := w.client.ListArtifacts(w.ctx, project, name, q)
	if err != nil {
		t.Fatalf("ListArtifacts(%s): %v", name, err)
	}
	for _, a := range arts {
		if a["projectName"] != project || a["repositoryName"] != name {
			t.Fatalf("artifact of %s enriched with projectName=%v repositoryName=%v", name, a["projectName"], a["repositoryName"])
		}
	}
	return arts
}

// cloneItems gives every caller its own maps (Entities must not mutate its
// input, but a test should not depend on that).
func cloneItems(items []harbor.Item) []harbor.Item {
	out := make([]harbor.Item, len(items))
	for i, it := range items {
		out[i] = deepCopyMap(it)
	}
	return out
}

func deepCopyMap(x map[string]any) map[string]any {
	m := make(map[string]any, len(x))
	for k, e := range x {
		m[k] = deepCopy(e)
	}
	return m
}

func deepCopy(v any) any {
	switch x := v.(type) {
	case map[string]any:
		return deepCopyMap(x)
	case []any:
		s := make([]any, len(x))
		for i, e := range x {
			s[i] = deepCopy(e)
		}
		return s
	}
	return v
}

// artifactName is "<project/repo>@<digest>", the default mapping's identifier.
func artifactName(a harbor.Item) string {
	return itemString(a, "repositoryName") + "@" + itemString(a, "digest")
}

// tagNames lists an artifact's tag names in Harbor's order (nil tags → none).
func tagNames(a harbor.Item) []string {
	var out []string
	ts, _ := a["tags"].([]any)
	for _, t := range ts {
		tag, ok := t.(map[string]any)
		if !ok {
			panic(fmt.Sprintf("tag %v (%T) of artifact %v is not an object", t, t, a["digest"]))
		}
		out = append(out, itemString(tag, "name"))
	}
	return out
}

// scanSeverity is the severity of the artifact's report of MIME type mime, or "".
func scanSeverity(a harbor.Item, mime string) string {
	so, _ := a["scan_overview"].(map[string]any)
	rep, _ := so[mime].(map[string]any)
	s, _ := rep["severity"].(string)
	return s
}

func sorted(s []string) []string {
	s = append([]string(nil), s...)
	sort.Strings(s)
	return s
}
