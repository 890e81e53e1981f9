package mapping

import (
	"context"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

func parseScoped(t *testing.T, src string, o Options) *Config {
	t.Helper()
	c, err := ParseWith(src, "test.yaml", o)
	if err != nil {
		t.Fatalf("ParseWith: %v", err)
	}
	return c
}

// The scoped built-in mapping: every identifier and relation target gets
// "<scope>:", every entity the mark; without PrefixIdentifiers only the mark.
func TestDefaultScoped(t *testing.T) {
	it := items(t)
	cases := []struct {
		kind     Kind
		item     string
		prefixed string // identifier with prefix
	}{
		{KindProject, "project", "eu:"}, {KindUser, "user", "eu:"}, {KindRepository, "repository", "eu:"}, {KindArtifact, "artifact", "eu:"},
	}
	plain := Default(DefaultIDs())
	for _, prefix := range []bool{true, false} {
		c := DefaultWith(Options{Scope: "eu", PrefixIdentifiers: prefix})
		for _, tc := range cases {
			want, _, err := plain.KindResources(tc.kind)[0].Entities(it[tc.item])
			if err != nil || len(want) != 1 {
				t.Fatal(err)
			}
			got, ws, err := c.KindResources(tc.kind)[0].Entities(it[tc.item])
			if err != nil || len(ws) != 0 || len(got) != 1 {
				t.Fatalf("%s: %v %s %v", tc.item, got, warningsText(ws), err)
			}
			g, w := got[0], want[0]
			if g.Properties[ScopeProperty] != "eu" {
				t.Errorf("%s: mark = %v", tc.item, g.Properties[ScopeProperty])
			}
			delete(g.Properties, ScopeProperty)
			wantID := w.Identifier
			if prefix {
				wantID = "eu:" + wantID
				for k, v := range w.Relations {
					if s, ok := v.(string); ok {
						w.Relations[k] = "eu:" + s
					}
				}
			}
			if g.Identifier != wantID {
				t.Errorf("%s prefix=%v: identifier %q, want %q", tc.item, prefix, g.Identifier, wantID)
			}
			g.Identifier, w.Identifier = "", ""
			if a, b := entityJSON(t, g), entityJSON(t, w); a != b {
				t.Errorf("%s prefix=%v:\n got %s\nwant %s", tc.item, prefix, a, b)
			}
		}
		f := c.KindResources(KindRepository)[0].Fields()
		if !strings.Contains(strings.Join(f.Properties, ","), ScopeProperty) {
			t.Errorf("Fields() = %v, want the mark among the properties", f.Properties)
		}
	}
	if f := plain.KindResources(KindRepository)[0].Fields(); strings.Contains(strings.Join(f.Properties, ","), ScopeProperty) {
		t.Errorf("unscoped Fields() = %v has the mark", f.Properties)
	}
}

// A missing relation target stays missing: "eu:" alone would point at an
// entity that cannot exist.
func TestDefaultScopedMissingTarget(t *testing.T) {
	c := DefaultWith(Options{Scope: "eu", PrefixIdentifiers: true})
	it := items(t)["repository"]
	delete(it, "projectName")
	got, _, err := c.KindResources(KindRepository)[0].Entities(it)
	if err != nil || len(got) != 1 {
		t.Fatal(got, err)
	}
	if v := got[0].Relations["project"]; v != nil {
		t.Errorf("relation project = %#v, want null", v)
	}
}

// Custom mappings see the scope as $scope (null when unscoped), and may not
// map the mark themselves.
func TestScopeInCustomMapping(t *testing.T) {
	src := resource("project", "query: 'true'", `
identifier: ($scope // "local") + "/" + .name
blueprint: '"harborProject"'
properties:
  where: $scope`)
	item := map[string]any{"name": "library"}
	for scope, want := range map[string]string{"eu": "eu/library", "": "local/library"} {
		c := parseScoped(t, src, Options{Scope: scope})
		got, ws, err := c.Resources[0].Entities(item)
		if err != nil || len(ws) != 0 || len(got) != 1 {
			t.Fatalf("scope %q: %v %s %v", scope, got, warningsText(ws), err)
		}
		if got[0].Identifier != want {
			t.Errorf("scope %q: identifier %q, want %q", scope, got[0].Identifier, want)
		}
		var wantWhere any
		if scope != "" {
			wantWhere = scope
		}
		if got[0].Properties["where"] != wantWhere {
			t.Errorf("scope %q: where = %#v", scope, got[0].Properties["where"])
		}
		if _, marked := got[0].Properties[ScopeProperty]; marked != (scope != "") {
			t.Errorf("scope %q: marked = %v", scope, marked)
		}
	}
	_, err := ParseWith(resource("project", "query: 'true'", `
identifier: .name
blueprint: '"harborProject"'
properties:
  harborportScope: '"mine"'`), "test.yaml", Options{Scope: "eu"})
	if err == nil || !strings.Contains(err.Error(), "resources[0].port.entity.mappings.properties.harborportScope") ||
		!strings.Contains(err.Error(), "scope mark") {
		t.Fatalf("err = %v", err)
	}
}

func TestValidScope(t *testing.T) {
	for _, s := range []string{"", "eu", "eu-west-1", "team_a.prod", "A1"} {
		if err := ValidScope(s); err != nil {
			t.Errorf("%q: %v", s, err)
		}
	}
	for _, s := range []string{"eu:1", " eu", "-eu", "e u", "eu/west", strings.Repeat("a", 64), "é"} {
		if err := ValidScope(s); err == nil {
			t.Errorf("%q: accepted", s)
		}
	}
	if _, err := ParseWith(DefaultYAML(DefaultIDs()), "x", Options{Scope: "a:b"}); err == nil || !strings.Contains(err.Error(), `scope "a:b"`) {
		t.Errorf("ParseWith with a bad scope: %v", err)
	}
}

// $scope is a constant the fast path knows: the prefixing programs stay on
// it and give gojq's results exactly, for both a scope and none.
func TestFastJQScope(t *testing.T) {
	programs := []string{
		`(.name) | strings | $scope + ":" + .`,
		`((.repositoryName | strings) + "@" + (.digest | strings)) | strings | $scope + ":" + .`,
		`$scope`, `$scope + "/" + .name`, `$scope // .name`, `[$scope, .a]`, `$scope == "eu"`,
	}
	r := rand.New(rand.NewPCG(7, 7))
	for _, scope := range []string{"eu", ""} {
		for _, src := range programs {
			p, jerr := compileJQ(src, scope)
			if jerr != nil {
				t.Fatalf("%q: %s", src, jerr.msg)
			}
			if p.fast == nil {
				t.Fatalf("%q (scope %q) is not on the fast path", src, scope)
			}
			for range 50 {
				item := genItem(r)
				gv, gok, gerr := p.runCode(context.Background(), item)
				fv, fok, ferr := p.run(context.Background(), item)
				if fok != gok || (ferr == nil) != (gerr == nil) || !reflect.DeepEqual(fv, gv) {
					t.Fatalf("%q scope %q on %#v:\nfast (%#v, %v, %v)\ngojq (%#v, %v, %v)", src, scope, item, fv, fok, ferr, gv, gok, gerr)
				}
			}
		}
	}
	// A program that rebinds $scope is gojq's.
	p, _ := compileJQ(`"x" as $scope | $scope`, "eu")
	if v, _, _ := p.run(context.Background(), nil); v != "x" {
		t.Errorf("rebound $scope = %#v", v)
	}
}
