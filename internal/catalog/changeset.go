package catalog

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"

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

	// Entity is an in-memory body to write as is (Reconcile, which has just
	// read Harbor and Port); never stored.
	Entity *port.Entity
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
}

// changesetVersion 3: fingerprints and sources instead of entity bodies
// (2 stored the bodies as sent).
const changesetVersion = 3

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
// summary, the first ones in key order, so it is deterministic.
func (cs *Changeset) Preview(limit int) map[string]string {
	out := map[string]string{}
	if cs == nil || limit <= 0 {
		return out
	}
	keys := make([]string, 0, len(cs.Changes))
	byKey := make(map[string]string, len(cs.Changes))
	for _, ch := range cs.Changes {
		k := ch.key()
		if _, dup := byKey[k]; !dup {
			keys = append(keys, k)
		}
		byKey[k] = ch.Summary()
	}
	sort.Strings(keys)
	if len(keys) > limit {
		keys = keys[:limit]
	}
	for _, k := range keys {
		out[k] = byKey[k]
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

// Encode packs the changeset for Terraform's private state, which must be
// JSON: a JSON string holding base64(gzip(JSON)). Entity bodies compress
// about 10:1, which keeps a 100k-artifact first sync in a few MB.
func (cs *Changeset) Encode() ([]byte, error) {
	raw, err := json.Marshal(cs)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	if _, err := zw.Write(raw); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return json.Marshal(base64.StdEncoding.EncodeToString(buf.Bytes()))
}

// DecodeChangeset reverses Encode. Empty input is an empty changeset.
func DecodeChangeset(b []byte) (*Changeset, error) {
	if len(b) == 0 || string(b) == "null" {
		return nil, nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("stored changeset: %w", err)
	}
	gz, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("stored changeset: %w", err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return nil, fmt.Errorf("stored changeset: %w", err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("stored changeset: %w", err)
	}
	var cs Changeset
	if err := json.Unmarshal(raw, &cs); err != nil {
		return nil, fmt.Errorf("stored changeset: %w", err)
	}
	if cs.Version != changesetVersion {
		return nil, fmt.Errorf("stored changeset has format %d, this harborport reads %d: run terraform refresh (or plan) again", cs.Version, changesetVersion)
	}
	return &cs, nil
}
