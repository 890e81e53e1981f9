package catalog

import (
	"fmt"

	"github.com/harborport/terraform-provider-harborport/internal/mapping"
)

// Report is a computed changeset with the problems met computing it.
type Report struct {
	Changeset  *Changeset
	Warnings   Sample[string] // mapping warnings (fields nulled, entities dropped)
	ItemErrors Sample[string] // selector failures: they stop the delete phase
	Items      map[string]int // Harbor items read per kind
	// MissingBlueprints are the blueprints the mapping writes to that Port
	// does not have yet (Preview only: they count as empty).
	MissingBlueprints []string
	// Unclaimed are entities without a scope mark that a scoped sync does
	// not produce and, without AdoptUnscoped, leaves alone (scope.go).
	Unclaimed Sample[string]
}

// differ compares mapped entities with Port's current state as they come
// (internal/port/API-NOTES.md "Ocean's equality rules"), keeping only what
// changes, and at the end applies the deletion guards (internal/DESIGN.md
// "Deletion guards"). Jobs are merged strictly in submission order, once
// current is ready.
type differ struct {
	e          *Engine
	seed       uint64 // keys the hashes and fingerprints (hash.go)
	cur        *currentState
	pending    []*mapJob // submitted, not merged yet, in order
	protect    bool      // CreateMissingRelated: relation targets are not deleted
	creates    []Change
	createAt   map[string]int // key → index in creates
	createRels [][]string     // relation targets of creates[i]
	updates    []Change       // Op "" marks an update a later item undid
	warnings   Sample[string]
	errs       Sample[string]
	items      map[mapping.Kind]int
	progress   *computeProgress
	skipped    []SkippedKind // kinds the credentials cannot read (readHarbor)
}

// skip records a kind readHarbor could not read. It runs on the compute's
// goroutine, like merge.
func (d *differ) skip(s SkippedKind) { d.skipped = append(d.skipped, s) }

func (e *Engine) newDiffer(seed uint64) *differ {
	return &differ{e: e, seed: seed, protect: e.mapping.CreateMissingRelatedEntities, createAt: map[string]int{}, items: map[mapping.Kind]int{}}
}

// queue appends submitted jobs; merge merges the finished ones at the head
// (all of them, waiting, when wait is set). cur must be set before merge.
func (d *differ) queue(jobs []*mapJob) { d.pending = append(d.pending, jobs...) }

func (d *differ) merge(wait bool) error {
	for len(d.pending) > 0 {
		j := d.pending[0]
		if wait {
			<-j.done
		} else {
			select {
			case <-j.done:
			default:
				return nil
			}
		}
		d.pending[0] = nil
		d.pending = d.pending[1:]
		if err := d.mergeJob(j); err != nil {
			return err
		}
	}
	return nil
}

func (d *differ) mergeJob(j *mapJob) error {
	d.items[j.kind] += j.n
	d.warnings.Count += j.warns.Count
	for _, w := range j.warns.Examples {
		if len(d.warnings.Examples) < sampleSize {
			d.warnings.Examples = append(d.warnings.Examples, w.String())
		}
	}
	d.errs.Count += j.errs.Count
	for _, s := range j.errs.Examples {
		if len(d.errs.Examples) < sampleSize {
			d.errs.Examples = append(d.errs.Examples, s)
		}
	}
	for i := range j.ents {
		if err := d.mergeOne(&j.ents[i]); err != nil {
			return err
		}
	}
	d.progress.mapped(j.kind, j.n, len(j.ents))
	return nil
}

// mergeOne records one desired entity; a later one with the same key
// replaces it, as consecutive upserts would in Ocean. Each change records
// the fingerprints of the Port state it was computed against and of the
// state it produces (conditional apply).
func (d *differ) mergeOne(m *mapped) error {
	if cb := d.cur.bps[m.bp]; cb != nil {
		if row, ok := cb.pos[m.id]; ok {
			base := int(row) * len(cb.paths)
			var fields []string
			for i, ref := range m.res.refs {
				h := m.hashes[i]
				if h == hashUnhashable || h != cb.hashes[base+m.res.cols[i]] {
					fields = append(fields, ref.name)
				}
			}
			cb.rels[row] = m.rels
			st := cb.state[row]
			if len(fields) == 0 {
				if st > 0 {
					d.updates[st-1] = Change{}
				}
				cb.state[row] = -1
				return nil
			}
			cols := cb.hashes[base : base+len(cb.paths)]
			src := m.src
			ch := Change{Op: OpUpdate, Blueprint: m.bp, Identifier: m.id, Fields: fields, Source: &src,
				Before: fingerprint(d.seed, cols), After: d.e.afterFP(d.seed, m.bp, cols, m.res, m.hashes)}
			if st > 0 {
				d.updates[st-1] = ch
			} else {
				d.updates = append(d.updates, ch)
				cb.state[row] = int32(len(d.updates))
			}
			return nil
		}
	}
	src := m.src
	ch := Change{Op: OpCreate, Blueprint: m.bp, Identifier: m.id, Source: &src, After: d.e.afterFP(d.seed, m.bp, nil, m.res, m.hashes)}
	// Not ent.Key(): blueprint identifiers may hold "/", so "a"+"b/c" and
	// "a/b"+"c" would meet; NUL appears in neither.
	key := m.bp + "\x00" + m.id
	if i, ok := d.createAt[key]; ok {
		d.creates[i] = ch
		d.createRels[i] = m.rels
		return nil
	}
	d.createAt[key] = len(d.creates)
	d.creates = append(d.creates, ch)
	d.createRels = append(d.createRels, m.rels)
	return nil
}

// afterFP is the fingerprint Port holds once an entity mapped by res (with
// hashes, aligned with res.refs) is written over cur, the columns Port holds
// now (nil: absent): with merge, the columns res does not map keep their
// values; without it, Port replaces the entity, so they become null.
func (e *Engine) afterFP(seed uint64, bp string, cur []uint64, res *resInfo, hashes []uint64) uint64 {
	cols := make([]uint64, len(e.paths[bp]))
	if cur != nil && e.mapping.EnableMergeEntity {
		copy(cols, cur)
	}
	for i, c := range res.cols {
		cols[c] = hashes[i]
	}
	return fingerprint(seed, cols)
}

// report finishes the diff: deletes (owned entities no longer generated,
// minus relation targets of generated entities when Port would otherwise
// re-create them as stubs, as Ocean's _safe_delete) and their guards.
func (d *differ) report() *Report {
	m := d.e.mapping
	cs := &Changeset{
		Version:              changesetVersion,
		Merge:                m.EnableMergeEntity,
		CreateMissingRelated: m.CreateMissingRelatedEntities,
		DeleteDependents:     m.DeleteDependentEntities,
		Threshold:            m.EntityDeletionThreshold,
		Seed:                 d.seed,
	}
	owns := d.e.rowOwner(d.seed)
	cs.ownedPer = map[string]int{}
	for bp, cb := range d.cur.bps {
		cs.ownedPer[bp] = len(cb.ids)
	}
	rep := &Report{Changeset: cs, Items: map[string]int{}, Warnings: d.warnings, ItemErrors: d.errs, MissingBlueprints: d.cur.missing}
	for k, n := range d.items {
		rep.Items[string(k)] = n
	}

	protected := map[string]bool{}
	if d.protect {
		for _, rels := range d.createRels {
			for _, id := range rels {
				protected[id] = true
			}
		}
		for _, cb := range d.cur.bps {
			for row, st := range cb.state {
				if st != 0 {
					for _, id := range cb.rels[row] {
						protected[id] = true
					}
				}
			}
		}
	}
	// A kind the credentials cannot read leaves its blueprints alone: none of
	// its entities is created, updated or deleted (its items may have been
	// mapped before the refusal: an artifact listing refused in one project),
	// and their entities do not count towards entityDeletionThreshold, so the
	// other kinds prune as usual (internal/DESIGN.md "Kinds the credentials
	// cannot read").
	skipKind := map[mapping.Kind]bool{}
	skipBP := map[string]bool{}
	for _, s := range d.skipped {
		skipKind[s.Kind] = true
		for _, bp := range s.Blueprints {
			skipBP[bp] = true
		}
	}
	cs.SkippedKinds = d.skipped
	owned := 0 // the threshold's denominator: own rows of the blueprints not skipped
	var deletes []Change
	for _, bp := range d.e.owned {
		cb := d.cur.bps[bp]
		own := owns(cb)
		for row, st := range cb.state {
			mine := own(row)
			if mine {
				cs.Owned++
				if !skipBP[bp] {
					owned++
				}
			}
			switch {
			case st == -1:
				cs.Unchanged++
			case st == 0 && skipBP[bp]:
			case st == 0 && !mine:
				// Unmarked, not produced here: another sync's to adopt.
				rep.Unclaimed.add(fmt.Sprintf("%s %q", bp, cb.ids[row]))
			case st == 0 && !protected[cb.ids[row]]:
				base := row * len(cb.paths)
				deletes = append(deletes, Change{Op: OpDelete, Blueprint: bp, Identifier: cb.ids[row],
					Before: fingerprint(d.seed, cb.hashes[base:base+len(cb.paths)])})
			}
		}
	}
	if len(deletes) > 0 && (d.errs.Count > 0 || float64(len(deletes))/float64(owned) > cs.Threshold) {
		cs.heldDeletes = deletes[:min(len(deletes), portSearchMax)]
	}
	switch {
	case len(deletes) == 0:
	case d.errs.Count > 0:
		cs.DeletesSkipped = fmt.Sprintf("%d owned entities are no longer in Harbor, but %d selector errors make the "+
			"desired state incomplete, so nothing is deleted (as Ocean does); fix the selector and plan again", len(deletes), d.errs.Count)
		cs.SkippedDeletes = len(deletes)
		deletes = nil
	case float64(len(deletes))/float64(owned) > cs.Threshold:
		cs.DeletesBlocked = fmt.Sprintf("%d of the %d entities this sync owns (%.1f%%) would be deleted, more than entityDeletionThreshold "+
			"(%.0f%%). If Harbor really lost them, raise entityDeletionThreshold in the mapping (e.g. 'entityDeletionThreshold: 1'); "+
			"otherwise check the Harbor credentials' permissions and the selectors",
			len(deletes), owned, 100*float64(len(deletes))/float64(owned), 100*cs.Threshold)
		if d.e.adopt {
			cs.DeletesBlocked += ". This sync adopts unscoped entities: if this is the step of a migration to scoped, prefixed " +
				"identifiers that retires the old ones, raise entityDeletionThreshold to 1 for this one apply (see the guide " +
				"\"Scoped ownership\")"
		}
		cs.SkippedDeletes = len(deletes)
		deletes = nil
	}

	cs.Changes = make([]Change, 0, len(d.creates)+len(d.updates)+len(deletes))
	for _, ch := range d.creates {
		if !skipKind[ch.Source.Kind] {
			cs.Changes = append(cs.Changes, ch)
		}
	}
	for _, ch := range d.updates {
		if ch.Op != "" && !skipKind[ch.Source.Kind] {
			cs.Changes = append(cs.Changes, ch)
		}
	}
	cs.Changes = append(cs.Changes, deletes...)
	if len(cs.Changes) == 0 {
		cs.Changes = nil
	}
	d.e.order(cs)
	return rep
}
