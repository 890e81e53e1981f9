package mapping

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/harborport/terraform-provider-harborport/internal/harbor"
)

// The user-facing examples (../../examples, part of this repository) stay in
// step with what is tested here.

// examples/mappings holds the seed's mapping examples byte for byte (all but
// the .port/spec.yaml "Configuration" block, which is no mapping), fixed
// variants of the ones that do not work verbatim, which must parse, and the
// built-in mapping (default.yaml) to start a custom one from.
func TestExampleMappingsAreTheSeedExamples(t *testing.T) {
	dir := filepath.Join("..", "..", "examples", "mappings")
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no examples in %s: %v", dir, err)
	}
	var verbatim []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		name := filepath.Base(f)
		if name == "default.yaml" {
			if string(b) != DefaultYAML(DefaultIDs()) {
				t.Errorf("%s differs from DefaultYAML(DefaultIDs()): regenerate it", f)
			}
			continue
		}
		if fixed, ok := strings.CutSuffix(name, "-fixed.yaml"); ok {
			if _, err := Parse(string(b), f); err != nil {
				t.Errorf("%s does not parse: %v", f, err)
			}
			if _, err := os.Stat(filepath.Join(dir, fixed+".yaml")); err != nil {
				t.Errorf("%s fixes an example that is not there: %v", f, err)
			}
			continue
		}
		verbatim = append(verbatim, name)
		seed, err := os.ReadFile(filepath.Join("testdata", "seed", name))
		if err != nil {
			t.Errorf("%s is not a seed example: %v", f, err)
		} else if !bytes.Equal(b, seed) {
			t.Errorf("%s differs from testdata/seed/%s", f, name)
		}
	}
	var want []string
	for _, ex := range seedExamples {
		if ex.file != "configuration.yaml" {
			want = append(want, ex.file)
		}
	}
	if !slices.Equal(sorted(verbatim), sorted(want)) {
		t.Errorf("examples/mappings has %v, want %v", sorted(verbatim), sorted(want))
	}
}

// The harborport_sync example's port-app-config.yaml, with the blueprint
// identifiers its resource.tf gives, over the seed world.
func TestExampleSyncMapping(t *testing.T) {
	path := filepath.Join("..", "..", "examples", "resources", "harborport_sync", "port-app-config.yaml")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	ids := BlueprintIDs{KindProject: "prodProject", KindUser: "prodUser", KindRepository: "prodRepository", KindArtifact: "prodArtifact"}
	c, err := ParseWithIDs(string(b), path, ids)
	if err != nil {
		t.Fatal(err)
	}
	if bps, ok := c.Blueprints(); !ok || strings.Join(bps, ",") != "prodArtifact,prodProject,prodRepository" || c.EntityDeletionThreshold != 0.5 {
		t.Fatalf("Blueprints() = %v, %v; threshold %v", bps, ok, c.EntityDeletionThreshold)
	}
	w := newSeedWorld(t, "")
	projects := runSeed(t, c.KindResources(KindProject)[0], cloneItems(w.projects), projectName)
	repos := runSeed(t, c.KindResources(KindRepository)[0], cloneItems(w.repos), repoName)
	ar := c.KindResources(KindArtifact)[0]
	arts := runSeed(t, ar, w.artifactsFor(t, ar.Selector), artifactName)
	for _, run := range []seedRun{projects, repos, arts} {
		run.clean(t)
	}
	if !slices.Equal(projects.selected, []string{"production"}) || len(repos.selected) != 5 {
		t.Errorf("projects %v, repositories %v", projects.selected, repos.selected)
	}
	want := []string{
		"production/service-backend-api@" + w.digestShared,
		"production/service-backend-worker@" + w.digestW1,
		"production/service-frontend@" + w.digestF1, // tags [v3, latest]
	}
	if !slices.Equal(sorted(arts.selected), want) {
		t.Fatalf("artifacts %v, want %v", arts.selected, want)
	}
	for n, props := range map[string]string{
		want[0]: `"highSeverityCount":5,`, // Critical 3, High 5, Medium 2
		want[1]: `"highSeverityCount":null,`,
		want[2]: `"highSeverityCount":0,`, // scanned clean
	} {
		e := arts.one(t, n)
		if e.Blueprint != "prodArtifact" || e.Identifier != n || !strings.Contains(jsonOf(e.Properties), props) ||
			e.Relations["repository"] != strings.Split(n, "@")[0] || e.Relations["project"] != "production" {
			t.Errorf("%s → %s", n, entityJSON(t, e))
		}
		if _, ok := repos.entities[e.Relations["repository"].(string)]; !ok {
			t.Errorf("%s relates to a repository the mapping does not write", n)
		}
	}
	if e := arts.one(t, want[0]); e.Properties["vulnerabilityCount"] != float64(10) {
		t.Errorf("vulnerabilityCount = %v", e.Properties["vulnerabilityCount"])
	}
	// Harbor's q=tags=latest (the catalog's pushdown of `tag`) keeps them all.
	q, _ := harbor.BuildQ(harbor.QEq("tags", "latest"))
	var pushed []harbor.Item
	for _, rp := range w.repos {
		pushed = append(pushed, w.listArtifacts(t, rp, harbor.ArtifactQuery{Q: q, WithTag: true, WithScanOverview: true})...)
	}
	sameSelection(t, ar, arts.selected, pushed, artifactName)
}
