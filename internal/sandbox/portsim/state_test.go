package portsim

import (
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
)

func TestDirectStateAccess(t *testing.T) {
	h := newHarness(t).withFixtures()
	if got := h.srv.BlueprintIDs(); !reflect.DeepEqual(got, []string{"artifact", "project", "repository"}) {
		t.Fatalf("BlueprintIDs %v", got)
	}
	// SetBlueprint validates like the API.
	bad := bp("x", func(m map[string]any) { m["relations"] = map[string]any{"r": map[string]any{"target": "ghost"}} })
	if err := h.srv.SetBlueprint(bad); err == nil || !strings.Contains(err.Error(), `"ghost"`) {
		t.Fatalf("SetBlueprint with missing target: %v", err)
	}
	if err := h.srv.SetBlueprint(bp("x", func(m map[string]any) { m["title"] = "" })); err == nil {
		t.Fatal("SetBlueprint accepted an empty title")
	}
	// Drift: a property removed behind Terraform's back.
	h.upsert("repository", map[string]any{"identifier": "r1", "properties": map[string]any{"name": "n", "pulls": 3}})
	drift := repositoryBP()
	delete(props(t, drift), "pulls")
	drift["createdAt"] = "ignored"
	if err := h.srv.SetBlueprint(drift); err != nil {
		t.Fatal(err)
	}
	got, _ := h.srv.Blueprint("repository")
	if props(t, got)["pulls"] != nil || got["createdAt"] == "ignored" {
		t.Fatalf("drifted blueprint %v", got)
	}
	if e, _ := h.srv.Entity("repository", "r1"); as[map[string]any](t, e["properties"])["pulls"] != nil {
		t.Fatalf("drift kept stale data: %v", e)
	}

	if err := h.srv.SetEntity("repository", map[string]any{"identifier": "r2", "properties": map[string]any{"pulls": 1}}); err == nil || !strings.Contains(err.Error(), "pulls") {
		t.Fatalf("SetEntity with unknown property: %v", err)
	}
	if err := h.srv.SetEntity("repository", map[string]any{"identifier": "r2"}); err != nil {
		t.Fatal(err)
	}
	if err := h.srv.SetEntity("artifact", map[string]any{"identifier": "a", "relations": map[string]any{"repository": "r2"}}); err != nil {
		t.Fatal(err)
	}
	if got := h.srv.Entities("repository"); len(got) != 2 || got[0]["identifier"] != "r1" {
		t.Fatalf("Entities %v", got)
	}
	h.srv.RemoveEntity("repository", "r2")
	if a, _ := h.srv.Entity("artifact", "a"); as[map[string]any](t, a["relations"])["repository"] != nil {
		t.Fatalf("RemoveEntity left a dangling relation: %v", a)
	}

	// RemoveBlueprint also drops relations that targeted it.
	h.srv.RemoveBlueprint("repository")
	if _, found := h.srv.Blueprint("repository"); found {
		t.Fatal("blueprint survived")
	}
	art, _ := h.srv.Blueprint("artifact")
	if len(as[map[string]any](t, art["relations"])) != 0 {
		t.Fatalf("artifact still relates to the removed blueprint: %v", art["relations"])
	}
	h.must(404, "GET", "/v1/blueprints/repository/entities-count", nil)

	// Unknown top-level blueprint keys are accepted (additionalProperties:
	// true in the spec) but not stored.
	h.must(201, "POST", "/v1/blueprints", bp("extra", func(m map[string]any) { m["whatever"] = 1 }))
	if e, _ := h.srv.Blueprint("extra"); e["whatever"] != nil {
		t.Fatal("unknown top-level key stored")
	}
}

// Concurrent writers and readers (run with -race).
func TestConcurrentUse(t *testing.T) {
	h := newHarness(t).withFixtures()
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 10 {
				batch := make([]any, 5)
				for j := range batch {
					batch[j] = map[string]any{"identifier": fmt.Sprintf("w%d-%d-%d", w, i, j)}
				}
				if st, _ := h.do("POST", "/v1/blueprints/repository/entities/bulk?upsert=true", map[string]any{"entities": batch}); st != 200 {
					t.Errorf("bulk: %d", st)
				}
				if st, _ := h.do("POST", "/v1/blueprints/repository/entities/search", map[string]any{"limit": 7}); st != 200 {
					t.Errorf("search: %d", st)
				}
			}
		}()
	}
	wg.Wait()
	if n := h.srv.EntityCount("repository"); n != 200 {
		t.Fatalf("count %d, want 200", n)
	}
	if got := len(h.srv.RequestLog()); got < 80 {
		t.Fatalf("request log has %d entries", got)
	}
}
