package portsim

import (
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestUpsertEntityValidation(t *testing.T) {
	h := newHarness(t).withFixtures()
	h.upsert("project", map[string]any{"identifier": "p1", "properties": map[string]any{"name": "p1"}})
	h.upsert("repository", map[string]any{"identifier": "r1"})

	type P = map[string]any
	withProps := func(p P) P { p["name"] = "n"; return P{"identifier": "e1", "properties": p} }
	tests := []struct {
		name   string
		bp     string
		query  string
		body   any
		status int
		code   string
		msg    string
	}{
		{"valid, every type", "project", "upsert=true", withProps(P{"public": true, "count": 1.5, "created": "2024-02-03T04:05:06Z",
			"owner": "a@b.io", "link": "https://x.io/p", "tags": []any{"a"}, "meta": P{"k": 1}, "level": "low"}), 201, "", ""},
		{"null clears any property", "project", "upsert=true", withProps(P{"count": nil, "created": nil}), 201, "", ""},
		{"upsert missing", "project", "", withProps(P{}), 422, codeInvalidRequest, "'upsert'"},
		{"upsert not boolean", "project", "upsert=yes", withProps(P{}), 422, codeInvalidRequest, "boolean"},
		{"merge not boolean", "project", "upsert=true&merge=1", withProps(P{}), 422, codeInvalidRequest, "boolean"},
		{"body not an object", "project", "upsert=true", []any{1}, 422, codeInvalidRequest, "object"},
		{"unknown property", "project", "upsert=true", withProps(P{"colour": "red"}), 422, codeInvalidRequest, `no property "colour"`},
		{"number as string", "project", "upsert=true", withProps(P{"count": "12"}), 422, codeInvalidRequest, "must be number"},
		{"boolean as string", "project", "upsert=true", withProps(P{"public": "true"}), 422, codeInvalidRequest, "must be boolean"},
		{"array as string", "project", "upsert=true", withProps(P{"tags": "a"}), 422, codeInvalidRequest, "must be array"},
		{"array item type", "project", "upsert=true", withProps(P{"tags": []any{1.0}}), 422, codeInvalidRequest, "tags/0 must be string"},
		{"object as array", "project", "upsert=true", withProps(P{"meta": []any{}}), 422, codeInvalidRequest, "must be object"},
		{"string as number", "project", "upsert=true", P{"identifier": "e1", "properties": P{"name": 5.0}}, 422, codeInvalidRequest, "must be string"},
		{"date-time format", "project", "upsert=true", withProps(P{"created": "2024-02-03"}), 422, codeInvalidRequest, `format "date-time"`},
		{"email format", "project", "upsert=true", withProps(P{"owner": "not-an-email"}), 422, codeInvalidRequest, `format "email"`},
		{"url format", "project", "upsert=true", withProps(P{"link": "x.io/p"}), 422, codeInvalidRequest, `format "url"`},
		{"enum", "project", "upsert=true", withProps(P{"level": "mid"}), 422, codeInvalidRequest, "allowed values"},
		{"required property missing", "project", "upsert=true", P{"identifier": "e1", "properties": P{}}, 422, codeInvalidRequest, "'name'"},
		{"required property null", "project", "upsert=true", P{"identifier": "e1", "properties": P{"name": nil}}, 422, codeInvalidRequest, "'name'"},
		{"properties not object", "project", "upsert=true", P{"identifier": "e1", "properties": []any{}}, 422, codeInvalidRequest, "properties must be object"},
		{"identifier dot", "repository", "upsert=true", P{"identifier": "."}, 422, codeInvalidRequest, "must match pattern"},
		{"identifier with space", "repository", "upsert=true", P{"identifier": "a b"}, 422, codeInvalidRequest, "must match pattern"},
		{"identifier 1001 chars", "repository", "upsert=true", P{"identifier": strings.Repeat("i", 1001)}, 422, codeInvalidRequest, "1000"},
		{"identifier number", "repository", "upsert=true", P{"identifier": 7.0}, 422, codeInvalidRequest, "must be string"},
		{"identifier with / : = ok", "repository", "upsert=true", P{"identifier": "lib/nginx:1.2=x"}, 201, "", ""},
		{"title not string", "repository", "upsert=true", P{"identifier": "r2", "title": 3.0}, 422, codeInvalidRequest, "title must be string"},
		{"team wrong type", "repository", "upsert=true", P{"identifier": "r2", "team": 3.0}, 422, codeInvalidRequest, "team"},
		{"unknown relation", "repository", "upsert=true", P{"identifier": "r2", "relations": P{"owner": "p1"}}, 422, codeInvalidRequest, `no relation "owner"`},
		{"single relation given array", "repository", "upsert=true", P{"identifier": "r2", "relations": P{"project": []any{"p1"}}}, 422, codeInvalidRequest, "many=false"},
		{"many relation given string", "artifact", "upsert=true", P{"identifier": "a1", "relations": P{"related": "r1"}}, 422, codeInvalidRequest, "many=true"},
		{"relation target missing", "repository", "upsert=true", P{"identifier": "r2", "relations": P{"project": "ghost"}}, 404, codeNotFound, `"ghost"`},
		{"relation value pattern", "repository", "upsert=true", P{"identifier": "r2", "relations": P{"project": ".."}}, 422, codeInvalidRequest, "pattern"},
		{"relation null ok", "repository", "upsert=true", P{"identifier": "r2", "relations": P{"project": nil}}, 201, "", ""},
		{"relation ok", "artifact", "upsert=true", P{"identifier": "a1", "relations": P{"repository": "r1", "related": []any{"r1"}}}, 201, "", ""},
		{"unknown blueprint", "ghost", "upsert=true", P{"identifier": "x"}, 404, codeNotFound, `Blueprint with identifier "ghost" was not found`},
		{"exists without upsert", "repository", "upsert=false", P{"identifier": "r1"}, 409, codeTaken, "upsert=true"},
		{"extra top-level key accepted (additionalProperties true)", "repository", "upsert=true", P{"identifier": "r3", "blueprint": "repository"}, 201, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := h.sub(t)
			path := "/v1/blueprints/" + tc.bp + "/entities"
			if tc.query != "" {
				path += "?" + tc.query
			}
			st, body := h.do("POST", path, tc.body)
			if tc.status == 201 {
				if st != 201 || body["ok"] != true || body["entity"] == nil {
					t.Fatalf("got %d %v", st, body)
				}
				return
			}
			expectError(t, st, body, tc.status, tc.code, tc.msg)
		})
	}
}

func TestEntityIdentifiersInPaths(t *testing.T) {
	h := newHarness(t).withFixtures()
	for _, id := range []string{"library/nginx", "a:b", "x+y", "a=b", "ünï", "a/b/c:1.0"} {
		h.upsert("repository", map[string]any{"identifier": id})
		got := as[map[string]any](t, h.must(200, "GET", "/v1/blueprints/repository/entities/"+url.PathEscape(id), nil)["entity"])
		if got["identifier"] != id || got["blueprint"] != "repository" {
			t.Fatalf("GET %q: %v", id, got)
		}
	}
	// Unencoded "/" is a different route (Port routes by path segment).
	h.must(404, "GET", "/v1/blueprints/repository/entities/library/nginx", nil)
	h.must(200, "DELETE", "/v1/blueprints/repository/entities/"+url.PathEscape("library/nginx"), nil)
	h.must(404, "GET", "/v1/blueprints/repository/entities/"+url.PathEscape("library/nginx"), nil)
}

func TestMergeReplaceAndMeta(t *testing.T) {
	h := newHarness(t).withFixtures()
	h.upsert("project", map[string]any{"identifier": "p", "title": "P", "team": "core",
		"properties": map[string]any{"name": "n", "count": 1, "public": true}})
	created, _ := h.srv.Entity("project", "p")

	h.clock.Advance(time.Minute)
	h.must(201, "POST", "/v1/blueprints/project/entities?upsert=true&merge=true",
		map[string]any{"identifier": "p", "properties": map[string]any{"name": "n", "count": 2}})
	merged, _ := h.srv.Entity("project", "p")
	mp := as[map[string]any](t, merged["properties"])
	if mp["count"] != float64(2) || mp["public"] != true || merged["title"] != "P" || !reflect.DeepEqual(merged["team"], []any{"core"}) {
		t.Fatalf("merge lost data: %v", merged)
	}
	if merged["createdAt"] != created["createdAt"] || merged["updatedAt"] == created["updatedAt"] || merged["createdBy"] != testClientID {
		t.Fatalf("meta: created %v, merged %v", created, merged)
	}

	h.upsert("project", map[string]any{"identifier": "p", "properties": map[string]any{"name": "n2"}})
	replaced, _ := h.srv.Entity("project", "p")
	if rp := as[map[string]any](t, replaced["properties"]); rp["public"] != nil || rp["name"] != "n2" || replaced["title"] != nil {
		t.Fatalf("upsert without merge must replace: %v", replaced)
	}

	// merge without upsert does not overwrite.
	st, body := h.do("POST", "/v1/blueprints/project/entities?upsert=false&merge=true", map[string]any{"identifier": "p", "properties": map[string]any{"name": "x"}})
	expectError(t, st, body, 409, codeTaken, "")

	// A missing identifier is generated.
	out := h.upsert("project", map[string]any{"properties": map[string]any{"name": "anon"}})
	if id, _ := out["entity"].(map[string]any)["identifier"].(string); id == "" {
		t.Fatal("no generated identifier")
	}
	// validation_only writes nothing.
	h.must(201, "POST", "/v1/blueprints/project/entities?upsert=true&validation_only=true", map[string]any{"identifier": "v", "properties": map[string]any{"name": "v"}})
	if _, found := h.srv.Entity("project", "v"); found {
		t.Fatal("validation_only stored the entity")
	}
}

func TestCreateMissingRelatedEntities(t *testing.T) {
	h := newHarness(t).withFixtures()
	body := map[string]any{"identifier": "a", "relations": map[string]any{"repository": "r9", "related": []any{"r9", "r10"}}}
	st, out := h.do("POST", "/v1/blueprints/artifact/entities?upsert=true", body)
	expectError(t, st, out, 404, codeNotFound, "create_missing_related_entities")
	if _, found := h.srv.Entity("artifact", "a"); found {
		t.Fatal("failed upsert stored the entity")
	}
	h.must(201, "POST", "/v1/blueprints/artifact/entities?upsert=true&create_missing_related_entities=true", body)
	for _, id := range []string{"r9", "r10"} {
		if _, found := h.srv.Entity("repository", id); !found {
			t.Fatalf("stub %s not created", id)
		}
	}
}

func TestPatchAndPutEntity(t *testing.T) {
	h := newHarness(t).withFixtures()
	h.upsert("project", map[string]any{"identifier": "p", "title": "P", "properties": map[string]any{"name": "n", "count": 1}})
	got := as[map[string]any](t, h.must(200, "PATCH", "/v1/blueprints/project/entities/p", map[string]any{"properties": map[string]any{"public": true}, "title": nil})["entity"])
	if p := as[map[string]any](t, got["properties"]); p["count"] != float64(1) || p["public"] != true || got["title"] != nil {
		t.Fatalf("PATCH: %v", got)
	}
	tests := []struct {
		name   string
		method string
		path   string
		body   map[string]any
		status int
		code   string
		msg    string
	}{
		{"patch unknown key", "PATCH", "p", map[string]any{"blueprint": "project"}, 422, codeInvalidRequest, "additional properties"},
		{"patch bad property type", "PATCH", "p", map[string]any{"properties": map[string]any{"count": "2"}}, 422, codeInvalidRequest, "must be number"},
		{"patch missing entity", "PATCH", "ghost", map[string]any{"properties": map[string]any{}}, 404, codeNotFound, "ghost"},
		{"patch rename", "PATCH", "p", map[string]any{"identifier": "q"}, 422, codeInvalidRequest, "renaming"},
		{"put drops unspecified", "PUT", "p", map[string]any{"properties": map[string]any{"name": "m"}}, 200, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := h.sub(t)
			st, body := h.do(tc.method, "/v1/blueprints/project/entities/"+tc.path, tc.body)
			if tc.status == 200 {
				if st != 200 {
					t.Fatalf("got %d %v", st, body)
				}
				return
			}
			expectError(t, st, body, tc.status, tc.code, tc.msg)
		})
	}
	put, _ := h.srv.Entity("project", "p")
	if p := as[map[string]any](t, put["properties"]); len(p) != 1 || p["name"] != "m" {
		t.Fatalf("PUT must replace: %v", p)
	}
}

func TestDeleteEntityDependents(t *testing.T) {
	h := newHarness(t).withFixtures()
	h.upsert("project", map[string]any{"identifier": "p", "properties": map[string]any{"name": "n"}})
	h.upsert("repository", map[string]any{"identifier": "r", "relations": map[string]any{"project": "p"}})
	h.upsert("artifact", map[string]any{"identifier": "a", "relations": map[string]any{"repository": "r"}})

	st, body := h.do("DELETE", "/v1/blueprints/project/entities/p", nil)
	expectError(t, st, body, 422, codeHasDependents, `"r"`)
	st, body = h.do("DELETE", "/v1/blueprints/project/entities/p?delete_dependents=false", nil)
	expectError(t, st, body, 422, codeHasDependents, "delete_dependents=true")
	st, body = h.do("DELETE", "/v1/blueprints/project/entities/ghost", nil)
	expectError(t, st, body, 404, codeNotFound, "ghost")

	h.must(200, "DELETE", "/v1/blueprints/project/entities/p?delete_dependents=true", nil)
	for _, k := range [][2]string{{"project", "p"}, {"repository", "r"}, {"artifact", "a"}} {
		if _, found := h.srv.Entity(k[0], k[1]); found {
			t.Errorf("%s/%s survived a cascading delete", k[0], k[1])
		}
	}
}

func TestSearchQueryIdentifierAndRelation(t *testing.T) {
	h := newHarness(t).withFixtures()
	h.upsert("repository", map[string]any{"identifier": "r1", "properties": map[string]any{"name": "lib/nginx"}})
	h.upsert("repository", map[string]any{"identifier": "r2", "properties": map[string]any{"name": "lib/redis"}})
	q := func(op string, v any) map[string]any {
		return map[string]any{"combinator": "and", "rules": []any{map[string]any{"property": "name", "operator": op, "value": v}}}
	}
	// Map by property: the identifier query resolves to r1.
	h.must(201, "POST", "/v1/blueprints/repository/entities?upsert=true&merge=true",
		map[string]any{"identifier": q("=", "lib/nginx"), "properties": map[string]any{"pulls": 5}})
	if r1, _ := h.srv.Entity("repository", "r1"); as[map[string]any](t, r1["properties"])["pulls"] != float64(5) {
		t.Fatalf("identifier query did not update r1: %v", r1)
	}
	st, body := h.do("POST", "/v1/blueprints/repository/entities?upsert=true", map[string]any{"identifier": q("contains", "lib/")})
	expectError(t, st, body, 422, codeInvalidRequest, "exactly one")
	st, body = h.do("POST", "/v1/blueprints/repository/entities?upsert=true", map[string]any{"identifier": q("!=", "x")})
	expectError(t, st, body, 422, codeInvalidRequest, "allowed values")

	h.upsert("artifact", map[string]any{"identifier": "a", "relations": map[string]any{"repository": q("=", "lib/redis"), "related": q("contains", "lib/")}})
	a, _ := h.srv.Entity("artifact", "a")
	if rels := as[map[string]any](t, a["relations"]); rels["repository"] != "r2" || !reflect.DeepEqual(rels["related"], []any{"r1", "r2"}) {
		t.Fatalf("relation queries: %v", rels)
	}
	st, body = h.do("POST", "/v1/blueprints/artifact/entities?upsert=true", map[string]any{"identifier": "b", "relations": map[string]any{"repository": q("contains", "lib/")}})
	expectError(t, st, body, 404, codeNotFound, "exactly one")
}
