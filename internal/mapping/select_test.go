package mapping

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestSelectRequiresABoolean(t *testing.T) {
	tests := []struct {
		query string
		want  bool
		err   string // exact ItemError text when non-empty
	}{
		{`true`, true, ""},
		{`.metadata.public == "false"`, true, ""},
		{`.repo_count > 5`, false, ""},
		{`.metadata.public`, false, `resources[0].selector.query (line 4): selector query ".metadata.public" must yield a boolean, got string ("false") (item tfdemo)`},
		{`.missing`, false, `resources[0].selector.query (line 4): selector query ".missing" must yield a boolean, got null (a missing field is null: compare explicitly, e.g. .x == true) (item tfdemo)`},
		{`.repo_count`, false, `resources[0].selector.query (line 4): selector query ".repo_count" must yield a boolean, got number (2) (item tfdemo)`},
		{`empty`, false, `resources[0].selector.query (line 4): selector query "empty" produced no output; it must yield true or false (item tfdemo)`},
		{`.name | test("[")`, false, "failed: "},
		{`.name.x`, false, `resources[0].selector.query (line 4): selector query ".name.x" failed: expected an object but got: string ("tfdemo") (item tfdemo)`},
		{`(.a, true)`, false, "got null"}, // first output only
		{`(true, error("x"))`, true, ""},  // later outputs are never computed
		{`[true][0]`, true, ""},
	}
	for _, tc := range tests {
		t.Run(tc.query, func(t *testing.T) {
			r := mustParse(t, resource("project", "query: '"+strings.ReplaceAll(tc.query, "'", "''")+"'", minimalMappings)).Resources[0]
			ok, err := r.Select(items(t)["project"])
			if tc.err == "" {
				if err != nil || ok != tc.want {
					t.Errorf("Select = %v, %v; want %v", ok, err, tc.want)
				}
				return
			}
			var ie *ItemError
			if !errors.As(err, &ie) || ok {
				t.Fatalf("Select = %v, %v; want an *ItemError", ok, err)
			}
			if ie.Resource != 0 || ie.Line != 4 || ie.Field != "selector.query" || ie.Item != "tfdemo" {
				t.Errorf("ItemError = %+v", ie)
			}
			if strings.HasPrefix(tc.err, "resources[") && err.Error() != tc.err || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("\n got: %s\nwant: %s", err, tc.err)
			}
		})
	}
}

func TestSelectTimeout(t *testing.T) {
	c := mustParse(t, resource("project", `query: 'last(range(1e12)) > 0'`, minimalMappings))
	c.EvalTimeout = 20 * time.Millisecond
	start := time.Now()
	_, err := c.Resources[0].Select(items(t)["project"])
	if err == nil || !strings.Contains(err.Error(), "did not finish within 20ms") {
		t.Errorf("err = %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("took %s", d)
	}
}

// Harbor-side selectors are applied locally even though the catalog also
// pushes them down to Harbor: each case would pass if its check were removed.
func TestSelectHarborSideSelectors(t *testing.T) {
	yes, no := true, false
	tests := []struct {
		name string
		kind Kind
		sel  Selector
		item func(map[string]map[string]any) map[string]any
		want bool
	}{
		{"public true vs private", KindProject, Selector{Public: &yes}, func(m map[string]map[string]any) map[string]any { return m["project"] }, false},
		{"public false vs private", KindProject, Selector{Public: &no}, func(m map[string]map[string]any) map[string]any { return m["project"] }, true},
		{"public true vs public", KindProject, Selector{Public: &yes}, func(m map[string]map[string]any) map[string]any { return m["projectPublic"] }, true},
		{"public without metadata", KindProject, Selector{Public: &yes}, func(m map[string]map[string]any) map[string]any {
			p := m["projectPublic"]
			delete(p, "metadata")
			return p
		}, false},
		{"glob", KindProject, Selector{Name: "tf*"}, func(m map[string]map[string]any) map[string]any { return m["project"] }, true},
		{"glob miss", KindProject, Selector{Name: "prod-*"}, func(m map[string]map[string]any) map[string]any { return m["project"] }, false},
		{"glob is anchored", KindProject, Selector{Name: "demo"}, func(m map[string]map[string]any) map[string]any { return m["project"] }, false},
		{"projectName", KindRepository, Selector{ProjectName: "tfdemo"}, func(m map[string]map[string]any) map[string]any { return m["repository"] }, true},
		{"projectName miss", KindRepository, Selector{ProjectName: "tf"}, func(m map[string]map[string]any) map[string]any { return m["repository"] }, false},
		{"nameContains on short name", KindRepository, Selector{NameContains: "ello"}, func(m map[string]map[string]any) map[string]any { return m["repository"] }, true},
		{"nameContains ignores project", KindRepository, Selector{NameContains: "demo"}, func(m map[string]map[string]any) map[string]any { return m["repository"] }, false},
		{"nameStartsWith", KindRepository, Selector{NameStartsWith: "hel"}, func(m map[string]map[string]any) map[string]any { return m["repository"] }, true},
		{"nameStartsWith ignores project", KindRepository, Selector{NameStartsWith: "tfdemo"}, func(m map[string]map[string]any) map[string]any { return m["repository"] }, false},
		{"nested repo", KindRepository, Selector{NameStartsWith: "team/"}, func(m map[string]map[string]any) map[string]any {
			r := m["repository"]
			r["name"] = "tfdemo/team/x"
			return r
		}, true},
		{"tag", KindArtifact, Selector{Tag: "v1"}, func(m map[string]map[string]any) map[string]any { return m["artifact"] }, true},
		{"tag is exact", KindArtifact, Selector{Tag: "v"}, func(m map[string]map[string]any) map[string]any { return m["artifact"] }, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, _ := compileJQ("true", "")
			r := &Resource{Kind: tc.kind, Selector: tc.sel, query: p}
			if ok, err := r.Select(tc.item(items(t))); ok != tc.want || err != nil {
				t.Errorf("Select = %v, %v; want %v", ok, err, tc.want)
			}
		})
	}
}

// With itemsToParse, Ocean runs the query on each expanded element.
func TestEntitiesQueryPerExpandedItem(t *testing.T) {
	src := resource("artifact", `query: '.tag.name != "latest"'`,
		"identifier: .repositoryName + \":\" + .tag.name\nblueprint: '\"harborTag\"'") +
		"      itemsToParse: .tags\n      itemsToParseName: tag\n"
	r := mustParse(t, src).Resources[0]
	es, ws, err := r.Entities(items(t)["artifact"]) // tags latest, v1
	if err != nil || len(ws) > 0 || len(es) != 1 || es[0].Identifier != "tfdemo/hello:v1" {
		t.Fatalf("entities %v warnings %s err %v", es, warningsText(ws), err)
	}
	bad := mustParse(t, strings.Replace(src, `.tag.name != "latest"`, `.tag.name`, 1)).Resources[0]
	es, _, err = bad.Entities(items(t)["artifact"])
	if len(es) != 0 || err == nil || !strings.Contains(err.Error(), `got string ("latest") (item tfdemo/hello@sha256:6cb0ba24593f[0])`) {
		t.Errorf("entities %v err %v", es, err)
	}
}
