package catalog

import (
	"container/heap"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/cespare/xxhash/v2"

	"github.com/harborport/terraform-provider-harborport/internal/mapping"
	"github.com/harborport/terraform-provider-harborport/internal/port"
)

// Op is what a change does to one entity.
type Op string

const (
	OpCreate Op = "create"
	OpUpdate Op = "update"
	OpDelete Op = "delete"
)

// Change is one entity operation. A stored changeset carries no entity
// bodies: apply re-derives them from Harbor (Source), so it writes Harbor's
// values as they are at apply time (never older than the plan), for the
// entities and fields the plan showed, and the stored changeset stays a few
// dozen bytes per change however large the entities are
// (internal/DESIGN.md "Conditional apply (two writers)").
type Change struct {
	Op         Op
	Blueprint  string
	Identifier string
	Fields     []string // updates: the changed fields

	// Before is the fingerprint of what Port held when the change was
	// computed (fpAbsent for a create); After the fingerprint Port holds
	// once the change is written (fpAbsent for a delete). Apply writes only
	// where Port still holds Before.
	Before, After uint64
	// Source is the Harbor object the entity is mapped from (creates and
	// updates).
	Source *Key

	// IDHash, in a change decoded from a large stored changeset, stands for
	// an identifier that was not stored (encoding.go "compact" changes):
	// Identifier is empty until apply finds the entity again by this hash
	// of blueprint and identifier (idHash).
	IDHash uint64

	// Entity is an in-memory body to write as is (Reconcile, which has just
	// read Harbor and Port); never stored.
	Entity *port.Entity
}

// idHash names an entity in a compact change.
func idHash(bp, id string) uint64 {
	h := xxhash.New()
	_, _ = h.WriteString(bp)
	_, _ = h.Write([]byte{0})
	_, _ = h.WriteString(id)
	if v := h.Sum64(); v != 0 {
		return v
	}
	return 1
}

// Compact reports whether the change's identifier was left out of the
// stored changeset and is still to be found.
func (c Change) Compact() bool { return c.IDHash != 0 && c.Identifier == "" }

// HasCompact reports whether some changes still need their identifiers
// found (a large stored changeset, decoded).
func (cs *Changeset) HasCompact() bool {
	if cs == nil {
		return false
	}
	for i := range cs.Changes {
		if cs.Changes[i].Compact() {
			return true
		}
	}
	return false
}

// wireChange is a Change in a stored changeset: short keys, since a large
// plan stores hundreds of thousands of them.
type wireChange struct {
	Op         Op          `json:"o"`
	Blueprint  string      `json:"b"`
	Identifier string      `json:"i"`
	Fields     []string    `json:"f,omitempty"`
	Before     uint64      `json:"x,omitempty"`
	After      uint64      `json:"y,omitempty"`
	Source     *wireSource `json:"s,omitempty"`
}

type wireSource struct {
	Kind       mapping.Kind `json:"k"`
	Project    string       `json:"p,omitempty"`
	Repository string       `json:"r,omitempty"`
	Digest     string       `json:"d,omitempty"`
	User       string       `json:"u,omitempty"`
	UserID     int64        `json:"n,omitempty"`
}

func (c Change) MarshalJSON() ([]byte, error) {
	w := wireChange{Op: c.Op, Blueprint: c.Blueprint, Identifier: c.Identifier, Fields: c.Fields, Before: c.Before, After: c.After}
	if k := c.Source; k != nil {
		w.Source = &wireSource{Kind: k.Kind, Project: k.Project, Repository: k.Repository, Digest: k.Digest, User: k.User, UserID: k.UserID}
	}
	return json.Marshal(w)
}

func (c *Change) UnmarshalJSON(b []byte) error {
	var w wireChange
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*c = Change{Op: w.Op, Blueprint: w.Blueprint, Identifier: w.Identifier, Fields: w.Fields, Before: w.Before, After: w.After}
	if s := w.Source; s != nil {
		c.Source = &Key{Kind: s.Kind, Project: s.Project, Repository: s.Repository, Digest: s.Digest, User: s.User, UserID: s.UserID}
	}
	return nil
}

func (c Change) key() string { return c.Blueprint + "/" + c.Identifier }

// Summary renders the change as harborport_sync's `changes` shows it.
func (c Change) Summary() string {
	if c.Op == OpUpdate {
		return "update: " + strings.Join(c.Fields, ", ")
	}
	return string(c.Op)
}

// Changeset is the reviewed work of one sync, in apply order: upserts by
// blueprint rank (project → user → repository → artifact), then deletes in
// reverse rank.
type Changeset struct {
	Version int      `json:"v"`
	Changes []Change `json:"c,omitempty"`
	// Seed keys the fingerprints of Changes (hash.go); apply hashes what it
	// re-reads with it.
	Seed uint64 `json:"k"`

	Unchanged int `json:"u"`
	Owned     int `json:"n"` // entities of the owned blueprints in Port

	// Port request options from the mapping, frozen with the changes.
	Merge                bool `json:"m"`
	CreateMissingRelated bool `json:"r"`
	DeleteDependents     bool `json:"d"`

	Threshold float64 `json:"t"`
	// Why deletes were left out, when they were. Blocked is an error the
	// user must act on; Skipped is a consequence of selector errors.
	DeletesBlocked string `json:"db,omitempty"`
	DeletesSkipped string `json:"ds,omitempty"`
	SkippedDeletes int    `json:"sd,omitempty"`

	// What the compute saw, for the encoding's choice of compact changes
	// (encoding.go); not stored.
	repoSizes map[string]int // artifacts listed per repository
	ownedPer  map[string]int // entities in Port per blueprint
	// heldDeletes samples the deletes the guards held back (at most 1000),
	// for checkUnscopedDeletes (scope.go).
	heldDeletes []Change
	// SkippedKinds are the Harbor kinds the credentials could not read: the
	// changeset holds nothing for their blueprints. Decided when the changeset
	// is computed (Read, for a plan) and carried by the Summary, which is what
	// a plan renders; the encoded changeset leaves them out, since apply has
	// nothing to do for them.
	SkippedKinds []SkippedKind `json:"sk,omitempty"`
}

// changesetVersion 4: the compact binary form of encoding.go (3 was JSON
// with fingerprints and sources, 2 stored the bodies as sent).
const changesetVersion = 4

// Empty reports whether applying the changeset would write nothing.
func (cs *Changeset) Empty() bool { return cs == nil || len(cs.Changes) == 0 }

// Counts are exact totals.
type Counts struct{ Create, Update, Delete, Unchanged int }

func (cs *Changeset) Counts() Counts {
	if cs == nil {
		return Counts{}
	}
	c := Counts{Unchanged: cs.Unchanged}
	for _, ch := range cs.Changes {
		switch ch.Op {
		case OpCreate:
			c.Create++
		case OpUpdate:
			c.Update++
		case OpDelete:
			c.Delete++
		}
	}
	return c
}

// Preview returns at most limit changes as "<blueprint>/<identifier>" →
// summary, the first ones in key order, so it is deterministic. It keeps
// only limit keys while scanning, so a million changes cost no sort.
func (cs *Changeset) Preview(limit int) map[string]string {
	out := map[string]string{}
	if cs == nil || limit <= 0 {
		return out
	}
	h := &keyHeap{}
	for i := range cs.Changes {
		k := cs.Changes[i].key()
		if h.Len() == limit && k >= (*h)[0].k {
			continue
		}
		heap.Push(h, keyed{k, i})
		if h.Len() > limit {
			heap.Pop(h)
		}
	}
	for _, x := range *h {
		out[x.k] = cs.Changes[x.i].Summary()
	}
	return out
}

type keyed struct {
	k string
	i int
}

// keyHeap is a max-heap of keys: the root is the largest kept.
type keyHeap []keyed

func (h keyHeap) Len() int           { return len(h) }
func (h keyHeap) Less(i, j int) bool { return h[i].k > h[j].k }
func (h keyHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *keyHeap) Push(x any)        { *h = append(*h, x.(keyed)) } //nolint:forcetypeassert // heap.Interface: only keyed is pushed
func (h *keyHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// Summary is what a plan renders of a changeset: exact counts, the first
// PreviewMax changes, and why deletes were left out. It is stored beside
// the changeset, so a plan (ModifyPlan runs twice) never decodes the
// changeset itself, however large.
type Summary struct {
	Counts         Counts            `json:"c"`
	Preview        map[string]string `json:"p,omitempty"`
	Changes        int               `json:"n"`
	DeletesBlocked string            `json:"db,omitempty"`
	DeletesSkipped string            `json:"ds,omitempty"`
	SkippedKinds   []SkippedKind     `json:"sk,omitempty"`
}

// PreviewMax is the most changes a Summary previews (preview_limit's maximum).
const PreviewMax = 1000

// Summary sums the changeset up.
func (cs *Changeset) Summary() Summary {
	if cs == nil {
		return Summary{}
	}
	return Summary{Counts: cs.Counts(), Preview: cs.Preview(PreviewMax), Changes: len(cs.Changes),
		DeletesBlocked: cs.DeletesBlocked, DeletesSkipped: cs.DeletesSkipped, SkippedKinds: cs.SkippedKinds}
}

// Empty reports whether the summarised changeset writes nothing.
func (s Summary) Empty() bool { return s.Changes == 0 }

// FirstN is the first limit entries (in key order) of the stored preview,
// as Changeset.Preview(limit) would give them.
func (s Summary) FirstN(limit int) map[string]string {
	keys := make([]string, 0, len(s.Preview))
	for k := range s.Preview {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := map[string]string{}
	for i, k := range keys {
		if i == limit {
			break
		}
		out[k] = s.Preview[k]
	}
	return out
}

// PerBlueprint counts changes per blueprint and op, for previews in messages.
func (cs *Changeset) PerBlueprint() string {
	type ctr struct{ c, u, d int }
	m := map[string]*ctr{}
	var bps []string
	for _, ch := range cs.Changes {
		x := m[ch.Blueprint]
		if x == nil {
			x = &ctr{}
			m[ch.Blueprint] = x
			bps = append(bps, ch.Blueprint)
		}
		switch ch.Op {
		case OpCreate:
			x.c++
		case OpUpdate:
			x.u++
		case OpDelete:
			x.d++
		}
	}
	sort.Strings(bps)
	var lines []string
	for _, bp := range bps {
		x := m[bp]
		lines = append(lines, fmt.Sprintf("  %s: %d to create, %d to update, %d to delete", bp, x.c, x.u, x.d))
	}
	return strings.Join(lines, "\n")
}

// order sorts changes into apply order; keys break ties so the order (and
// thus the encoded changeset) is deterministic.
func (e *Engine) order(cs *Changeset) {
	rank := func(c Change) int {
		r := e.rank[c.Blueprint]
		if c.Op == OpDelete {
			return 100 - r
		}
		return r
	}
	sort.SliceStable(cs.Changes, func(i, j int) bool {
		a, b := cs.Changes[i], cs.Changes[j]
		if ra, rb := rank(a), rank(b); ra != rb {
			return ra < rb
		}
		if a.Blueprint != b.Blueprint {
			return a.Blueprint < b.Blueprint
		}
		return a.Identifier < b.Identifier
	})
}
