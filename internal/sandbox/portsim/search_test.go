package portsim

import (
	"fmt"
	"reflect"
	"sort"
	"testing"
)

func searchFixture(t *testing.T) *harness {
	h := newHarness(t).withFixtures()
	type P = map[string]any
	h.upsert("project", P{"identifier": "p1", "title": "Alpha", "properties": P{"name": "alpha", "count": 1, "public": true, "tags": []any{"a", "b"}, "created": "2024-01-01T00:00:00Z"}})
	h.upsert("project", P{"identifier": "p2", "properties": P{"name": "beta", "count": 5, "public": false, "tags": []any{"b"}, "created": "2024-06-01T00:00:00Z"}})
	h.upsert("project", P{"identifier": "p3", "team": []any{"core"}, "properties": P{"name": "gamma", "count": 10, "tags": []any{}, "created": "2025-01-01T00:00:00Z"}})
	h.upsert("project", P{"identifier": "p4", "properties": P{"name": "alphabet", "count": 7}})
	return h
}

func rl(prop, op string, v any) map[string]any {
	r := map[string]any{"property": prop, "operator": op}
	if v != nil {
		r["value"] = v
	}
	return r
}

func and(rules ...any) map[string]any {
	return map[string]any{"combinator": "and", "rules": append([]any{}, rules...)}
}
func or(rules ...any) map[string]any {
	return map[string]any{"combinator": "or", "rules": append([]any{}, rules...)}
}

func TestSearchOperators(t *testing.T) {
	h := searchFixture(t)
	tests := []struct {
		name  string
		query map[string]any
		want  []string
	}{
		{"=", and(rl("name", "=", "alpha")), []string{"p1"}},
		{"!=", and(rl("name", "!=", "alpha")), []string{"p2", "p3", "p4"}},
		{"in", and(rl("name", "in", []any{"alpha", "beta"})), []string{"p1", "p2"}},
		{"notIn", and(rl("name", "notIn", []any{"alpha", "beta"})), []string{"p3", "p4"}},
		{"contains", and(rl("name", "contains", "lph")), []string{"p1", "p4"}},
		{"containsAny (array elements, not substrings)", and(rl("tags", "containsAny", []any{"a", "zz", "b-"})), []string{"p1"}},
		{"containsAny two hits", and(rl("tags", "containsAny", []any{"b"})), []string{"p1", "p2"}},
		{"in on array", and(rl("tags", "in", []any{"a"})), []string{"p1"}},
		{"doesNotContains", and(rl("name", "doesNotContains", "ph")), []string{"p2", "p3"}},
		{"beginsWith", and(rl("name", "beginsWith", "alpha")), []string{"p1", "p4"}},
		{"doesNotBeginsWith", and(rl("name", "doesNotBeginsWith", "alpha")), []string{"p2", "p3"}},
		{"endsWith", and(rl("name", "endsWith", "a")), []string{"p1", "p2", "p3"}},
		{"doesNotEndsWith", and(rl("name", "doesNotEndsWith", "a")), []string{"p4"}},
		{"isEmpty", and(rl("public", "isEmpty", nil)), []string{"p3", "p4"}},
		{"isNotEmpty", and(rl("public", "isNotEmpty", nil)), []string{"p1", "p2"}},
		{"isEmpty array", and(rl("tags", "isEmpty", nil)), []string{"p3", "p4"}},
		{">", and(rl("count", ">", 5)), []string{"p3", "p4"}},
		{">=", and(rl("count", ">=", 5)), []string{"p2", "p3", "p4"}},
		{"<", and(rl("count", "<", 5)), []string{"p1"}},
		{"<=", and(rl("count", "<=", 5)), []string{"p1", "p2"}},
		{"= boolean", and(rl("public", "=", false)), []string{"p2"}},
		{"date >", and(rl("created", ">", "2024-03-01T00:00:00Z")), []string{"p2", "p3"}},
		{"between", and(rl("created", "between", map[string]any{"from": "2024-03-01T00:00:00Z", "to": "2024-12-31T00:00:00Z"})), []string{"p2"}},
		{"notBetween", and(rl("created", "notBetween", map[string]any{"from": "2024-03-01T00:00:00Z", "to": "2024-12-31T00:00:00Z"})), []string{"p1", "p3"}},
		{"$identifier", and(rl("$identifier", "=", "p2")), []string{"p2"}},
		{"$identifier in", and(rl("$identifier", "in", []any{"p4", "p1", "zz"})), []string{"p1", "p4"}},
		{"$title", and(rl("$title", "=", "Alpha")), []string{"p1"}},
		{"$team containsAny", and(rl("$team", "containsAny", []any{"core"})), []string{"p3"}},
		{"$team in", and(rl("$team", "in", []any{"core", "other"})), []string{"p3"}},
		{"date = is the same instant", and(rl("created", "=", "2024-01-01T00:00:00.000Z")), []string{"p1"}},
		{"$identifier contains", and(rl("$identifier", "contains", "3")), []string{"p3"}},
		{"$blueprint", and(rl("$blueprint", "=", "project")), []string{"p1", "p2", "p3", "p4"}},
		{"$createdAt preset", and(rl("$createdAt", "between", map[string]any{"preset": "lastDay"})), []string{"p1", "p2", "p3", "p4"}},
		{"$updatedAt >", and(rl("$updatedAt", ">", "2030-01-01T00:00:00Z")), []string{}},
		{"nested", or(rl("name", "=", "alpha"), and(rl("count", ">", 5), rl("name", "beginsWith", "g"))), []string{"p1", "p3"}},
		{"empty and matches all", and(), []string{"p1", "p2", "p3", "p4"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := h.sub(t)
			out := h.must(200, "POST", "/v1/blueprints/project/entities/search", map[string]any{"query": tc.query})
			if got := ids(t, out); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestSearchValidation(t *testing.T) {
	h := searchFixture(t)
	tests := []struct {
		name string
		body map[string]any
		msg  string
	}{
		{"unknown operator", map[string]any{"query": and(rl("name", "like", "a"))}, "allowed values"},
		{"unimplemented operator", map[string]any{"query": and(map[string]any{"operator": "relatedTo", "blueprint": "x", "value": "y"})}, "not implemented"},
		{"limit 1001", map[string]any{"limit": 1001}, "1 to 1000"},
		{"limit 0", map[string]any{"limit": 0}, "1 to 1000"},
		{"limit fraction", map[string]any{"limit": 2.5}, "integer"},
		{"limit string", map[string]any{"limit": "10"}, "must be number"},
		{"unknown body key", map[string]any{"size": 10}, "additional properties"},
		{"combinator missing", map[string]any{"query": map[string]any{"rules": []any{}}}, "'combinator'"},
		{"combinator invalid", map[string]any{"query": map[string]any{"combinator": "xor", "rules": []any{}}}, "and, or"},
		{"rules missing", map[string]any{"query": map[string]any{"combinator": "and"}}, "'rules'"},
		{"value missing", map[string]any{"query": and(map[string]any{"property": "name", "operator": "="})}, "'value'"},
		{"in needs array", map[string]any{"query": and(rl("name", "in", "alpha"))}, "array"},
		{"isEmpty takes no value", map[string]any{"query": and(rl("name", "isEmpty", "x"))}, "additional properties"},
		{"unknown meta property", map[string]any{"query": and(rl("$colour", "=", "x"))}, "meta-property"},
		{"bad date", map[string]any{"query": and(rl("created", ">", "yesterday"))}, "date-time"},
		{"include not array", map[string]any{"include": "identifier"}, "must be array"},
		{"garbage cursor", map[string]any{"from": "!!!"}, "cursor"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := h.sub(t)
			st, body := h.do("POST", "/v1/blueprints/project/entities/search", tc.body)
			expectError(t, st, body, 422, codeInvalidRequest, tc.msg)
		})
	}
	st, body := h.do("POST", "/v1/blueprints/ghost/entities/search", map[string]any{})
	expectError(t, st, body, 404, codeNotFound, "ghost")
}

func TestSearchInclude(t *testing.T) {
	h := searchFixture(t)
	out := h.must(200, "POST", "/v1/blueprints/project/entities/search", map[string]any{
		"query": and(rl("$identifier", "=", "p1")), "include": []any{"$title", "properties.name", "$updatedAt", "relations.none"}})
	got := as[map[string]any](t, as[[]any](t, out["entities"])[0])
	want := map[string]any{"identifier": "p1", "title": "Alpha", "properties": map[string]any{"name": "alpha"},
		"updatedAt": "2025-06-01T12:00:00.000Z", "relations": map[string]any{}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("include: got %v, want %v", got, want)
	}
	out = h.must(200, "POST", "/v1/blueprints/project/entities/search", map[string]any{
		"query": and(rl("$identifier", "=", "p1")), "exclude": []any{"properties", "$createdBy", "identifier"}})
	got = as[map[string]any](t, as[[]any](t, out["entities"])[0])
	if _, has := got["properties"]; has || got["createdBy"] != nil || got["identifier"] != "p1" || got["relations"] == nil {
		t.Fatalf("exclude: %v", got)
	}
	// GET takes repeated include parameters.
	got = as[map[string]any](t, h.must(200, "GET", "/v1/blueprints/project/entities/p2?include=identifier&include=properties.count", nil)["entity"])
	if !reflect.DeepEqual(got, map[string]any{"identifier": "p2", "properties": map[string]any{"count": float64(5)}}) {
		t.Fatalf("GET include: %v", got)
	}
}

func TestSearchPaging(t *testing.T) {
	h := newHarness(t).withFixtures()
	for i := 0; i < 25; i += 20 {
		n := min(20, 25-i)
		batch := make([]any, n)
		for j := range batch {
			batch[j] = map[string]any{"identifier": fmt.Sprintf("r%02d", 24-(i+j)), "properties": map[string]any{"pulls": float64(i + j)}}
		}
		h.must(200, "POST", "/v1/blueprints/repository/entities/bulk?upsert=true", map[string]any{"entities": batch})
	}
	page := func(body map[string]any) ([]string, string) {
		out := h.must(200, "POST", "/v1/blueprints/repository/entities/search", body)
		next, _ := out["next"].(string)
		return ids(t, out), next
	}
	var all []string
	got, next := page(map[string]any{"limit": 10, "include": []any{"identifier"}})
	all = append(all, got...)
	// Writes between pages: an id before the cursor is not returned, one after is.
	h.upsert("repository", map[string]any{"identifier": "r00a"})
	h.upsert("repository", map[string]any{"identifier": "zz"})
	pages := 1
	for next != "" {
		got, next = page(map[string]any{"limit": 10, "from": next})
		all = append(all, got...)
		pages++
	}
	want := []string{}
	for i := range 25 {
		want = append(want, fmt.Sprintf("r%02d", i))
	}
	want = append(want, "zz")
	if pages != 3 || !reflect.DeepEqual(all, want) {
		t.Fatalf("pages %d, ids %v", pages, all)
	}
	if !sort.StringsAreSorted(all) {
		t.Fatal("order is not stable")
	}

	// Filtered paging, default limit 200 returns everything in one page.
	got, next = page(map[string]any{"query": and(rl("pulls", ">=", 20))})
	if len(got) != 5 || next != "" {
		t.Fatalf("filtered: %v next %q", got, next)
	}
	_, next = page(map[string]any{"limit": 2, "query": and(rl("pulls", ">=", 20))})
	got, _ = page(map[string]any{"limit": 2, "query": and(rl("pulls", ">=", 20)), "from": next})
	if !reflect.DeepEqual(got, []string{"r02", "r03"}) {
		t.Fatalf("filtered page 2: %v", got)
	}
	// A cursor belongs to its blueprint.
	st, body := h.do("POST", "/v1/blueprints/project/entities/search", map[string]any{"from": next})
	expectError(t, st, body, 422, codeInvalidRequest, "cursor")
	// Exactly limit matches: no next.
	if _, next = page(map[string]any{"limit": 5, "query": and(rl("pulls", ">=", 20))}); next != "" {
		t.Fatalf("next on a full last page: %q", next)
	}
}

func TestGlobalSearchAndCount(t *testing.T) {
	h := searchFixture(t)
	h.upsert("repository", map[string]any{"identifier": "r-alpha", "properties": map[string]any{"name": "alpha"}})
	out := h.must(200, "POST", "/v1/entities/search?include=identifier&include=blueprint", and(rl("name", "=", "alpha")))
	want := []any{
		map[string]any{"identifier": "p1", "blueprint": "project"},
		map[string]any{"identifier": "r-alpha", "blueprint": "repository"},
	}
	// artifact has no property "name": the query does not fit it.
	if !reflect.DeepEqual(out["entities"], want) || !reflect.DeepEqual(out["failedBlueprints"], []any{"artifact"}) ||
		!reflect.DeepEqual(out["matchingBlueprints"], []any{"project", "repository"}) {
		t.Fatalf("global: %v", out)
	}
	out = h.must(200, "POST", "/v1/entities/search", and(rl("$blueprint", "=", "repository"), rl("name", "=", "alpha")))
	if !reflect.DeepEqual(ids(t, out), []string{"r-alpha"}) || !reflect.DeepEqual(out["matchingBlueprints"], []any{"repository"}) ||
		!reflect.DeepEqual(out["failedBlueprints"], []any{}) {
		t.Fatalf("global with $blueprint: %v", out)
	}
	// A query that fits no candidate blueprint is that blueprint's 422.
	st, body := h.do("POST", "/v1/entities/search", and(rl("ghost", "=", "x")))
	expectError(t, st, body, 422, codeInvalidRequest, `body/rules/0/property: blueprint "artifact" has no property "ghost"`)
	st, body = h.do("POST", "/v1/entities/search", and(rl("$blueprint", "=", "repository"), rl("pulls", "contains", "1")))
	expectError(t, st, body, 422, codeInvalidRequest, `body/rules/1/operator: "contains" does not apply to property "pulls"`)
	st, body = h.do("POST", "/v1/entities/search", map[string]any{"query": and()})
	expectError(t, st, body, 422, codeInvalidRequest, "additional properties")
	st, body = h.do("POST", "/v1/entities/search", map[string]any{"combinator": "and"})
	expectError(t, st, body, 422, codeInvalidRequest, "'rules'")

	if n := h.must(200, "GET", "/v1/blueprints/project/entities-count", nil)["count"]; n != float64(4) {
		t.Fatalf("count %v", n)
	}
	h.must(404, "GET", "/v1/blueprints/ghost/entities-count", nil)
	if got := ids(t, h.must(200, "GET", "/v1/blueprints/project/entities", nil)); !reflect.DeepEqual(got, []string{"p1", "p2", "p3", "p4"}) {
		t.Fatalf("list: %v", got)
	}
}
