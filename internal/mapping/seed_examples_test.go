package mapping

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/harborport/terraform-provider-harborport/internal/harbor"
	"github.com/harborport/terraform-provider-harborport/internal/port"
	"github.com/harborport/terraform-provider-harborport/internal/sandbox/harborsim"
)

// The YAML examples of the seed document (Port's Harbor integration page,
// internal/port/API-NOTES.md "Port's Harbor integration documentation"), each
// copied VERBATIM into testdata/seed/<file> — no header, so what is tested is
// what users copy. examples/mappings/ holds the same files for users.
//
// Each is parsed with its path as source and, when valid, run resource by
// resource over a Harbor simulator read with the real client (seed_world_test.go).
var seedExamples = []struct {
	file, section string
	check         func(t *testing.T, w *seedWorld, c *Config, err error, src, path string)
}{
	{"configuration.yaml", "Configuration (.port/spec.yaml)", checkSeedConfiguration},
	{"customizing-mappings.yaml", "Resource Mapping › Customizing Mappings", checkSeedCustomizing},
	{"filter-projects.yaml", "Filtering and Selectors › Project Filtering", checkSeedFilterProjects},
	{"filter-repositories.yaml", "Filtering and Selectors › Repository Filtering", checkSeedFilterRepositories},
	{"filter-artifacts.yaml", "Filtering and Selectors › Artifact Filtering", checkSeedFilterArtifacts},
	{"multi-project.yaml", "Advanced Configuration › Multi-Project Syncing", checkSeedMultiProject},
	{"vulnerability-filtering.yaml", "Advanced Configuration › Vulnerability Filtering", checkSeedVulnerability},
	{"production-vulnerabilities.yaml", "Examples › Use Case: Track Production Container Vulnerabilities", checkSeedProductionVulns},
	{"repository-activity.yaml", "Examples › Use Case: Monitor Repository Activity", checkSeedRepositoryActivity},
}

func TestSeedExamples(t *testing.T) {
	w := newSeedWorld(t, "")
	for _, ex := range seedExamples {
		t.Run(strings.TrimSuffix(ex.file, ".yaml"), func(t *testing.T) {
			path := filepath.Join("testdata", "seed", ex.file)
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%s (%s): %v", path, ex.section, err)
			}
			c, err := Parse(string(b), path)
			ex.check(t, w, c, err, string(b), path)
		})
	}
}

// Every file in testdata/seed is indexed (and so tested), and vice versa.
func TestSeedExamplesIndexIsComplete(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "seed", "*"))
	if err != nil {
		t.Fatal(err)
	}
	var got, want []string
	for _, f := range files {
		got = append(got, filepath.Base(f))
	}
	for _, ex := range seedExamples {
		want = append(want, ex.file)
	}
	if !slices.Equal(sorted(got), sorted(want)) {
		t.Errorf("testdata/seed has %v, the index names %v", sorted(got), sorted(want))
	}
}

// ---- running resources ----

// seedRun is what one resource made of a list of Harbor items.
type seedRun struct {
	selected []string                 // names of items that produced entities, in item order
	entities map[string][]port.Entity // by item name
	byKey    map[string]port.Entity   // "<blueprint>/<identifier>", later items win (as in the catalog)
	itemErrs map[string]*ItemError    // by item name
	warnings []Warning
}

func runSeed(t *testing.T, r *Resource, items []harbor.Item, name func(harbor.Item) string) seedRun {
	t.Helper()
	run := seedRun{entities: map[string][]port.Entity{}, byKey: map[string]port.Entity{}, itemErrs: map[string]*ItemError{}}
	for _, it := range items {
		n := name(it)
		es, ws, err := r.Entities(it)
		run.warnings = append(run.warnings, ws...)
		if err != nil {
			var ie *ItemError
			if !errors.As(err, &ie) {
				t.Fatalf("%s: error is not an *ItemError: %v", n, err)
			}
			run.itemErrs[n] = ie
		}
		if len(es) > 0 {
			run.selected = append(run.selected, n)
			run.entities[n] = es
		}
		for _, e := range es {
			run.byKey[e.Key()] = e
		}
	}
	return run
}

// clean fails the test on any warning or selector error.
func (run seedRun) clean(t *testing.T) {
	t.Helper()
	if len(run.warnings) > 0 || len(run.itemErrs) > 0 {
		t.Fatalf("warnings:\n%s\nselector errors: %v", warningsText(run.warnings), run.itemErrs)
	}
}

// one returns the single entity made of item n.
func (run seedRun) one(t *testing.T, n string) port.Entity {
	t.Helper()
	es := run.entities[n]
	if len(es) != 1 {
		t.Fatalf("%s: %d entities, want 1", n, len(es))
	}
	return es[0]
}

func projectName(it harbor.Item) string { return itemString(it, "name") }
func repoName(it harbor.Item) string    { return itemString(it, "name") }

// only parses src and returns its single resource of kind k.
func onlyResource(t *testing.T, c *Config, err error, k Kind) *Resource {
	t.Helper()
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if len(c.Resources) != 1 || c.Resources[0].Kind != k {
		t.Fatalf("want one %s resource, got %d", k, len(c.Resources))
	}
	return c.Resources[0]
}

// sameSelection checks that the items Harbor returns for a pushed-down query
// lead to the same selection as the full listing: the pushdown must be a
// superset of what the selector keeps (catalog/desired.go pushes these).
func sameSelection(t *testing.T, r *Resource, full []string, pushed []harbor.Item, name func(harbor.Item) string) {
	t.Helper()
	got := runSeed(t, r, pushed, name)
	if !slices.Equal(got.selected, full) {
		t.Errorf("with the filter pushed down to Harbor, selected %v; without, %v", got.selected, full)
	}
}

func title(e port.Entity) string {
	if e.Title == nil {
		return "<nil>"
	}
	return *e.Title
}

// ---- the examples ----

// Not a port-app-config: the seed's "Configuration" block is the Ocean
// integration's own .port/spec.yaml (integration type, credentials schema).
// In harborport the provider attributes (harbor_url, harbor_username,
// harbor_password) and `serve`'s webhook secret play that role, so using it as
// a mapping must fail — naming the file and the line of every wrong key.
func checkSeedConfiguration(t *testing.T, _ *seedWorld, _ *Config, err error, _, path string) {
	if err == nil {
		t.Fatal("Parse accepted .port/spec.yaml as a mapping")
	}
	if !strings.HasPrefix(err.Error(), path+`:1: type: unknown key "type"`) {
		t.Errorf("error does not start with the file, line and key:\n%v", err)
	}
	want := map[string]int{"type": 1, "resources": 1, "description": 2, "icon": 3, "docs": 4, "features": 6, "configurations": 15}
	got := map[string]int{}
	for _, e := range Errors(err) {
		if e.Source != path {
			t.Errorf("error names %q, want %q: %v", e.Source, path, e)
		}
		if e.Hint == "" {
			t.Errorf("no hint: %v", e)
		}
		got[e.Path] = e.Line
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("errors by path:line = %v, want %v", got, want)
	}
}

// Works, with two caveats asserted below:
//   - the identifier .digest collides: the same image in two repositories
//     (here staging/ and production/service-backend-api) is two Harbor
//     artifacts but one entity, and the last one read wins; deleting the
//     image from one repository would delete the other's entity. The default
//     mapping keys artifacts "<project/repo>@<digest>" for that reason.
//   - the relations are numeric ids (.repository_id, .project_id), while the
//     default mapping (and so a catalog synced with it) keys repositories by
//     "project/repo" and projects by name: these relations point at entities
//     that do not exist unless repositories and projects are also mapped by id.
func checkSeedCustomizing(t *testing.T, w *seedWorld, c *Config, err error, _, _ string) {
	r := onlyResource(t, c, err, KindArtifact)
	if !r.Selector.FetchTags() || !r.Selector.FetchScanOverview() {
		t.Fatalf("withTag/withScanOverview not honoured: %+v", r.Selector)
	}
	arts := w.artifactsFor(t, r.Selector)
	run := runSeed(t, r, arts, artifactName)
	run.clean(t)
	if len(run.selected) != len(arts) {
		t.Fatalf(`query "true" selected %d of %d artifacts`, len(run.selected), len(arts))
	}
	for _, a := range arts {
		e := run.one(t, artifactName(a))
		if e.Blueprint != "harborArtifact" || e.Identifier != a["digest"] ||
			e.Relations["repository"] != fmt.Sprint(a["repository_id"]) || e.Relations["project"] != fmt.Sprint(a["project_id"]) ||
			e.Properties["size"] != a["size"] || jsonOf(e.Properties["tags"]) != jsonOf(nonNil(tagNames(a))) {
			t.Errorf("%s → %s", artifactName(a), entityJSON(t, e))
		}
	}

	prod := "production/service-backend-api@" + w.digestShared
	e := run.one(t, prod)
	so, _ := e.Properties["scanOverview"].(map[string]any)
	rep, _ := so[harborsim.MimeTypeGenericVulnerabilityReport].(map[string]any)
	if title(e) != "latest" || rep["severity"] != "Critical" {
		t.Errorf("%s → %s", prod, entityJSON(t, e))
	}
	untagged := run.one(t, "production/service-backend-api@"+w.digestA3)
	if title(untagged) != strings.TrimPrefix(w.digestA3, "sha256:")[:12] || jsonOf(untagged.Properties["tags"]) != "[]" {
		t.Errorf("untagged artifact → %s", entityJSON(t, untagged))
	}

	// The collision: 2 artifacts, 1 entity, and only one repository survives.
	staging := run.one(t, "staging/service-backend-api@"+w.digestShared)
	if e.Key() != staging.Key() || e.Relations["repository"] == staging.Relations["repository"] {
		t.Fatalf("expected one key for two repositories: %s vs %s", entityJSON(t, e), entityJSON(t, staging))
	}
	digests := map[string]bool{}
	for _, a := range arts {
		digests[as[string](t, a["digest"])] = true
	}
	if len(run.byKey) != len(digests) || len(run.byKey) >= len(arts) {
		t.Errorf("%d artifacts, %d distinct digests, %d entities", len(arts), len(digests), len(run.byKey))
	}

	// The relations do not meet the default mapping's identifiers.
	def := Default(nil)
	var prodRepo harbor.Item
	for _, rp := range w.repos {
		if rp["name"] == "production/service-backend-api" {
			prodRepo = rp
		}
	}
	repoEnt, _ := def.KindResources(KindRepository)[0].Map(prodRepo)
	if len(repoEnt) != 1 || repoEnt[0].Identifier == e.Relations["repository"] {
		t.Errorf("default repository identifier %v vs relation %v", repoEnt, e.Relations["repository"])
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// Works verbatim: public projects matching the glob prod-*, default mapping.
func checkSeedFilterProjects(t *testing.T, w *seedWorld, c *Config, err error, _, _ string) {
	r := onlyResource(t, c, err, KindProject)
	run := runSeed(t, r, cloneItems(w.projects), projectName)
	run.clean(t)
	// Not prod-db (private), preprod-x (public, but the glob is anchored),
	// production (private, no dash), staging/library/seeded ones (name).
	if want := []string{"prod-api", "prod-web"}; !slices.Equal(sorted(run.selected), want) {
		t.Fatalf("selected %v, want %v", run.selected, want)
	}
	for _, p := range w.projects {
		if p["name"] != "prod-web" {
			continue
		}
		e := run.one(t, "prod-web")
		if e.Blueprint != "harborProject" || e.Identifier != "prod-web" || title(e) != "prod-web" ||
			e.Properties["public"] != true || e.Properties["projectId"] != p["project_id"] ||
			e.Properties["ownerName"] != "admin" || e.Properties["repoCount"] != float64(0) {
			t.Errorf("prod-web → %s", entityJSON(t, e))
		}
	}
	// The catalog pushes public=true and name=prod- (Harbor's fuzzy match,
	// which also returns preprod-x) and narrows with the glob locally.
	pushed, err := w.client.ListProjects(w.ctx, harbor.ProjectQuery{Public: r.Selector.Public, Name: "prod-"})
	if err != nil {
		t.Fatal(err)
	}
	if names := namesOf(pushed, projectName); !slices.Contains(names, "preprod-x") || slices.Contains(names, "prod-db") {
		t.Errorf("Harbor's public=true&name=prod- returned %v", names)
	}
	sameSelection(t, r, run.selected, pushed, projectName)
}

func namesOf(items []harbor.Item, name func(harbor.Item) string) []string {
	var out []string
	for _, it := range items {
		out = append(out, name(it))
	}
	return out
}

// Works verbatim: all three selectors must hold; nameStartsWith and
// nameContains test the name below the project.
func checkSeedFilterRepositories(t *testing.T, w *seedWorld, c *Config, err error, _, _ string) {
	r := onlyResource(t, c, err, KindRepository)
	run := runSeed(t, r, cloneItems(w.repos), repoName)
	run.clean(t)
	// Not service-frontend (no "backend"), backend-service (prefix),
	// team/service-backend (its name below production/ starts with "team/"),
	// staging/service-backend-api (other project).
	want := []string{"production/service-backend-api", "production/service-backend-worker"}
	if !slices.Equal(sorted(run.selected), want) {
		t.Fatalf("selected %v, want %v", run.selected, want)
	}
	e := run.one(t, "production/service-backend-api")
	if e.Blueprint != "harborRepository" || e.Identifier != "production/service-backend-api" ||
		e.Relations["project"] != "production" || e.Properties["name"] != "production/service-backend-api" ||
		e.Properties["pullCount"] != float64(3) || e.Properties["artifactCount"] != float64(3) {
		t.Errorf("→ %s", entityJSON(t, e))
	}
	// Pushed down: the project's listing with q=name=~backend.
	q, err := harbor.BuildQ(harbor.QLike("name", r.Selector.NameContains))
	if err != nil {
		t.Fatal(err)
	}
	pushed, err := w.client.ListRepositories(w.ctx, r.Selector.ProjectName, harbor.RepoQuery{Q: q})
	if err != nil {
		t.Fatal(err)
	}
	if len(pushed) != 4 { // the three service-backend* and backend-service
		t.Errorf("Harbor's q=name=~backend in production returned %v", namesOf(pushed, repoName))
	}
	sameSelection(t, r, run.selected, pushed, repoName)
}

// Works verbatim: exactly the artifacts that have a "latest" tag (any
// position), default mapping — whose repository-qualified identifiers keep the
// shared image of staging and production apart.
func checkSeedFilterArtifacts(t *testing.T, w *seedWorld, c *Config, err error, _, _ string) {
	r := onlyResource(t, c, err, KindArtifact)
	arts := w.artifactsFor(t, r.Selector)
	run := runSeed(t, r, arts, artifactName)
	run.clean(t)
	var want []string
	for _, a := range arts {
		if slices.Contains(tagNames(a), "latest") {
			want = append(want, artifactName(a))
		}
	}
	if !slices.Equal(run.selected, want) || len(want) < 20 {
		t.Fatalf("selected %v\nwant %v", run.selected, want)
	}
	for _, n := range []string{
		"production/service-backend-api@" + w.digestShared, "staging/service-backend-api@" + w.digestShared,
		"production/service-frontend@" + w.digestF1, // tags [v3, latest]
		"production/service-backend-worker@" + w.digestW1,
	} {
		e := run.one(t, n)
		if e.Blueprint != "harborArtifact" || e.Identifier != n {
			t.Errorf("%s → %s", n, entityJSON(t, e))
		}
	}
	if f := run.one(t, "production/service-frontend@"+w.digestF1); title(f) != "v3" {
		t.Errorf("title of [v3, latest] = %q (the first tag)", title(f))
	}
	// Pushed down: q=tags=latest per repository.
	q, err := harbor.BuildQ(harbor.QEq("tags", r.Selector.Tag))
	if err != nil {
		t.Fatal(err)
	}
	var pushed []harbor.Item
	for _, rp := range w.repos {
		pushed = append(pushed, w.listArtifacts(t, rp, harbor.ArtifactQuery{Q: q, WithTag: true, WithScanOverview: true})...)
	}
	if len(pushed) != len(want) {
		t.Errorf("Harbor's q=tags=latest returned %d artifacts, want %d", len(pushed), len(want))
	}
	sameSelection(t, r, run.selected, pushed, artifactName)
}

// Invalid verbatim: jq has no infix `in`. Parse fails naming the file, line,
// resource and field, with the fix; the fix is then run for real.
func checkSeedMultiProject(t *testing.T, w *seedWorld, _ *Config, err error, src, path string) {
	var pe *Error
	if !errors.As(err, &pe) {
		t.Fatalf("want a *mapping.Error, got %v", err)
	}
	if len(Errors(err)) != 1 || pe.Source != path || pe.Line != 4 || pe.Column != 27 ||
		pe.Path != "resources[0].selector.query" || !strings.Contains(pe.Message, `unexpected token "in"`) ||
		!strings.Contains(pe.Hint, "IN(.project_id; 1, 2, 5)") {
		t.Fatalf("error = %#v", pe)
	}
	if !strings.HasPrefix(err.Error(), path+":4: resources[0].selector.query: ") {
		t.Errorf("rendered error: %v", err)
	}

	fixed := strings.Replace(src, `.project_id in [1, 2, 5]`, `IN(.project_id; 1, 2, 5)`, 1)
	c, err := Parse(fixed, path)
	r := onlyResource(t, c, err, KindArtifact)
	arts := w.artifactsFor(t, r.Selector)
	run := runSeed(t, r, arts, artifactName)
	run.clean(t)
	var want []string
	perProject := map[float64]int{}
	for _, a := range arts {
		if id := as[float64](t, a["project_id"]); id == 1 || id == 2 || id == 5 {
			want = append(want, artifactName(a))
			perProject[id]++
		}
	}
	// library (1), acme-0000 (2) and the all-digit 9003 (5) all hold artifacts.
	if !slices.Equal(run.selected, want) || len(perProject) != 3 {
		t.Errorf("selected %v\nwant %v (per project %v)", run.selected, want, perProject)
	}
}

// Works verbatim, but means "the highest severity is exactly High": an
// artifact with Critical findings has severity "Critical" and is left out,
// and a Harbor whose scanner stores another report MIME type matches nothing.
// Both are asserted; the README's MIME-independent fix is checked too.
func checkSeedVulnerability(t *testing.T, w *seedWorld, c *Config, err error, src, path string) {
	r := onlyResource(t, c, err, KindArtifact)
	if !r.Selector.FetchScanOverview() {
		t.Fatal("scan_overview not fetched by default")
	}
	arts := w.artifactsFor(t, r.Selector)
	run := runSeed(t, r, arts, artifactName)
	run.clean(t) // unscanned: null == "High" is false, not an error
	var want []string
	for _, a := range arts {
		if scanSeverity(a, harborsim.MimeTypeGenericVulnerabilityReport) == "High" {
			want = append(want, artifactName(a))
		}
	}
	a2 := "production/service-backend-api@" + w.digestA2
	if !slices.Equal(run.selected, want) || !slices.Contains(want, a2) || len(want) < 3 {
		t.Fatalf("selected %v\nwant %v", run.selected, want)
	}
	critical := "production/service-backend-api@" + w.digestShared // Critical 3, High 5
	if slices.Contains(run.selected, critical) {
		t.Error("an artifact whose highest severity is Critical was selected")
	}
	if e := run.one(t, a2); e.Blueprint != "harborArtifact" || e.Identifier != a2 {
		t.Errorf("default mapping not applied: %s", entityJSON(t, e))
	}

	const fixQuery = `any(.scan_overview[]?.severity; . == "High" or . == "Critical")`
	fix := strings.Replace(src, `'.scan_overview."application/vnd.security.vulnerability.report; version=1.1".severity == "High"'`, `'`+fixQuery+`'`, 1)
	fc, err := Parse(fix, path)
	fr := onlyResource(t, fc, err, KindArtifact)
	frun := runSeed(t, fr, arts, artifactName)
	frun.clean(t)
	if !slices.Contains(frun.selected, critical) || !slices.Contains(frun.selected, a2) || len(frun.selected) <= len(run.selected) {
		t.Errorf("fix selected %v", frun.selected)
	}

	// A scanner storing Harbor's native report type: the MIME key in the
	// query never matches; the fix does not name it.
	native := newSeedWorld(t, harborsim.MimeTypeNativeReport)
	narts := native.artifactsFor(t, r.Selector)
	if nrun := runSeed(t, r, narts, artifactName); len(nrun.selected) != 0 || len(nrun.itemErrs) != 0 {
		t.Errorf("native reports: verbatim query selected %v, errors %v", nrun.selected, nrun.itemErrs)
	}
	if nrun := runSeed(t, fr, narts, artifactName); !slices.Contains(nrun.selected, a2) {
		t.Errorf("native reports: fix selected %v", nrun.selected)
	}
}

// Works verbatim with Ocean's jq semantics, which make its query narrower
// than it reads (asserted below, fix in examples/mappings/README.md):
//   - `.tags[].name == "latest"` counts only its first output, i.e. the first
//     tag: [v3, latest] is not selected;
//   - an untagged production artifact (tags null) makes it a selector error —
//     and selector errors stop the delete phase of the whole sync;
//   - the identifier .digest collides across repositories (see customizing).
//
// Its properties are not in the default harborArtifact blueprint: add them
// with harborport_blueprints' extra_properties.
func checkSeedProductionVulns(t *testing.T, w *seedWorld, c *Config, err error, src, path string) {
	r := onlyResource(t, c, err, KindArtifact)
	if !r.Selector.FetchTags() || !r.Selector.FetchScanOverview() {
		t.Fatalf("tags/scan_overview not fetched: %+v", r.Selector)
	}
	arts := w.artifactsFor(t, r.Selector)
	run := runSeed(t, r, arts, artifactName)
	if len(run.warnings) > 0 {
		t.Errorf("warnings: %s", warningsText(run.warnings))
	}
	api := "production/service-backend-api@"
	want := []string{api + w.digestShared, "production/service-backend-worker@" + w.digestW1}
	if !slices.Equal(sorted(run.selected), sorted(want)) {
		t.Fatalf("selected %v, want %v", run.selected, want)
	}
	e := run.one(t, api+w.digestShared)
	if e.Blueprint != "harborArtifact" || e.Identifier != w.digestShared || title(e) != "latest" ||
		jsonOf(e.Properties) != `{"highSeverityCount":5,"vulnerabilityCount":10}` {
		t.Errorf("→ %s", entityJSON(t, e))
	}
	// Never scanned: the counts are null (Port stores no value), no warning.
	if e := run.one(t, "production/service-backend-worker@"+w.digestW1); jsonOf(e.Properties) != `{"highSeverityCount":null,"vulnerabilityCount":null}` {
		t.Errorf("unscanned → %s", entityJSON(t, e))
	}
	// The untagged artifact is the only selector error; items of other
	// projects never reach `.tags[]` (jq's `and` short-circuits).
	ie := run.itemErrs[api+w.digestA3]
	if len(run.itemErrs) != 1 || ie == nil || ie.Resource != 0 || ie.Line != 4 || ie.Field != "selector.query" ||
		!strings.Contains(ie.Message, "cannot iterate over: null") {
		t.Errorf("selector errors: %v", run.itemErrs)
	}

	fix := strings.Replace(src, `.tags[].name == "latest"`, `any(.tags[]?; .name == "latest")`, 1)
	fc, err := Parse(fix, path)
	frun := runSeed(t, onlyResource(t, fc, err, KindArtifact), arts, artifactName)
	frun.clean(t)
	want = append(want, "production/service-frontend@"+w.digestF1)
	if !slices.Equal(sorted(frun.selected), sorted(want)) {
		t.Errorf("fix selected %v, want %v", frun.selected, want)
	}
}

// Works verbatim. Caveats: identifiers are numeric repository ids, unlike the
// default mapping's "project/repo" (so do not mix it with the default mapping
// on the same blueprint); lastUpdated and isActive need extra_properties; and
// isActive depends on the clock, so a plan can show updates with no change in
// Harbor once a repository crosses the 30 days.
func checkSeedRepositoryActivity(t *testing.T, w *seedWorld, c *Config, err error, _, _ string) {
	r := onlyResource(t, c, err, KindRepository)
	run := runSeed(t, r, cloneItems(w.repos), repoName)
	run.clean(t)
	if len(run.selected) != len(w.repos) {
		t.Fatalf("selected %d of %d repositories", len(run.selected), len(w.repos))
	}
	for _, rp := range w.repos {
		n := repoName(rp)
		e := run.one(t, n)
		if e.Blueprint != "harborRepository" || e.Identifier != fmt.Sprint(rp["id"]) || title(e) != n ||
			e.Properties["pullCount"] != rp["pull_count"] || e.Properties["lastUpdated"] != rp["update_time"] {
			t.Errorf("%s → %s", n, entityJSON(t, e))
		}
		active := n == "production/service-backend-api" // pulled an hour ago; all else is 60 days old
		if e.Properties["isActive"] != active {
			t.Errorf("%s (updated %v): isActive = %v, want %v", n, rp["update_time"], e.Properties["isActive"], active)
		}
	}
	if e := run.one(t, "production/service-backend-api"); e.Properties["pullCount"] != float64(3) {
		t.Errorf("pullCount = %v, want 3", e.Properties["pullCount"])
	}
}
