package portsim

import (
	"reflect"
	"testing"
)

// scopeFixture: "scoped" carries the ownership mark harborportScope (a
// string property), "unscoped" does not; both relate to repository.
func scopeFixture(t *testing.T) *harness {
	h := newHarness(t).withFixtures()
	type P = map[string]any
	for _, bp := range []P{
		{"identifier": "scoped", "title": "Scoped", "schema": P{"properties": P{
			"harborportScope": P{"type": "string"},
			"digest":          P{"type": "string"},
			"sizes":           P{"type": "array", "items": P{"type": "number"}},
			"due":             P{"type": "string", "format": "timer"},
		}},
			"calculationProperties": P{"label": P{"title": "Label", "calculation": ".identifier", "type": "string"}},
			"relations": P{
				"repository": P{"target": "repository", "required": false, "many": false},
				"related":    P{"target": "repository", "required": false, "many": true},
			}},
		{"identifier": "unscoped", "title": "Unscoped", "schema": P{"properties": P{"digest": P{"type": "string"}}}},
	} {
		h.must(201, "POST", "/v1/blueprints", bp)
	}
	h.upsert("repository", P{"identifier": "r1", "title": "Nginx", "properties": P{"name": "lib/nginx"}})
	h.upsert("repository", P{"identifier": "r2", "title": "Redis", "properties": P{"name": "lib/redis"}})
	h.upsert("scoped", P{"identifier": "eu:a", "properties": P{"harborportScope": "eu", "digest": "sha256:1"}, "relations": P{"repository": "r1", "related": []any{"r1", "r2"}}})
	h.upsert("scoped", P{"identifier": "us:b", "properties": P{"harborportScope": "us", "digest": "sha256:2"}, "relations": P{"repository": "r2"}})
	h.upsert("scoped", P{"identifier": "c", "properties": P{"digest": "sha256:3"}})
	h.upsert("unscoped", P{"identifier": "u", "properties": P{"digest": "sha256:9"}})
	return h
}

// rel builds a relation rule; extra is key, value, key, value, ...
func rel(relation, op string, v any, extra ...string) map[string]any {
	r := map[string]any{"relation": relation, "operator": op}
	if v != nil {
		r["value"] = v
	}
	for i := 0; i+1 < len(extra); i += 2 {
		r[extra[i]] = extra[i+1]
	}
	return r
}

// The queries harborport's engine sends, and the other forms Port documents,
// are accepted when the blueprint has what they name, and answer the right
// entities.
func TestSearchRulesAccepted(t *testing.T) {
	h := scopeFixture(t)
	scopeIs := func(s string) map[string]any {
		return or(rl("harborportScope", "=", s), rl("harborportScope", "isEmpty", nil))
	}
	tests := []struct {
		name  string
		query map[string]any
		want  []string
	}{
		{"$identifier in", and(rl("$identifier", "in", []any{"us:b", "c", "zz"})), []string{"c", "us:b"}},
		{"$identifier beginsWith", and(rl("$identifier", "beginsWith", "eu:")), []string{"eu:a"}},
		{"scope = or isEmpty", scopeIs("eu"), []string{"c", "eu:a"}},
		{"scope = or isEmpty, nested under and with $identifier in", and(rl("$identifier", "in", []any{"eu:a", "us:b"}), scopeIs("us")), []string{"us:b"}},
		{"scope !=", and(rl("harborportScope", "!=", "eu")), []string{"c", "us:b"}},
		{"scope isNotEmpty", and(rl("harborportScope", "isNotEmpty", nil)), []string{"eu:a", "us:b"}},
		{"scope in", and(rl("harborportScope", "in", []any{"us"})), []string{"us:b"}},
		{"deep nesting", and(or(and(or(rl("digest", "endsWith", ":3"))))), []string{"c"}},
		{"empty or inside and", and(rl("digest", "isNotEmpty", nil), or()), []string{}},
		{"relation =", and(rel("repository", "=", "r1")), []string{"eu:a"}},
		{"relation in", and(rel("repository", "in", []any{"r1", "r2"})), []string{"eu:a", "us:b"}},
		{"relation isEmpty", and(rel("repository", "isEmpty", nil)), []string{"c"}},
		{"relation targetProperty $title", and(rel("repository", "beginsWith", "Red", "targetProperty", "$title")), []string{"us:b"}},
		{"many relation containsAny", and(rel("related", "containsAny", []any{"r2"})), []string{"eu:a"}},
		{"number array isEmpty", and(rl("sizes", "isEmpty", nil)), []string{"c", "eu:a", "us:b"}},
		{"timer between", and(rl("due", "between", map[string]any{"preset": "lastWeek"})), []string{}},
		{"calculation property isEmpty (portsim does not compute it)", and(rl("label", "isEmpty", nil)), []string{"c", "eu:a", "us:b"}},
		{"= null", and(map[string]any{"property": "harborportScope", "operator": "=", "value": nil}), []string{"c"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := h.sub(t)
			out := h.must(200, "POST", "/v1/blueprints/scoped/entities/search", map[string]any{"query": tc.query})
			if got := ids(t, out); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
}

// What Port's schema or documents rule out, and what the blueprint does not
// have, is answered 422 invalid_request naming the rule.
func TestSearchRulesRejected(t *testing.T) {
	h := scopeFixture(t)
	dr := map[string]any{"from": "2024-01-01T00:00:00Z", "to": "2024-02-01T00:00:00Z"}
	tests := []struct {
		name  string
		bp    string
		query map[string]any
		msg   string // a substring of the message, rule path included
	}{
		// What the blueprint does not have.
		{"unknown property", "project", and(rl("ghost", "=", "x")),
			`body/query/rules/0/property: blueprint "project" has no property "ghost"`},
		{"the scope mark on a blueprint without it", "unscoped", or(rl("harborportScope", "=", "eu"), rl("harborportScope", "isEmpty", nil)),
			`body/query/rules/0/property: blueprint "unscoped" has no property "harborportScope" (its properties: digest;`},
		{"the scope mark, second rule", "unscoped", or(rl("digest", "isEmpty", nil), rl("harborportScope", "isEmpty", nil)),
			`body/query/rules/1/property: blueprint "unscoped" has no property "harborportScope"`},
		{"the scope mark with !=", "unscoped", and(rl("harborportScope", "!=", "eu")), `has no property "harborportScope"`},
		{"the scope mark with isNotEmpty", "unscoped", and(rl("harborportScope", "isNotEmpty", nil)), `has no property "harborportScope"`},
		{"unknown property three levels down", "project", and(rl("name", "=", "x"), or(and(rl("ghost", "isEmpty", nil)))),
			`body/query/rules/1/rules/0/rules/0/property: blueprint "project" has no property "ghost"`},
		{"a relation named as a property", "scoped", and(rl("repository", "=", "r1")),
			`body/query/rules/0/property: "repository" is a relation of blueprint "scoped", not a property; filter relations with {"relation": "repository"`},
		{"unknown relation", "scoped", and(rel("project", "=", "p")),
			`body/query/rules/0/relation: blueprint "scoped" has no relation "project" (its relations: related, repository)`},
		{"relation on a blueprint without relations", "unscoped", and(rel("repository", "isEmpty", nil)), `(its relations: none)`},

		// Operator against the property's type.
		{"< on a string", "project", and(rl("name", "<", 5)), `body/query/rules/0/operator: "<" does not apply to property "name" of blueprint "project" (type string)`},
		{">= on a boolean", "project", and(rl("public", ">=", 1)), `">=" does not apply to property "public"`},
		{"between on a string", "project", and(rl("name", "between", dr)), `"between" does not apply to property "name" of blueprint "project" (type string); it checks date-time values`},
		{"notBetween on a number", "project", and(rl("count", "notBetween", dr)), `"notBetween" does not apply to property "count"`},
		{"contains on a number", "project", and(rl("count", "contains", "1")), `"contains" does not apply to property "count" of blueprint "project" (type number)`},
		{"contains on an array", "project", and(rl("tags", "contains", "a")), `for an array use containsAny`},
		{"contains on a date-time", "project", and(rl("created", "contains", "2024")), `"contains" does not apply to property "created"`},
		{"beginsWith on a boolean", "project", and(rl("public", "beginsWith", "t")), `"beginsWith" does not apply to property "public"`},
		{"doesNotEndsWith on an object", "project", and(rl("meta", "doesNotEndsWith", "x")), `"doesNotEndsWith" does not apply to property "meta"`},
		{"containsAny on a string", "project", and(rl("name", "containsAny", []any{"a"})), `"containsAny" does not apply to property "name" of blueprint "project" (type string); it checks an array; for a string use in`},
		{"containsAny on $identifier", "project", and(rl("$identifier", "containsAny", []any{"p1"})), `"containsAny" does not apply to meta-property "$identifier"`},
		{"containsAny on numbers", "scoped", and(rl("sizes", "containsAny", []any{"1"})), `this array holds numbers`},
		{"in on a number", "project", and(rl("count", "in", []any{"1"})), `"in" does not apply to property "count"`},
		{"in on a boolean", "project", and(rl("public", "in", []any{"true"})), `"in" does not apply to property "public"`},
		{"notIn on a date-time", "project", and(rl("created", "notIn", []any{"2024-01-01T00:00:00Z"})), `"notIn" does not apply to property "created"`},
		{"= on an array", "project", and(rl("tags", "=", "a")), `"=" does not apply to property "tags" of blueprint "project" (type array); for an array use containsAny`},
		{"!= on $team", "project", and(rl("$team", "!=", "core")), `"!=" does not apply to meta-property "$team"`},
		{"= on an object", "project", and(rl("meta", "=", "x")), `"=" does not apply to property "meta"`},
		{"= on a many relation", "scoped", and(rel("related", "=", "r1")), `"=" does not apply to relation "related" of blueprint "scoped" (type array)`},
		{"between on a relation", "scoped", and(map[string]any{"relation": "repository", "operator": "between", "value": dr}), `must NOT have additional properties: "relation"`},

		// Value against the property's type.
		{"= with an array on a string", "project", and(rl("name", "=", []any{"alpha"})),
			`body/query/rules/0/value: operator "=" on property "name" of blueprint "project" (type string) takes a string, got array`},
		{"= with a number on a string", "project", and(rl("name", "=", 5)), `takes a string, got number`},
		{"= with a string on a number", "project", and(rl("count", "=", "5")), `takes a number, got string`},
		{"= with a string on a boolean", "project", and(rl("public", "=", "true")), `takes true or false, got string`},
		{"!= with a number on a boolean", "project", and(rl("public", "!=", 0)), `takes true or false, got number`},
		{"= with a boolean on $identifier", "project", and(rl("$identifier", "=", true)), `takes a string, got boolean`},
		{"= with a non-date on a date-time", "project", and(rl("created", "=", "yesterday")), `takes an ISO 8601 date-time string`},
		{"= with a date range", "project", and(rl("created", "=", dr)), `operator "=" takes a date-time string, not a date range or preset; use between or notBetween`},
		{"> with a number on a date-time", "project", and(rl("created", ">", 5)), `takes an ISO 8601 date-time string, got number`},
		{"> with a date on a number", "project", and(rl("count", ">", "2024-01-01T00:00:00Z")), `takes a number, got string`},
		{"in with numbers", "project", and(rl("name", "in", []any{"a", 1})), `body/query/rules/0/value/1 must be string, got number`},
		{"in with a string", "project", and(rl("name", "in", "alpha")), `value must be array of strings for operator "in"`},
		{"containsAny with booleans", "project", and(rl("tags", "containsAny", []any{true})), `value/0 must be string, got boolean`},
		{"contains with a number", "project", and(rl("name", "contains", 5)), `value must be string for operator "contains", got number`},
		{"contains with a list in a search", "project", and(rl("name", "contains", []any{"a"})), `value must be string for operator "contains", got array`},
		{"between with a string", "project", and(rl("created", "between", "2024")), `must be object ({from, to} or {preset})`},
		{"between with an unknown preset", "project", and(rl("created", "between", map[string]any{"preset": "lastDecade"})), `value/preset must be one of`},
		{"between with an extra key", "project", and(rl("created", "between", map[string]any{"preset": "today", "tz": "UTC"})), `value must NOT have additional properties: "tz"`},

		// Shapes.
		{"isEmpty with a value", "project", and(rl("name", "isEmpty", "")), `body/query/rules/0 must NOT have additional properties: "value"`},
		{"property and relation", "scoped", and(map[string]any{"relation": "repository", "property": "digest", "operator": "=", "value": "r1"}), `additional properties: "property"`},
		{"bad targetProperty", "scoped", and(rel("repository", "=", "r1", "targetProperty", "$team")), `targetProperty must be equal to one of the allowed values: $title, $identifier`},
		{"user-context value", "project", and(rl("name", "=", map[string]any{"context": "user", "property": "name"})), `user-context values`},
		{"user-context property", "project", and(map[string]any{"property": map[string]any{"context": "user", "property": "x"}, "operator": "=", "value": "x"}), `user-context properties`},
		{"rule not an object, nested", "project", and(or("name")), `body/query/rules/0/rules/0 must be object, got string`},
		{"nested group without rules", "project", and(map[string]any{"combinator": "or"}), `body/query/rules/0 must have required property 'rules'`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := h.sub(t)
			st, body := h.do("POST", "/v1/blueprints/"+tc.bp+"/entities/search", map[string]any{"query": tc.query})
			expectError(t, st, body, 422, codeInvalidRequest, tc.msg)
		})
	}
}

// Search queries in identifiers and relations (def-5 / def-6) are bound to
// the blueprint they run against: the entity's own for an identifier, the
// relation's target for a relation.
func TestMappingQueriesAgainstBlueprint(t *testing.T) {
	h := scopeFixture(t)
	q := func(prop, op string, v any) map[string]any {
		return and(rl(prop, op, v))
	}
	tests := []struct {
		name   string
		bp     string
		entity map[string]any
		msg    string
	}{
		{"identifier query on a property the blueprint lacks", "scoped", map[string]any{"identifier": q("name", "=", "lib/nginx")},
			`body/identifier/rules/0/property: blueprint "scoped" has no property "name"`},
		{"relation query on a property the target lacks", "scoped", map[string]any{"identifier": "x", "relations": map[string]any{"repository": q("digest", "=", "sha256:1")}},
			`body/relations/repository/rules/0/property: blueprint "repository" has no property "digest"`},
		{"relation query, number against a string", "scoped", map[string]any{"identifier": "x", "relations": map[string]any{"repository": q("name", "=", 5)}},
			`body/relations/repository/rules/0/value: operator "=" on property "name" of blueprint "repository" (type string) takes a string, got number`},
		{"relation query, contains on a number", "scoped", map[string]any{"identifier": "x", "relations": map[string]any{"related": q("pulls", "contains", "1")}},
			`"contains" does not apply to property "pulls" of blueprint "repository"`},
		{"identifier query, = with a boolean (def-5)", "repository", map[string]any{"identifier": q("name", "=", true)},
			`body/identifier/rules/0/value must be string, number or null for operator "="`},
		{"relation query, in with numbers (def-6)", "scoped", map[string]any{"identifier": "x", "relations": map[string]any{"related": q("name", "in", []any{1})}},
			`body/relations/related/rules/0/value/0 must be string, got number`},
		{"relation query, != is not a mapping operator", "scoped", map[string]any{"identifier": "x", "relations": map[string]any{"repository": q("name", "!=", "x")}},
			`operator must be equal to one of the allowed values: = in containsAny contains`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := h.sub(t)
			st, body := h.do("POST", "/v1/blueprints/"+tc.bp+"/entities?upsert=true", tc.entity)
			expectError(t, st, body, 422, codeInvalidRequest, tc.msg)
		})
	}
	// The same queries, fitting the blueprints, resolve.
	h.upsert("scoped", map[string]any{"identifier": "x", "relations": map[string]any{
		"repository": q("name", "=", "lib/redis"), "related": q("name", "contains", []any{"nginx", "redis"})}})
	x, _ := h.srv.Entity("scoped", "x")
	if rels := as[map[string]any](t, x["relations"]); rels["repository"] != "r2" || !reflect.DeepEqual(rels["related"], []any{"r1", "r2"}) {
		t.Fatalf("relation queries: %v", rels)
	}
	h.must(201, "POST", "/v1/blueprints/scoped/entities?upsert=true&merge=true",
		map[string]any{"identifier": q("harborportScope", "=", "us"), "properties": map[string]any{"digest": "sha256:22"}})
	if b, _ := h.srv.Entity("scoped", "us:b"); as[map[string]any](t, b["properties"])["digest"] != "sha256:22" {
		t.Fatalf("identifier query on the scope mark did not update us:b: %v", b)
	}
}

// Global search binds the query to each candidate blueprint: those it does
// not fit are failedBlueprints.
func TestGlobalSearchPerBlueprint(t *testing.T) {
	h := scopeFixture(t)
	out := h.must(200, "POST", "/v1/entities/search?include=identifier",
		and(rl("$blueprint", "in", []any{"scoped", "unscoped"}), rl("harborportScope", "=", "eu")))
	if !reflect.DeepEqual(ids(t, out), []string{"eu:a"}) || !reflect.DeepEqual(out["matchingBlueprints"], []any{"scoped"}) ||
		!reflect.DeepEqual(out["failedBlueprints"], []any{"unscoped"}) {
		t.Fatalf("global: %v", out)
	}
	st, body := h.do("POST", "/v1/entities/search", and(rl("$blueprint", "=", "unscoped"), rl("harborportScope", "isEmpty", nil)))
	expectError(t, st, body, 422, codeInvalidRequest, `body/rules/1/property: blueprint "unscoped" has no property "harborportScope"`)
}
