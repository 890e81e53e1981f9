package catalog

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"unicode/utf8"

	"github.com/harborport/terraform-provider-harborport/internal/port"
)

// Report is a computed changeset with the problems met computing it.
type Report struct {
	Changeset  *Changeset
	Warnings   Sample[string] // mapping warnings (fields nulled, entities dropped)
	ItemErrors Sample[string] // selector failures: they stop the delete phase
	Items      map[string]int // Harbor items read per kind
}

// Diff compares desired with current (Ocean's rules, port-api.md §2b) and
// applies the deletion guards (design.md "Ownership and deletion").
func (e *Engine) Diff(d *Desired, current map[string]port.Entity) *Report {
	cs := &Changeset{
		Version:              changesetVersion,
		Merge:                e.mapping.EnableMergeEntity,
		CreateMissingRelated: e.mapping.CreateMissingRelatedEntities,
		DeleteDependents:     e.mapping.DeleteDependentEntities,
		Owned:                len(current),
		Threshold:            e.mapping.EntityDeletionThreshold,
	}
	rep := &Report{Changeset: cs, Items: map[string]int{}}
	for k, n := range d.Items {
		rep.Items[string(k)] = n
	}
	rep.Warnings.Count = d.Warnings.Count
	for _, w := range d.Warnings.Examples {
		rep.Warnings.Examples = append(rep.Warnings.Examples, w.String())
	}
	rep.ItemErrors = d.ItemErrors

	keys := make([]string, 0, len(d.Entities))
	for k := range d.Entities {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var creates, updates []Change
	for _, k := range keys {
		w := d.Entities[k]
		cur, exists := current[k]
		if !exists {
			ent := w.Entity
			creates = append(creates, Change{Op: OpCreate, Blueprint: ent.Blueprint, Identifier: ent.Identifier, Entity: &ent})
			continue
		}
		if fields := changedFields(w, cur); len(fields) > 0 {
			ent := w.Entity
			updates = append(updates, Change{Op: OpUpdate, Blueprint: ent.Blueprint, Identifier: ent.Identifier, Fields: fields, Entity: &ent})
		} else {
			cs.Unchanged++
		}
	}

	// Deletes: owned entities no longer generated, minus relation targets of
	// generated entities when Port would otherwise re-create them as stubs
	// (Ocean's _safe_delete).
	protected := map[string]bool{}
	if cs.CreateMissingRelated {
		for _, w := range d.Entities {
			for _, v := range w.Entity.Relations {
				for _, id := range relationIDs(v) {
					protected[id] = true
				}
			}
		}
	}
	var deletes []Change
	for k, cur := range current {
		if _, want := d.Entities[k]; want || protected[cur.Identifier] {
			continue
		}
		deletes = append(deletes, Change{Op: OpDelete, Blueprint: cur.Blueprint, Identifier: cur.Identifier})
	}
	sort.Slice(deletes, func(i, j int) bool { return deletes[i].key() < deletes[j].key() })
	switch {
	case len(deletes) == 0:
	case d.ItemErrors.Count > 0:
		cs.DeletesSkipped = fmt.Sprintf("%d owned entities are no longer in Harbor, but %d selector errors make the "+
			"desired state incomplete, so nothing is deleted (as Ocean does); fix the selector and plan again", len(deletes), d.ItemErrors.Count)
		cs.SkippedDeletes = len(deletes)
		deletes = nil
	case float64(len(deletes))/float64(len(current)) > cs.Threshold:
		cs.DeletesBlocked = fmt.Sprintf("%d of the %d entities this sync owns (%.1f%%) would be deleted, more than entityDeletionThreshold "+
			"(%.0f%%). If Harbor really lost them, raise entityDeletionThreshold in the mapping (e.g. 'entityDeletionThreshold: 1'); "+
			"otherwise check the Harbor credentials' permissions and the selectors",
			len(deletes), len(current), 100*float64(len(deletes))/float64(len(current)), 100*cs.Threshold)
		cs.SkippedDeletes = len(deletes)
		deletes = nil
	}

	cs.Changes = append(cs.Changes, creates...)
	cs.Changes = append(cs.Changes, updates...)
	cs.Changes = append(cs.Changes, deletes...)
	e.order(cs)
	return rep
}

// changedFields lists the mapped fields whose values differ, in Ocean's
// terms: compared as sorted-key JSON; a null on one side equals absence on
// the other (port-api.md §2b step 4, are_entities_different).
func changedFields(w *Wanted, cur port.Entity) []string {
	var out []string
	f := w.Fields
	if f.Title && !sameValue(strPtr(w.Entity.Title), strPtr(cur.Title)) {
		out = append(out, "$title")
	}
	if f.Icon && !sameValue(strPtr(w.Entity.Icon), strPtr(cur.Icon)) {
		out = append(out, "$icon")
	}
	if f.Team && !sameValue(sortedTeam(w.Entity.Team), sortedTeam(cur.Team)) {
		out = append(out, "$team")
	}
	for _, p := range f.Properties {
		if !sameValue(w.Entity.Properties[p], cur.Properties[p]) {
			out = append(out, p)
		}
	}
	for _, r := range f.Relations {
		if !sameValue(w.Entity.Relations[r], cur.Relations[r]) {
			out = append(out, "relations."+r)
		}
	}
	return out
}

func strPtr(p *string) any {
	if p == nil {
		return nil
	}
	return *p
}

func sortedTeam(t any) any {
	list, ok := t.([]any)
	if !ok {
		return t
	}
	ss := make([]string, 0, len(list))
	for _, v := range list {
		ss = append(ss, fmt.Sprint(v))
	}
	sort.Strings(ss)
	return ss
}

// sameValue compares two JSON values as Ocean does (json.dumps with sorted
// keys; Go's encoder sorts map keys and prints 1.0 as 1).
func sameValue(a, b any) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	if eq, ok := jsonEqual(a, b); ok {
		return eq
	}
	ja, err1 := json.Marshal(a)
	jb, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && bytes.Equal(ja, jb)
}

// jsonEqual compares values as encoding/json decodes them (nil, bool,
// float64, string, []any, map[string]any) without marshalling: equal
// exactly when their sorted-key JSON texts are. ok is false for any other
// type, for which the caller falls back to comparing JSON text. This keeps a
// 100k-entity no-op plan from marshalling every mapped field twice.
func jsonEqual(a, b any) (eq, ok bool) {
	switch x := a.(type) {
	case nil:
		if b == nil {
			return true, true
		}
	case string:
		if y, isStr := b.(string); isStr {
			// The encoder writes invalid UTF-8 as U+FFFD, so unequal
			// strings can still print alike: let the text decide then.
			return x == y, x == y || utf8.ValidString(x) && utf8.ValidString(y)
		}
	case float64:
		if y, isNum := b.(float64); isNum {
			return x == y && math.Signbit(x) == math.Signbit(y), true // -0 prints as "-0"
		}
	case bool:
		if y, isBool := b.(bool); isBool {
			return x == y, true
		}
	case []any:
		y, isList := b.([]any)
		if !isList {
			break
		}
		if len(x) != len(y) {
			return false, true
		}
		for i := range x {
			if eq, ok := jsonEqual(x[i], y[i]); !ok || !eq {
				return eq, ok
			}
		}
		return true, true
	case map[string]any:
		y, isMap := b.(map[string]any)
		if !isMap {
			break
		}
		if len(x) != len(y) {
			return false, true
		}
		for k, xv := range x {
			yv, has := y[k]
			if !has {
				return false, true
			}
			if eq, ok := jsonEqual(xv, yv); !ok || !eq {
				return eq, ok
			}
		}
		return true, true
	}
	// Different JSON kinds are never equal; anything else (int,
	// json.Number, structs) is left to the JSON text comparison.
	return false, isJSONKind(a) && isJSONKind(b)
}

func isJSONKind(v any) bool {
	switch v.(type) {
	case nil, string, float64, bool, []any, map[string]any:
		return true
	}
	return false
}

func relationIDs(v any) []string {
	switch t := v.(type) {
	case string:
		return []string{t}
	case []any:
		var out []string
		for _, x := range t {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}
