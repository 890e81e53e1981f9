package portsim

import (
	"strings"
	"testing"
)

// bp builds a minimal valid blueprint and applies edits to it.
func bp(id string, edit func(m map[string]any)) map[string]any {
	m := map[string]any{"identifier": id, "title": "T", "schema": map[string]any{"properties": map[string]any{
		"name": map[string]any{"type": "string"}}}}
	if edit != nil {
		edit(m)
	}
	return m
}

func props(t testing.TB, m map[string]any) map[string]any {
	t.Helper()
	return as[map[string]any](t, as[map[string]any](t, m["schema"])["properties"])
}

func TestCreateBlueprintValidation(t *testing.T) {
	tests := []struct {
		name   string
		body   map[string]any
		status int
		code   string
		msg    string
	}{
		{"valid", bp("svc", nil), 201, "", ""},
		{"identifier with / : @ + . and unicode", bp("héllo/wörld:x@y+z.v", nil), 201, "", ""},
		{"identifier dot", bp(".", nil), 422, codeInvalidRequest, "must match pattern"},
		{"identifier dotdot", bp("..", nil), 422, codeInvalidRequest, "must match pattern"},
		{"identifier three dots ok", bp("...", nil), 201, "", ""},
		{"identifier space", bp("a b", nil), 422, codeInvalidRequest, "must match pattern"},
		{"identifier equals (entity-only char)", bp("a=b", nil), 422, codeInvalidRequest, "must match pattern"},
		{"identifier empty", bp("", nil), 422, codeInvalidRequest, "must match pattern"},
		{"identifier 100 chars ok", bp(strings.Repeat("a", 100), nil), 201, "", ""},
		{"identifier 101 chars", bp(strings.Repeat("a", 101), nil), 422, codeInvalidRequest, "100 characters"},
		{"identifier missing", bp("x", func(m map[string]any) { delete(m, "identifier") }), 422, codeInvalidRequest, "'identifier'"},
		{"title missing", bp("x1", func(m map[string]any) { delete(m, "title") }), 422, codeInvalidRequest, "'title'"},
		{"title empty", bp("x2", func(m map[string]any) { m["title"] = "" }), 422, codeInvalidRequest, "title"},
		{"title 101 chars", bp("x3", func(m map[string]any) { m["title"] = strings.Repeat("t", 101) }), 422, codeInvalidRequest, "title"},
		{"description 201 chars", bp("x4", func(m map[string]any) { m["description"] = strings.Repeat("d", 201) }), 422, codeInvalidRequest, "description"},
		{"schema missing", bp("x5", func(m map[string]any) { delete(m, "schema") }), 422, codeInvalidRequest, "'schema'"},
		{"schema.properties missing", bp("x6", func(m map[string]any) { m["schema"] = map[string]any{} }), 422, codeInvalidRequest, "'properties'"},
		{"schema unknown key", bp("x7", func(m map[string]any) { as[map[string]any](t, m["schema"])["extra"] = 1 }), 422, codeInvalidRequest, "additional properties"},
		{"property id with space", bp("x8", func(m map[string]any) { props(t, m)["bad id"] = map[string]any{"type": "string"} }), 422, codeInvalidRequest, "pattern"},
		{"property id with dot", bp("x9", func(m map[string]any) { props(t, m)["a.b"] = map[string]any{"type": "string"} }), 422, codeInvalidRequest, "pattern"},
		{"property id 101 chars", bp("x10", func(m map[string]any) { props(t, m)[strings.Repeat("p", 101)] = map[string]any{"type": "string"} }), 422, codeInvalidRequest, "100 characters"},
		{"property id with = ok", bp("x11", func(m map[string]any) { props(t, m)["a=b"] = map[string]any{"type": "string"} }), 201, "", ""},
		{"property type integer", bp("x12", func(m map[string]any) { props(t, m)["n"] = map[string]any{"type": "integer"} }), 422, codeInvalidRequest, "allowed values"},
		{"property type missing", bp("x13", func(m map[string]any) { props(t, m)["n"] = map[string]any{"title": "N"} }), 422, codeInvalidRequest, "'type'"},
		{"property format uuid", bp("x14", func(m map[string]any) { props(t, m)["n"] = map[string]any{"type": "string", "format": "uuid"} }), 422, codeInvalidRequest, "format"},
		{"property format date-time ok", bp("x15", func(m map[string]any) { props(t, m)["n"] = map[string]any{"type": "string", "format": "date-time"} }), 201, "", ""},
		{"enum of wrong type", bp("x16", func(m map[string]any) { props(t, m)["n"] = map[string]any{"type": "number", "enum": []any{"a"}} }), 422, codeInvalidRequest, "enum"},
		{"required names unknown property", bp("x17", func(m map[string]any) { as[map[string]any](t, m["schema"])["required"] = []any{"ghost"} }), 422, codeInvalidRequest, "ghost"},
		{"relation to missing blueprint", bp("x18", func(m map[string]any) {
			m["relations"] = map[string]any{"r": map[string]any{"target": "nope", "required": false, "many": false}}
		}), 404, codeNotFound, `Blueprint with identifier "nope" was not found`},
		{"relation unknown key", bp("x19", func(m map[string]any) {
			m["relations"] = map[string]any{"r": map[string]any{"target": "svc", "required": false, "many": false, "cardinality": 1}}
		}), 422, codeInvalidRequest, "additional properties"},
		{"relation target missing", bp("x20", func(m map[string]any) {
			m["relations"] = map[string]any{"r": map[string]any{"required": false, "many": false}}
		}), 422, codeInvalidRequest, "'target'"},
		{"relation many not boolean", bp("x21", func(m map[string]any) {
			m["relations"] = map[string]any{"r": map[string]any{"target": "svc", "many": "yes"}}
		}), 422, codeInvalidRequest, "boolean"},
		{"relation id clashes with property", bp("x22", func(m map[string]any) {
			m["relations"] = map[string]any{"name": map[string]any{"target": "svc"}}
		}), 422, codeInvalidRequest, "unique"},
		{"self relation ok", bp("x23", func(m map[string]any) {
			m["relations"] = map[string]any{"parent": map[string]any{"target": "x23"}}
		}), 201, "", ""},
		{"duplicate", bp("svc", nil), 409, codeTaken, "already exists"},
	}
	h := newHarness(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := h.sub(t)
			st, body := h.do("POST", "/v1/blueprints", tc.body)
			if tc.status == 201 {
				if st != 201 || body["ok"] != true {
					t.Fatalf("got %d %v", st, body)
				}
				got := as[map[string]any](t, body["blueprint"])
				if got["identifier"] != tc.body["identifier"] || got["createdAt"] == nil || got["updatedBy"] != testClientID {
					t.Errorf("blueprint echo: %v", got)
				}
				return
			}
			expectError(t, st, body, tc.status, tc.code, tc.msg)
		})
	}
}

func TestBlueprintReadUpdate(t *testing.T) {
	h := newHarness(t).withFixtures()
	got := as[map[string]any](t, h.must(200, "GET", "/v1/blueprints/repository", nil)["blueprint"])
	rel := as[map[string]any](t, as[map[string]any](t, got["relations"])["project"])
	if rel["target"] != "project" || got["mirrorProperties"] == nil {
		t.Fatalf("GET blueprint: %v", got)
	}
	list := as[[]any](t, h.must(200, "GET", "/v1/blueprints", nil)["blueprints"])
	if len(list) != 3 || as[map[string]any](t, list[0])["identifier"] != "artifact" {
		t.Fatalf("list: %v", list)
	}

	// PATCH sets only what it names (Ocean's 3-stage create relies on it).
	h.must(201, "POST", "/v1/blueprints", bp("bare", nil))
	h.must(200, "PATCH", "/v1/blueprints/bare", map[string]any{"relations": map[string]any{"p": map[string]any{"target": "project"}}})
	patched, _ := h.srv.Blueprint("bare")
	if props(t, patched)["name"] == nil || as[map[string]any](t, patched["relations"])["p"] == nil {
		t.Fatalf("PATCH lost schema or relation: %v", patched)
	}
	st, body := h.do("PATCH", "/v1/blueprints/bare", map[string]any{"relations": map[string]any{"q": map[string]any{"target": "ghost"}}})
	expectError(t, st, body, 404, codeNotFound, `"ghost"`)
	st, body = h.do("PATCH", "/v1/blueprints/bare", map[string]any{"identifier": "renamed"})
	expectError(t, st, body, 422, codeInvalidRequest, "renaming")
	st, body = h.do("PUT", "/v1/blueprints/bare", map[string]any{"title": "only title"})
	expectError(t, st, body, 422, codeInvalidRequest, "'schema'")
	st, body = h.do("PUT", "/v1/blueprints/ghost", bp("ghost", nil))
	expectError(t, st, body, 404, codeNotFound, "ghost")

	// PUT replaces; entity data of removed or retyped properties is dropped.
	h.upsert("project", map[string]any{"identifier": "p1", "properties": map[string]any{"name": "n", "count": 3, "public": true}})
	put := projectBP()
	delete(props(t, put), "count")
	props(t, put)["public"] = map[string]any{"type": "string"}
	h.must(200, "PUT", "/v1/blueprints/project", put)
	e, _ := h.srv.Entity("project", "p1")
	if p := as[map[string]any](t, e["properties"]); p["count"] != nil || p["public"] != nil || p["name"] != "n" {
		t.Fatalf("entity properties after PUT: %v", p)
	}
}

func TestDeleteBlueprint(t *testing.T) {
	h := newHarness(t).withFixtures()
	h.upsert("artifact", map[string]any{"identifier": "a1"})

	st, body := h.do("DELETE", "/v1/blueprints/artifact", nil)
	expectError(t, st, body, 422, codeHasDependents, "1 entities")
	st, body = h.do("DELETE", "/v1/blueprints/repository", nil)
	expectError(t, st, body, 422, codeHasDependents, `"artifact.repository"`)
	st, body = h.do("DELETE", "/v1/blueprints/nope", nil)
	expectError(t, st, body, 404, codeNotFound, `Blueprint with identifier "nope" was not found`)

	// all-entities: migration reports RUNNING MigrationPolls times, then COMPLETED.
	out := h.must(200, "DELETE", "/v1/blueprints/artifact/all-entities?delete_blueprint=true", nil)
	mid := as[string](t, out["migrationId"])
	if mid == "" {
		t.Fatal("no migrationId")
	}
	for i, want := range []string{"RUNNING", "COMPLETED", "COMPLETED"} {
		m := as[map[string]any](t, h.must(200, "GET", "/v1/migrations/"+mid, nil)["migration"])
		if m["status"] != want {
			t.Fatalf("poll %d: status %v, want %s", i, m["status"], want)
		}
	}
	h.must(404, "GET", "/v1/blueprints/artifact", nil)
	h.must(200, "DELETE", "/v1/blueprints/repository", nil)
	st, body = h.do("GET", "/v1/migrations/unknown", nil)
	expectError(t, st, body, 404, codeNotFound, "unknown")

	st, body = h.do("DELETE", "/v1/blueprints/project/all-entities?delete_blueprint=maybe", nil)
	expectError(t, st, body, 422, codeInvalidRequest, "boolean")
}

func TestDeleteAllEntitiesKeepsBlueprintAndDetaches(t *testing.T) {
	h := newHarness(t, func(o *Options) { o.MigrationPolls = 3 }).withFixtures()
	h.upsert("repository", map[string]any{"identifier": "r1"})
	h.upsert("artifact", map[string]any{"identifier": "a1", "relations": map[string]any{"repository": "r1", "related": []any{"r1"}}})
	st, body := h.do("DELETE", "/v1/blueprints/repository/all-entities?delete_blueprint=true", nil)
	expectError(t, st, body, 422, codeHasDependents, "artifact.repository")
	mid := as[string](t, h.must(200, "DELETE", "/v1/blueprints/repository/all-entities", nil)["migrationId"])
	for range 3 {
		if s := as[map[string]any](t, h.must(200, "GET", "/v1/migrations/"+mid, nil)["migration"])["status"]; s != "RUNNING" {
			t.Fatalf("status %v, want RUNNING", s)
		}
	}
	if n := h.must(200, "GET", "/v1/blueprints/repository/entities-count", nil)["count"]; n != float64(0) {
		t.Fatalf("count %v", n)
	}
	a, _ := h.srv.Entity("artifact", "a1")
	rels := as[map[string]any](t, a["relations"])
	if rels["repository"] != nil || len(as[[]any](t, rels["related"])) != 0 {
		t.Fatalf("dangling relations: %v", rels)
	}
}
