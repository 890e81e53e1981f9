package catalog

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/harborport/terraform-provider-harborport/internal/mapping"
	"github.com/harborport/terraform-provider-harborport/internal/port"
)

// Scoped ownership (internal/DESIGN.md "Scoped ownership"): a mapping parsed
// with a scope marks every entity it writes with mapping.ScopeProperty. The
// engine then reads only entities with its mark or none, deletes only its own
// (and unmarked ones when adopting), judges the deletion threshold against
// its own, and never writes over another scope's entity.

// scopePath is the search include path (and compared column) of the mark.
const scopePath = "properties." + mapping.ScopeProperty

// AdoptUnscoped returns a copy of e that also owns the unmarked entities of
// its blueprints: those it does not produce are deleted (the step that
// retires an unscoped sync's entities when a scoped one replaces it). Without
// it they are left alone and reported (Report.Unclaimed). Only meaningful
// with a scope.
func (e *Engine) AdoptUnscoped(on bool) *Engine {
	c := *e
	c.adopt = on && e.scope != ""
	return &c
}

// Scope is the engine's ownership scope ("" = unscoped).
func (e *Engine) Scope() string { return e.scope }

// readRules are the search rules of a current-state read: a scoped sync sees
// its own entities and the unmarked ones (which it may adopt), never another
// scope's. Port's isEmpty matches a missing property as well as null
// (internal/port/API-NOTES.md "Search").
func (e *Engine) readRules() []map[string]any {
	if e.scope == "" {
		return nil
	}
	return []map[string]any{{"combinator": "or", "rules": []any{
		map[string]any{"property": mapping.ScopeProperty, "operator": "=", "value": e.scope},
		map[string]any{"property": mapping.ScopeProperty, "operator": "isEmpty"},
	}}}
}

// ownRules are the search rules that find only this scope's entities.
func (e *Engine) ownRules() []map[string]any {
	if e.scope == "" {
		return nil
	}
	return []map[string]any{{"property": mapping.ScopeProperty, "operator": "=", "value": e.scope}}
}

// markOf is an entity's scope mark ("" when it has none).
func markOf(ent *port.Entity) string {
	s, _ := ent.Properties[mapping.ScopeProperty].(string)
	return s
}

// mayDelete reports whether the engine may delete ent, an entity it read
// with the mark included: unscoped, anything it owns; scoped, its own only.
func (e *Engine) mayDelete(ent *port.Entity) bool {
	return e.scope == "" || markOf(ent) == e.scope
}

// ScopeConflictError is an entity this engine would write that another
// scope owns: two scoped syncs (or listeners) produce the same identifier.
type ScopeConflictError struct {
	Scope     string   // this engine's
	Conflicts []string // "blueprint identifier (scope other)", a sample
	Count     int
}

func (e *ScopeConflictError) Error() string {
	more := ""
	if e.Count > len(e.Conflicts) {
		more = fmt.Sprintf(" and %d more", e.Count-len(e.Conflicts))
	}
	return fmt.Sprintf("%d entities this sync (scope %q) would write already belong to another scope in Port: %s%s. "+
		"Two scoped syncs must not produce the same identifiers: prefix identifiers with the scope (prefix_identifiers with the "+
		"built-in mapping, $scope in a custom one) or give the syncs selectors that do not overlap (users, for one, exist once per Harbor)",
		e.Count, e.Scope, strings.Join(e.Conflicts, ", "), more)
}

func (c *ScopeConflictError) add(bp, id, other string) {
	c.Count++
	if len(c.Conflicts) < sampleSize {
		c.Conflicts = append(c.Conflicts, fmt.Sprintf("%s %q (scope %q)", bp, id, other))
	}
}

// conflict checks that ent, as Port holds it (read with the mark), is not
// another scope's.
func (e *Engine) conflict(bp string, cur *port.Entity) error {
	if e.scope == "" || cur == nil {
		return nil
	}
	if m := markOf(cur); m != "" && m != e.scope {
		c := &ScopeConflictError{Scope: e.scope}
		c.add(bp, cur.Identifier, m)
		return c
	}
	return nil
}

// checkCreates fails a scoped plan whose creates already exist in Port under
// another scope (the current-state read cannot see them): applied, they would
// take the entities over, and the other sync would re-create them. One search
// per 1000 creates per blueprint; a no-op plan has none.
func (e *Engine) checkCreates(ctx context.Context, cs *Changeset) error {
	if e.scope == "" {
		return nil
	}
	byBP := map[string][]string{}
	for _, ch := range cs.Changes {
		if ch.Op == OpCreate && !ch.Compact() {
			byBP[ch.Blueprint] = append(byBP[ch.Blueprint], ch.Identifier)
		}
	}
	bps := make([]string, 0, len(byBP))
	for bp := range byBP {
		bps = append(bps, bp)
	}
	sort.Strings(bps)
	c := &ScopeConflictError{Scope: e.scope}
	for _, bp := range bps {
		found, err := e.searchByID(ctx, bp, byBP[bp], []string{"$identifier", scopePath})
		if err != nil {
			return fmt.Errorf("checking that no other scope owns the entities to create in %s: %w", bp, err)
		}
		for _, id := range byBP[bp] {
			if ent, ok := found[id]; ok {
				if m := markOf(&ent); m != "" && m != e.scope {
					c.add(bp, id, m)
				}
			}
		}
	}
	if c.Count > 0 {
		return c
	}
	return nil
}

// rowOwner returns, per blueprint read, whether a row of it is owned: every
// row when unscoped; scoped, the rows with this scope's mark, and the
// unmarked ones when adopting (the read returns no others). The mark is a
// compared column, so its hash tells.
func (e *Engine) rowOwner(seed uint64) func(cb *currentBP) func(row int) bool {
	all := func(int) bool { return true }
	if e.scope == "" {
		return func(*currentBP) func(int) bool { return all }
	}
	mine := valueHash(seed, e.scope)
	unmarked := []uint64{valueHash(seed, nil), valueHash(seed, "")}
	return func(cb *currentBP) func(int) bool {
		col := slices.Index(cb.paths, scopePath)
		if col < 0 {
			return all // cannot happen: scoped mappings map the mark
		}
		return func(row int) bool {
			h := cb.hashes[row*len(cb.paths)+col]
			return h == mine || (e.adopt && slices.Contains(unmarked, h))
		}
	}
}

// scopePropertyMissing explains a scoped read that Port refused (err) when
// the blueprint lacks the mark property: Port rejects search rules on
// properties a blueprint does not have (internal/port/API-NOTES.md
// "Search"). Looked up only after a failure, so a working plan costs no
// extra request.
func (e *Engine) scopePropertyMissing(ctx context.Context, bp string, err error) error {
	var apiErr *port.APIError
	if e.scope == "" || !errors.As(err, &apiErr) || apiErr.Status >= 500 || apiErr.Status == http.StatusNotFound {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	b, gerr := e.port.GetBlueprint(ctx, bp)
	if gerr != nil || b == nil {
		return nil
	}
	if _, has := b.Schema.Properties[mapping.ScopeProperty]; has {
		return nil
	}
	return fmt.Errorf("blueprint %q has no %q property, which a scoped sync (scope %q) marks its entities with: "+
		"set scope_property = true on harborport_blueprints (or add a string property %q to the blueprint in Port), "+
		"and make this harborport_sync depend on it", bp, mapping.ScopeProperty, e.scope, mapping.ScopeProperty)
}

// UnscopedConflictError is an unscoped sync that would delete entities
// scoped syncs own: it shares blueprints with them.
type UnscopedConflictError struct {
	Scopes   []string // the scopes met, sorted
	Entities []string // a sample
	Count    int      // among the deletes checked
}

func (e *UnscopedConflictError) Error() string {
	more := ""
	if e.Count > len(e.Entities) {
		more = fmt.Sprintf(" and %d more", e.Count-len(e.Entities))
	}
	return fmt.Sprintf("this unscoped sync would delete %d entities that scoped syncs own (scopes %s): %s%s. An unscoped sync "+
		"owns every entity of its blueprints, so it cannot share them with scoped syncs: give it a scope too",
		e.Count, strings.Join(e.Scopes, ", "), strings.Join(e.Entities, ", "), more)
}

// checkUnscopedDeletes fails an unscoped plan that would delete entities
// carrying a scope mark: another sync's, in another configuration perhaps
// (the provider checks its own configuration, sync_registry.go). Only plans
// with deletes pay: one blueprint read per blueprint with deletes and, when
// the blueprint has the mark property, one search per 1000 deletes (a sample
// of 1000 when the guards held the deletes back).
func (e *Engine) checkUnscopedDeletes(ctx context.Context, cs *Changeset) error {
	if e.scope != "" {
		return nil
	}
	byBP := map[string][]string{}
	for _, list := range [][]Change{cs.Changes, cs.heldDeletes} {
		for _, ch := range list {
			if ch.Op == OpDelete && !ch.Compact() {
				byBP[ch.Blueprint] = append(byBP[ch.Blueprint], ch.Identifier)
			}
		}
	}
	bps := make([]string, 0, len(byBP))
	for bp := range byBP {
		bps = append(bps, bp)
	}
	sort.Strings(bps)
	c := &UnscopedConflictError{}
	scopes := map[string]bool{}
	for _, bp := range bps {
		b, err := e.port.GetBlueprint(ctx, bp)
		if err != nil {
			return fmt.Errorf("reading blueprint %q: %w", bp, err)
		}
		if _, has := b.Schema.Properties[mapping.ScopeProperty]; !has {
			continue
		}
		found, err := e.searchByID(ctx, bp, byBP[bp], []string{"$identifier", scopePath})
		if err != nil {
			return fmt.Errorf("checking the scope marks of the entities to delete in %s: %w", bp, err)
		}
		for _, id := range byBP[bp] {
			ent, ok := found[id]
			if m := markOf(&ent); ok && m != "" {
				c.Count++
				scopes[m] = true
				if len(c.Entities) < sampleSize {
					c.Entities = append(c.Entities, fmt.Sprintf("%s %q (scope %q)", bp, id, m))
				}
			}
		}
	}
	if c.Count == 0 {
		return nil
	}
	for s := range scopes {
		c.Scopes = append(c.Scopes, fmt.Sprintf("%q", s))
	}
	sort.Strings(c.Scopes)
	return c
}
