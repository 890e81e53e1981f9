package portsim

import (
	"fmt"
	"reflect"
	"testing"
)

func repos(n int, prefix string) []any {
	out := make([]any, n)
	for i := range out {
		out[i] = map[string]any{"identifier": fmt.Sprintf("%s%02d", prefix, i), "properties": map[string]any{"pulls": float64(i)}}
	}
	return out
}

func TestBulkUpsertShape(t *testing.T) {
	h := newHarness(t).withFixtures()
	const path = "/v1/blueprints/repository/entities/bulk"
	tests := []struct {
		name   string
		query  string
		body   any
		status int
		code   string
		msg    string
	}{
		{"21 entities", "?upsert=true", map[string]any{"entities": repos(21, "x")}, 422, codeInvalidRequest, "1 to 20"},
		{"0 entities", "?upsert=true", map[string]any{"entities": []any{}}, 422, codeInvalidRequest, "1 to 20"},
		{"entities missing", "?upsert=true", map[string]any{}, 422, codeInvalidRequest, "'entities'"},
		{"unknown key", "?upsert=true", map[string]any{"entities": repos(1, "x"), "mode": "fast"}, 422, codeInvalidRequest, "additional properties"},
		{"upsert missing", "", map[string]any{"entities": repos(1, "x")}, 422, codeInvalidRequest, "'upsert'"},
		{"item not object", "?upsert=true", map[string]any{"entities": []any{"x"}}, 422, codeInvalidRequest, "entities/0 must be object"},
		{"one bad identifier fails the request", "?upsert=true", map[string]any{"entities": append(repos(2, "x"), map[string]any{"identifier": ".."})}, 422, codeInvalidRequest, "entities/2/identifier"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := h.sub(t)
			st, body := h.do("POST", path+tc.query, tc.body)
			expectError(t, st, body, tc.status, tc.code, tc.msg)
			if n := h.srv.EntityCount("repository"); n != 0 {
				t.Fatalf("a rejected request wrote %d entities", n)
			}
		})
	}

	t.Run("20 entities", func(t *testing.T) {
		h := h.sub(t)
		out := h.must(200, "POST", path+"?upsert=true", map[string]any{"entities": repos(20, "r")})
		if out["ok"] != true || len(as[[]any](t, out["entities"])) != 20 || len(as[[]any](t, out["errors"])) != 0 {
			t.Fatalf("%v", out)
		}
		first := as[map[string]any](t, as[[]any](t, out["entities"])[0])
		if first["created"] != true || first["index"] != float64(0) || first["identifier"] != "r00" {
			t.Fatalf("first result %v", first)
		}
		again := h.must(200, "POST", path+"?upsert=true", map[string]any{"entities": repos(1, "r")})
		if as[map[string]any](t, as[[]any](t, again["entities"])[0])["created"] != false {
			t.Fatalf("second write reported created: %v", again)
		}
	})
}

// Per-entity failures: 207 with errors keyed by the request index
// (internal/port/API-NOTES.md "Bulk upsert"); the others are written.
func TestBulkUpsertPartial(t *testing.T) {
	h := newHarness(t).withFixtures()
	h.upsert("repository", map[string]any{"identifier": "r1"})
	body := map[string]any{"entities": []any{
		map[string]any{"identifier": "a0", "relations": map[string]any{"repository": "r1"}},
		map[string]any{"identifier": "a1", "relations": map[string]any{"repository": "missing"}},
		map[string]any{"identifier": "a2", "properties": map[string]any{"digest": 5.0}},
		map[string]any{"identifier": "a3", "properties": map[string]any{"nope": "x"}},
		map[string]any{"identifier": "a4"},
	}}
	st, out := h.do("POST", "/v1/blueprints/artifact/entities/bulk?upsert=true", body)
	if st != 207 || out["ok"] != false {
		t.Fatalf("status %d %v", st, out)
	}
	var okIdx []float64
	for _, e := range as[[]any](t, out["entities"]) {
		okIdx = append(okIdx, as[float64](t, as[map[string]any](t, e)["index"]))
	}
	if !reflect.DeepEqual(okIdx, []float64{0, 4}) {
		t.Fatalf("ok indexes %v", okIdx)
	}
	errs := as[[]any](t, out["errors"])
	want := []struct {
		index  float64
		id     string
		status float64
		code   string
	}{{1, "a1", 404, codeNotFound}, {2, "a2", 422, codeInvalidRequest}, {3, "a3", 422, codeInvalidRequest}}
	if len(errs) != len(want) {
		t.Fatalf("errors %v", errs)
	}
	for i, w := range want {
		e := as[map[string]any](t, errs[i])
		if e["index"] != w.index || e["identifier"] != w.id || e["statusCode"] != w.status || e["error"] != w.code || e["message"] == "" {
			t.Errorf("errors[%d] = %v, want %+v", i, e, w)
		}
	}
	if h.srv.EntityCount("artifact") != 2 {
		t.Fatalf("stored %d artifacts, want 2", h.srv.EntityCount("artifact"))
	}
}

func TestBulkDelete(t *testing.T) {
	h := newHarness(t).withFixtures()
	const path = "/v1/blueprints/repository/bulk/entities/delete"
	h.must(200, "POST", "/v1/blueprints/repository/entities/bulk?upsert=true", map[string]any{"entities": repos(5, "r")})
	h.upsert("artifact", map[string]any{"identifier": "a", "relations": map[string]any{"repository": "r01"}})
	h.upsert("repository", map[string]any{"identifier": "self", "relations": map[string]any{}})

	many := make([]any, 101)
	for i := range many {
		many[i] = fmt.Sprint(i)
	}
	tests := []struct {
		name   string
		query  string
		body   any
		status int
		code   string
		msg    string
	}{
		{"101 ids", "", map[string]any{"entities": many}, 422, codeInvalidRequest, "1 to 100"},
		{"no ids", "", map[string]any{"entities": []any{}}, 422, codeInvalidRequest, "1 to 100"},
		{"id not string", "", map[string]any{"entities": []any{1.0}}, 422, codeInvalidRequest, "must be string"},
		{"unknown key", "", map[string]any{"entities": []any{"r00"}, "all": true}, 422, codeInvalidRequest, "additional properties"},
		{"dependent blocks everything", "?delete_dependents=false", map[string]any{"entities": []any{"r00", "r01", "r02"}}, 422, codeHasDependents, `"a"`},
		{"bad delete_dependents", "?delete_dependents=1", map[string]any{"entities": []any{"r00"}}, 422, codeInvalidRequest, "boolean"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := h.sub(t)
			st, body := h.do("POST", path+tc.query, tc.body)
			expectError(t, st, body, tc.status, tc.code, tc.msg)
			if n := h.srv.EntityCount("repository"); n != 6 {
				t.Fatalf("a rejected delete changed the count to %d", n)
			}
		})
	}

	out := h.must(200, "POST", path+"?delete_dependents=false", map[string]any{"entities": []any{"r00", "ghost", "r02", "r00"}})
	if !reflect.DeepEqual(out["deletedEntities"], []any{"r00", "r02"}) {
		t.Fatalf("deletedEntities %v", out["deletedEntities"])
	}
	out = h.must(200, "POST", path+"?delete_dependents=true", map[string]any{"entities": []any{"r01"}})
	if !reflect.DeepEqual(out["deletedEntities"], []any{"r01"}) {
		t.Fatalf("deletedEntities %v", out["deletedEntities"])
	}
	if _, found := h.srv.Entity("artifact", "a"); found {
		t.Fatal("delete_dependents=true kept the dependent artifact")
	}
}
