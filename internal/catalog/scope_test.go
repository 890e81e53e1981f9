package catalog

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/harborport/terraform-provider-harborport/internal/mapping"
	"github.com/harborport/terraform-provider-harborport/internal/sandbox/harborsim"
)

// Scoped ownership: several Harbors (or several syncs of one Harbor) share
// the blueprints of one Port, each owning only what it marked.

// scopedEnvs is two Harbors and one Port with the scope property.
func scopedEnvs(t *testing.T) (a, b *env) {
	t.Helper()
	o := envOptions{noLibrary: true, scoped: true}
	a = newEnv(t, o)
	hsim, hc, closeH := startHarbor(t, o.withDefaults())
	t.Cleanup(closeH)
	bb := *a
	bb.hsim, bb.hc = hsim, hc
	return a, &bb
}

func (e *env) scopedEngine(scope string, prefix bool, yaml ...string) *Engine {
	e.t.Helper()
	o := mapping.Options{Scope: scope, PrefixIdentifiers: prefix}
	m := mapping.DefaultWith(o)
	if len(yaml) > 0 {
		var err error
		if m, err = mapping.ParseWith(yaml[0], "test mapping", o); err != nil {
			e.t.Fatal(err)
		}
	}
	eng, err := New(e.hc, e.pc, m)
	if err != nil {
		e.t.Fatal(err)
	}
	return eng
}

// ids lists a blueprint's identifiers in Port, sorted.
func (e *env) ids(bp string) []string {
	var out []string
	for _, ent := range e.psim.Entities(bp) {
		id, _ := ent["identifier"].(string)
		out = append(out, id)
	}
	slices.Sort(out)
	return out
}

// entField is ent[group][key] of a portsim entity, or nil.
func entField(ent map[string]any, group, key string) any {
	m, _ := ent[group].(map[string]any)
	return m[key]
}

func withPrefix(p string, ids []string) bool {
	for _, id := range ids {
		if !strings.HasPrefix(id, p) {
			return false
		}
	}
	return len(ids) > 0
}

// Two Harbors with the same project and repository names, two scoped syncs,
// one Port: identifiers do not collide, each plan sees only its own Harbor,
// a project deleted in A deletes nothing of B, a mass deletion in A is judged
// against A's entities only, and a scoped no-op plan reads only its own
// entities: ceil(own / 1000) search pages per blueprint.
func TestScopedSyncsOfTwoHarbors(t *testing.T) {
	a, b := scopedEnvs(t)
	a.smallHarbor()
	b.smallHarbor()
	b.hsim.Seed(harborsim.SeedConfig{Projects: 3, ReposPerProject: 4, ArtifactsPerRepo: 220, Users: 3, Seed: 1}) // > 2000 artifacts
	engA, engB := a.scopedEngine("eu", true), b.scopedEngine("us", true)
	a.sync(engA)
	b.sync(engB)
	if rep := a.compute(engA); !rep.Changeset.Empty() { // B's writes are invisible to A
		t.Fatalf("A after B's sync: %v", describe(rep.Changeset.Changes))
	}
	var euArtifacts, usArtifacts []string
	for _, id := range a.ids("harborArtifact") {
		switch {
		case strings.HasPrefix(id, "eu:"):
			euArtifacts = append(euArtifacts, id)
		case strings.HasPrefix(id, "us:"):
			usArtifacts = append(usArtifacts, id)
		default:
			t.Fatalf("unprefixed artifact %q", id)
		}
	}
	if len(euArtifacts) != 5 || len(usArtifacts) < 2000 {
		t.Fatalf("artifacts eu %d us %d", len(euArtifacts), len(usArtifacts))
	}
	for _, id := range []string{"eu:alpha", "us:alpha"} {
		ent, ok := a.psim.Entity("harborProject", id)
		if !ok || entField(ent, "properties", mapping.ScopeProperty) != id[:2] {
			t.Fatalf("project %s: %v", id, ent)
		}
	}
	if rel := a.psim.Entities("harborRepository"); len(rel) == 0 {
		t.Fatal("no repositories")
	}
	if ent, _ := a.psim.Entity("harborRepository", "us:alpha/web"); entField(ent, "relations", "project") != "us:alpha" {
		t.Fatalf("relation = %v", ent["relations"])
	}

	// The cost of a scoped no-op plan: A owns a handful of entities per
	// blueprint among thousands of B's, and reads one page per blueprint.
	a.resetRequests()
	if rep := a.compute(engA); !rep.Changeset.Empty() || rep.Changeset.Owned != 2+2+3+5 { // projects, users, repositories, artifacts
		t.Fatalf("A no-op: %v, owned %d", describe(rep.Changeset.Changes), rep.Changeset.Owned)
	}
	if got := a.portRequests()[routeSearch]; got != 4 {
		t.Fatalf("A's no-op plan made %d search requests, want 4 (one page per blueprint)", got)
	}
	b.offset = a.offset // one Port client, one request log
	b.resetRequests()
	b.compute(engB)
	usRepos := len(b.ids("harborRepository")) - 3
	want := 1 + 1 + (usRepos+999)/1000 + (len(usArtifacts)+999)/1000
	if got := b.portRequests()[routeSearch]; got != want {
		t.Fatalf("B's no-op plan made %d search requests, want %d", got, want)
	}
	usOwn := 0
	for _, bp := range []string{"harborProject", "harborUser", "harborRepository", "harborArtifact"} {
		for _, id := range b.ids(bp) {
			if strings.HasPrefix(id, "us:") {
				usOwn++
			}
		}
	}
	t.Logf("scoped no-op plans: A owns 12 entities beside B's %d and reads 4 search pages (1 per blueprint); "+
		"B owns %d (%d artifacts) and reads %d = ceil(own/1000) per blueprint", usOwn, usOwn, len(usArtifacts), want)

	// A project deleted in A: A deletes its entities, B's plan stays empty.
	must(t, a.hsim.DeleteRepository("beta", "db"))
	must(t, a.hsim.DeleteProject("beta"))
	rep := a.compute(engA)
	for _, ch := range rep.Changeset.Changes {
		if !strings.HasPrefix(ch.Identifier, "eu:") {
			t.Fatalf("A plans %s on B's entity", ch.key())
		}
	}
	if n := len(rep.Changeset.Changes); n != 4 { // project, repository, two artifacts
		t.Fatalf("A's plan: %v", describe(rep.Changeset.Changes))
	}
	a.apply(engA, rep.Changeset)
	if rep := b.compute(engB); !rep.Changeset.Empty() {
		t.Fatalf("B after A's delete: %v", describe(rep.Changeset.Changes))
	}
	if _, ok := a.psim.Entity("harborProject", "us:beta"); !ok {
		t.Fatal("B's project beta is gone")
	}

	// An unscoped sync over the same blueprints would delete both scopes'
	// entities: its plan fails naming them, with or without the guards
	// holding the deletes back.
	for _, src := range []string{"", strings.Replace(mapping.DefaultYAML(mapping.DefaultIDs()), "entityDeletionThreshold: 0.9", "entityDeletionThreshold: 1", 1)} {
		var eng *Engine
		if src == "" {
			eng = a.engine()
		} else {
			eng = a.engine(src)
		}
		_, err := eng.Compute(context.Background())
		var unscoped *UnscopedConflictError
		if !errors.As(err, &unscoped) || !strings.Contains(err.Error(), `scopes "eu", "us"`) {
			t.Fatalf("unscoped sync: %v", err)
		}
	}

	// Mass deletion in A (threshold 50%): project alpha and all under it is
	// 6 of A's 8 entities, 0.2% of the blueprints' thousands; judged against
	// A's own, it is blocked.
	for _, r := range []struct{ p, r string }{{"alpha", "web"}, {"alpha", "team/api"}} {
		must(t, a.hsim.DeleteRepository(r.p, r.r))
	}
	must(t, a.hsim.DeleteProject("alpha"))
	src := strings.Replace(mapping.DefaultYAMLWith(mapping.Options{Scope: "eu", PrefixIdentifiers: true}),
		"entityDeletionThreshold: 0.9", "entityDeletionThreshold: 0.5", 1)
	rep = a.compute(a.scopedEngine("eu", true, src))
	if rep.Changeset.DeletesBlocked == "" || !strings.Contains(rep.Changeset.DeletesBlocked, "of the ") {
		t.Fatalf("A's mass delete not blocked: %q, %v", rep.Changeset.DeletesBlocked, describe(rep.Changeset.Changes))
	}
	if !strings.Contains(rep.Changeset.DeletesBlocked, "6 of the 8 entities") {
		t.Fatalf("threshold judged against %d entities: %s", rep.Changeset.Owned, rep.Changeset.DeletesBlocked)
	}
}

// One Harbor split by project into two scoped syncs over the same blueprints
// (identifiers unprefixed): each owns its part, both plans are empty after
// both applied, in either order.
func TestScopedSplitByProject(t *testing.T) {
	e := newEnv(t, envOptions{noLibrary: true, scoped: true})
	e.smallHarbor()
	part := func(project string, users bool) string {
		s := "resources:\n"
		s += fmt.Sprintf("  - kind: project\n    selector:\n      query: '.name == %q'\n", project)
		if users {
			s += "  - kind: user\n    selector:\n      query: 'true'\n"
		}
		s += fmt.Sprintf("  - kind: repository\n    selector:\n      query: 'true'\n      projectName: %q\n", project)
		s += fmt.Sprintf("  - kind: artifact\n    selector:\n      query: '.projectName == %q'\n", project)
		return s
	}
	one, two := e.scopedEngine("team-alpha", false, part("alpha", true)), e.scopedEngine("team-beta", false, part("beta", false))
	e.sync(one)
	e.sync(two)
	for i, eng := range []*Engine{one, two, one} {
		if rep := e.compute(eng); !rep.Changeset.Empty() || rep.Unclaimed.Count != 0 {
			t.Fatalf("plan %d: %v, unclaimed %v", i, describe(rep.Changeset.Changes), rep.Unclaimed)
		}
	}
	if ent, _ := e.psim.Entity("harborRepository", "beta/db"); entField(ent, "properties", mapping.ScopeProperty) != "team-beta" {
		t.Fatalf("beta/db = %v", ent)
	}

	// Both mapping users: the second sync's plan would take the first one's
	// users over. The plan fails and says so.
	three := e.scopedEngine("team-gamma", false, part("beta", true))
	_, err := three.Compute(context.Background())
	var conflict *ScopeConflictError
	if !errors.As(err, &conflict) || !strings.Contains(err.Error(), `harborUser "admin" (scope "team-alpha")`) {
		t.Fatalf("err = %v", err)
	}
}

// Scoping the catalog of an unscoped sync: with identifiers unchanged, every
// entity is an update that adds the mark, nothing else; with the prefix,
// creates of the prefixed entities, and the old ones are left alone (and
// reported) unless the sync adopts unscoped entities, then deleted.
func TestScopedAdoption(t *testing.T) {
	e := newEnv(t, envOptions{noLibrary: true, scoped: true})
	e.smallHarbor()
	e.sync(e.engine())
	total := 0
	for _, bp := range []string{"harborProject", "harborUser", "harborRepository", "harborArtifact"} {
		total += len(e.ids(bp))
	}

	rep := e.compute(e.scopedEngine("eu", false))
	if len(rep.Changeset.Changes) != total {
		t.Fatalf("adoption plan has %d changes, want %d updates", len(rep.Changeset.Changes), total)
	}
	for _, ch := range rep.Changeset.Changes {
		if ch.Op != OpUpdate || !slices.Equal(ch.Fields, []string{mapping.ScopeProperty}) {
			t.Fatalf("adoption plan: %s %v", ch.key(), ch.Fields)
		}
	}

	prefixed := e.scopedEngine("eu", true)
	rep = e.compute(prefixed)
	creates, deletes := 0, 0
	for _, ch := range rep.Changeset.Changes {
		switch ch.Op {
		case OpCreate:
			creates++
		case OpDelete:
			deletes++
		}
	}
	if creates != total || deletes != 0 || rep.Unclaimed.Count != total {
		t.Fatalf("prefix without adopting: %d creates, %d deletes, %d unclaimed (want %d, 0, %d)", creates, deletes, rep.Unclaimed.Count, total, total)
	}
	adopting := prefixed.AdoptUnscoped(true)
	rep = e.compute(adopting)
	creates, deletes = 0, 0
	for _, ch := range rep.Changeset.Changes {
		switch ch.Op {
		case OpCreate:
			creates++
			if !strings.HasPrefix(ch.Identifier, "eu:") {
				t.Fatalf("create %s", ch.key())
			}
		case OpDelete:
			deletes++
			if strings.HasPrefix(ch.Identifier, "eu:") {
				t.Fatalf("delete %s", ch.key())
			}
		default:
			t.Fatalf("%s %s", ch.Op, ch.key())
		}
	}
	// Every entity it owns is deleted: the threshold stops it, and says how
	// the migration goes on.
	if creates != total || deletes != 0 || !strings.Contains(rep.Changeset.DeletesBlocked, "adopt") {
		t.Fatalf("prefix adopting: %d creates, %d deletes (want %d, 0), blocked %q", creates, deletes, total, rep.Changeset.DeletesBlocked)
	}
	// The migration raises entityDeletionThreshold for this one apply.
	src := strings.Replace(mapping.DefaultYAMLWith(mapping.Options{Scope: "eu", PrefixIdentifiers: true}),
		"entityDeletionThreshold: 0.9", "entityDeletionThreshold: 1", 1)
	adopting = e.scopedEngine("eu", true, src).AdoptUnscoped(true)
	rep = e.compute(adopting)
	creates, deletes = 0, 0
	for _, ch := range rep.Changeset.Changes {
		switch ch.Op {
		case OpCreate:
			creates++
			if !strings.HasPrefix(ch.Identifier, "eu:") {
				t.Fatalf("create %s", ch.key())
			}
		case OpDelete:
			deletes++
			if strings.HasPrefix(ch.Identifier, "eu:") {
				t.Fatalf("delete %s", ch.key())
			}
		default:
			t.Fatalf("%s %s", ch.Op, ch.key())
		}
	}
	if creates != total || deletes != total {
		t.Fatalf("prefix adopting, threshold 1: %d creates, %d deletes (want %d each)", creates, deletes, total)
	}
	e.apply(adopting, rep.Changeset)
	for _, bp := range []string{"harborProject", "harborArtifact"} {
		if ids := e.ids(bp); !withPrefix("eu:", ids) {
			t.Fatalf("%s after the migration: %v", bp, ids)
		}
	}
	if rep := e.compute(prefixed); !rep.Changeset.Empty() || rep.Unclaimed.Count != 0 {
		t.Fatalf("after the migration: %v, unclaimed %d", describe(rep.Changeset.Changes), rep.Unclaimed.Count)
	}
}

// The listener of a scoped sync deletes only its own entities and refuses
// to write over another scope's.
func TestScopedReconcile(t *testing.T) {
	a, b := scopedEnvs(t)
	a.smallHarbor()
	b.smallHarbor()
	engA, engB := a.scopedEngine("eu", false), b.scopedEngine("us", true)
	a.sync(engA)
	b.sync(engB)

	// B (prefixed) loses project beta: its reconcile deletes us:beta only.
	must(t, b.hsim.DeleteRepository("beta", "db"))
	must(t, b.hsim.DeleteProject("beta"))
	b.reconcile(engB, Key{Kind: mapping.KindRepository, Project: "beta", Repository: "beta/db"})
	b.reconcile(engB, Key{Kind: mapping.KindProject, Project: "beta"})
	if _, ok := b.psim.Entity("harborProject", "us:beta"); ok {
		t.Fatal("us:beta still in Port")
	}
	if _, ok := a.psim.Entity("harborProject", "beta"); !ok {
		t.Fatal("A's beta is gone")
	}
	if _, ok := a.psim.Entity("harborRepository", "beta/db"); !ok {
		t.Fatal("A's beta/db is gone")
	}

	// An unprefixed scope "us2" on B's Harbor maps to A's identifiers: its
	// reconcile of a project A owns fails with the conflict, writing nothing.
	other := b.scopedEngine("us2", false)
	a.resetRequests()
	_, _, err := other.Reconcile(context.Background(), Key{Kind: mapping.KindProject, Project: "alpha"})
	var conflict *ScopeConflictError
	if !errors.As(err, &conflict) || !strings.Contains(err.Error(), `(scope "eu")`) {
		t.Fatalf("err = %v", err)
	}
	if w := a.portWrites(); len(w) != 0 {
		t.Fatalf("writes: %v", w)
	}
	// And it does not delete A's entity for an object its Harbor lacks.
	must(t, b.hsim.DeleteRepository("alpha", "web"))
	if _, _, err := other.Reconcile(context.Background(), Key{Kind: mapping.KindRepository, Project: "alpha", Repository: "alpha/web"}); err != nil {
		t.Fatal(err)
	}
	if _, ok := a.psim.Entity("harborRepository", "alpha/web"); !ok {
		t.Fatal("A's alpha/web deleted by another scope's listener")
	}
}

// A scoped sync on blueprints without the mark property: Port refuses the
// scoped search (the simulator as strictly as internal/port/API-NOTES.md
// "Search" says), and the plan says what to do.
func TestScopedWithoutTheProperty(t *testing.T) {
	e := newEnv(t, envOptions{noLibrary: true})
	e.smallHarbor()
	_, err := e.scopedEngine("eu", true).Compute(context.Background())
	if err == nil || !strings.Contains(err.Error(), `has no "harborportScope" property, which a scoped sync (scope "eu") marks`) ||
		!strings.Contains(err.Error(), "scope_property = true") {
		t.Fatalf("err = %v", err)
	}
}

// Two scopes racing for the same identifiers: A plans its creates, B creates
// the same entities before A applies. A's apply skips every one of them
// (Port no longer holds what the plan saw), B's marks stay, and A's next plan
// fails naming B's scope instead of taking them over.
func TestScopedRaceForTheSameEntities(t *testing.T) {
	e := newEnv(t, envOptions{noLibrary: true, scoped: true})
	e.smallHarbor()
	a, b := e.scopedEngine("a", false), e.scopedEngine("b", false)
	planA := e.compute(a)
	n := len(planA.Changeset.Changes)
	e.sync(b)
	res := e.apply(a, planA.Changeset)
	if res.Created != 0 || len(res.Skipped) != n {
		t.Fatalf("A's apply after B's: created %d, skipped %d of %d: %v", res.Created, len(res.Skipped), n, skipped(res))
	}
	for _, s := range res.Skipped {
		if s.Reason != SkipPortChanged {
			t.Fatalf("skip reason %v for %s", s.Reason, s.Change.key())
		}
	}
	if ent, _ := e.psim.Entity("harborProject", "alpha"); entField(ent, "properties", mapping.ScopeProperty) != "b" {
		t.Fatalf("alpha = %v, want B's mark", ent)
	}
	var conflict *ScopeConflictError
	if _, err := a.Compute(context.Background()); !errors.As(err, &conflict) || !strings.Contains(err.Error(), `(scope "b")`) {
		t.Fatalf("A's next plan: %v", err)
	}
}
