package port

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// ents returns n entities e0 … e<n-1>.
func ents(n int) []Entity {
	out := make([]Entity, n)
	for i := range out {
		out[i] = Entity{Identifier: fmt.Sprintf("e%d", i), Properties: map[string]any{"n": i}}
	}
	return out
}

type bulkReq struct {
	Entities []map[string]any `json:"entities"`
}

// bulkOK answers a bulk upsert with every entity created, unless fail says otherwise.
func bulkOK(t *testing.T, seen *[][]string, mu *sync.Mutex, fail func(id string) (int, string)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var req bulkReq
		readJSON(t, r, &req)
		ids := make([]string, len(req.Entities))
		okList, errList := []any{}, []any{}
		for i, e := range req.Entities {
			ids[i], _ = e["identifier"].(string)
			if fail != nil {
				if status, code := fail(ids[i]); status != 0 {
					errList = append(errList, map[string]any{"identifier": ids[i], "index": i, "statusCode": status, "error": code, "message": "failed " + ids[i]})
					continue
				}
			}
			okList = append(okList, map[string]any{"identifier": ids[i], "index": i, "created": true})
		}
		mu.Lock()
		*seen = append(*seen, ids)
		mu.Unlock()
		status := 200
		if len(errList) > 0 {
			status = 207
		}
		writeJSON(w, status, map[string]any{"ok": len(errList) == 0, "entities": okList, "errors": errList})
	}
}

func TestPackBatchesMeasuresTheBody(t *testing.T) {
	mk := func(sizes ...int) []bulkItem {
		out := make([]bulkItem, len(sizes))
		for i, s := range sizes {
			out[i] = bulkItem{index: i, raw: []byte(strings.Repeat("x", s))}
		}
		return out
	}
	small := make([]int, 45)
	for i := range small {
		small[i] = 10
	}
	// Two entities whose body is exactly 1 MiB - 1 fit; one byte more does not.
	room := maxBodyBytes - 1 - len(bulkPrefix) - len(bulkSuffix) - 1 // two entities, one comma
	a, b := room/2, room-room/2
	tests := []struct {
		name  string
		items []bulkItem
		want  []int
	}{
		{"count limit", mk(small...), []int{20, 20, 5}},
		{"size limit", mk(300_000, 300_000, 300_000, 300_000, 10), []int{3, 2}},
		{"just under 1 MiB fits", mk(a, b), []int{2}},
		{"exactly 1 MiB splits", mk(a, b+1), []int{1, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []int
			for _, b := range packBatches(tt.items) {
				got = append(got, len(b))
				if n := len(bulkBody(b)); n >= maxBodyBytes {
					t.Errorf("batch body %d bytes ≥ 1 MiB", n)
				}
				if n := len(bulkBody(b)); n != bulkBodySize(n-len(bulkPrefix)-len(bulkSuffix)-(len(b)-1), len(b)) {
					t.Errorf("bulkBodySize disagrees with bulkBody")
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("batch sizes %v, want %v", got, tt.want)
			}
		})
	}
}

func TestUpsertBatchesAndQuery(t *testing.T) {
	f := newFake(t)
	var seen [][]string
	var mu sync.Mutex
	var queries sync.Map
	h := bulkOK(t, &seen, &mu, nil)
	f.handle("POST /v1/blueprints/{blueprint}/entities/bulk", func(w http.ResponseWriter, r *http.Request) {
		queries.Store(r.URL.RawQuery, true)
		if r.PathValue("blueprint") != "artifact" {
			t.Errorf("blueprint = %q", r.PathValue("blueprint"))
		}
		h(w, r)
	})
	c := f.client(t)
	in := ents(45)
	res, err := c.UpsertEntities(t.Context(), "artifact", in, UpsertOptions{Merge: true, CreateMissingRelated: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) != 3 {
		t.Errorf("requests = %d, want 3", len(seen))
	}
	for i, r := range res {
		if r.Index != i || r.Identifier != in[i].Identifier || !r.Created || r.Err != nil {
			t.Errorf("result %d = %+v", i, r)
		}
	}
	n := 0
	queries.Range(func(k, _ any) bool {
		n++
		if k != "create_missing_related_entities=true&merge=true&upsert=true" {
			t.Errorf("query = %q", k)
		}
		return true
	})
	if n != 1 {
		t.Errorf("distinct queries = %d", n)
	}
}

func TestUpsert413SplitsDownToSingles(t *testing.T) {
	f := newFake(t)
	var seen [][]string
	var mu sync.Mutex
	ok := bulkOK(t, &seen, &mu, nil)
	var rejected atomic.Int32
	f.handle("POST /v1/blueprints/{blueprint}/entities/bulk", func(w http.ResponseWriter, r *http.Request) {
		// This Port's effective limit is lower than 1 MiB: more than 3 entities, or
		// the entity "huge" alone, is too large.
		var req bulkReq
		readJSON(t, r, &req)
		huge := slices.ContainsFunc(req.Entities, func(e map[string]any) bool { return e["identifier"] == "huge" })
		if len(req.Entities) > 3 || huge {
			rejected.Add(1)
			writeJSON(w, 413, map[string]any{"ok": false, "error": "request_too_large", "message": "Request body is too large (limit is 1MiB)"})
			return
		}
		body, _ := json.Marshal(req)
		r.Body = nopBody(body)
		ok(w, r)
	})
	c := f.client(t)
	in := ents(12)
	in[5].Identifier = "huge"
	res, err := c.UpsertEntities(t.Context(), "bp", in, UpsertOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		if i == 5 {
			if r.Err == nil || r.Err.Status != 413 || r.Identifier != "huge" {
				t.Errorf("huge = %+v", r)
			}
			continue
		}
		if r.Err != nil || !r.Created {
			t.Errorf("result %d = %+v", i, r)
		}
	}
	if rejected.Load() == 0 {
		t.Error("no 413 happened")
	}
}

func TestUpsert207MapsErrorsToCallerIndex(t *testing.T) {
	f := newFake(t)
	var seen [][]string
	var mu sync.Mutex
	f.handle("POST /v1/blueprints/{blueprint}/entities/bulk", bulkOK(t, &seen, &mu, func(id string) (int, string) {
		if id == "e7" || id == "e33" {
			return 404, "not_found"
		}
		return 0, ""
	}))
	c := f.client(t, func(cfg *Config) { cfg.Concurrency = 3 })
	res, err := c.UpsertEntities(t.Context(), "bp", ents(50), UpsertOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		failed := i == 7 || i == 33
		if failed != (r.Err != nil) || r.Index != i {
			t.Errorf("result %d = %+v", i, r)
		}
		if failed && (r.Err.Code != "not_found" || r.Err.Message != fmt.Sprintf("failed e%d", i) || !strings.Contains(r.Err.Error(), "createMissingRelatedEntities")) {
			t.Errorf("error %d = %v", i, r.Err)
		}
	}
}

func TestUpsert422IsolatesTheBadEntity(t *testing.T) {
	f := newFake(t)
	var seen [][]string
	var mu sync.Mutex
	ok := bulkOK(t, &seen, &mu, nil)
	var requests atomic.Int32
	f.handle("POST /v1/blueprints/{blueprint}/entities/bulk", func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		var req bulkReq
		readJSON(t, r, &req)
		for _, e := range req.Entities {
			if e["identifier"] == ".." {
				writeJSON(w, 422, map[string]any{"ok": false, "error": "invalid_request", "message": "body/entities/3/identifier must match pattern"})
				return
			}
		}
		body, _ := json.Marshal(req)
		r.Body = nopBody(body)
		ok(w, r)
	})
	c := f.client(t)
	in := ents(20)
	in[13].Identifier = ".."
	res, err := c.UpsertEntities(t.Context(), "bp", in, UpsertOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		if (i == 13) != (r.Err != nil) {
			t.Errorf("result %d = %+v", i, r)
		}
	}
	if n := requests.Load(); n > 11 { // 1 + 2 per level over ⌈log2 20⌉ = 5 levels
		t.Errorf("requests = %d, want a bisection (≤ 11)", n)
	}
}

func TestUpsertLocalValidation(t *testing.T) {
	f := newFake(t)
	var seen [][]string
	var mu sync.Mutex
	f.handle("POST /v1/blueprints/{blueprint}/entities/bulk", bulkOK(t, &seen, &mu, nil))
	c := f.client(t)
	big := Entity{Identifier: "big", Properties: map[string]any{"blob": strings.Repeat("x", maxBodyBytes)}}
	in := []Entity{{Identifier: "ok"}, {Identifier: ""}, {Identifier: "x", Blueprint: "other"}, big}
	res, err := c.UpsertEntities(t.Context(), "bp", in, UpsertOptions{})
	if err != nil {
		t.Fatal(err)
	}
	wantCodes := []string{"", CodeInvalidEntity, CodeInvalidEntity, CodeTooLarge}
	for i, r := range res {
		got := ""
		if r.Err != nil {
			got = r.Err.Code
		}
		if got != wantCodes[i] {
			t.Errorf("result %d code %q, want %q (%v)", i, got, wantCodes[i], r.Err)
		}
	}
	if len(seen) != 1 || !slices.Equal(seen[0], []string{"ok"}) {
		t.Errorf("sent %v, want only [ok]", seen)
	}
}

func TestUpsertFatalErrorKeepsConfirmedResults(t *testing.T) {
	f := newFake(t)
	var seen [][]string
	var mu sync.Mutex
	ok := bulkOK(t, &seen, &mu, nil)
	var n atomic.Int32
	f.handle("POST /v1/blueprints/{blueprint}/entities/bulk", func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			ok(w, r)
			return
		}
		writeJSON(w, 503, map[string]any{"ok": false, "error": "unavailable", "message": "down"})
	})
	c := f.client(t, func(cfg *Config) { cfg.Concurrency = 1; cfg.MaxRetries = 1 })
	res, err := c.UpsertEntities(t.Context(), "bp", ents(60), UpsertOptions{})
	if err == nil || !strings.Contains(err.Error(), "503") {
		t.Fatalf("err = %v, want the 503", err)
	}
	if len(res) != 60 {
		t.Fatalf("results = %d", len(res))
	}
	for i, r := range res {
		if i < 20 && r.Err != nil {
			t.Errorf("confirmed %d has error %v", i, r.Err)
		}
		if i >= 20 && (r.Err == nil || r.Err.Code != CodeNotConfirmed) {
			t.Errorf("result %d = %+v, want not_confirmed", i, r)
		}
	}
	if got := n.Load(); got != 3 {
		t.Errorf("requests = %d, want 3 (one ok, one failed batch with one retry; no further batches)", got)
	}
}

func TestDeleteEntitiesChunks(t *testing.T) {
	f := newFake(t)
	var mu sync.Mutex
	var sizes []int
	f.handle("POST /v1/blueprints/{blueprint}/bulk/entities/delete", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("delete_dependents") != "true" {
			t.Errorf("query = %q", r.URL.RawQuery)
		}
		var req struct {
			Entities []string `json:"entities"`
		}
		readJSON(t, r, &req)
		mu.Lock()
		sizes = append(sizes, len(req.Entities))
		mu.Unlock()
		// Port may skip some: "x13" is not deleted.
		del := slices.DeleteFunc(slices.Clone(req.Entities), func(s string) bool { return s == "x13" })
		writeJSON(w, 200, map[string]any{"ok": true, "deletedEntities": del})
	})
	c := f.client(t)
	var ids []string
	for i := range 250 {
		ids = append(ids, fmt.Sprintf("x%d", i))
	}
	ids = append(ids, "x0") // duplicate
	deleted, err := c.DeleteEntities(t.Context(), "bp", ids, true)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(sizes)
	if !slices.Equal(sizes, []int{50, 100, 100}) {
		t.Errorf("chunk sizes = %v", sizes)
	}
	if len(deleted) != 249 || slices.Contains(deleted, "x13") || deleted[0] != "x0" || deleted[248] != "x249" {
		t.Errorf("deleted = %d ids (first %q), want 249 in order without x13", len(deleted), deleted[0])
	}
	if d, err := c.DeleteEntities(t.Context(), "bp", nil, false); d != nil || err != nil {
		t.Errorf("empty delete = %v, %v; want no request", d, err)
	}
}

func TestDeleteEntitiesDependentsError(t *testing.T) {
	f := newFake(t)
	f.handle("POST /v1/blueprints/{blueprint}/bulk/entities/delete", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 422, map[string]any{"ok": false, "error": "has_dependents", "message": "entity x has dependents"})
	})
	c := f.client(t)
	_, err := c.DeleteEntities(t.Context(), "bp", []string{"x"}, false)
	if !HasCode(err, "has_dependents") {
		t.Errorf("err = %v", err)
	}
}

func TestDeleteEntityAndGetAndCount(t *testing.T) {
	f := newFake(t)
	f.handle("DELETE /v1/blueprints/{blueprint}/entities/{entity}", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("delete_dependents") != "false" {
			t.Errorf("query = %q", r.URL.RawQuery)
		}
		switch r.PathValue("entity") {
		case "gone":
			writeJSON(w, 404, map[string]any{"ok": false, "error": "not_found", "message": "no"})
		case "blocked":
			writeJSON(w, 422, map[string]any{"ok": false, "error": "has_dependents", "message": "has dependents"})
		default:
			writeJSON(w, 200, map[string]any{"ok": true})
		}
	})
	f.handle("GET /v1/blueprints/{blueprint}/entities/{entity}", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 404, map[string]any{"ok": false, "error": "not_found", "message": "Entity not found"})
	})
	f.handle("GET /v1/blueprints/{blueprint}/entities-count", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, map[string]any{"ok": true, "count": 42})
	})
	c := f.client(t)
	ctx := t.Context()
	if err := c.DeleteEntity(ctx, "bp", "a/b", false); err != nil {
		t.Error(err)
	}
	if err := c.DeleteEntity(ctx, "bp", "gone", false); err != nil {
		t.Errorf("404 delete = %v, want nil", err)
	}
	if err := c.DeleteEntity(ctx, "bp", "blocked", false); !HasCode(err, "has_dependents") {
		t.Errorf("blocked delete = %v", err)
	}
	if _, err := c.GetEntity(ctx, "bp", "x"); !IsNotFound(err) {
		t.Errorf("GetEntity = %v", err)
	}
	if n, err := c.CountEntities(ctx, "bp"); n != 42 || err != nil {
		t.Errorf("CountEntities = %d, %v", n, err)
	}
}

// The first attempt deletes but its answer is lost; the retry finds nothing
// to delete. The client asks Port which identifiers remain.
func TestDeleteEntitiesAfterLostAnswer(t *testing.T) {
	f := newFake(t)
	var mu sync.Mutex
	store := map[string]bool{"a": true, "b": true, "keep": true}
	var n atomic.Int32
	f.handle("POST /v1/blueprints/{blueprint}/bulk/entities/delete", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Entities []string `json:"entities"`
		}
		readJSON(t, r, &req)
		mu.Lock()
		defer mu.Unlock()
		del := []string{}
		for _, id := range req.Entities {
			if store[id] && id != "keep" { // "keep" is silently skipped by Port
				delete(store, id)
				del = append(del, id)
			}
		}
		if n.Add(1) == 1 {
			w.WriteHeader(502)
			return
		}
		writeJSON(w, 200, map[string]any{"ok": true, "deletedEntities": del})
	})
	f.handle("POST /v1/blueprints/{blueprint}/entities/search", func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Query struct {
				Rules []struct {
					Property, Operator string
					Value              []string
				}
			}
		}
		readJSON(t, r, &body)
		if len(body.Query.Rules) != 1 || body.Query.Rules[0].Property != "$identifier" || body.Query.Rules[0].Operator != "in" {
			t.Errorf("search body = %+v", body)
		}
		mu.Lock()
		defer mu.Unlock()
		var found []any
		for _, id := range body.Query.Rules[0].Value {
			if store[id] {
				found = append(found, map[string]any{"identifier": id})
			}
		}
		writeJSON(w, 200, map[string]any{"ok": true, "entities": found})
	})
	c := f.client(t)
	deleted, err := c.DeleteEntities(t.Context(), "bp", []string{"a", "b", "keep"}, false)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(deleted)
	if !slices.Equal(deleted, []string{"a", "b"}) {
		t.Errorf("deleted = %v, want [a b]", deleted)
	}
}
