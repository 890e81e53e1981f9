package mapping

import (
	"errors"
	"strings"
	"testing"
)

const minimalMappings = "identifier: .name\nblueprint: '\"harborProject\"'\n"

func TestParseDefaultsAndOptions(t *testing.T) {
	c := mustParse(t, resource("project", "query: 'true'", minimalMappings))
	if !c.DeleteDependentEntities || !c.CreateMissingRelatedEntities || !c.EnableMergeEntity || c.EntityDeletionThreshold != 0.9 {
		t.Errorf("defaults = %+v", c)
	}
	c = mustParse(t, "deleteDependentEntities: false\ncreateMissingRelatedEntities: false\nenableMergeEntity: false\nentityDeletionThreshold: 0.5\n"+
		resource("project", "query: 'true'", minimalMappings))
	if c.DeleteDependentEntities || c.CreateMissingRelatedEntities || c.EnableMergeEntity || c.EntityDeletionThreshold != 0.5 {
		t.Errorf("options = %+v", c)
	}
	r := c.Resources[0]
	if r.Index != 0 || r.Kind != KindProject || r.Line != 6 || r.Selector.Query != "true" {
		t.Errorf("resource = %+v", r)
	}
	// An unquoted YAML boolean is the jq program true.
	c = mustParse(t, resource("project", "query: true", minimalMappings))
	if ok, err := c.Resources[0].Select(map[string]any{}); !ok || err != nil {
		t.Errorf("query: true → %v %v", ok, err)
	}
	// Selector omitted entirely → query "true".
	c = mustParse(t, "resources:\n  - kind: user\n    port:\n      entity:\n        mappings:\n"+indent(minimalMappings, 10))
	if ok, err := c.Resources[0].Select(map[string]any{}); !ok || err != nil || c.Resources[0].Selector.Query != "true" {
		t.Errorf("no selector: %v %v", ok, err)
	}
}

func TestParseJSONInput(t *testing.T) {
	src := `{
	"enableMergeEntity": false,
	"resources": [
		{
			"kind": "artifact",
			"selector": {"query": "true", "withScanOverview": false},
			"port": {"entity": {"mappings": {
				"identifier": ".repositoryName + \"@\" + .digest",
				"blueprint": "'harborArtifact'",
				"properties": {"size": ".size", "labels": "[.labels[]?.name]"}
			}}}
		}
	]
}`
	c := mustParse(t, src)
	r := c.Resources[0]
	if c.EnableMergeEntity || r.Selector.FetchScanOverview() || !r.Selector.FetchTags() {
		t.Errorf("config = %+v selector %+v", c, r.Selector)
	}
	es, ws := r.Map(items(t)["artifact"])
	if len(ws) > 0 || len(es) != 1 || es[0].Blueprint != "harborArtifact" || jsonOf(es[0].Properties) != `{"labels":[],"size":800}` {
		t.Errorf("entities %v warnings %s", es, warningsText(ws))
	}
	// JSON errors carry lines too.
	bad := strings.Replace(src, `".size"`, `".size |"`, 1)
	if got := parseErr(t, bad); !strings.HasPrefix(got, "test.yaml:10: resources[0].port.entity.mappings.properties.size: jq syntax error: unexpected EOF") {
		t.Errorf("got %s", got)
	}
}

// Exact messages: what users read in terraform plan output.
func TestParseErrorMessages(t *testing.T) {
	tests := []struct{ name, src, want string }{
		{"unknown top-level key",
			"resource:\n  - kind: project\n",
			`test.yaml:1: resource: unknown key "resource" (hint: did you mean "resources"? valid keys: resources, deleteDependentEntities, createMissingRelatedEntities, enableMergeEntity, entityDeletionThreshold)` + "\n" +
				`test.yaml:1: resources: missing (hint: list at least one resource, e.g. resources: [{kind: project, ...}])`},
		{"snake case option",
			"enable_merge_entity: true\n" + resource("project", "query: 'true'", minimalMappings),
			`test.yaml:1: enable_merge_entity: unknown key "enable_merge_entity" (hint: did you mean "enableMergeEntity"? valid keys: resources, deleteDependentEntities, createMissingRelatedEntities, enableMergeEntity, entityDeletionThreshold)`},
		{"unknown kind",
			resource("projects", "query: 'true'", minimalMappings),
			`test.yaml:2: resources[0].kind: unknown kind "projects" (hint: did you mean "project"? valid kinds: project, user, repository, artifact)`},
		{"selector key of another kind",
			resource("repository", "query: 'true'\ntag: latest", minimalMappings),
			`test.yaml:5: resources[0].selector.tag: unknown selector key "tag" for kind "repository" (hint: "tag" is a selector of kind artifact; valid keys for repository: query, projectName, nameContains, nameStartsWith)`},
		{"selector typo",
			resource("repository", "query: 'true'\nnameStartWith: svc-", minimalMappings),
			`test.yaml:5: resources[0].selector.nameStartWith: unknown selector key "nameStartWith" for kind "repository" (hint: did you mean "nameStartsWith"? valid keys for repository: query, projectName, nameContains, nameStartsWith)`},
		{"missing identifier and blueprint",
			resource("project", "query: 'true'", "title: .name"),
			`test.yaml:8: resources[0].port.entity.mappings.identifier: missing (required) (hint: e.g. identifier: .name)` + "\n" +
				`test.yaml:8: resources[0].port.entity.mappings.blueprint: missing (required) (hint: e.g. blueprint: '"harborProject"' (jq: the inner double quotes make it a string))`},
		{"unquoted blueprint",
			resource("project", "query: 'true'", "identifier: .name\nblueprint: harborProject"),
			`test.yaml:9: resources[0].port.entity.mappings.blueprint: jq error: function not defined: harborProject/0 (hint: jq reads a bare word as a function call; for the string "harborProject" quote it, e.g. '"harborProject"' in YAML)`},
		{"quoted twice",
			resource("project", "query: 'true'", "identifier: .name\nblueprint: \"'\\\"harborProject\\\"'\""),
			`test.yaml:9: resources[0].port.entity.mappings.blueprint: jq syntax error: unexpected token "'" (hint: the expression is quoted twice: in YAML write '"text"' (the outer single quotes are YAML's and are removed before jq sees it); in JSON write "\"text\"")`},
		{"threshold out of range",
			"entityDeletionThreshold: 90\n" + resource("project", "query: 'true'", minimalMappings),
			`test.yaml:1: entityDeletionThreshold: must be between 0 and 1, got 90 (hint: it is a fraction: 0.9 allows deleting up to 90% of the owned entities in one sync)`},
		{"string boolean",
			resource("artifact", "withTag: \"yes\"", "identifier: .digest\nblueprint: '\"a\"'"),
			`test.yaml:4: resources[0].selector.withTag: must be true or false, got a string ("yes")`},
		{"tag without tags",
			resource("artifact", "tag: latest\nwithTag: false", "identifier: .digest\nblueprint: '\"a\"'"),
			`test.yaml:4: resources[0].selector.tag: cannot be used with withTag: false (hint: Harbor then returns artifacts without tags, so no artifact could match; remove withTag: false)`},
		{"bad glob",
			resource("project", "name: 'prod-[a'", minimalMappings),
			`test.yaml:4: resources[0].selector.name: invalid glob "prod-[a": syntax error in pattern (hint: globs use *, ? and [a-z]; escape a literal one with \)`},
		{"duplicate key",
			resource("project", "query: 'true'", minimalMappings+"title: .name\ntitle: .owner_name"),
			`test.yaml:11: resources[0].port.entity.mappings.title: duplicate key (hint: remove one of them)`},
		{"yaml syntax",
			"resources:\n  - kind: project\n    selector: [\n",
			`test.yaml:3: invalid YAML: did not find expected node content (hint: check indentation, and quote jq that contains ': ', starts with a quote, or ends with ':' (e.g. '.a // "x"'))`},
		{"env lookalike variable",
			resource("user", "query: '$__loc__.file == \"x\"'", "identifier: .username\nblueprint: '\"u\"'"),
			`test.yaml:4: resources[0].selector.query: jq error: variable not defined: $__loc__ (hint: only variables bound with ` + "`as`" + ` exist ($ENV is always empty: mappings must not read the environment))`},
		{"empty", "  \n", `test.yaml: the mapping is empty (hint: omit it to use the built-in default mapping, or list resources (see the Ocean Harbor integration's port-app-config))`},
		{"two documents", resource("project", "query: 'true'", minimalMappings) + "---\nresources: []\n",
			`test.yaml:10: more than one YAML document (---) (hint: put everything in one document)`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := parseErr(t, tc.src); got != tc.want {
				t.Errorf("\n got: %s\nwant: %s", got, tc.want)
			}
		})
	}
}

func TestParseCollectsAllErrorsInLineOrder(t *testing.T) {
	src := `resources:
  - kind: artifact
    selector:
      query: .tags[] |
    port:
      entity:
        mappings:
          identifier: .digest
          blueprint: '"harborArtifact"'
          properties:
            size: .size +
  - kind: usr
    port:
      entity:
        mappings:
          identifier: .username
          blueprint: '"harborUser"'
`
	_, err := Parse(src, "harborport_sync.mapping")
	errs := Errors(err)
	if len(errs) != 3 {
		t.Fatalf("want 3 errors, got %d: %v", len(errs), err)
	}
	want := []struct {
		line int
		path string
	}{{4, "resources[0].selector.query"}, {11, "resources[0].port.entity.mappings.properties.size"}, {12, "resources[1].kind"}}
	for i, w := range want {
		if errs[i].Line != w.line || errs[i].Path != w.path || errs[i].Source != "harborport_sync.mapping" {
			t.Errorf("error %d = %+v, want line %d path %s", i, errs[i], w.line, w.path)
		}
	}
	var first *Error
	if !errors.As(err, &first) || first != errs[0] {
		t.Error("errors.As does not find the first *Error")
	}
}

func TestParseBlockScalarErrorLine(t *testing.T) {
	src := resource("project", "query: |\n  .name != null\n  and .metadata.public ==", minimalMappings)
	_, err := Parse(src, "m.yaml")
	errs := Errors(err)
	if len(errs) != 1 || errs[0].Line != 6 || !strings.Contains(errs[0].Message, "unexpected EOF") {
		t.Errorf("got %v", err)
	}
}

func TestParseSearchQueryValidation(t *testing.T) {
	tests := []struct{ name, mappings, want string }{
		{"missing rules", "identifier:\n  combinator: '\"and\"'\nblueprint: '\"b\"'",
			"resources[0].port.entity.mappings.identifier.rules: missing in search query"},
		{"rule without value", "identifier:\n  combinator: '\"and\"'\n  rules:\n    - property: '\"$identifier\"'\n      operator: '\"=\"'\nblueprint: '\"b\"'",
			"resources[0].port.entity.mappings.identifier.rules[0].value: missing in search rule"},
		{"unknown query key", "identifier: .name\nblueprint: '\"b\"'\nrelations:\n  project:\n    combinator: '\"and\"'\n    rule: []",
			`resources[0].port.entity.mappings.relations.project.rule: unknown key "rule" (hint: did you mean "rules"?`},
		{"list relation", "identifier: .name\nblueprint: '\"b\"'\nrelations:\n  tags: ['.a', '.b']",
			"resources[0].port.entity.mappings.relations.tags: must be a jq expression or a search query, got a list"},
		{"yaml null leaf", "identifier: .name\nblueprint: '\"b\"'\ntitle:",
			`resources[0].port.entity.mappings.title: has no jq expression`},
		{"object title", "identifier: .name\nblueprint: '\"b\"'\ntitle: {a: .b}",
			`resources[0].port.entity.mappings.title: must be a jq expression (a string), got an object`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := parseErr(t, resource("project", "query: 'true'", tc.mappings)); !strings.Contains(got, tc.want) {
				t.Errorf("\n got: %s\nwant substring: %s", got, tc.want)
			}
		})
	}
}

func TestBlueprintsAndFields(t *testing.T) {
	src := "resources:\n" +
		"  - kind: project\n    port: {entity: {mappings: {identifier: .name, blueprint: '\"harborProject\"', title: .name, properties: {b: .x, a: .y}}}}\n" +
		"  - kind: project\n    port: {entity: {mappings: {identifier: .name, blueprint: \"'harborProject'\", relations: {r: .z}}}}\n" +
		"  - kind: user\n    port: {entity: {mappings: {identifier: .name, blueprint: '\"harborUser\"'}}}\n"
	c := mustParse(t, src)
	bps, ok := c.Blueprints()
	if !ok || strings.Join(bps, ",") != "harborProject,harborUser" {
		t.Errorf("Blueprints() = %v %v", bps, ok)
	}
	if n := len(c.KindResources(KindProject)); n != 2 || len(c.KindResources(KindArtifact)) != 0 {
		t.Errorf("KindResources(project) = %d", n)
	}
	f := c.Resources[0].Fields()
	if !f.Title || f.Icon || f.Team || strings.Join(f.Properties, ",") != "a,b" || len(f.Relations) != 0 {
		t.Errorf("Fields() = %+v", f)
	}
	dyn := mustParse(t, strings.Replace(src, `blueprint: '"harborUser"'`, `blueprint: '"harbor" + "User"'`, 1))
	if _, ok := dyn.Blueprints(); ok {
		t.Error("a computed blueprint must make Blueprints() not ok")
	}
}

func TestParseBoundsAliasExpansion(t *testing.T) {
	src := `a: &a ['.x', '.x', '.x', '.x', '.x', '.x', '.x', '.x', '.x', '.x']
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]
d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]
e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]
resources:
  - kind: project
    port:
      entity:
        mappings:
          identifier: .name
          blueprint: '"p"'
          properties:
            boom: *e
`
	// The unknown top-level keys a..e are errors too; the point is that
	// parsing stops compiling after maxPrograms and returns quickly.
	got := parseErr(t, src)
	if !strings.Contains(got, "the mapping has more than 10000 jq expressions") {
		t.Errorf("got %s", got)
	}
}
