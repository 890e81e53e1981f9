package portsim

import (
	"slices"
	"sort"
	"time"
)

// The catalog. Every method here expects Server.mu to be held.

type entKey struct{ bp, id string }

type store struct {
	bps map[string]*bpRec
	// dependents: relation target → the entities whose relations point at it.
	// Makes delete_dependents checks O(dependents), not O(catalog).
	dependents map[entKey]map[entKey]struct{}
	migrations map[string]*migration
}

func newStore() *store {
	return &store{bps: map[string]*bpRec{}, dependents: map[entKey]map[entKey]struct{}{}, migrations: map[string]*migration{}}
}

type bpRec struct {
	def                  map[string]any // normalized definition, without meta fields
	spec                 *bpSpec
	createdAt, updatedAt time.Time
	createdBy, updatedBy string
	ents                 map[string]*entity
	idx                  sortedIndex
}

type entity struct {
	id                   string
	title, icon          *string
	team                 []string
	props                map[string]any
	rels                 map[string]any // relation id → string | []any of strings | nil
	createdAt, updatedAt time.Time
	createdBy, updatedBy string
}

// Port timestamps look like JavaScript's toISOString().
const isoMillis = "2006-01-02T15:04:05.000Z"

func iso(t time.Time) string { return t.UTC().Format(isoMillis) }

// json renders the entity as GET returns it.
func (e *entity) json(bp string) map[string]any {
	team := make([]any, len(e.team))
	for i, t := range e.team {
		team[i] = t
	}
	m := map[string]any{
		"identifier": e.id, "blueprint": bp, "team": team,
		"properties": deepCopy(e.props), "relations": deepCopy(e.rels),
		"createdAt": iso(e.createdAt), "updatedAt": iso(e.updatedAt),
		"createdBy": e.createdBy, "updatedBy": e.updatedBy,
	}
	if e.title != nil {
		m["title"] = *e.title
	}
	if e.icon != nil {
		m["icon"] = *e.icon
	}
	return m
}

func (b *bpRec) json() map[string]any {
	m := deepCopy(b.def)
	m["createdAt"], m["updatedAt"] = iso(b.createdAt), iso(b.updatedAt)
	m["createdBy"], m["updatedBy"] = b.createdBy, b.updatedBy
	return m
}

func deepCopy[M ~map[string]any](m M) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = deepCopyValue(v)
	}
	return out
}

func deepCopyValue(v any) any {
	switch t := v.(type) {
	case map[string]any:
		return deepCopy(t)
	case []any:
		out := make([]any, len(t))
		for i, x := range t {
			out[i] = deepCopyValue(x)
		}
		return out
	}
	return v
}

// relationTargets lists the entities e's relations point at.
func (st *store) relationTargets(bp *bpRec, e *entity) []entKey {
	var out []entKey
	for rel, v := range e.rels {
		rs, known := bp.spec.relations[rel]
		if !known {
			continue
		}
		for _, id := range relIDs(v) {
			out = append(out, entKey{rs.target, id})
		}
	}
	return out
}

// relIDs flattens a stored relation value.
func relIDs(v any) []string {
	switch t := v.(type) {
	case string:
		return []string{t}
	case []any:
		ids := make([]string, 0, len(t))
		for _, x := range t {
			if s, isStr := x.(string); isStr {
				ids = append(ids, s)
			}
		}
		return ids
	}
	return nil
}

func (st *store) link(bp *bpRec, e *entity) {
	src := entKey{bp.spec.id, e.id}
	for _, t := range st.relationTargets(bp, e) {
		set := st.dependents[t]
		if set == nil {
			set = map[entKey]struct{}{}
			st.dependents[t] = set
		}
		set[src] = struct{}{}
	}
}

func (st *store) unlink(bp *bpRec, e *entity) {
	src := entKey{bp.spec.id, e.id}
	for _, t := range st.relationTargets(bp, e) {
		if set := st.dependents[t]; set != nil {
			delete(set, src)
			if len(set) == 0 {
				delete(st.dependents, t)
			}
		}
	}
}

// put inserts or replaces an entity and keeps the indexes in step.
func (st *store) put(bp *bpRec, e *entity) {
	if old := bp.ents[e.id]; old != nil {
		st.unlink(bp, old)
	} else {
		bp.idx.add(e.id)
	}
	bp.ents[e.id] = e
	st.link(bp, e)
}

// remove deletes one entity; relations pointing at it are the caller's business.
func (st *store) remove(bp *bpRec, id string) {
	e := bp.ents[id]
	if e == nil {
		return
	}
	st.unlink(bp, e)
	delete(bp.ents, id)
	bp.idx.removed()
}

// dependentsOf returns the entities whose relations point at k, sorted.
func (st *store) dependentsOf(k entKey) []entKey {
	set := st.dependents[k]
	out := make([]entKey, 0, len(set))
	for d := range set {
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].bp != out[j].bp {
			return out[i].bp < out[j].bp
		}
		return out[i].id < out[j].id
	})
	return out
}

// detach removes every relation value pointing at k (used when k disappears
// without delete_dependents, e.g. drift or all-entities). INFERRED: Port
// keeps the dependents and drops the dangling relation value.
func (st *store) detach(k entKey, now time.Time, actor string) {
	for _, src := range st.dependentsOf(k) {
		bp := st.bps[src.bp]
		if bp == nil {
			continue
		}
		old := bp.ents[src.id]
		if old == nil {
			continue
		}
		e := *old
		e.rels = deepCopy(old.rels)
		for rel, v := range e.rels {
			if rs, known := bp.spec.relations[rel]; !known || rs.target != k.bp {
				continue
			}
			switch t := v.(type) {
			case string:
				if t == k.id {
					e.rels[rel] = nil
				}
			case []any:
				e.rels[rel] = slices.DeleteFunc(t, func(x any) bool { return x == k.id })
			}
		}
		e.updatedAt, e.updatedBy = now, actor
		st.put(bp, &e)
	}
}

// sortedIndex keeps a blueprint's identifiers in sorted order for cursor
// paging without O(n) work per write: new ids are appended to pending and
// merged (sort pending + linear merge) on the next read; deleted ids stay as
// tombstones until they are a quarter of the index.
type sortedIndex struct {
	sorted  []string
	pending []string
	stale   int
}

func (ix *sortedIndex) add(id string) { ix.pending = append(ix.pending, id) }
func (ix *sortedIndex) removed()      { ix.stale++ }

// ids returns the live identifiers in order (callers must still skip ids
// absent from live: a tombstone may remain).
func (ix *sortedIndex) ids(live map[string]*entity) []string {
	if len(ix.pending) > 0 {
		sort.Strings(ix.pending)
		merged := make([]string, 0, len(ix.sorted)+len(ix.pending))
		i, j := 0, 0
		for i < len(ix.sorted) || j < len(ix.pending) {
			var next string
			if j >= len(ix.pending) || (i < len(ix.sorted) && ix.sorted[i] <= ix.pending[j]) {
				next, i = ix.sorted[i], i+1
			} else {
				next, j = ix.pending[j], j+1
			}
			if n := len(merged); n == 0 || merged[n-1] != next {
				merged = append(merged, next)
			}
		}
		ix.sorted, ix.pending = merged, nil
	}
	if ix.stale > 0 && ix.stale >= len(ix.sorted)/4 {
		ix.sorted = slices.DeleteFunc(ix.sorted, func(id string) bool { return live[id] == nil })
		ix.stale = 0
	}
	return ix.sorted
}

func (ix *sortedIndex) reset() { *ix = sortedIndex{} }
