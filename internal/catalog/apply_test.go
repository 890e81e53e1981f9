package catalog

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/harborport/terraform-provider-harborport/internal/port"
	"github.com/harborport/terraform-provider-harborport/internal/sandbox/harborsim"
	"github.com/harborport/terraform-provider-harborport/internal/sandbox/portsim"
)

// An entity Port rejects inside a 207 fails alone: the rest is applied, the
// failure names the entity and Port's reason, and the next plan shows only it.
func TestApplyPartialFailure(t *testing.T) {
	e := newEnv(t, envOptions{noLibrary: true})
	e.smallHarbor()
	bad, err := e.hsim.PushArtifact("alpha", "web", []string{"bad"}, harborsim.PushOptions{})
	must(t, err)
	// size is a number in the blueprint; the "bad" artifact maps it to a string.
	eng := e.engine(`
resources:
  - kind: project
  - kind: user
  - kind: repository
  - kind: artifact
    port:
      entity:
        mappings:
          identifier: .repositoryName + "@" + .digest
          title: .digest
          blueprint: '"harborArtifact"'
          properties:
            size: 'if any(.tags[]?; .name == "bad") then "huge" else .size end'
          relations:
            repository: .repositoryName
`)
	cs := e.compute(eng).Changeset
	res, err := eng.Apply(context.Background(), cs)
	if !errors.Is(err, ErrPartial) || !strings.Contains(err.Error(), fmt.Sprintf("1 of %d failed", len(cs.Changes))) {
		t.Fatalf("Apply error = %v, want ErrPartial saying 1 of %d failed", err, len(cs.Changes))
	}
	badKey := "harborArtifact/alpha/web@" + bad
	if len(res.Failed) != 1 || res.Failed[0].Change.key() != badKey {
		t.Fatalf("Failed = %v, want only %s", res.Failed, badKey)
	}
	f := res.Failed[0]
	var apiErr *port.APIError
	if !errors.As(f.Err, &apiErr) || apiErr.Status/100 != 4 || !strings.Contains(f.Err.Error(), "size") {
		t.Fatalf("failure error = %v, want Port's 4xx about the size property", f.Err)
	}
	if s := f.String(); !strings.HasPrefix(s, "create "+badKey+": ") {
		t.Fatalf("Failure.String() = %q", s)
	}
	if res.Created != len(cs.Changes)-1 {
		t.Fatalf("created %d of %d", res.Created, len(cs.Changes))
	}
	if _, ok := e.psim.Entity("harborArtifact", "alpha/web@"+bad); ok {
		t.Fatal("the rejected entity is in Port")
	}

	next := e.compute(eng).Changeset
	if got := describe(next.Changes); !slices.Equal(got, []string{"create " + badKey}) {
		t.Fatalf("next plan = %v, want only the failed create", got)
	}
}

// Port going down midway stops the apply with an error; what Port confirmed
// is counted, and the next plan holds exactly the rest.
func TestApplyPortDownMidway(t *testing.T) {
	const failFrom = 5 // bulk requests: project, user, repository, artifact batch 1, then down
	var bulks atomic.Int32
	e := newEnv(t, envOptions{noLibrary: true, concurrency: 1, retries: 2,
		portFront: func(sim *portsim.Server, next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/entities/bulk") && bulks.Add(1) == failFrom {
					sim.SetFaults(portsim.Faults{FailNext: 1 << 20, FailStatus: http.StatusServiceUnavailable})
				}
				next.ServeHTTP(w, r)
			})
		}})
	e.smallHarbor()
	for i := range 55 {
		_, err := e.hsim.PushArtifact("beta", "many", []string{fmt.Sprintf("t%02d", i)}, harborsim.PushOptions{})
		must(t, err)
	}
	eng := e.engine()
	cs := e.compute(eng).Changeset
	total := len(cs.Changes) // 2 projects, 2 users, 4 repositories, 60 artifacts
	if total != 68 {
		t.Fatalf("setup: %d changes", total)
	}

	res, err := eng.Apply(context.Background(), cs)
	var apiErr *port.APIError
	if err == nil || errors.Is(err, ErrPartial) || !errors.As(err, &apiErr) || apiErr.Status != http.StatusServiceUnavailable ||
		!strings.Contains(err.Error(), "harborArtifact") {
		t.Fatalf("Apply error = %v, want a whole-call 503 naming the blueprint", err)
	}
	if apiErr.Attempts != 3 {
		t.Errorf("attempts = %d, want 3 (1 + 2 retries)", apiErr.Attempts)
	}
	if res.Created != 2+2+4+20 {
		t.Fatalf("created %d, want 28 (three bulk calls and one artifact batch)", res.Created)
	}
	var unconfirmed []string
	for _, f := range res.Failed {
		if !port.HasCode(f.Err, port.CodeNotConfirmed) && !errors.As(f.Err, new(*port.APIError)) {
			t.Fatalf("failure %v is not an unconfirmed entity", f)
		}
		unconfirmed = append(unconfirmed, "create "+f.Change.key())
	}
	slices.Sort(unconfirmed)

	e.psim.SetFaults(portsim.Faults{})
	next := e.compute(eng).Changeset
	got := describe(next.Changes)
	slices.Sort(got)
	if len(got) != total-res.Done() || !slices.Equal(got, unconfirmed) {
		t.Fatalf("next plan has %d changes, want the %d not done; got %v\nunconfirmed %v", len(got), total-res.Done(), got, unconfirmed)
	}
	e.apply(eng, next)
	if rep := e.compute(eng); !rep.Changeset.Empty() || rep.Changeset.Unchanged != total {
		t.Fatalf("after resuming: %v, unchanged %d", describe(rep.Changeset.Changes), rep.Changeset.Unchanged)
	}
}

// Apply writes the reviewed changeset, never more: what Harbor gained after
// the plan waits for the next plan. A planned entity is written with
// Harbor's values at apply time (project beta's repoCount counts the new
// repository), never older ones.
func TestApplyOnlyWhatWasPlanned(t *testing.T) {
	e := newEnv(t, envOptions{noLibrary: true})
	e.smallHarbor()
	eng := e.engine()
	cs := e.compute(eng).Changeset
	late, err := e.hsim.PushArtifact("beta", "late", []string{"x"}, harborsim.PushOptions{})
	must(t, err)
	res := e.apply(eng, cs)
	if res.Created != len(cs.Changes) {
		t.Fatalf("result %+v", res)
	}
	if _, ok := e.psim.Entity("harborArtifact", "beta/late@"+late); ok {
		t.Fatal("apply wrote an artifact pushed after the plan")
	}
	got := describe(e.compute(eng).Changeset.Changes)
	want := []string{"create harborRepository/beta/late", "create harborArtifact/beta/late@" + late}
	if !slices.Equal(got, want) {
		t.Fatalf("next plan = %v, want %v", got, want)
	}
	// An empty changeset is no work and no request.
	e.resetRequests()
	if res, err := eng.Apply(context.Background(), &Changeset{}); err != nil || res.Done() != 0 {
		t.Fatalf("empty apply = %+v, %v", res, err)
	}
	if n := sum(e.portRequests()); n != 0 {
		t.Fatalf("empty apply sent %d requests", n)
	}
}
