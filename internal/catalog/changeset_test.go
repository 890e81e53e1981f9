package catalog

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/harborport/terraform-provider-harborport/internal/mapping"
	"github.com/harborport/terraform-provider-harborport/internal/port"
	"github.com/harborport/terraform-provider-harborport/internal/sandbox/harborsim"
)

// A changeset survives Terraform's private state byte for byte, and applying
// the decoded copy does the work.
func TestChangesetEncodeDecodeRoundTrip(t *testing.T) {
	e := newEnv(t, envOptions{noLibrary: true})
	e.smallHarbor()
	eng := e.engine()
	cs := e.compute(eng).Changeset

	raw, err := cs.Encode()
	must(t, err)
	if !json.Valid(raw) || raw[0] != '"' {
		t.Fatalf("encoded changeset is not a JSON string: %.60s", raw)
	}
	got, err := DecodeChangeset(raw)
	must(t, err)
	if !slices.Equal(describe(got.Changes), describe(cs.Changes)) {
		t.Fatalf("changes differ after the round trip\n got %v\nwant %v", describe(got.Changes), describe(cs.Changes))
	}
	for i := range cs.Changes {
		a, b := cs.Changes[i], got.Changes[i]
		if a.Before != b.Before || uint32(a.After) != uint32(b.After) || a.After == fpAbsent || a.Source == nil || *a.Source != *b.Source || b.Entity != nil {
			t.Fatalf("change %d differs:\n got %+v (source %+v)\nwant %+v (source %+v)", i, b, b.Source, a, a.Source)
		}
	}
	if got.Seed != cs.Seed || got.Seed == 0 {
		t.Fatalf("seed %d, want %d", got.Seed, cs.Seed)
	}
	if got.Merge != cs.Merge || got.CreateMissingRelated != cs.CreateMissingRelated || got.DeleteDependents != cs.DeleteDependents ||
		got.Threshold != cs.Threshold || got.Unchanged != cs.Unchanged || got.Owned != cs.Owned {
		t.Fatalf("options differ: got %+v", *got)
	}
	again, err := got.Encode()
	must(t, err)
	if !bytes.Equal(again, raw) {
		t.Fatal("re-encoding the decoded changeset gives different bytes: private state would churn")
	}

	res := e.apply(eng, got)
	if res.Created != len(cs.Changes) {
		t.Fatalf("applying the decoded changeset: %+v", res)
	}
	if rep := e.compute(eng); !rep.Changeset.Empty() {
		t.Fatalf("after applying the decoded changeset: %v", describe(rep.Changeset.Changes))
	}
}

func TestDecodeChangesetErrors(t *testing.T) {
	for _, in := range []string{"", "null"} {
		if cs, err := DecodeChangeset([]byte(in)); cs != nil || err != nil || !cs.Empty() {
			t.Errorf("DecodeChangeset(%q) = %v, %v; want an empty changeset", in, cs, err)
		}
	}
	current, err := (&Changeset{}).Encode()
	must(t, err)
	future := rewrap(t, current, func(raw []byte) { raw[len(encMagic)] = encVersion + 1 })
	_, err = DecodeChangeset(future)
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("format %d", encVersion+1)) ||
		!strings.Contains(err.Error(), "plan") {
		t.Fatalf("a changeset of another format: err = %v; want one naming the format and saying to plan again", err)
	}
	for _, bad := range []string{`{"v":1}`, `"not base64!"`, `"` + "aGVsbG8=" + `"`} {
		if _, err := DecodeChangeset([]byte(bad)); err == nil || !strings.Contains(err.Error(), "stored changeset") {
			t.Errorf("DecodeChangeset(%s): err = %v, want a 'stored changeset' error", bad, err)
		}
	}
}

// Preview is bounded, in key order and deterministic; Counts are exact.
func TestPreviewAndCounts(t *testing.T) {
	e := newEnv(t, envOptions{noLibrary: true})
	e.hsim.Seed(harborsim.SeedConfig{Projects: 3, ReposPerProject: 3, ArtifactsPerRepo: 4, Users: 3, Seed: 1})
	eng := e.engine()
	cs := e.compute(eng).Changeset
	if len(cs.Changes) < 30 {
		t.Fatalf("seed too small for the test: %d changes", len(cs.Changes))
	}
	all := make([]string, len(cs.Changes))
	for i, c := range cs.Changes {
		all[i] = c.key()
	}
	sort.Strings(all)

	for _, limit := range []int{0, 1, 10, len(all), len(all) + 5} {
		p := cs.Preview(limit)
		want := all[:min(limit, len(all))]
		if got := keysOf(p); !slices.Equal(got, want) {
			t.Fatalf("Preview(%d) keys = %v, want the first %d in key order", limit, got, len(want))
		}
		for _, v := range p {
			if v != "create" {
				t.Fatalf("Preview(%d) summary %q", limit, v)
			}
		}
	}
	if p := cs.Preview(-1); len(p) != 0 {
		t.Fatalf("Preview(-1) = %v", p)
	}
	if p := (*Changeset)(nil).Preview(5); len(p) != 0 {
		t.Fatalf("nil Preview = %v", p)
	}
	cs2 := e.compute(eng).Changeset
	if !maps.Equal(cs.Preview(7), cs2.Preview(7)) || !slices.Equal(describe(cs.Changes), describe(cs2.Changes)) {
		t.Fatal("two computes of the same state differ")
	}

	// Exact counts, with all three ops and unchanged entities in one changeset.
	e.apply(eng, cs)
	ents := e.psim.Entities("harborArtifact")
	for _, ent := range ents[:3] {
		e.psim.RemoveEntity("harborArtifact", as[string](t, ent["identifier"])) // → 3 creates
	}
	for _, ent := range ents[3:5] { // → 2 updates
		as[map[string]any](t, ent["properties"])["size"] = 1.0
		must(t, e.psim.SetEntity("harborArtifact", ent))
	}
	for i := range 4 { // → 4 deletes
		must(t, e.psim.SetEntity("harborArtifact", map[string]any{"identifier": fmt.Sprintf("gone@%d", i)}))
	}
	rep := e.compute(eng)
	got := rep.Changeset.Counts()
	want := Counts{Create: 3, Update: 2, Delete: 4, Unchanged: len(cs.Changes) - 5}
	if got != want {
		t.Fatalf("Counts = %+v, want %+v (changes %v)", got, want, describe(rep.Changeset.Changes))
	}
	if (*Changeset)(nil).Counts() != (Counts{}) {
		t.Fatal("nil Counts not zero")
	}
	for _, c := range filterBP(rep.Changeset.Changes, "harborArtifact") {
		if c.Op == OpUpdate && (len(c.Fields) != 1 || c.Fields[0] != "size") {
			t.Fatalf("update %s names fields %v, want [size]", c.key(), c.Fields)
		}
	}
	if pb := rep.Changeset.PerBlueprint(); pb != "  harborArtifact: 3 to create, 2 to update, 4 to delete" {
		t.Fatalf("PerBlueprint = %q", pb)
	}
}

// Deletes run in reverse rank: artifacts, then repositories, then projects,
// in the changeset and on the wire.
func TestDeletesReverseOrder(t *testing.T) {
	e := newEnv(t, envOptions{noLibrary: true})
	e.smallHarbor()
	eng := e.engine()
	e.sync(eng)
	// Entities Harbor no longer has (removed outside this sync).
	must(t, e.psim.SetEntity("harborProject", map[string]any{"identifier": "gone"}))
	must(t, e.psim.SetEntity("harborRepository", map[string]any{"identifier": "gone/x", "relations": map[string]any{"project": "gone"}}))
	must(t, e.psim.SetEntity("harborArtifact", map[string]any{"identifier": "gone/x@sha256:1",
		"relations": map[string]any{"repository": "gone/x", "project": "gone"}}))

	e.resetRequests()
	rep := e.compute(eng)
	want := []string{"delete harborArtifact/gone/x@sha256:1", "delete harborRepository/gone/x", "delete harborProject/gone"}
	if got := describe(rep.Changeset.Changes); !slices.Equal(got, want) {
		t.Fatalf("changes = %v, want %v", got, want)
	}
	res := e.apply(eng, rep.Changeset)
	if res.Deleted != 3 {
		t.Fatalf("result %+v", res)
	}
	var order []string
	for _, r := range e.psim.RequestLog() {
		if r.Route == routeBulkDelete {
			order = append(order, strings.Split(r.Path, "/")[3])
			if !strings.Contains(r.Query, "delete_dependents=true") {
				t.Errorf("bulk delete without the mapping's delete_dependents=true: %s", r.Query)
			}
		}
	}
	if !slices.Equal(order, []string{"harborArtifact", "harborRepository", "harborProject"}) {
		t.Fatalf("bulk deletes went out in order %v", order)
	}
	if e.psim.EntityCount("harborProject") != 2 {
		t.Fatalf("projects left: %v", e.psim.Entities("harborProject"))
	}
}

// Deleting more than entityDeletionThreshold of the owned entities is
// blocked with a message naming the numbers and the override.
func TestDeletionThresholdBlocks(t *testing.T) {
	e := newEnv(t, envOptions{noLibrary: true})
	e.smallHarbor()
	eng := e.engine()
	e.sync(eng) // 12 owned
	for i := range 120 {
		must(t, e.psim.SetEntity("harborArtifact", map[string]any{"identifier": fmt.Sprintf("stale@%03d", i)}))
	}
	rep := e.compute(eng)
	cs := rep.Changeset
	if c := cs.Counts(); c.Delete != 0 || !cs.Empty() {
		t.Fatalf("blocked deletes still in the changeset: %v", describe(cs.Changes))
	}
	for _, s := range []string{"120 of the 132", "90.9%", "90%", "entityDeletionThreshold"} {
		if !strings.Contains(cs.DeletesBlocked, s) {
			t.Fatalf("DeletesBlocked = %q, want it to mention %q", cs.DeletesBlocked, s)
		}
	}
	if cs.SkippedDeletes != 120 || cs.DeletesSkipped != "" {
		t.Fatalf("SkippedDeletes %d, DeletesSkipped %q", cs.SkippedDeletes, cs.DeletesSkipped)
	}

	// Exactly at the threshold deletes go ahead (Ocean: rate <= threshold).
	e2 := newEnv(t, envOptions{noLibrary: true})
	e2.smallHarbor()
	eng2 := e2.engine(`
entityDeletionThreshold: 0.5
resources:
  - kind: project
  - kind: user
  - kind: repository
  - kind: artifact
`)
	e2.sync(eng2)
	for i := range 12 {
		must(t, e2.psim.SetEntity("harborArtifact", map[string]any{"identifier": fmt.Sprintf("stale@%03d", i)}))
	}
	if cs := e2.compute(eng2).Changeset; cs.Counts().Delete != 12 || cs.DeletesBlocked != "" {
		t.Fatalf("12 of 24 at threshold 0.5: %d deletes, blocked %q", cs.Counts().Delete, cs.DeletesBlocked)
	}
	must(t, e2.psim.SetEntity("harborArtifact", map[string]any{"identifier": "stale@one-more"}))
	if cs := e2.compute(eng2).Changeset; cs.Counts().Delete != 0 || !strings.Contains(cs.DeletesBlocked, "13 of the 25") {
		t.Fatalf("13 of 25 at threshold 0.5: %d deletes, blocked %q", cs.Counts().Delete, cs.DeletesBlocked)
	}
}

// A selector that yields a non-boolean makes the desired state incomplete:
// no deletes, and the reason is recorded.
func TestSelectorErrorSkipsDeletes(t *testing.T) {
	e := newEnv(t, envOptions{noLibrary: true})
	e.smallHarbor()
	e.sync(e.engine())
	must(t, e.psim.SetEntity("harborArtifact", map[string]any{"identifier": "stale@1"}))

	eng := e.engine(`
resources:
  - kind: project
  - kind: user
  - kind: repository
  - kind: artifact
    selector:
      query: 'if .repositoryName == "beta/db" then .tags else true end'
`)
	rep := e.compute(eng)
	cs := rep.Changeset
	if cs.Counts().Delete != 0 {
		t.Fatalf("deletes despite a selector error: %v", describe(cs.Changes))
	}
	if rep.ItemErrors.Count != 2 || len(rep.ItemErrors.Examples) != 2 || !strings.Contains(rep.ItemErrors.Examples[0], "beta/db") {
		t.Fatalf("item errors = %+v, want the two beta/db artifacts", rep.ItemErrors)
	}
	// The beta/db artifacts failed the selector, so they are not generated:
	// without the guard they and stale@1 would be deleted.
	if cs.SkippedDeletes != 3 || !strings.Contains(cs.DeletesSkipped, "3 owned entities") ||
		!strings.Contains(cs.DeletesSkipped, "2 selector errors") || cs.DeletesBlocked != "" {
		t.Fatalf("SkippedDeletes %d, DeletesSkipped %q, DeletesBlocked %q", cs.SkippedDeletes, cs.DeletesSkipped, cs.DeletesBlocked)
	}
}

// With createMissingRelatedEntities, an entity that generated entities
// relate to is kept even when its own item is no longer selected: Port would
// re-create it as a stub (Ocean's _safe_delete).
func TestRelationTargetsProtected(t *testing.T) {
	e := newEnv(t, envOptions{noLibrary: true})
	e.smallHarbor()
	e.sync(e.engine())
	const narrowed = `
createMissingRelatedEntities: %v
resources:
  - kind: project
    selector:
      name: alpha
  - kind: user
  - kind: repository
  - kind: artifact
`
	for _, tc := range []struct {
		create bool
		want   []string
	}{
		{true, nil},
		{false, []string{"delete harborProject/beta"}},
	} {
		t.Run(fmt.Sprint("createMissingRelatedEntities=", tc.create), func(t *testing.T) {
			cs := e.compute(e.engine(fmt.Sprintf(narrowed, tc.create))).Changeset
			if got := describe(cs.Changes); !slices.Equal(got, tc.want) {
				t.Fatalf("changes = %v, want %v", got, tc.want)
			}
			if cs.CreateMissingRelated != tc.create {
				t.Fatalf("changeset CreateMissingRelated = %v", cs.CreateMissingRelated)
			}
		})
	}
}

// Equality follows Ocean: only mapped fields are compared, and a null on one
// side equals absence on the other.
func TestChangedFields(t *testing.T) {
	title := "t"
	other := "u"
	f := struct{ props, rels []string }{[]string{"a", "n"}, []string{"r"}}
	mk := func(props, rels map[string]any, title *string, team any) port.Entity {
		return port.Entity{Properties: props, Relations: rels, Title: title, Team: team}
	}
	cases := []struct {
		name      string
		want, cur port.Entity
		fields    []string
	}{
		{"equal", mk(map[string]any{"a": 1.0}, nil, &title, nil), mk(map[string]any{"a": 1.0, "zzz": "unmapped"}, nil, &title, nil), nil},
		{"null equals absent", mk(map[string]any{"a": nil}, map[string]any{"r": nil}, nil, nil), mk(nil, nil, nil, nil), nil},
		{"absent is not a value", mk(map[string]any{"a": "x"}, nil, nil, nil), mk(nil, nil, nil, nil), []string{"a"}},
		{"object key order", mk(map[string]any{"n": map[string]any{"x": 1.0, "y": []any{"b", "a"}}}, nil, nil, nil),
			mk(map[string]any{"n": map[string]any{"y": []any{"b", "a"}, "x": 1.0}}, nil, nil, nil), nil},
		{"array order matters", mk(map[string]any{"n": []any{"a", "b"}}, nil, nil, nil), mk(map[string]any{"n": []any{"b", "a"}}, nil, nil, nil), []string{"n"}},
		{"team sorted", mk(nil, nil, nil, []any{"b", "a"}), mk(nil, nil, nil, []any{"a", "b"}), nil},
		{"title and relation", mk(nil, map[string]any{"r": "p1"}, &title, nil), mk(nil, map[string]any{"r": "p2"}, &other, nil), []string{"$title", "relations.r"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := &Wanted{Entity: tc.want}
			w.Fields = fieldsOf(true, true, f.props, f.rels)
			if got := changedFields(w, tc.cur); !slices.Equal(got, tc.fields) {
				t.Fatalf("changedFields = %v, want %v", got, tc.fields)
			}
		})
	}
}

// rewrap decodes an encoded changeset's bytes, lets f edit them, and encodes
// them again.
func rewrap(t *testing.T, enc []byte, f func([]byte)) []byte {
	t.Helper()
	gz, err := base64.StdEncoding.DecodeString(string(enc[1 : len(enc)-1]))
	must(t, err)
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	must(t, err)
	raw, err := io.ReadAll(zr)
	must(t, err)
	f(raw)
	var out bytes.Buffer
	zw := gzip.NewWriter(&out)
	_, err = zw.Write(raw)
	must(t, err)
	must(t, zw.Close())
	return []byte(`"` + base64.StdEncoding.EncodeToString(out.Bytes()) + `"`)
}

// Every kind of change survives the compact encoding: sources of each kind,
// identifiers the source names and others, non-sha256 digests, fields,
// fingerprints (After to 32 bits), and the changeset's options.
func TestChangesetEncodingAllShapes(t *testing.T) {
	d := "sha256:" + strings.Repeat("0123456789abcdef", 4)
	cs := &Changeset{Version: changesetVersion, Seed: 99, Unchanged: 7, Owned: 12, Merge: true, DeleteDependents: true,
		Threshold: 0.25, DeletesSkipped: "because", SkippedDeletes: 3, Changes: []Change{
			{Op: OpCreate, Blueprint: "harborProject", Identifier: "p1", After: 1<<40 | 5, Source: &Key{Kind: mapping.KindProject, Project: "p1"}},
			{Op: OpCreate, Blueprint: "harborUser", Identifier: "custom-u", After: 9, Source: &Key{Kind: mapping.KindUser, User: "ünï", UserID: 42}},
			{Op: OpUpdate, Blueprint: "harborRepository", Identifier: "p1/a/b", Fields: []string{"$title", "relations.project"}, Before: 1<<63 | 1, After: 77,
				Source: &Key{Kind: mapping.KindRepository, Project: "p1", Repository: "p1/a/b"}},
			{Op: OpUpdate, Blueprint: "harborArtifact", Identifier: "p1/a/b@" + d, Fields: []string{"tags"}, Before: 3, After: 4,
				Source: &Key{Kind: mapping.KindArtifact, Project: "p1", Repository: "p1/a/b", Digest: d}},
			{Op: OpCreate, Blueprint: "harborArtifact", Identifier: "by-digest-only", After: 6,
				Source: &Key{Kind: mapping.KindArtifact, Project: "p1", Repository: "p1/a/b", Digest: "sha512:XYZ"}},
			{Op: OpDelete, Blueprint: "harborArtifact", Identifier: "gone@" + d, Before: 8},
		}}
	enc, err := cs.Encode()
	must(t, err)
	got, err := DecodeChangeset(enc)
	must(t, err)
	if got.Seed != 99 || got.Unchanged != 7 || got.Owned != 12 || !got.Merge || got.CreateMissingRelated || !got.DeleteDependents ||
		got.Threshold != 0.25 || got.DeletesSkipped != "because" || got.SkippedDeletes != 3 {
		t.Fatalf("options: %+v", got)
	}
	for i, want := range cs.Changes {
		g := got.Changes[i]
		if g.Op != want.Op || g.Blueprint != want.Blueprint || g.Identifier != want.Identifier || !slices.Equal(g.Fields, want.Fields) ||
			g.Before != want.Before || uint32(g.After) != uint32(want.After) || (g.Source == nil) != (want.Source == nil) ||
			(g.Source != nil && *g.Source != *want.Source) {
			t.Errorf("change %d:\n got %+v %+v\nwant %+v %+v", i, g, g.Source, want, want.Source)
		}
		if held := want.After; want.Op != OpDelete && !afterHeld(&g, held) {
			t.Errorf("change %d: the decoded After does not match the full fingerprint", i)
		}
	}
	if !afterHeld(&got.Changes[5], fpAbsent) || afterHeld(&got.Changes[0], fpAbsent) {
		t.Error("afterHeld: a delete is done when absent, a create never is")
	}
	// Truncated or corrupted input fails cleanly.
	for _, cut := range []int{2, 10, len(enc) / 2, len(enc) - 2} {
		bad := append([]byte(nil), enc[:cut]...)
		bad = append(bad, '"')
		if _, err := DecodeChangeset(bad); err == nil {
			t.Errorf("truncated at %d: no error", cut)
		}
	}
}

func FuzzDecodeChangeset(f *testing.F) {
	enc, _ := (&Changeset{Changes: []Change{{Op: OpDelete, Blueprint: "b", Identifier: "i", Before: 1}}}).Encode()
	f.Add(enc)
	f.Add([]byte(`"aGVsbG8="`))
	f.Fuzz(func(t *testing.T, b []byte) {
		cs, err := DecodeChangeset(b)
		if err != nil || cs == nil {
			return
		}
		again, err := cs.Encode()
		if err != nil {
			t.Fatalf("a decoded changeset does not encode: %v", err)
		}
		if _, err := DecodeChangeset(again); err != nil {
			t.Fatalf("re-encoded changeset does not decode: %v", err)
		}
	})
}
