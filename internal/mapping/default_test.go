package mapping

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden.json")

// The built-in mapping applied to the real Harbor captures. Review the
// golden file when it changes: it is what lands in Port.
func TestDefaultMappingGolden(t *testing.T) {
	c := Default(DefaultIDs())
	if len(c.Resources) != 4 || !c.DeleteDependentEntities || c.EntityDeletionThreshold != 0.9 {
		t.Fatalf("config = %+v", c)
	}
	it := items(t)
	cases := []struct {
		kind Kind
		item string
	}{
		{KindProject, "project"}, {KindProject, "projectPublic"}, {KindUser, "user"},
		{KindRepository, "repository"}, {KindRepository, "repositoryEmpty"},
		{KindArtifact, "artifact"}, {KindArtifact, "artifactScanned"},
	}
	got := map[string]json.RawMessage{}
	for _, tc := range cases {
		es, ws, err := c.KindResources(tc.kind)[0].Entities(it[tc.item])
		if err != nil || len(ws) != 0 || len(es) != 1 {
			t.Fatalf("%s: entities %v warnings %s err %v", tc.item, es, warningsText(ws), err)
		}
		got[tc.item] = json.RawMessage(entityJSON(t, es[0]))
	}
	b, _ := json.MarshalIndent(got, "", "  ")
	b = append(b, '\n')
	const golden = "testdata/default_entities.golden.json"
	if *update {
		if err := os.WriteFile(golden, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if !bytes.Equal(b, want) {
		t.Errorf("default mapping output changed; run go test ./internal/mapping -run Golden -update and review\n got:\n%s", b)
	}
}

func TestDefaultArtifactIdentifierSeparatesRepositories(t *testing.T) {
	r := Default(DefaultIDs()).KindResources(KindArtifact)[0]
	a, b := items(t)["artifact"], items(t)["artifact"]
	b["repositoryName"], b["repository_id"] = "tfdemo/copy", float64(9)
	ea, _ := r.Map(a)
	eb, _ := r.Map(b)
	if ea[0].Properties["digest"] != eb[0].Properties["digest"] || ea[0].Identifier == eb[0].Identifier {
		t.Errorf("same digest in two repositories must give two entities: %s / %s", ea[0].Identifier, eb[0].Identifier)
	}
	// Not enriched: dropped with a warning rather than keyed "null@…".
	delete(a, "repositoryName")
	if es, ws := r.Map(a); len(es) != 0 || !strings.Contains(warningsText(ws), "entity dropped") {
		t.Errorf("unenriched artifact: %v %s", es, warningsText(ws))
	}
}

func TestDefaultCustomIDs(t *testing.T) {
	ids := BlueprintIDs{KindProject: "proj", KindArtifact: `img'"x`}
	y := DefaultYAML(ids)
	c, err := Parse(y, DefaultSource)
	if err != nil {
		t.Fatalf("%v\n%s", err, y)
	}
	bps, ok := c.Blueprints()
	if !ok || strings.Join(bps, ",") != `harborRepository,harborUser,img'"x,proj` {
		t.Errorf("Blueprints() = %q %v", bps, ok)
	}
	if d, ok := Default(DefaultIDs()).Blueprints(); !ok || strings.Join(d, ",") != "harborArtifact,harborProject,harborRepository,harborUser" {
		t.Errorf("default Blueprints() = %v", d)
	}
	// A resource without port uses the built-in mapping with the given ids.
	c, err = ParseWithIDs("resources:\n  - kind: project\n    selector:\n      query: 'true'\n", "m", ids)
	if err != nil {
		t.Fatal(err)
	}
	if bp, _ := c.Resources[0].Blueprint(); bp != "proj" {
		t.Errorf("blueprint = %q", bp)
	}
	es, ws := c.Resources[0].Map(map[string]any{"name": "p", "project_id": "oops"})
	if len(es) != 1 || len(ws) != 0 {
		t.Errorf("%v %s", es, warningsText(ws))
	}
	es, ws = c.Resources[0].Map(map[string]any{"name": 5})
	if len(es) != 0 || len(ws) != 1 || ws[0].Line != 2 {
		t.Errorf("warnings must point at the resource line: %s", warningsText(ws))
	}
}

// Harbor's never-pulled pull_time is not a date; the idiom DefaultYAML's
// documentation recommends maps it to null.
func TestZeroPullTimeIdiom(t *testing.T) {
	r := mustParse(t, resource("artifact", "query: 'true'",
		"identifier: .digest\nblueprint: '\"a\"'\nproperties:\n  pullTime: '.pull_time | if startswith(\"0001-01-01\") then null else . end'")).Resources[0]
	it := items(t)
	for item, want := range map[string]any{"artifact": "2026-11-28T08:39:28.154Z", "artifactScanned": nil} {
		es, ws := r.Map(it[item])
		if got := es[0].Properties["pullTime"]; got != want || len(ws) != 0 {
			t.Errorf("%s: pullTime = %v, want %v (%s)", item, got, want, warningsText(ws))
		}
	}
}
