package catalog

import (
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/harborport/terraform-provider-harborport/internal/sandbox/harborsim"
)

const (
	routeAllRepos     = "GET /api/v2.0/repositories"
	routeProjectRepos = "GET /api/v2.0/projects/{project_name}/repositories"
)

// One repository resource with projectName lists only that project's
// repositories (GET /projects/{name}/repositories), never all of Harbor.
func TestPushdownRepositoryProjectName(t *testing.T) {
	e := newEnv(t, envOptions{noLibrary: true})
	e.smallHarbor()
	eng := e.engine(`
resources:
  - kind: repository
    selector:
      projectName: alpha
`)
	e.resetRequests()
	rep := e.compute(eng)
	var paths []string
	for _, r := range e.hsim.RequestLog() {
		switch r.Route {
		case routeProjectRepos:
			paths = append(paths, r.Path)
		case routeAllRepos:
			t.Fatalf("listed every repository: %s?%s", r.Path, r.RawQuery)
		}
	}
	if !slices.Equal(paths, []string{"/api/v2.0/projects/alpha/repositories"}) {
		t.Fatalf("repository listings = %v, want only alpha's", paths)
	}
	got := describe(rep.Changeset.Changes)
	want := []string{"create harborRepository/alpha/team/api", "create harborRepository/alpha/web"}
	if !slices.Equal(got, want) {
		t.Fatalf("changes = %v, want %v", got, want)
	}
	if owned := eng.Owned(); !slices.Equal(owned, []string{"harborRepository"}) {
		t.Fatalf("owned = %v", owned)
	}

	// A project that does not exist is nothing to sync, not an error.
	eng = e.engine(`
resources:
  - kind: repository
    selector:
      projectName: nosuch
`)
	if rep := e.compute(eng); !rep.Changeset.Empty() {
		t.Fatalf("missing project: %v", describe(rep.Changeset.Changes))
	}
}

// nameContains goes to Harbor as q=name=~term (a superset), narrowed locally.
func TestPushdownRepositoryNameContains(t *testing.T) {
	e := newEnv(t, envOptions{noLibrary: true})
	e.smallHarbor()
	_, err := e.hsim.PushArtifact("beta", "api-gw", nil, harborsim.PushOptions{})
	must(t, err)
	eng := e.engine(`
resources:
  - kind: repository
    selector:
      nameStartsWith: api
`)
	e.resetRequests()
	rep := e.compute(eng)
	var qs []string
	for _, r := range e.hsim.RequestLog() {
		if r.Route == routeAllRepos {
			v, _ := url.ParseQuery(r.RawQuery)
			qs = append(qs, v.Get("q"))
		}
	}
	if !slices.Equal(qs, []string{"name=~api"}) {
		t.Fatalf("q sent = %q, want [name=~api]", qs)
	}
	// alpha/team/api contains "api" (Harbor returns it) but its short name
	// "team/api" does not start with it.
	if got := describe(rep.Changeset.Changes); !slices.Equal(got, []string{"create harborRepository/beta/api-gw"}) {
		t.Fatalf("changes = %v", got)
	}
}

// One artifact resource with tag sends q=tags=<tag> with every artifact listing.
func TestPushdownArtifactTag(t *testing.T) {
	e := newEnv(t, envOptions{noLibrary: true})
	e.smallHarbor()
	eng := e.engine(`
resources:
  - kind: artifact
    selector:
      tag: latest
`)
	e.resetRequests()
	rep := e.compute(eng)
	n := 0
	for _, r := range e.hsim.RequestLog() {
		if !strings.HasSuffix(r.Route, "/artifacts") {
			continue
		}
		n++
		v, _ := url.ParseQuery(r.RawQuery)
		if v.Get("q") != "tags=latest" || v.Get("with_tag") != "true" || v.Get("with_scan_overview") != "true" {
			t.Fatalf("artifact listing %s?%s: want q=tags=latest with tags and scan overview", r.Path, r.RawQuery)
		}
	}
	if n != 3 {
		t.Fatalf("%d artifact listings, want one per repository (3)", n)
	}
	var ids []string
	for _, c := range rep.Changeset.Changes {
		ids = append(ids, c.Blueprint)
	}
	if len(ids) != 1 || ids[0] != "harborArtifact" || !strings.HasPrefix(rep.Changeset.Changes[0].Identifier, "alpha/web@") {
		t.Fatalf("changes = %v, want the one alpha/web artifact tagged latest", describe(rep.Changeset.Changes))
	}

	// With two artifact resources nothing is pushed down (each needs its own
	// superset); the selectors still run locally.
	eng = e.engine(`
resources:
  - kind: artifact
    selector:
      tag: latest
  - kind: artifact
    selector:
      tag: "15"
`)
	e.resetRequests()
	rep = e.compute(eng)
	for _, r := range e.hsim.RequestLog() {
		if strings.HasSuffix(r.Route, "/artifacts") && strings.Contains(r.RawQuery, "q=") {
			t.Fatalf("q pushed down with two resources: %s", r.RawQuery)
		}
	}
	if c := rep.Changeset.Counts(); c.Create != 2 {
		t.Fatalf("two tag resources: %v", describe(rep.Changeset.Changes))
	}
}
