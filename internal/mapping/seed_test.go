package mapping

import (
	"errors"
	"strings"
	"testing"
)

// The examples below are copied verbatim from the seed document
// (internal/port/API-NOTES.md "Port's Harbor integration documentation").

const seedCustomizing = `resources:
  - kind: artifact
    selector:
      query: "true"
      withScanOverview: true
      withTag: true
    port:
      entity:
        mappings:
          identifier: .digest
          title: .tags[0].name // (.digest | split(":")[1] | .[0:12])
          blueprint: '"harborArtifact"'
          properties:
            digest: .digest
            tags: '[.tags[]?.name] // []'
            size: .size
            scanOverview: .scan_overview
          relations:
            repository: .repository_id | tostring
            project: .project_id | tostring
`

const seedProjectFiltering = `resources:
  - kind: project
    selector:
      query: "true"
      public: true          # Only public projects
      name: "prod-*"        # Projects starting with "prod-"
`

const seedRepositoryFiltering = `resources:
  - kind: repository
    selector:
      query: "true"
      projectName: "production"        # Specific project
      nameContains: "backend"          # Repos containing "backend"
      nameStartsWith: "service-"       # Repos starting with "service-"
`

const seedArtifactFiltering = `resources:
  - kind: artifact
    selector:
      query: "true"
      tag: "latest"                    # Specific tag
      withScanOverview: true           # Include scan results
      withTag: true                    # Include tag information
`

const seedMultiProject = `resources:
  - kind: artifact
    selector:
      query: '.project_id in [1, 2, 5]'  # Only specific projects
      withScanOverview: true
`

const seedVulnerability = `resources:
  - kind: artifact
    selector:
      query: '.scan_overview."application/vnd.security.vulnerability.report; version=1.1".severity == "High"'
`

const seedProductionVulns = `resources:
  - kind: artifact
    selector:
      query: '.projectName == "production" and .tags[].name == "latest"'
      withScanOverview: true
    port:
      entity:
        mappings:
          identifier: .digest
          title: .tags[0].name
          blueprint: '"harborArtifact"'
          properties:
            vulnerabilityCount: '.scan_overview."application/vnd.security.vulnerability.report; version=1.1".summary.total'
            highSeverityCount: '.scan_overview."application/vnd.security.vulnerability.report; version=1.1".summary.summary.High'
`

const seedRepositoryActivity = `resources:
  - kind: repository
    selector:
      query: 'true'
    port:
      entity:
        mappings:
          identifier: .id | tostring
          title: .name
          blueprint: '"harborRepository"'
          properties:
            pullCount: .pull_count
            lastUpdated: .update_time
            isActive: '(.update_time | fromdateiso8601) > (now - 2592000)'  # Updated in last 30 days
`

func TestSeedCustomizingMappings(t *testing.T) {
	c := mustParse(t, seedCustomizing)
	r := c.Resources[0]
	if !r.Selector.FetchTags() || !r.Selector.FetchScanOverview() {
		t.Errorf("withTag/withScanOverview not read: %+v", r.Selector)
	}
	if bps, ok := c.Blueprints(); !ok || strings.Join(bps, ",") != "harborArtifact" {
		t.Errorf("Blueprints() = %v, %v", bps, ok)
	}
	it := items(t)
	tests := []struct{ item, want string }{
		{"artifact", `{"blueprint":"harborArtifact","identifier":"sha256:6cb0ba24593f743b299f385ff8cc76a34fafabb3762c02e28131c0a203fe8558",` +
			`"properties":{"digest":"sha256:6cb0ba24593f743b299f385ff8cc76a34fafabb3762c02e28131c0a203fe8558","scanOverview":null,"size":800,"tags":["latest","v1"]},` +
			`"relations":{"project":"2","repository":"1"},"title":"latest"}`},
		{"artifactScanned", `{"blueprint":"harborArtifact","identifier":"sha256:6cb0ba24593f743b299f385ff8cc76a34fafabb3762c02e28131c0a203fe8558",` +
			`"properties":{"digest":"sha256:6cb0ba24593f743b299f385ff8cc76a34fafabb3762c02e28131c0a203fe8558","scanOverview":{"application/vnd.security.vulnerability.report; version=1.1":` +
			`{"complete_percent":100,"duration":4,"end_time":"2026-11-28T08:39:35.000Z","report_id":"0bd2b3cc-774e-4b9e-a6ae-4e15c8d5d6a6","scan_status":"Success",` +
			`"scanner":{"name":"Trivy","vendor":"Aqua Security","version":"v0.64.1"},"severity":"High","start_time":"2026-11-28T08:39:31.000Z",` +
			`"summary":{"fixable":2,"summary":{"High":2,"Low":51,"Medium":1},"total":54}}},"size":3620913,"tags":["v1"]},` +
			`"relations":{"project":"2","repository":"4"},"title":"v1"}`},
	}
	for _, tc := range tests {
		es, ws, err := r.Entities(it[tc.item])
		if err != nil || len(ws) > 0 || len(es) != 1 {
			t.Fatalf("%s: err=%v warnings=%s entities=%d", tc.item, err, warningsText(ws), len(es))
		}
		if got := entityJSON(t, es[0]); got != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.item, got, tc.want)
		}
	}

	// An untagged artifact (Harbor sends "tags": null) gets the short digest.
	a := it["artifact"]
	a["tags"] = nil
	es, ws := r.Map(a)
	if len(ws) > 0 || len(es) != 1 || *es[0].Title != "6cb0ba24593f" || jsonOf(es[0].Properties["tags"]) != "[]" {
		t.Errorf("untagged: %s %s", entityJSON(t, es[0]), warningsText(ws))
	}
}

func TestSeedProjectFiltering(t *testing.T) {
	c := mustParse(t, seedProjectFiltering)
	r := c.Resources[0]
	if r.Selector.Public == nil || !*r.Selector.Public || r.Selector.Name != "prod-*" {
		t.Fatalf("selector = %+v", r.Selector)
	}
	it := items(t)
	for name, want := range map[string]bool{"project": false, "projectPublic": true} {
		ok, err := r.Select(it[name])
		if err != nil || ok != want {
			t.Errorf("Select(%s) = %v, %v; want %v", name, ok, err, want)
		}
	}
	// public but not prod-*; prod-* but private
	p := items(t)["projectPublic"]
	p["name"] = "staging-web"
	if ok, _ := r.Select(p); ok {
		t.Error("staging-web selected by name: prod-*")
	}
	p = items(t)["projectPublic"]
	p["metadata"] = map[string]any{"public": "false"}
	if ok, _ := r.Select(p); ok {
		t.Error(`metadata.public "false" selected by public: true`)
	}
	// No port block: the built-in project mapping applies.
	es, ws, err := r.Entities(it["projectPublic"])
	if err != nil || len(ws) > 0 || len(es) != 1 || es[0].Identifier != "prod-web" || es[0].Blueprint != "harborProject" ||
		es[0].Properties["public"] != true {
		t.Errorf("entities = %v %v %v", es, ws, err)
	}
}

func TestSeedRepositoryFiltering(t *testing.T) {
	r := mustParse(t, seedRepositoryFiltering).Resources[0]
	s := r.Selector
	if s.ProjectName != "production" || s.NameContains != "backend" || s.NameStartsWith != "service-" {
		t.Fatalf("selector = %+v", s)
	}
	repo := func(project, name string) map[string]any {
		m := items(t)["repository"]
		m["projectName"], m["name"] = project, project+"/"+name
		return m
	}
	tests := []struct {
		project, name string
		want          bool
	}{
		{"production", "service-backend-api", true},
		{"production", "service-frontend", false},  // no "backend"
		{"production", "backend-service-x", false}, // does not start with service-
		{"staging", "service-backend-api", false},  // other project
		{"production", "team/service-backend", false},
		{"production-eu", "service-backend", false}, // exact project match
	}
	for _, tc := range tests {
		ok, err := r.Select(repo(tc.project, tc.name))
		if err != nil || ok != tc.want {
			t.Errorf("Select(%s/%s) = %v, %v; want %v", tc.project, tc.name, ok, err, tc.want)
		}
	}
	// "service-" is tested on the name below the project: a project named
	// service-x must not make production/... match (and vice versa).
	m := repo("production", "service-backend")
	delete(m, "projectName")
	if ok, _ := r.Select(m); !ok {
		t.Error("projectName derived from the full name when the item is not enriched")
	}
}

func TestSeedArtifactFiltering(t *testing.T) {
	r := mustParse(t, seedArtifactFiltering).Resources[0]
	if r.Selector.Tag != "latest" || !r.Selector.FetchTags() || !r.Selector.FetchScanOverview() {
		t.Fatalf("selector = %+v", r.Selector)
	}
	it := items(t)
	if ok, err := r.Select(it["artifact"]); !ok || err != nil { // tags latest, v1
		t.Errorf("artifact tagged latest: %v %v", ok, err)
	}
	if ok, err := r.Select(it["artifactScanned"]); ok || err != nil { // tag v1 only
		t.Errorf("artifact tagged v1: %v %v", ok, err)
	}
	a := items(t)["artifact"]
	a["tags"] = nil
	if ok, err := r.Select(a); ok || err != nil {
		t.Errorf("untagged artifact: %v %v", ok, err)
	}
	es, _, _ := r.Entities(it["artifact"])
	if len(es) != 1 || es[0].Identifier != "tfdemo/hello@sha256:6cb0ba24593f743b299f385ff8cc76a34fafabb3762c02e28131c0a203fe8558" {
		t.Errorf("built-in mapping not applied: %v", es)
	}
}

// `.project_id in [1, 2, 5]` is not jq (jq has no infix in): it must fail
// at parse time, pointing at the line, and suggest working jq.
func TestSeedMultiProjectIsRejectedWithAFix(t *testing.T) {
	_, err := Parse(seedMultiProject, "harborport_sync.mapping")
	want := `harborport_sync.mapping:4: resources[0].selector.query: jq syntax error: unexpected token "in" ` +
		`(hint: jq has no "x in [list]" operator; write IN(.project_id; 1, 2, 5) or [.project_id] | inside([1, 2, 5]))`
	if err == nil || err.Error() != want {
		t.Fatalf("error:\n got %v\nwant %s", err, want)
	}
	var pe *Error
	if !errors.As(err, &pe) || pe.Line != 4 || pe.Column != 27 {
		t.Errorf("position = %d:%d", pe.Line, pe.Column)
	}
	// Both suggestions are valid selectors with the intended meaning.
	for _, q := range []string{`IN(.project_id; 1, 2, 5)`, `[.project_id] | inside([1, 2, 5])`} {
		r := mustParse(t, strings.Replace(seedMultiProject, `.project_id in [1, 2, 5]`, q, 1)).Resources[0]
		a := items(t)["artifact"] // project_id 2
		if ok, err := r.Select(a); !ok || err != nil {
			t.Errorf("%s on project 2: %v %v", q, ok, err)
		}
		a["project_id"] = float64(3)
		if ok, err := r.Select(a); ok || err != nil {
			t.Errorf("%s on project 3: %v %v", q, ok, err)
		}
	}
}

func TestSeedVulnerabilityFiltering(t *testing.T) {
	r := mustParse(t, seedVulnerability).Resources[0]
	it := items(t)
	if ok, err := r.Select(it["artifactScanned"]); !ok || err != nil {
		t.Errorf("High artifact: %v %v", ok, err)
	}
	// Not scanned: no scan_overview key (internal/harbor/API-NOTES.md
	// "Scan overview") → null == "High" → false.
	if ok, err := r.Select(it["artifact"]); ok || err != nil {
		t.Errorf("unscanned artifact: %v %v", ok, err)
	}
}

func TestSeedProductionVulnerabilities(t *testing.T) {
	r := mustParse(t, seedProductionVulns).Resources[0]
	a := items(t)["artifactScanned"]
	a["projectName"] = "production"
	a["tags"] = []any{map[string]any{"name": "latest"}, map[string]any{"name": "v1"}}
	es, ws, err := r.Entities(a)
	if err != nil || len(ws) > 0 || len(es) != 1 {
		t.Fatalf("err=%v warnings=%s entities=%v", err, warningsText(ws), es)
	}
	if got := jsonOf(es[0].Properties); got != `{"highSeverityCount":2,"vulnerabilityCount":54}` {
		t.Errorf("properties = %s", got)
	}
	other := items(t)["artifactScanned"] // project tfdemo
	if es, _, err := r.Entities(other); len(es) != 0 || err != nil {
		t.Errorf("tfdemo artifact: %v %v", es, err)
	}
	// jq's first output only (Ocean's semantics): `.tags[].name == "latest"`
	// looks at the first tag, so [v1, latest] is not selected...
	a["tags"] = []any{map[string]any{"name": "v1"}, map[string]any{"name": "latest"}}
	if ok, err := r.Select(a); ok || err != nil {
		t.Errorf("[v1, latest]: %v %v", ok, err)
	}
	// ...and an untagged production artifact is a selector error.
	a["tags"] = nil
	if _, err := r.Select(a); err == nil || !strings.Contains(err.Error(), "cannot iterate over: null") {
		t.Errorf("untagged: %v", err)
	}
}

func TestSeedRepositoryActivity(t *testing.T) {
	r := mustParse(t, seedRepositoryActivity).Resources[0]
	repo := items(t)["repository"] // update_time 2026-11-28T08:39:38.168Z: fractional seconds
	es, ws, err := r.Entities(repo)
	if err != nil || len(ws) > 0 || len(es) != 1 {
		t.Fatalf("err=%v warnings=%s", err, warningsText(ws))
	}
	e := es[0]
	if e.Identifier != "1" || *e.Title != "tfdemo/hello" || e.Properties["pullCount"] != float64(1) ||
		e.Properties["lastUpdated"] != "2026-11-28T08:39:38.168Z" {
		t.Errorf("entity = %s", entityJSON(t, e))
	}
	if _, ok := e.Properties["isActive"].(bool); !ok {
		t.Errorf("isActive = %#v, want a boolean", e.Properties["isActive"])
	}
	repo["update_time"] = "2001-01-01T00:00:00.000Z"
	es, _ = r.Map(repo)
	if es[0].Properties["isActive"] != false {
		t.Errorf("old repository isActive = %v", es[0].Properties["isActive"])
	}
}
