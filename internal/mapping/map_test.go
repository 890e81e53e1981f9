package mapping

import (
	"strings"
	"sync"
	"testing"
	"time"
)

func mapOne(t *testing.T, kind, mappings, item string) ([]string, []Warning) {
	t.Helper()
	r := mustParse(t, resource(kind, "query: 'true'", mappings)).Resources[0]
	es, ws := r.Map(items(t)[item])
	var out []string
	for _, e := range es {
		out = append(out, entityJSON(t, e))
	}
	return out, ws
}

func TestMapFieldSemantics(t *testing.T) {
	es, ws := mapOne(t, "artifact", `identifier: .repositoryName + "@" + .digest
blueprint: '"harborArtifact"'
title: .tags[0].name
icon: .nope
properties:
  failing: .size | ascii_downcase
  nullValue: .scan_overview
  count: .tags | length
  sum: '[1, 2] | add'
  big: 100000000000000000000
  infinite: 1e1000
  firstOnly: .tags[].name
  noOutput: empty
  nested:
    name: .tags[0].name
    list: [.size, '"x"']
relations:
  repository: .repositoryName
  missing: .nothing
`, "artifact")
	if len(es) != 1 {
		t.Fatalf("entities: %v", es)
	}
	want := `{"blueprint":"harborArtifact","identifier":"tfdemo/hello@sha256:6cb0ba24593f743b299f385ff8cc76a34fafabb3762c02e28131c0a203fe8558",` +
		`"properties":{"big":100000000000000000000,"count":2,"failing":null,"firstOnly":"latest","infinite":null,"nested":{"list":[800,"x"],"name":"latest"},` +
		`"noOutput":null,"nullValue":null,"sum":3},"relations":{"missing":null,"repository":"tfdemo/hello"},"title":"latest"}`
	if es[0] != want {
		t.Errorf("\n got %s\nwant %s", es[0], want)
	}
	// Only runtime errors warn; null results are normal (unscanned artifacts).
	wantW := `resources[0].properties.failing (line 13): jq ".size | ascii_downcase" failed: ascii_downcase cannot be applied to: number (800); the field is null (item tfdemo/hello@sha256:6cb0ba24593f)` + "\n" +
		`resources[0].properties.infinite (line 18): jq "1e1000" failed: result +Inf is not representable in JSON; the field is null (item tfdemo/hello@sha256:6cb0ba24593f)`
	if got := warningsText(ws); got != wantW {
		t.Errorf("warnings:\n got %s\nwant %s", got, wantW)
	}
}

func TestMapNumbersAreFloat64(t *testing.T) {
	r := mustParse(t, resource("artifact", "query: 'true'", "identifier: .digest\nblueprint: '\"a\"'\nproperties:\n  n: .tags | length\n  s: .size")).Resources[0]
	es, _ := r.Map(items(t)["artifact"])
	if _, ok := es[0].Properties["n"].(float64); !ok {
		t.Errorf("length → %T, want float64 (what Port's JSON decodes to)", es[0].Properties["n"])
	}
}

func TestMapDropsEntities(t *testing.T) {
	tests := []struct{ name, mappings, warning string }{
		{"null identifier", "identifier: .nope\nblueprint: '\"b\"'",
			`resources[0].identifier (line 8): identifier ".nope" is null; entity dropped (item tfdemo)`},
		{"empty identifier", "identifier: '\"\"'\nblueprint: '\"b\"'",
			`resources[0].identifier (line 8): identifier is empty; entity dropped (item tfdemo)`},
		{"number identifier", "identifier: .project_id\nblueprint: '\"b\"'",
			`resources[0].identifier (line 8): identifier must be a string, got number (2); entity dropped (convert with | tostring) (item tfdemo)`},
		{"failing identifier", "identifier: .name | error\nblueprint: '\"b\"'",
			`resources[0].identifier (line 8): jq ".name | error" failed: error: tfdemo; the field is null; entity dropped (item tfdemo)`},
		{"invalid identifier", "identifier: '.name + \" x\"'\nblueprint: '\"b\"'",
			`resources[0].identifier (line 8): identifier "tfdemo x" is not a valid Port identifier (letters, digits and @ _ . + : \ / = - only); entity dropped (item tfdemo)`},
		{"dot identifier", "identifier: '\"..\"'\nblueprint: '\"b\"'",
			`resources[0].identifier (line 8): identifier ".." is not a valid Port identifier (letters, digits and @ _ . + : \ / = - only); entity dropped (item tfdemo)`},
		{"null blueprint", "identifier: .name\nblueprint: .nope",
			`resources[0].blueprint (line 9): blueprint ".nope" is null; entity dropped (item tfdemo)`},
		{"object blueprint", "identifier: .name\nblueprint: .metadata",
			`resources[0].blueprint (line 9): blueprint must be a string, got object ({"public":"false"}); entity dropped (convert with | tostring) (item tfdemo)`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			es, ws := mapOne(t, "project", tc.mappings, "project")
			if len(es) != 0 || warningsText(ws) != tc.warning {
				t.Errorf("entities %v\n got warnings %s\nwant %s", es, warningsText(ws), tc.warning)
			}
		})
	}
}

func TestMapTitleIconTeam(t *testing.T) {
	tests := []struct{ name, mappings, want, warning string }{
		{"null title and icon", "title: .nope\nicon: .nope", `"properties":{},"relations":{}}`, ""},
		{"number title", "title: .project_id", `"properties":{},"relations":{}}`, "title must be a string, got number (2); left unset"},
		{"icon", `icon: '"Harbor"'`, `"icon":"Harbor","identifier"`, ""},
		{"team string", "team: .owner_name", `"team":"admin"`, ""},
		{"team array", "team: '[.owner_name, \"platform\"]'", `"team":["admin","platform"]`, ""},
		{"team query", "team:\n  combinator: '\"and\"'\n  rules:\n    - property: '\"$identifier\"'\n      operator: '\"=\"'\n      value: .owner_name",
			`"team":{"combinator":"and","rules":[{"operator":"=","property":"$identifier","value":"admin"}]}`, ""},
		{"team number", "team: .project_id", `"relations":{}}`, "team must be a string or an array of strings, got number (2); left unset"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			es, ws := mapOne(t, "project", "identifier: .name\nblueprint: '\"b\"'\n"+tc.mappings, "project")
			if len(es) != 1 || !strings.Contains(es[0], tc.want) {
				t.Errorf("entity %v, want it to contain %s", es, tc.want)
			}
			if got := warningsText(ws); tc.warning == "" && got != "" || !strings.Contains(got, tc.warning) {
				t.Errorf("warnings %q, want %q", got, tc.warning)
			}
		})
	}
}

func TestMapSearchIdentifierAndRelations(t *testing.T) {
	es, ws := mapOne(t, "artifact", `identifier:
  combinator: '"and"'
  rules:
    - property: '"digest"'
      operator: '"="'
      value: .digest
    - combinator: '"or"'
      rules:
        - property: '"$blueprint"'
          operator: '"in"'
          value: '["harborArtifact", "legacyArtifact"]'
blueprint: '"harborArtifact"'
relations:
  repository:
    combinator: '"and"'
    rules:
      - property: '"name"'
        operator: '"="'
        value: .repositoryName
  project: .projectName
`, "artifact")
	want := `{"blueprint":"harborArtifact","identifier":{"combinator":"and","rules":[` +
		`{"operator":"=","property":"digest","value":"sha256:6cb0ba24593f743b299f385ff8cc76a34fafabb3762c02e28131c0a203fe8558"},` +
		`{"combinator":"or","rules":[{"operator":"in","property":"$blueprint","value":["harborArtifact","legacyArtifact"]}]}]},` +
		`"properties":{},"relations":{"project":"tfdemo","repository":{"combinator":"and","rules":[{"operator":"=","property":"name","value":"tfdemo/hello"}]}}}`
	if len(es) != 1 || es[0] != want || len(ws) != 0 {
		t.Errorf("\n got %v %s\nwant %s", es, warningsText(ws), want)
	}
	r := mustParse(t, resource("artifact", "query: 'true'", "identifier:\n  combinator: '\"and\"'\n  rules: [{property: '\"a\"', operator: '\"=\"', value: .digest}]\nblueprint: '\"b\"'")).Resources[0]
	if !r.UsesSearch() {
		t.Error("UsesSearch() = false for a search identifier")
	}
	if mustParse(t, DefaultYAML(DefaultIDs())).Resources[3].UsesSearch() {
		t.Error("UsesSearch() = true for the default artifact mapping")
	}
}

func TestMapItemsToParse(t *testing.T) {
	base := "identifier: .repositoryName + \":\" + .item.name\nblueprint: '\"harborTag\"'\nproperties:\n  digest: .digest\n  parentTags: .tags\n  tagPushed: .item.push_time\n"
	r := mustParse(t, resource("artifact", "query: 'true'", base)+"      itemsToParse: .tags\n").Resources[0]
	if r.ItemsToParse() != ".tags" {
		t.Errorf("ItemsToParse() = %q", r.ItemsToParse())
	}
	item := items(t)["artifact"]
	before := jsonOf(item)
	es, ws := r.Map(item)
	if len(ws) != 0 || len(es) != 2 {
		t.Fatalf("entities %v warnings %s", es, warningsText(ws))
	}
	if es[0].Identifier != "tfdemo/hello:latest" || es[1].Identifier != "tfdemo/hello:v1" ||
		es[1].Properties["tagPushed"] != "2026-11-28T08:39:27.939Z" || es[0].Properties["digest"] != item["digest"] {
		t.Errorf("entities: %s / %s", entityJSON(t, es[0]), entityJSON(t, es[1]))
	}
	// itemsToParseTopLevelTransform (default true) removes the array from the parent.
	if es[0].Properties["parentTags"] != nil {
		t.Errorf("parentTags = %v, want null (removed by the top-level transform)", es[0].Properties["parentTags"])
	}
	if jsonOf(item) != before {
		t.Error("Map modified the item")
	}

	keep := mustParse(t, resource("artifact", "query: 'true'", base)+"      itemsToParse: .tags // []\n      itemsToParseTopLevelTransform: false\n").Resources[0]
	es, _ = keep.Map(items(t)["artifact"])
	if tags, _ := es[0].Properties["parentTags"].([]any); len(tags) != 2 {
		t.Errorf("parentTags = %v, want the array kept", es[0].Properties["parentTags"])
	}

	named := mustParse(t, resource("artifact", "query: 'true'", strings.ReplaceAll(base, ".item.", ".tag."))+
		"      itemsToParse: .tags // []\n      itemsToParseName: tag\n").Resources[0]
	a := items(t)["artifact"]
	a["tags"] = nil // untagged: no entities, no warning ("// []")
	if es, ws := named.Map(a); len(es) != 0 || len(ws) != 0 {
		t.Errorf("untagged: %v %s", es, warningsText(ws))
	}
	es, _ = named.Map(items(t)["artifact"])
	if len(es) != 2 || es[0].Properties["parentTags"] != nil { // ".tags // []" → Ocean deletes .tags
		t.Errorf("named: %v", es)
	}

	// Not an array: the item is skipped with a warning (Ocean).
	es, ws = r.Map(a)
	want := `resources[0].itemsToParse (line 14): itemsToParse ".tags" must yield an array, got null; item skipped (item tfdemo/hello@sha256:6cb0ba24593f)`
	if len(es) != 0 || warningsText(ws) != want {
		t.Errorf("got %v\n%s\nwant %s", es, warningsText(ws), want)
	}
}

func TestDeletionPath(t *testing.T) {
	for in, want := range map[string]string{
		".tags":                              ".tags",
		".tags // []":                        ".tags",
		".fields.comments | map(select(.x))": ".fields.comments",
		". as $root | .a.b[0]":               ".a.b[0]",
		"(.file.content.raw) // {}":          ".file.content.raw",
		"[.a, .b]":                           "",
		"$x | .y":                            ".y",
	} {
		if got := deletionPath(in); got != want {
			t.Errorf("deletionPath(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMapDoesNotAliasTheItem(t *testing.T) {
	r := mustParse(t, resource("artifact", "query: 'true'", "identifier: .digest\nblueprint: '\"a\"'\nproperties:\n  so: .scan_overview\n  tags: .tags")).Resources[0]
	item := items(t)["artifactScanned"]
	before := jsonOf(item)
	es, _ := r.Map(item)
	as[map[string]any](t, es[0].Properties["so"])["x"] = 1
	as[[]any](t, es[0].Properties["tags"])[0] = "changed"
	if jsonOf(item) != before {
		t.Error("changing an entity changed the Harbor item")
	}
}

func TestMapTimeoutDropsEntity(t *testing.T) {
	c := mustParse(t, resource("project", "query: 'true'", minimalMappings+"properties:\n  slow: '[range(1e12)] | length'\n"))
	c.EvalTimeout = 20 * time.Millisecond
	es, ws := c.Resources[0].Map(items(t)["project"])
	if len(es) != 0 || !strings.Contains(warningsText(ws), "mapping did not finish within 20ms; entity dropped") {
		t.Errorf("entities %v warnings %s", es, warningsText(ws))
	}
}

func TestMapConcurrentUse(t *testing.T) {
	c := Default(DefaultIDs())
	r := c.KindResources(KindArtifact)[0]
	want, _ := r.Map(items(t)["artifactScanned"])
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			it := items(t)["artifactScanned"]
			for range 50 {
				got, ws := r.Map(it)
				if len(ws) != 0 || entityJSON(t, got[0]) != entityJSON(t, want[0]) {
					t.Error("concurrent Map differs")
					return
				}
			}
		}()
	}
	wg.Wait()
}
