package catalog

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/harborport/terraform-provider-harborport/internal/sandbox/harborsim"
)

// The whole life of a sync against the simulators: first plan creates
// everything in dependency order, a second plan is empty and writes nothing,
// and each Harbor event shows as exactly one change.
func TestResyncLifecycle(t *testing.T) {
	e := newEnv(t, envOptions{noLibrary: true})
	e.smallHarbor()
	eng := e.engine()

	// First plan: everything is a create, in rank order.
	rep := e.compute(eng)
	cs := rep.Changeset
	wantKeys := []string{
		"harborProject/alpha", "harborProject/beta",
		"harborUser/admin", "harborUser/dev",
		"harborRepository/alpha/team/api", "harborRepository/alpha/web", "harborRepository/beta/db",
	}
	var gotKeys []string
	rank := map[string]int{"harborProject": 0, "harborUser": 1, "harborRepository": 2, "harborArtifact": 3}
	last := -1
	for _, ch := range cs.Changes {
		if ch.Op != OpCreate {
			t.Fatalf("first plan has a %s: %v", ch.Op, describe(cs.Changes))
		}
		if r := rank[ch.Blueprint]; r < last {
			t.Fatalf("%s comes after a higher-ranked blueprint: %v", ch.key(), describe(cs.Changes))
		} else {
			last = r
		}
		if ch.Entity != nil || ch.Source == nil || ch.After == fpAbsent || ch.Before != fpAbsent {
			t.Fatalf("%s: a planned create carries no body, its Harbor source and the fingerprint it makes; got %+v", ch.key(), ch)
		}
		if ch.Blueprint != "harborArtifact" {
			gotKeys = append(gotKeys, ch.key())
		}
	}
	if !slices.Equal(gotKeys, wantKeys) {
		t.Fatalf("non-artifact creates\n got %v\nwant %v", gotKeys, wantKeys)
	}
	if c := cs.Counts(); c.Create != 12 || c.Update != 0 || c.Delete != 0 || c.Unchanged != 0 {
		t.Fatalf("counts = %+v, want 12 creates (2 projects, 2 users, 3 repositories, 5 artifacts)", c)
	}
	if cs.Owned != 0 || rep.Items["artifact"] != 5 || rep.Items["repository"] != 3 {
		t.Fatalf("owned %d, items %v", cs.Owned, rep.Items)
	}
	if rep.Warnings.Count != 0 || rep.ItemErrors.Count != 0 {
		t.Fatalf("warnings %+v, item errors %+v", rep.Warnings, rep.ItemErrors)
	}

	res := e.apply(eng, cs)
	if res.Created != 12 || res.Done() != 12 || len(res.Failed) != 0 {
		t.Fatalf("apply result %+v", res)
	}
	for _, bp := range []string{"harborProject", "harborUser", "harborRepository", "harborArtifact"} {
		if e.psim.EntityCount(bp) == 0 {
			t.Fatalf("Port has no %s entities after apply", bp)
		}
	}

	// Second plan: nothing to do, and not a single write to Port.
	e.resetRequests()
	rep = e.compute(eng)
	if !rep.Changeset.Empty() || rep.Changeset.Unchanged != 12 || rep.Changeset.Owned != 12 {
		t.Fatalf("second plan: %v, unchanged %d, owned %d", describe(rep.Changeset.Changes), rep.Changeset.Unchanged, rep.Changeset.Owned)
	}
	if w := e.portWrites(); len(w) != 0 {
		t.Fatalf("a no-op plan wrote to Port: %v", w)
	}
	if got := e.portRequests()[routeSearch]; got != 4 {
		t.Fatalf("no-op plan made %d search requests, want one page per blueprint (4): %v", got, e.portRequests())
	}
	// The search asks only for the mapped fields (internal/port/API-NOTES.md
	// "Search" include).
	for _, r := range e.psim.RequestLog() {
		if r.Route == routeSearch && r.BodyBytes == 0 {
			t.Fatalf("search without a body: %+v", r)
		}
	}

	// Push → exactly one artifact create (plus the repository it touched).
	digest, err := e.hsim.PushArtifact("alpha", "web", []string{"v2"}, harborsim.PushOptions{})
	must(t, err)
	artKey := "harborArtifact/alpha/web@" + digest
	rep = e.compute(eng)
	arts := filterBP(rep.Changeset.Changes, "harborArtifact")
	if len(arts) != 1 || arts[0].Op != OpCreate || arts[0].key() != artKey {
		t.Fatalf("after a push, artifact changes = %v, want one create of %s", describe(arts), artKey)
	}
	if others := otherBP(rep.Changeset.Changes, "harborArtifact"); !onlyUpdatesOf(others, "harborRepository/alpha/web") {
		t.Fatalf("after a push, other changes = %v, want at most an update of its repository", describe(others))
	}
	e.apply(eng, rep.Changeset)

	// Scan → exactly one update, naming scanOverview.
	must(t, e.hsim.ScanArtifact("alpha", "web", digest, map[string]int{"High": 1}))
	rep = e.compute(eng)
	if got := describe(rep.Changeset.Changes); len(got) != 1 || got[0] != "update "+artKey+" [scanOverview]" {
		t.Fatalf("after a scan, changes = %v, want one update of %s [scanOverview]", got, artKey)
	}
	if s := rep.Changeset.Preview(10)[artKey]; s != "update: scanOverview" {
		t.Fatalf("preview of the scan = %q", s)
	}
	e.apply(eng, rep.Changeset)

	// Delete → exactly one delete.
	must(t, e.hsim.DeleteArtifact("alpha", "web", digest))
	rep = e.compute(eng)
	arts = filterBP(rep.Changeset.Changes, "harborArtifact")
	if len(arts) != 1 || arts[0].Op != OpDelete || arts[0].key() != artKey || arts[0].Entity != nil {
		t.Fatalf("after a delete, artifact changes = %v, want one delete of %s", describe(arts), artKey)
	}
	if others := otherBP(rep.Changeset.Changes, "harborArtifact"); !onlyUpdatesOf(others, "harborRepository/alpha/web") {
		t.Fatalf("after a delete, other changes = %v", describe(others))
	}
	res = e.apply(eng, rep.Changeset)
	if res.Deleted != 1 {
		t.Fatalf("apply of the delete: %+v", res)
	}
	if _, ok := e.psim.Entity("harborArtifact", "alpha/web@"+digest); ok {
		t.Fatalf("%s still in Port", artKey)
	}
	if rep = e.compute(eng); !rep.Changeset.Empty() {
		t.Fatalf("after applying the delete: %v", describe(rep.Changeset.Changes))
	}
}

// The no-op plan reads ceil(n/1000) search pages per blueprint, not more.
func TestNoopPlanSearchPages(t *testing.T) {
	e := newEnv(t, envOptions{noLibrary: true})
	e.hsim.CreateProject("big", true)
	for i := range 1100 { // > 1000 artifacts: two pages of harborArtifact
		_, err := e.hsim.PushArtifact("big", "r"+fmt.Sprint(i%3), []string{fmt.Sprintf("t%d", i)}, harborsim.PushOptions{})
		must(t, err)
	}
	eng := e.engine()
	e.sync(eng)
	e.resetRequests()
	rep := e.compute(eng)
	if !rep.Changeset.Empty() || rep.Changeset.Unchanged != 1+1+3+1100 {
		t.Fatalf("no-op plan: %d changes, %d unchanged", len(rep.Changeset.Changes), rep.Changeset.Unchanged)
	}
	perBP := map[string]int{}
	for _, r := range e.psim.RequestLog() {
		if r.Route == routeSearch {
			perBP[strings.Split(r.Path, "/")[3]]++
		}
	}
	want := map[string]int{"harborProject": 1, "harborUser": 1, "harborRepository": 1, "harborArtifact": 2}
	if fmt.Sprint(perBP) != fmt.Sprint(want) {
		t.Fatalf("search pages per blueprint = %v, want %v", perBP, want)
	}
	if w := e.portWrites(); len(w) != 0 {
		t.Fatalf("no-op plan wrote: %v", w)
	}
}

func filterBP(chs []Change, bp string) (out []Change) {
	for _, c := range chs {
		if c.Blueprint == bp {
			out = append(out, c)
		}
	}
	return out
}

func otherBP(chs []Change, bp string) (out []Change) {
	for _, c := range chs {
		if c.Blueprint != bp {
			out = append(out, c)
		}
	}
	return out
}

// onlyUpdatesOf reports whether chs holds nothing but updates of key.
func onlyUpdatesOf(chs []Change, key string) bool {
	for _, c := range chs {
		if c.Op != OpUpdate || c.key() != key {
			return false
		}
	}
	return true
}
