package catalog

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/harborport/terraform-provider-harborport/internal/mapping"
	"github.com/harborport/terraform-provider-harborport/internal/sandbox/harborsim"
	"github.com/harborport/terraform-provider-harborport/internal/sandbox/portsim"
)

// Conditional apply: two writers share one catalog. These tests interleave a
// second writer (the listener's Reconcile, a person editing Port, Harbor
// itself) between the plan and the apply, and at each step of the apply,
// and check that Port never goes back to what the plan saw.

func artifactKey(project, repo, digest string) Key {
	return Key{Kind: mapping.KindArtifact, Project: project, Repository: project + "/" + repo, Digest: digest}
}

func (e *env) reconcile(eng *Engine, k Key) {
	e.t.Helper()
	if _, _, err := eng.Reconcile(context.Background(), k); err != nil {
		e.t.Fatalf("Reconcile %s: %v", k, err)
	}
}

func (e *env) prop(id, name string) any {
	e.t.Helper()
	ent, ok := e.psim.Entity("harborArtifact", id)
	if !ok {
		e.t.Fatalf("Port has no harborArtifact/%s", id)
	}
	props, _ := ent["properties"].(map[string]any)
	return props[name]
}

func skipped(res Result) []string {
	var out []string
	for _, s := range res.Skipped {
		out = append(out, s.String())
	}
	return out
}

// The scenario: an image is pushed while the listener hears nothing,
// the plan is saved; then the listener learns of the push and of its scan and
// writes them; the saved plan's create must not bring the unscanned artifact
// back. The repository update in the same plan still lands (Port held what
// the plan saw), with Harbor's values as they are now.
func TestConditionalApplyKeepsWhatTheListenerWroteSince(t *testing.T) {
	e := newEnv(t, envOptions{noLibrary: true})
	e.smallHarbor()
	eng, listener := e.engine(), e.engine()
	e.sync(eng)

	d, err := e.hsim.PushArtifact("alpha", "web", []string{"v2"}, harborsim.PushOptions{})
	must(t, err)
	cs := e.compute(eng).Changeset
	id := "alpha/web@" + d
	if got := describe(cs.Changes); !slices.Contains(got, "create harborArtifact/"+id) {
		t.Fatalf("plan = %v", got)
	}
	must(t, e.hsim.ScanArtifact("alpha", "web", d, map[string]int{"Critical": 3}))
	e.reconcile(listener, artifactKey("alpha", "web", d))
	scanned := e.prop(id, "scanOverview")
	if scanned == nil {
		t.Fatal("setup: the listener did not write the scan")
	}

	res := e.apply(eng, cs)
	want := []string{"create harborArtifact/" + id + ": " + string(SkipPortChanged)}
	if got := skipped(res); !slices.Equal(got, want) {
		t.Fatalf("skipped = %v, want %v", got, want)
	}
	if got := e.prop(id, "scanOverview"); fmt.Sprint(got) != fmt.Sprint(scanned) {
		t.Fatalf("Port went back: scanOverview = %v, the listener wrote %v", got, scanned)
	}
	if res.Updated != len(cs.Changes)-1 || res.Done()+len(res.Skipped) != len(cs.Changes) {
		t.Fatalf("result %+v for %v", res, describe(cs.Changes))
	}
	if again := e.compute(eng); !again.Changeset.Empty() {
		t.Fatalf("next plan: %v", describe(again.Changeset.Changes))
	}
}

// A delete planned before the entity was re-created in Harbor (and written
// back by the listener) is not performed.
func TestConditionalApplyDoesNotDeleteWhatCameBack(t *testing.T) {
	e := newEnv(t, envOptions{noLibrary: true})
	e.smallHarbor()
	eng, listener := e.engine(), e.engine()
	d, err := e.hsim.PushArtifact("beta", "db", []string{"17"}, harborsim.PushOptions{})
	must(t, err)
	e.sync(eng)

	must(t, e.hsim.DeleteArtifact("beta", "db", d))
	cs := e.compute(eng).Changeset
	id := "beta/db@" + d
	if got := describe(cs.Changes); !slices.Contains(got, "delete harborArtifact/"+id) {
		t.Fatalf("plan = %v", got)
	}
	_, err = e.hsim.PushArtifact("beta", "db", []string{"17"}, harborsim.PushOptions{Digest: d})
	must(t, err)
	e.reconcile(listener, artifactKey("beta", "db", d))

	res := e.apply(eng, cs)
	if got := skipped(res); !slices.Equal(got, []string{"delete harborArtifact/" + id + ": " + string(SkipPortChanged)}) {
		t.Fatalf("skipped = %v", got)
	}
	if _, ok := e.psim.Entity("harborArtifact", id); !ok {
		t.Fatal("the re-created artifact was deleted")
	}
	if again := e.compute(eng); !again.Changeset.Empty() {
		t.Fatalf("next plan: %v", describe(again.Changeset.Changes))
	}
}

// A fix someone made by hand in Port after the plan is not overwritten by
// the saved plan; the next plan shows the entity again (Harbor is the truth).
func TestConditionalApplyLeavesAHandEditAlone(t *testing.T) {
	e := newEnv(t, envOptions{noLibrary: true})
	e.smallHarbor()
	eng := e.engine()
	e.sync(eng)

	d := firstDigest(t, e, "alpha", "web")
	id := "alpha/web@" + d
	must(t, e.hsim.ScanArtifact("alpha", "web", d, map[string]int{"Low": 1}))
	cs := e.compute(eng).Changeset
	ent, _ := e.psim.Entity("harborArtifact", id)
	props, _ := ent["properties"].(map[string]any)
	props["size"] = 12345.0
	must(t, e.psim.SetEntity("harborArtifact", ent))

	res := e.apply(eng, cs)
	if got := skipped(res); !slices.Equal(got, []string{"update harborArtifact/" + id + ": " + string(SkipPortChanged)}) {
		t.Fatalf("skipped = %v", got)
	}
	if got := fmt.Sprint(e.prop(id, "size")); got != "12345" {
		t.Fatalf("size = %s: the hand edit was overwritten", got)
	}
	if got := describe(e.compute(eng).Changeset.Changes); !slices.Equal(got, []string{"update harborArtifact/" + id + " [scanOverview,size]"}) {
		t.Fatalf("next plan = %v", got)
	}
}

// What another writer already did exactly as planned counts as done, with
// no write; Harbor dropping a planned create's source skips it.
func TestConditionalApplyAlreadyDoneAndGone(t *testing.T) {
	e := newEnv(t, envOptions{noLibrary: true})
	e.smallHarbor()
	eng, listener := e.engine(), e.engine()
	e.sync(eng)

	done, err := e.hsim.PushArtifact("alpha", "web", []string{"done"}, harborsim.PushOptions{})
	must(t, err)
	gone, err := e.hsim.PushArtifact("beta", "db", []string{"gone"}, harborsim.PushOptions{})
	must(t, err)
	cs := e.compute(eng).Changeset
	e.reconcile(listener, artifactKey("alpha", "web", done))
	must(t, e.hsim.DeleteArtifact("beta", "db", gone))

	e.resetRequests()
	res := e.apply(eng, cs)
	if res.AlreadyDone != 1 {
		t.Fatalf("already done = %d, want 1 (%+v)", res.AlreadyDone, res)
	}
	goneID := "beta/db@" + gone
	if got := skipped(res); !slices.Equal(got, []string{"create harborArtifact/" + goneID + ": " + string(SkipHarborGone)}) {
		t.Fatalf("skipped = %v", got)
	}
	if _, ok := e.psim.Entity("harborArtifact", goneID); ok {
		t.Fatal("an artifact Harbor deleted after the plan was created")
	}
	for _, w := range e.portWrites() {
		if strings.Contains(w, "harborArtifact/entities/bulk") {
			t.Fatalf("artifact write %s: both artifact changes needed no write", w)
		}
	}
	if again := e.compute(eng); !again.Changeset.Empty() {
		t.Fatalf("next plan: %v", describe(again.Changeset.Changes))
	}
}

// Harbor moving on between plan and apply: a planned field gets Harbor's
// value as it is now (never an older one); a field the plan did not name
// stops the update (the next plan shows it).
func TestConditionalApplyWritesHarborAsItIsNow(t *testing.T) {
	e := newEnv(t, envOptions{noLibrary: true})
	e.smallHarbor()
	eng := e.engine()
	e.sync(eng)

	web := firstDigest(t, e, "alpha", "web")
	db := firstDigest(t, e, "beta", "db")
	must(t, e.hsim.ScanArtifact("alpha", "web", web, map[string]int{"Low": 1}))
	must(t, e.hsim.ScanArtifact("beta", "db", db, map[string]int{"Low": 1}))
	cs := e.compute(eng).Changeset
	must(t, e.hsim.ScanArtifact("alpha", "web", web, map[string]int{"High": 7})) // the same field, newer
	must(t, e.hsim.AddTag("beta", "db", db, "extra"))                            // a field the plan did not name

	res := e.apply(eng, cs)
	dbID := "beta/db@" + db
	if got := skipped(res); !slices.Equal(got, []string{"update harborArtifact/" + dbID + ": " + string(SkipHarborChanged)}) {
		t.Fatalf("skipped = %v", got)
	}
	if got := fmt.Sprint(e.prop("alpha/web@"+web, "scanOverview")); !strings.Contains(got, "High:7") {
		t.Fatalf("scanOverview = %s, want the newer scan (High 7)", got)
	}
	if got := describe(e.compute(eng).Changeset.Changes); !slices.Equal(got, []string{"update harborArtifact/" + dbID + " [$title,scanOverview,tags]"}) {
		t.Fatalf("next plan = %v", got)
	}
}

// Interleavings inside one apply: another writer acting right before the
// Harbor re-read, between it and the Port check, or right before the check
// (the last moment Port can tell) is always respected. The hooks run the
// other writer synchronously inside the apply's own request.
func TestConditionalApplyInterleavings(t *testing.T) {
	for _, at := range []string{"before Harbor re-read", "before Port check"} {
		t.Run(at, func(t *testing.T) {
			var (
				mu   sync.Mutex
				hook func()
			)
			fire := func() {
				mu.Lock()
				h := hook
				hook = nil
				mu.Unlock()
				if h != nil {
					h()
				}
			}
			e := newEnv(t, envOptions{noLibrary: true, portFront: func(_ *portsim.Server, next http.Handler) http.Handler {
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if at == "before Port check" && strings.HasSuffix(r.URL.Path, "/harborArtifact/entities/search") {
						body, _ := io.ReadAll(r.Body)
						r.Body = io.NopCloser(strings.NewReader(string(body)))
						if strings.Contains(string(body), `"in"`) {
							fire()
						}
					}
					next.ServeHTTP(w, r)
				})
			}})
			e.smallHarbor()
			eng, listener := e.engine(), e.engine()
			e.sync(eng)
			d, err := e.hsim.PushArtifact("alpha", "web", []string{"v3"}, harborsim.PushOptions{})
			must(t, err)
			cs := e.compute(eng).Changeset
			id := "alpha/web@" + d
			mu.Lock()
			hook = func() {
				must(t, e.hsim.ScanArtifact("alpha", "web", d, map[string]int{"Medium": 2}))
				e.reconcile(listener, artifactKey("alpha", "web", d))
			}
			mu.Unlock()
			if at == "before Harbor re-read" {
				fire()
			}
			res := e.apply(eng, cs)
			if got := skipped(res); !slices.Equal(got, []string{"create harborArtifact/" + id + ": " + string(SkipPortChanged)}) {
				t.Fatalf("skipped = %v", got)
			}
			if got := fmt.Sprint(e.prop(id, "scanOverview")); !strings.Contains(got, "Medium:2") {
				t.Fatalf("scanOverview = %s: the other writer's newer data was overwritten", got)
			}
			if again := e.compute(eng); !again.Changeset.Empty() {
				t.Fatalf("next plan: %v", describe(again.Changeset.Changes))
			}
		})
	}
}

// The extra reads of a conditional apply: one Port search per 1000 changes
// of a blueprint (and kind of write); Harbor re-reads batch up to 50 sources
// per request.
func TestConditionalApplyReadCost(t *testing.T) {
	e := newEnv(t, envOptions{noLibrary: true})
	e.hsim.Seed(harborsim.SeedConfig{Projects: 3, ReposPerProject: 2, ArtifactsPerRepo: 450, Users: 2, Seed: 7})
	eng := e.engine()
	cs := e.compute(eng).Changeset
	runs := map[string]int{}
	for _, ch := range cs.Changes {
		runs[ch.Blueprint]++
	}
	if runs["harborArtifact"] <= applyChunk {
		t.Fatalf("setup: %d artifact creates, want more than one chunk", runs["harborArtifact"])
	}
	wantSearches := 0
	for _, n := range runs {
		wantSearches += (n + applyChunk - 1) / applyChunk
	}
	e.resetRequests()
	e.apply(eng, cs)
	if got := e.portRequests()[routeSearch]; got != wantSearches {
		t.Fatalf("apply sent %d searches for %v, want %d (ceil(changes/1000) per blueprint)", got, runs, wantSearches)
	}
	artifactLists := 0
	for route, n := range e.hsim.Requests() {
		if strings.HasSuffix(route, "/artifacts") {
			artifactLists += n
		}
	}
	if most := (runs["harborArtifact"]+qListMax-1)/qListMax + 2*3; artifactLists > most {
		t.Fatalf("apply re-read artifacts with %d requests, want at most %d", artifactLists, most)
	}
}

// The listener's side: a reconcile reads Harbor, then Port. If another
// writer writes a newer state of the object in between (here: Harbor scans
// the artifact and a second reconcile, as another replica would, writes it
// while the first one's Port read is on its way), the first reconcile must
// not write its older Harbor read over it.
func TestReconcileDoesNotWriteAnOlderRead(t *testing.T) {
	var (
		mu   sync.Mutex
		hook func()
	)
	e := newEnv(t, envOptions{noLibrary: true, portFront: func(_ *portsim.Server, next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/harborArtifact/entities/") {
				mu.Lock()
				h := hook
				hook = nil
				mu.Unlock()
				if h != nil {
					h()
				}
			}
			next.ServeHTTP(w, r)
		})
	}})
	e.smallHarbor()
	first, second := e.engine(), e.engine()
	e.sync(first)
	d, err := e.hsim.PushArtifact("alpha", "web", []string{"v4"}, harborsim.PushOptions{})
	must(t, err)
	id := "alpha/web@" + d
	mu.Lock()
	hook = func() {
		must(t, e.hsim.ScanArtifact("alpha", "web", d, map[string]int{"Critical": 1}))
		e.reconcile(second, artifactKey("alpha", "web", d))
	}
	mu.Unlock()
	cs, res, err := first.Reconcile(context.Background(), artifactKey("alpha", "web", d))
	must(t, err)
	if got := fmt.Sprint(e.prop(id, "scanOverview")); !strings.Contains(got, "Critical:1") {
		t.Fatalf("scanOverview = %s: the first reconcile wrote its older read over the newer one (changes %v, result %+v)",
			got, describe(cs.Changes), res)
	}
	e.reconcile(first, Key{Kind: mapping.KindRepository, Project: "alpha", Repository: "alpha/web"})
	if again := e.compute(first); !again.Changeset.Empty() {
		t.Fatalf("next plan: %v", describe(again.Changeset.Changes))
	}
}
