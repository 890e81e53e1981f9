package catalog

import (
	"encoding/json"
	"net/http"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/harborport/terraform-provider-harborport/internal/sandbox/harborsim"
	"github.com/harborport/terraform-provider-harborport/internal/sandbox/portsim"
)

// The diff streams: entities mapped before Port's current state is ready
// wait as JSON and are decoded again only if they change. A plan must come
// out identical whichever side finishes first.
func TestComputeSameWhetherPortOrHarborFinishesFirst(t *testing.T) {
	var slowSearch atomic.Bool
	e := newEnv(t, envOptions{noLibrary: true, portFront: func(_ *portsim.Server, next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if slowSearch.Load() && r.Method == http.MethodPost && len(r.URL.Path) > len("/search") &&
				r.URL.Path[len(r.URL.Path)-len("/search"):] == "/search" {
				time.Sleep(150 * time.Millisecond) // Harbor is mapped long before
			}
			next.ServeHTTP(w, r)
		})
	}})
	e.smallHarbor()
	scanned, err := e.hsim.PushArtifact("alpha", "web", []string{"v9"}, harborsim.PushOptions{})
	must(t, err)
	gone, err := e.hsim.PushArtifact("alpha", "team/api", []string{"2.0"}, harborsim.PushOptions{})
	must(t, err)
	eng := e.engine()
	eng.seed = func() uint64 { return 42 } // fingerprints are seeded: fix it to compare whole plans
	e.sync(eng)

	// A create, an update (scan) and a delete at once.
	_, err = e.hsim.PushArtifact("beta", "db", []string{"16"}, harborsim.PushOptions{})
	must(t, err)
	must(t, e.hsim.ScanArtifact("alpha", "web", scanned, map[string]int{"Low": 2}))
	must(t, e.hsim.DeleteArtifact("alpha", "team/api", gone))

	encode := func(rep *Report) string {
		b, err := json.Marshal(rep)
		must(t, err)
		return string(b)
	}
	fast := e.compute(eng)
	slowSearch.Store(true)
	slow := e.compute(eng)
	slowSearch.Store(false)
	if c := fast.Changeset.Counts(); c.Create == 0 || c.Update == 0 || c.Delete == 0 {
		t.Fatalf("the scenario should create, update and delete: %+v %v", c, describe(fast.Changeset.Changes))
	}
	if a, b := encode(fast), encode(slow); a != b {
		t.Fatalf("the plan depends on which read finished first:\nPort first:   %s\nHarbor first: %s", a, b)
	}
}

// When two items map to one entity, the later one wins (as consecutive
// upserts would), also when an earlier item already recorded a change that
// the later one undoes; and the result is the same on every plan.
func TestLaterItemWinsDeterministically(t *testing.T) {
	e := newEnv(t, envOptions{noLibrary: true})
	e.smallHarbor()
	for i := range 3 * mapChunk { // several mapping jobs for one repository
		_, err := e.hsim.PushArtifact("alpha", "web", []string{"t" + string(rune('a'+i%26)) + string(rune('a'+i/26))}, harborsim.PushOptions{})
		must(t, err)
	}
	eng := e.engine(`
resources:
  - kind: artifact
    port:
      entity:
        mappings:
          identifier: .repositoryName
          title: .digest
          blueprint: '"harborArtifact"'
`)
	first := e.compute(eng)
	for range 3 {
		again := e.compute(eng)
		if !slices.Equal(describe(again.Changeset.Changes), describe(first.Changeset.Changes)) {
			t.Fatalf("plans differ: %v vs %v", describe(again.Changeset.Changes), describe(first.Changeset.Changes))
		}
		for i, ch := range again.Changeset.Changes {
			got, want := ch.Source, first.Changeset.Changes[i].Source
			if got == nil || *got != *want {
				t.Fatalf("%s: a different item won: %+v vs %+v", ch.key(), got, want)
			}
		}
	}
	// After applying, the losers (mapped before the winner) differ from
	// Port, the winner does not: nothing to do.
	e.sync(eng)
}
