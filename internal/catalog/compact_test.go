package catalog

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/harborport/terraform-provider-harborport/internal/sandbox/harborsim"
)

// lowCompaction makes small changesets compact, as a million-change one is.
func lowCompaction(t *testing.T) {
	old := [3]int{compactMin, compactPerRepo, compactDeletes}
	compactMin, compactPerRepo, compactDeletes = 10, 5, 5
	t.Cleanup(func() { compactMin, compactPerRepo, compactDeletes = old[0], old[1], old[2] })
}

func storeAndLoad(t *testing.T, cs *Changeset) (*Changeset, int) {
	t.Helper()
	enc, err := cs.Encode()
	must(t, err)
	got, err := DecodeChangeset(enc)
	must(t, err)
	return got, len(enc)
}

// A large changeset stores artifact changes of busy repositories and the
// deletes of a busy blueprint without identifiers; apply finds them again
// (one listing per repository, one pass over the blueprint's identifiers)
// and does exactly what an explicit changeset does, conditions included.
func TestCompactChangesApply(t *testing.T) {
	lowCompaction(t)
	e := newEnv(t, envOptions{noLibrary: true})
	e.hsim.CreateProject("busy", false)
	var digests []string
	for i := range 24 {
		d, err := e.hsim.PushArtifact("busy", []string{"web", "team/api"}[i%2], []string{fmt.Sprintf("t%d", i)}, harborsim.PushOptions{})
		must(t, err)
		digests = append(digests, d)
	}
	eng := e.engine()
	plan := e.compute(eng).Changeset
	cs, size := storeAndLoad(t, plan)
	compact := 0
	for _, ch := range cs.Changes {
		if ch.Compact() {
			compact++
			if ch.Blueprint != "harborArtifact" || ch.Source == nil || ch.Source.Digest != "" {
				t.Fatalf("compact change %+v", ch)
			}
		}
	}
	if compact != 24 {
		t.Fatalf("%d compact changes, want the 24 artifacts", compact)
	}
	explicit, _ := storeAndLoad(t, &Changeset{Version: changesetVersion, Seed: plan.Seed, Changes: plan.Changes[:3]})
	if explicit.HasCompact() {
		t.Fatal("a small changeset was stored compactly")
	}
	t.Logf("%d changes in %d bytes of private state", len(plan.Changes), size)

	// Between plan and apply one artifact leaves Harbor: skipped, named by
	// its repository; the others are written.
	must(t, e.hsim.DeleteArtifact("busy", "web", digests[0]))
	res := e.apply(eng, cs)
	if res.Created != len(cs.Changes)-1 || len(res.Skipped) != 1 || res.Skipped[0].Reason != SkipHarborGone ||
		!strings.Contains(res.Skipped[0].String(), "busy/web@(an artifact no longer listed") {
		t.Fatalf("result %+v, skipped %v", res, skipped(res))
	}
	if rep := e.compute(eng); !rep.Changeset.Empty() {
		t.Fatalf("after apply: %v", describe(rep.Changeset.Changes))
	}

	// Many deletes: compact; one entity rewritten in Port after the plan is
	// left alone (the check still applies), one already gone counts as done.
	for _, d := range digests[1:] {
		repo := "web"
		if slices.Index(digests, d)%2 == 1 {
			repo = "team/api"
		}
		must(t, e.hsim.DeleteArtifact("busy", repo, d))
	}
	del := e.compute(eng).Changeset
	cs, _ = storeAndLoad(t, del)
	if !cs.HasCompact() {
		t.Fatal("the deletes were not compact")
	}
	kept := "busy/team/api@" + digests[1]
	ent, _ := e.psim.Entity("harborArtifact", kept)
	props, _ := ent["properties"].(map[string]any)
	props["size"] = 7.0
	must(t, e.psim.SetEntity("harborArtifact", ent))
	e.psim.RemoveEntity("harborArtifact", "busy/team/api@"+digests[3])
	res, err := eng.Apply(context.Background(), cs)
	must(t, err)
	if res.AlreadyDone != 1 || len(res.Skipped) != 1 || !strings.Contains(res.Skipped[0].String(), kept) {
		t.Fatalf("result %+v, skipped %v", res, skipped(res))
	}
	if _, ok := e.psim.Entity("harborArtifact", kept); !ok {
		t.Fatal("an entity changed since the plan was deleted")
	}
}
