package mapping

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/harborport/terraform-provider-harborport/internal/port"
)

// Fuzz targets of the mapping package (see internal/FUZZING.md). Seeds are
// the f.Add calls below plus the committed files in testdata/fuzz/<Name>/.
// Run one with: go test ./internal/mapping -run '^$' -fuzz '^FuzzParse$' -fuzztime 60s -parallel 1

// Input bounds. The product does not cap a mapping's size (it comes from
// the user's Terraform configuration); 16 KiB is far above any real one and
// keeps executions fast. Harbor items are capped by the client's 32 MiB page
// limit; 1 MiB per item is ample for the fuzzer.
const (
	fuzzMaxMapping = 16 << 10
	fuzzMaxJQ      = 2 << 10
	fuzzMaxItem    = 1 << 20
	// fuzzEvalTimeout is the product's per-item jq budget as the fuzz
	// targets set it; fuzzReturnSlack is how much later than that a call
	// may return on a loaded machine before it counts as a hang.
	fuzzEvalTimeout = 20 * time.Millisecond
	fuzzReturnSlack = 15 * time.Second
)

// portIdentifierRe is Port's entity identifier pattern
// (internal/port/API-NOTES.md "Entity identifiers", OpenAPI:
// ^(?!\.{1,2}$)[\p{L}0-9@_.+:\\/=-]+$, at most 1000 characters), written out
// again here rather than taken from entities.go, so that the checks below are
// an independent statement of the rule.
var portIdentifierRe = regexp.MustCompile(`^[\p{L}0-9@_.+:\\/=-]+$`)

func portAcceptsIdentifier(id string) bool {
	return utf8.ValidString(id) && id != "." && id != ".." &&
		utf8.RuneCountInString(id) <= 1000 && portIdentifierRe.MatchString(id)
}

// fuzzItems returns the realistic Harbor items of testdata/items.json (built
// from the real Harbor 2.15.2 captures) by kind, as JSON seeds.
func fuzzItems(f *testing.F) map[Kind][]string {
	f.Helper()
	out := map[Kind][]string{}
	for name, it := range items(f) {
		k := Kind(strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(name, "Scanned"), "Public"), "Empty"))
		b, err := json.Marshal(it)
		if err != nil {
			f.Fatal(err)
		}
		out[k] = append(out[k], string(b))
	}
	for _, k := range Kinds {
		if len(out[k]) == 0 {
			f.Fatalf("testdata/items.json has no %s item", k)
		}
		sort.Strings(out[k])
	}
	return out
}

// decodeItem decodes a Harbor item the way the Harbor client does
// (encoding/json into map[string]any); ok is false for anything else.
func decodeItem(s string) (map[string]any, bool) {
	if len(s) > fuzzMaxItem {
		return nil, false
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil || m == nil {
		return nil, false
	}
	return m, true
}

// timed runs fn and fails the test if it has not returned long after the jq
// budget: the product promises that no mapping can hang a sync or the
// listener. (On failure fn's goroutine is left behind; the test is over.)
func timed(t *testing.T, what string, fn func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); fn() }()
	select {
	case <-done:
	case <-time.After(fuzzEvalTimeout + fuzzReturnSlack):
		t.Fatalf("%s still running after %s with a %s jq budget: evaluation is not bounded", what, fuzzEvalTimeout+fuzzReturnSlack, fuzzEvalTimeout)
	}
}

// checkOutput asserts what every caller of Map/Entities relies on.
func checkOutput(t *testing.T, c *Config, es []port.Entity, ws []Warning) {
	t.Helper()
	for _, e := range es {
		if e.IdentifierQuery == nil && !portAcceptsIdentifier(e.Identifier) {
			t.Fatalf("entity identifier %q would be rejected by Port; it must be dropped with a warning", e.Identifier)
		}
		if e.Blueprint == "" {
			t.Fatalf("entity %q has an empty blueprint", e.Identifier)
		}
		if e.Properties == nil || e.Relations == nil {
			t.Fatalf("entity %q has nil properties or relations", e.Identifier)
		}
		b, err := json.Marshal(e)
		if err != nil {
			t.Fatalf("entity %q cannot be encoded for Port: %v", e.Identifier, err)
		}
		var back port.Entity
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("entity JSON %s does not decode: %v", b, err)
		}
		if back.Identifier != e.Identifier || back.Blueprint != e.Blueprint {
			t.Fatalf("entity %q/%q came back from JSON as %q/%q", e.Blueprint, e.Identifier, back.Blueprint, back.Identifier)
		}
	}
	for _, w := range ws {
		if w.Resource < 0 || w.Resource >= len(c.Resources) || w.Message == "" {
			t.Fatalf("malformed warning %#v", w)
		}
	}
}

// scramble overwrites every value reachable from v in place.
func scramble(v any) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			scramble(e)
			x[k] = "scrambled"
		}
	case []any:
		for i, e := range x {
			scramble(e)
			x[i] = "scrambled"
		}
	}
}

// evalResource runs Select, Entities and Map of r on item and checks them:
// bounded time, valid output, error-or-boolean, and entities that do not
// alias the item.
func evalResource(t *testing.T, c *Config, r *Resource, item map[string]any) {
	t.Helper()
	var ok bool
	var err error
	timed(t, "Select", func() { ok, err = r.Select(item) })
	if err != nil {
		var ie *ItemError
		if ok || !errors.As(err, &ie) || ie.Message == "" {
			t.Fatalf("Select = %v, %v: want false and an *ItemError", ok, err)
		}
	}
	var es []port.Entity
	var ws []Warning
	timed(t, "Entities", func() { es, ws, err = r.Entities(item) })
	checkOutput(t, c, es, ws)
	if err != nil && len(Errors(err)) != 0 {
		t.Fatalf("Entities returned parse errors at run time: %v", err)
	}
	timed(t, "Map", func() { es, ws = r.Map(item) })
	checkOutput(t, c, es, ws)
	before := make([]string, len(es))
	for i, e := range es {
		b, _ := json.Marshal(e)
		before[i] = string(b)
	}
	scramble(item)
	for i, e := range es {
		if b, _ := json.Marshal(e); string(b) != before[i] {
			t.Fatalf("entity aliases the Harbor item: %s became %s after the item changed", before[i], b)
		}
	}
}

// FuzzParse: YAML + jq compile of a whole port-app-config, then evaluation
// of each parsed resource over a real Harbor item of its kind.
// Properties: Parse returns a config xor an error; an error is a list of
// *Error with a message and a line inside the document; a config has valid
// kinds, ordered indexes, sorted field lists and blueprints; evaluating it
// satisfies evalResource's properties.
func FuzzParse(f *testing.F) {
	seeds := fuzzItems(f)
	f.Add(DefaultYAML(DefaultIDs()))
	f.Add(DefaultYAML(BlueprintIDs{KindProject: "it's", KindArtifact: `a"b`}))
	if ents, err := os.ReadDir("testdata/seed"); err == nil {
		for _, e := range ents {
			if b, err := os.ReadFile(filepath.Join("testdata/seed", e.Name())); err == nil {
				f.Add(string(b))
			}
		}
	}
	f.Add(resource("artifact", "query: '.tags | length > 0'", minimalMappings+
		"properties:\n  t: '[.tags[]?.name] | join(\",\")'\n"))
	f.Add("resources:\n  - kind: artifact\n    selector:\n      query: 'true'\n    port:\n" +
		"      itemsToParse: .tags\n      itemsToParseName: tag\n      itemsToParseTopLevelTransform: true\n" +
		"      entity:\n        mappings:\n          identifier: .repositoryName + \":\" + .tag.name\n" +
		"          blueprint: '\"harborTag\"'\n")
	f.Add("resources:\n  - kind: project\n    port:\n      entity:\n        mappings:\n" +
		"          identifier:\n            combinator: and\n            rules:\n              - property: name\n" +
		"                operator: '='\n                value: .name\n          blueprint: '\"harborProject\"'\n")
	f.Add("a: &a [1, *a]\n")
	f.Add("resources: [{kind: user, selector: {query: 'def f: f; f'}}]")
	f.Add("resources:\n- kind: project\n  selector: {query: 'true', name: 'prod-*', public: true}\n")
	f.Add("---\n---\n")
	f.Add("# only a comment\n")
	f.Fuzz(func(t *testing.T, src string) {
		if len(src) > fuzzMaxMapping {
			return
		}
		var c *Config
		var err error
		timed(t, "Parse", func() { c, err = Parse(src, "fuzz.yaml") })
		if (c == nil) == (err == nil) {
			t.Fatalf("Parse returned config %v and error %v", c != nil, err)
		}
		if err != nil {
			list := Errors(err)
			if len(list) == 0 {
				t.Fatalf("Parse error is not a list of *Error: %v", err)
			}
			lines := strings.Count(src, "\n") + 1
			for _, e := range list {
				if e.Source != "fuzz.yaml" || e.Message == "" || e.Line < 0 || e.Line > lines+1 || e.Column < 0 {
					t.Fatalf("malformed error %#v (document has %d lines)", e, lines)
				}
			}
			return
		}
		c.EvalTimeout = fuzzEvalTimeout
		for i, r := range c.Resources {
			if r.Index != i || !contains(kindStrings(), string(r.Kind)) {
				t.Fatalf("resource %d: index %d kind %q", i, r.Index, r.Kind)
			}
			fl := r.Fields()
			if !sort.StringsAreSorted(fl.Properties) || !sort.StringsAreSorted(fl.Relations) {
				t.Fatalf("Fields not sorted: %#v", fl)
			}
		}
		if bps, ok := c.Blueprints(); ok {
			for i := range bps {
				if bps[i] == "" || i > 0 && bps[i-1] >= bps[i] {
					t.Fatalf("Blueprints() = %q: want sorted, distinct, non-empty", bps)
				}
			}
		}
		for _, r := range c.Resources {
			item, _ := decodeItem(seeds[r.Kind][0])
			evalResource(t, c, r, item)
		}
	})
}

func kindStrings() []string {
	out := make([]string, len(Kinds))
	for i, k := range Kinds {
		out[i] = string(k)
	}
	return out
}

// FuzzJQ: compile and evaluate one jq expression of a mapping over a Harbor
// item. Properties: a compile error has a message and an offset inside the
// expression (or -1); a result is JSON-shaped and survives a JSON round
// trip unchanged (it is sent to Port as is); the fast paths (constants and
// plain .a.b paths, which skip gojq) give exactly gojq's answer.
func FuzzJQ(f *testing.F) {
	seeds := fuzzItems(f)
	for _, src := range []string{
		".name", `."name"`, ".metadata.public", ".metadata.public.x", `.scan_overview["application/vnd.security.vulnerability.report; version=1.1"].severity`,
		`"harborArtifact"`, `'harborArtifact'`, `'"harborArtifact"'`, "null", "true", "1e400", "100000000000000000000000000000",
		"-0", "1.5", `.tags[0].name // (.digest | split(":")[1] | .[0:12])`, "[.tags[]?.name]", "[.scan_overview[]?][0]",
		`(.repositoryName | strings) + "@" + (.digest | strings)`, ".push_time | fromdateiso8601", `.pull_time | if startswith("0001-01-01") then null else . end`,
		"env", "$ENV.HOME", "def f: f; f", "repeat(.)", "[range(1e9)] | length", "last(range(1e12))", `"x" * 1e9 | length`,
		"nan", "infinite", "[nan]", "{a: -infinite}", "error", `error("x")`, "halt", `halt_error`, "empty", "input", ".[", "1 +", "",
		`"\(.name)-\(.project_id)"`, "@base64 \"\\(.name)\"", "tojson", "keys", "to_entries", "paths", "getpath([\"a\",0])",
		"limit(3; repeat(1))", "[limit(5; .[]?)]", "ltrimstr(1)", "splits(\"a\")", "test(\"(a+)+$\")", "$__loc__", "import \"a\" as a; .",
	} {
		for _, k := range Kinds {
			f.Add(src, seeds[k][0])
		}
	}
	f.Add(".a.b", `{"a":"str"}`)
	f.Add(".a.b", `{"a":[1]}`)
	f.Add(".a", `{"a":1e308}`)
	f.Fuzz(func(t *testing.T, src, itemJSON string) {
		if len(src) > fuzzMaxJQ {
			return
		}
		p, je := compileJQ(src, "")
		if (p == nil) == (je == nil) {
			t.Fatalf("compileJQ(%q) returned program %v and error %v", src, p != nil, je)
		}
		if je != nil {
			if je.msg == "" || je.offset < -1 || je.offset > len(src) {
				t.Fatalf("compileJQ(%q): malformed error %#v", src, je)
			}
			return
		}
		item, ok := decodeItem(itemJSON)
		if !ok {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), fuzzEvalTimeout)
		defer cancel()
		var v any
		var err error
		timed(t, "run", func() { v, ok, err = p.run(ctx, item) })
		if err != nil || !ok {
			return
		}
		b, merr := json.Marshal(v)
		if merr != nil {
			t.Fatalf("%q yields %#v, which cannot be sent to Port: %v", src, v, merr)
		}
		var back any
		if err := json.Unmarshal(b, &back); err != nil || !reflect.DeepEqual(back, v) {
			t.Fatalf("%q yields %#v, which changes on a JSON round trip (%s → %#v, %v)", src, v, b, back, err)
		}
		if !p.konst && p.path == nil && p.fast == nil {
			return
		}
		// Differential: the fast paths (constants, plain paths, fastjq.go's
		// subset) against gojq itself.
		ctx2, cancel2 := context.WithTimeout(context.Background(), fuzzEvalTimeout)
		defer cancel2()
		gv, gok, gerr := p.runCode(ctx2, item)
		if errors.Is(gerr, errTimeout) {
			return // a loaded machine; not a disagreement
		}
		if gerr != nil || !gok || !reflect.DeepEqual(gv, v) {
			t.Fatalf("%q: fast path gives %#v, gojq gives %#v, %v, %v", src, v, gv, gok, gerr)
		}
	})
}

// FuzzMap: evaluation of mappings over Harbor items. The item is fuzzed
// (seeded with real Harbor JSON of each kind) and evaluated by the built-in
// default mapping of its kind — whose identifiers must always be valid Port
// identifiers or be dropped — and by a custom resource whose identifier and
// fields are fuzzed jq. Properties: see evalResource and checkOutput.
func FuzzMap(f *testing.F) {
	seeds := fuzzItems(f)
	def := Default(DefaultIDs())
	def.EvalTimeout = fuzzEvalTimeout
	exprs := [][2]string{
		{".name", ".project_id"},
		{`(.repositoryName | strings) + "@" + (.digest | strings)`, "[.scan_overview[]?][0]"},
		{".username", ".email"},
		{".name | ascii_downcase", ".metadata"},
		{".id | tostring", ".tags"},
		{`"."`, "1e1000"},
		{`".."`, "100000000000000000000000000000000000000000000000000"},
		{`"a b"`, "nan"},
		{`"x" * 1001`, "null"},
		{`"ü漢"`, "[.[]?]"},
		{"1", "{a: 1}"},
		{"def f: f; f", "repeat(.)"},
	}
	for i, k := range Kinds {
		for j, it := range seeds[k] {
			e := exprs[(i*3+j)%len(exprs)]
			f.Add(uint8(i), it, e[0], e[1])
		}
		for _, e := range exprs {
			f.Add(uint8(i), seeds[k][0], e[0], e[1])
		}
	}
	f.Add(uint8(2), `{"name":"p/a b","projectName":"p"}`, ".name", ".x")
	f.Add(uint8(3), `{"repositoryName":"p/r","digest":"sha256:\u00e9/.."}`, ".digest", ".x")
	f.Add(uint8(0), `{"name":".."}`, ".name", ".x")
	f.Add(uint8(1), `{"username":"`+strings.Repeat("u", 1001)+`"}`, ".username", ".x")
	f.Fuzz(func(t *testing.T, kind uint8, itemJSON, idExpr, fieldExpr string) {
		if len(idExpr) > fuzzMaxJQ || len(fieldExpr) > fuzzMaxJQ {
			return
		}
		item, ok := decodeItem(itemJSON)
		if !ok {
			return
		}
		k := Kinds[int(kind)%len(Kinds)]
		// The built-in mapping: scramble() changes item, so each resource
		// gets its own copy.
		for _, r := range def.KindResources(k) {
			cp, _ := decodeItem(itemJSON)
			evalResource(t, def, r, cp)
		}
		q := func(s string) string { b, _ := json.Marshal(s); return string(b) }
		src := "resources:\n  - kind: " + string(k) + "\n    selector:\n      query: " + q("("+fieldExpr+") != false") +
			"\n    port:\n      entity:\n        mappings:\n          identifier: " + q(idExpr) +
			"\n          blueprint: '\"fuzz\"'\n          title: " + q(fieldExpr) + "\n          team: " + q(fieldExpr) +
			"\n          properties:\n            p: " + q(fieldExpr) + "\n          relations:\n            r: " + q(fieldExpr) + "\n"
		c, err := Parse(src, "fuzz.yaml")
		if err != nil {
			return
		}
		c.EvalTimeout = fuzzEvalTimeout
		evalResource(t, c, c.Resources[0], item)
	})
}

// FuzzIdentifier: the check that drops entities Port would reject agrees
// with Port's identifier pattern (including the ASCII fast path, the
// "."/".." exclusion and the 1000-character limit), and its message quotes
// the identifier safely.
func FuzzIdentifier(f *testing.F) {
	for _, s := range []string{
		"", ".", "..", "...", "a", "tfdemo/hello@sha256:6cb0ba24593f", `a\b`, "a b", "ü", "漢字", "\u00a0", "\u200b",
		"\xff", "a\x00", "A-Z_0.9+:=@/", "%2F", "#", "é" + strings.Repeat("x", 999), strings.Repeat("x", 1001),
		strings.Repeat("é", 1000), strings.Repeat("é", 1001), "\ufffd", "ǅ", "ʰ", "ー", "\u0301",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, id string) {
		msg := invalidIdentifier(id)
		if want := portAcceptsIdentifier(id); (msg == "") != want {
			t.Fatalf("invalidIdentifier(%q) = %q, but Port's pattern says valid=%v", id, msg, want)
		}
		if !utf8.ValidString(msg) {
			t.Fatalf("invalidIdentifier(%q) message is not valid UTF-8: %q", id, msg)
		}
	})
}

// Hang guard, as a regular test: every way a user's jq can run forever or
// explode is stopped by the per-item deadline, in the selector, the mapping
// and itemsToParse, and reported rather than hanging a sync or the listener.
func TestPathologicalJQIsBounded(t *testing.T) {
	const budget = 50 * time.Millisecond
	for _, src := range []string{
		"def f: f; f", "def f: [f]; f", "def f: 1 + f; f", "repeat(.) | empty", "[repeat(1)] | length",
		"[range(1e9)] | length", "last(range(1e12))", "until(false; .)", "[recurse(.)] | length",
		"reduce range(1e12) as $i (0; . + $i)", "[limit(1e12; repeat(.))] | length",
	} {
		yaml := strings.ReplaceAll(src, "'", "''")
		for name, doc := range map[string]string{
			"selector": resource("project", "query: '"+yaml+"'", minimalMappings),
			"mapping":  resource("project", "query: 'true'", minimalMappings+"properties:\n  v: '"+yaml+"'\n"),
			"itemsToParse": "resources:\n  - kind: project\n    port:\n      itemsToParse: '[" + yaml + "]'\n" +
				"      entity:\n        mappings:\n          identifier: .name\n          blueprint: '\"x\"'\n",
		} {
			c := mustParse(t, doc)
			c.EvalTimeout = budget
			r := c.Resources[0]
			item := items(t)["project"]
			done := make(chan string, 1)
			go func() {
				_, serr := r.Select(item)
				es, ws, eerr := r.Entities(item)
				me, mws := r.Map(item)
				done <- fmt.Sprint(serr, eerr, len(es), len(me), warningsText(append(ws, mws...)))
			}()
			select {
			case out := <-done:
				if name != "selector" && !strings.Contains(out, "did not finish") && !strings.Contains(out, "took too long") {
					t.Errorf("%s %q: no timeout reported: %s", name, src, out)
				}
				if name == "selector" && !strings.Contains(out, "did not finish within 50ms") {
					t.Errorf("%s %q: no timeout reported: %s", name, src, out)
				}
			case <-time.After(time.Minute):
				t.Fatalf("%s %q still running after a minute with a %s budget", name, src, budget)
			}
		}
	}
}

// Found by FuzzJQ (testdata/fuzz/FuzzJQ/bigint-*): gojq keeps integers
// exact, and one beyond float64's range became +Inf, which json.Marshal
// refuses — the whole bulk upsert carrying the entity would have failed.
// It is now an error for that field alone, like NaN and ±Infinity.
func TestHugeIntegerResultIsAFieldWarning(t *testing.T) {
	big := "1" + strings.Repeat("0", 400)
	c := mustParse(t, resource("project", "query: 'true'", minimalMappings+
		"properties:\n  lit: '"+big+"'\n  calc: '"+big+" + 1'\n  ok: '1"+strings.Repeat("0", 300)+"'\n"))
	es, ws := c.Resources[0].Map(items(t)["project"])
	if len(es) != 1 {
		t.Fatalf("entities %v, warnings %s", es, warningsText(ws))
	}
	p := es[0].Properties
	if p["lit"] != nil || p["calc"] != nil || p["ok"] != 1e300 {
		t.Errorf("properties %v", p)
	}
	if got := warningsText(ws); strings.Count(got, "integer result of 401 digits is not representable in JSON; the field is null") != 2 {
		t.Errorf("warnings: %s", got)
	}
	if _, err := json.Marshal(es[0]); err != nil {
		t.Errorf("entity cannot be sent: %v", err)
	}
}
