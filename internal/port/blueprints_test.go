package port

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// bpStore is a minimal blueprint store for CRUD round trips.
func bpStore(t *testing.T, f *fakePort) *sync.Map {
	var m sync.Map
	get := func(w http.ResponseWriter, id string) {
		if b, ok := m.Load(id); ok {
			writeJSON(w, 200, map[string]any{"ok": true, "blueprint": b})
			return
		}
		writeJSON(w, 404, map[string]any{"ok": false, "error": "not_found", "message": "Blueprint with identifier \"" + id + "\" was not found"})
	}
	f.handle("POST /v1/blueprints", func(w http.ResponseWriter, r *http.Request) {
		var b map[string]any
		raw, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(raw, &b); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(raw), "createdAt") {
			writeJSON(w, 422, map[string]any{"ok": false, "error": "invalid_request", "message": "createdAt is read-only"})
			return
		}
		if _, loaded := m.LoadOrStore(b["identifier"], b); loaded {
			writeJSON(w, 409, map[string]any{"ok": false, "error": "taken", "message": "exists"})
			return
		}
		b["createdAt"] = "2026-01-01T00:00:00Z"
		writeJSON(w, 201, map[string]any{"ok": true, "blueprint": b})
	})
	f.handle("GET /v1/blueprints", func(w http.ResponseWriter, r *http.Request) {
		var all []any
		m.Range(func(_, v any) bool { all = append(all, v); return true })
		writeJSON(w, 200, map[string]any{"ok": true, "blueprints": all})
	})
	f.handle("GET /v1/blueprints/{blueprint}", func(w http.ResponseWriter, r *http.Request) { get(w, r.PathValue("blueprint")) })
	f.handle("PUT /v1/blueprints/{blueprint}", func(w http.ResponseWriter, r *http.Request) {
		var b map[string]any
		readJSON(t, r, &b)
		b["identifier"] = r.PathValue("blueprint")
		m.Store(r.PathValue("blueprint"), b)
		get(w, r.PathValue("blueprint"))
	})
	f.handle("PATCH /v1/blueprints/{blueprint}", func(w http.ResponseWriter, r *http.Request) {
		var p map[string]any
		readJSON(t, r, &p)
		old, ok := m.Load(r.PathValue("blueprint"))
		if !ok {
			get(w, r.PathValue("blueprint"))
			return
		}
		om, ok := old.(map[string]any)
		if !ok {
			t.Errorf("stored blueprint is %T, want map[string]any", old)
			http.Error(w, "bad stored blueprint", http.StatusInternalServerError)
			return
		}
		for k, v := range p {
			om[k] = v
		}
		get(w, r.PathValue("blueprint"))
	})
	f.handle("DELETE /v1/blueprints/{blueprint}", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("blueprint") == "busy" {
			writeJSON(w, 422, map[string]any{"ok": false, "error": "has_dependents", "message": "blueprint has entities"})
			return
		}
		if _, ok := m.LoadAndDelete(r.PathValue("blueprint")); !ok {
			get(w, r.PathValue("blueprint"))
			return
		}
		writeJSON(w, 200, map[string]any{"ok": true})
	})
	return &m
}

func TestBlueprintCRUD(t *testing.T) {
	f := newFake(t)
	bpStore(t, f)
	c := f.client(t)
	ctx := t.Context()
	bp := Blueprint{Identifier: "harborProject", Title: "Project", CreatedAt: "from an earlier read",
		Schema: BlueprintSchema{Properties: map[string]Property{"public": {Type: "boolean"}}}}
	got, err := c.CreateBlueprint(ctx, bp)
	if err != nil {
		t.Fatal(err)
	}
	if got.Identifier != "harborProject" || got.CreatedAt == "" {
		t.Errorf("created = %+v", got)
	}
	if _, err := c.CreateBlueprint(ctx, bp); !IsConflict(err) {
		t.Errorf("second create = %v, want conflict", err)
	}
	bp.Title = "Harbor project"
	if got, err = c.ReplaceBlueprint(ctx, bp); err != nil || got.Title != "Harbor project" {
		t.Errorf("replace = %+v, %v", got, err)
	}
	if got, err = c.PatchBlueprint(ctx, "harborProject", map[string]any{"icon": "Harbor"}); err != nil || got.Icon != "Harbor" {
		t.Errorf("patch = %+v, %v", got, err)
	}
	list, err := c.ListBlueprints(ctx)
	if err != nil || len(list) != 1 {
		t.Errorf("list = %v, %v", list, err)
	}
	if err := c.DeleteBlueprint(ctx, "busy"); !HasCode(err, "has_dependents") {
		t.Errorf("delete busy = %v", err)
	}
	if err := c.DeleteBlueprint(ctx, "harborProject"); err != nil {
		t.Error(err)
	}
	if _, err := c.GetBlueprint(ctx, "harborProject"); !IsNotFound(err) {
		t.Errorf("get after delete = %v", err)
	}
	if err := c.DeleteBlueprint(ctx, "harborProject"); !IsNotFound(err) {
		t.Errorf("second delete = %v, want 404 (no retry happened)", err)
	}
}

// A create whose answer was lost (written, then 502) is retried; the retry's
// 409 must resolve to the blueprint that the first attempt wrote.
func TestCreateBlueprintConflictAfterRetry(t *testing.T) {
	f := newFake(t)
	store := bpStore(t, f)
	var n atomic.Int32
	inner := f.mux
	f.mux = http.NewServeMux()
	f.mux.HandleFunc("POST /v1/auth/access_token", f.auth)
	f.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && r.URL.Path == "/v1/blueprints" && n.Add(1) == 1 {
			inner.ServeHTTP(httptestRecorder{}, r) // the write happens…
			w.WriteHeader(502)                     // …the answer is lost
			return
		}
		inner.ServeHTTP(w, r)
	})
	c := f.client(t)
	got, err := c.CreateBlueprint(t.Context(), Blueprint{Identifier: "svc", Title: "Service"})
	if err != nil {
		t.Fatal(err)
	}
	if got.Identifier != "svc" {
		t.Errorf("got %+v", got)
	}
	if _, ok := store.Load("svc"); !ok {
		t.Error("not stored")
	}
}

type httptestRecorder struct{}

func (httptestRecorder) Header() http.Header         { return http.Header{} }
func (httptestRecorder) Write(b []byte) (int, error) { return len(b), nil }
func (httptestRecorder) WriteHeader(int)             {}
