package catalog

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"

	"github.com/harborport/terraform-provider-harborport/internal/port"
)

// Result is what an Apply did.
type Result struct {
	Created, Updated, Deleted int
	// AlreadyDone counts planned changes Port already held when apply came
	// to them (another writer made the same change): counted as done, not
	// written.
	AlreadyDone int
	// Skipped are planned changes left alone because the entity changed in
	// Port, or its source in Harbor, since the plan.
	Skipped []Skip
	Failed  []Failure
}

// Failure is one change Port did not confirm.
type Failure struct {
	Change Change
	Err    error
}

func (f Failure) String() string {
	return fmt.Sprintf("%s %s/%s: %v", f.Change.Op, f.Change.Blueprint, f.Change.Identifier, f.Err)
}

// SkipReason says why a planned change was not written.
type SkipReason string

const (
	// SkipPortChanged: Port no longer holds what the plan compared against
	// (the listener, another apply or a person wrote the entity since).
	SkipPortChanged SkipReason = "changed in Port since the plan"
	// SkipHarborChanged: Harbor's object now maps to something else than
	// the plan showed.
	SkipHarborChanged SkipReason = "changed in Harbor since the plan"
	// SkipHarborGone: Harbor no longer has the object, or the mapping's
	// selector no longer picks it.
	SkipHarborGone SkipReason = "no longer in Harbor (or no longer selected) since the plan"
)

// Skip is one planned change apply left alone.
type Skip struct {
	Change Change
	Reason SkipReason
}

func (s Skip) String() string {
	return fmt.Sprintf("%s %s/%s: %s", s.Change.Op, s.Change.Blueprint, s.Change.Identifier, s.Reason)
}

// Done counts the planned changes Port holds now because of this apply or
// because another writer made them first.
func (r Result) Done() int { return r.Created + r.Updated + r.Deleted + r.AlreadyDone }

// ErrPartial is returned (wrapped) when some changes failed; the Result says which.
var ErrPartial = errors.New("some changes were not applied")

// applyChunk is how many changes of one blueprint are checked and written
// together: one Port search re-reads them all (the search route's page
// limit), so the extra reads of a conditional apply are
// ceil(changes/1000) per blueprint and kind of write.
const applyChunk = 1000

// Apply performs the changeset in its order (upserts blueprint by blueprint,
// then deletes), conditionally: Port has no compare-and-set, so for each
// chunk of at most applyChunk changes it
//
//  1. re-derives the bodies of creates and updates from Harbor (rederive.go);
//  2. re-reads the chunk's entities from Port, one search by identifier;
//  3. per change: Port holds the planned After → done, no write; Port no
//     longer holds the planned Before → skipped (SkipPortChanged); Harbor no
//     longer maps the entity → skipped (SkipHarborGone); an update whose
//     re-derived body would change fields the plan did not name → skipped
//     (SkipHarborChanged); otherwise the re-derived body is written: the
//     entities and fields the plan showed, with Harbor's values as they are
//     now, so a write is never older than the plan;
//  4. writes the chunk (bulk upserts concurrently, or bulk deletes).
//
// So a saved plan applied after the listener wrote newer data leaves that
// data alone, and the window in which another writer's change can still be
// overwritten is one chunk's check-then-write (internal/DESIGN.md
// "Conditional apply (two writers)"). Apply keeps going past per-entity failures; what failed is in
// Result.Failed and the next plan, which recomputes from Harbor and Port,
// shows it again. A whole-call failure (Port down, credentials revoked)
// stops at once; the changes already confirmed are counted.
func (e *Engine) Apply(ctx context.Context, cs *Changeset) (res Result, err error) {
	if cs.Empty() {
		return res, nil
	}
	ap := e.startApply(len(cs.Changes))
	defer func() { ap.end(e, res, err) }()
	err = e.forEachRun(cs, func(run []Change) error {
		first := run[0]
		ap.runStarted(first.Blueprint, first.Op, len(run))
		before := res
		var err error
		if first.Op == OpDelete {
			if err = e.resolveCompactDeletes(ctx, first.Blueprint, run); err != nil {
				err = fmt.Errorf("deleting %s entities: finding them in Port: %w", first.Blueprint, err)
			}
		}
		for i := 0; i < len(run) && err == nil; i += applyChunk {
			err = e.applyChecked(ctx, cs, run[i:min(i+applyChunk, len(run))], &res)
		}
		ap.runEnded(first.Blueprint, first.Op, len(run), res.Done()-before.Done(), len(res.Skipped)-len(before.Skipped), len(res.Failed)-len(before.Failed))
		return err
	})
	if err != nil {
		return res, err
	}
	if len(res.Failed) > 0 {
		return res, fmt.Errorf("%w: %d of %d failed", ErrPartial, len(res.Failed), len(cs.Changes))
	}
	return res, nil
}

// forEachRun calls fn with each run of consecutive changes that have the
// same blueprint and kind of write (upsert or delete), in order.
func (e *Engine) forEachRun(cs *Changeset, fn func(run []Change) error) error {
	for start := 0; start < len(cs.Changes); {
		first := cs.Changes[start]
		end := start + 1
		for end < len(cs.Changes) && cs.Changes[end].Blueprint == first.Blueprint &&
			(cs.Changes[end].Op == OpDelete) == (first.Op == OpDelete) {
			end++
		}
		if err := fn(cs.Changes[start:end]); err != nil {
			return err
		}
		start = end
	}
	return nil
}

// applyChecked is steps 1–4 of Apply for one chunk of one run.
func (e *Engine) applyChecked(ctx context.Context, cs *Changeset, chunk []Change, res *Result) error {
	bp := chunk[0].Blueprint
	upsert := chunk[0].Op != OpDelete
	var derived []*derivedEnt
	if upsert {
		prefetched, err := e.resolveCompact(ctx, bp, chunk)
		if err == nil {
			derived, err = e.rederive(ctx, cs.Seed, bp, chunk, prefetched)
		}
		if err != nil {
			return fmt.Errorf("writing %s entities: %w", bp, err)
		}
	}
	ids := make([]string, 0, len(chunk))
	for _, ch := range chunk {
		if !ch.Compact() {
			ids = append(ids, ch.Identifier)
		}
	}
	now, err := e.readRows(ctx, cs.Seed, bp, ids)
	if err != nil {
		return fmt.Errorf("writing %s entities: re-reading them from Port: %w", bp, err)
	}
	var writes []Change
	for i, ch := range chunk {
		if ch.Compact() {
			// Not found again: gone from Harbor (an upsert's artifact) or
			// from Port (a delete's entity, which is what was planned).
			if upsert {
				ch.Identifier = compactName(ch)
				res.Skipped = append(res.Skipped, Skip{Change: ch, Reason: SkipHarborGone})
			} else {
				res.AlreadyDone++
			}
			continue
		}
		row, present := now[ch.Identifier]
		held := fpAbsent
		if present {
			held = fingerprint(cs.Seed, row)
		}
		switch {
		case afterHeld(&ch, held):
			res.AlreadyDone++
		case held != ch.Before:
			res.Skipped = append(res.Skipped, Skip{Change: ch, Reason: SkipPortChanged})
		case !upsert:
			writes = append(writes, ch)
		case derived[i] == nil:
			res.Skipped = append(res.Skipped, Skip{Change: ch, Reason: SkipHarborGone})
		case ch.Op == OpUpdate && !withinFields(derived[i], row, ch.Fields):
			res.Skipped = append(res.Skipped, Skip{Change: ch, Reason: SkipHarborChanged})
		case e.afterFP(cs.Seed, bp, rowOrNil(row, present), derived[i].res, derived[i].hashes) == held:
			res.AlreadyDone++ // Harbor came back to what Port holds: nothing left to write
		default:
			ent := derived[i].ent
			ch.Entity = &ent
			writes = append(writes, ch)
		}
	}
	if len(writes) == 0 {
		return nil
	}
	if !upsert {
		return e.applyDeletes(ctx, bp, writes, cs.DeleteDependents, res)
	}
	return e.upsert(ctx, bp, writes, port.UpsertOptions{Merge: cs.Merge, CreateMissingRelated: cs.CreateMissingRelated}, res)
}

// withinFields reports whether writing d over row changes only fields the
// plan showed for the update: Harbor may have moved on since the plan, and
// apply writes its values as they are now (never older ones), but never a
// field the plan did not name.
func withinFields(d *derivedEnt, row []uint64, planned []string) bool {
	for i, ref := range d.res.refs {
		h := d.hashes[i]
		if (h == hashUnhashable || h != row[d.res.cols[i]]) && !slices.Contains(planned, ref.name) {
			return false
		}
	}
	return true
}

// compactName names a compact change whose entity was not found again.
func compactName(ch Change) string {
	where := "?"
	if ch.Source != nil {
		where = ch.Source.Repository
	}
	return fmt.Sprintf("%s@(an artifact no longer listed; id hash %016x)", where, ch.IDHash)
}

func rowOrNil(row []uint64, present bool) []uint64 {
	if !present {
		return nil
	}
	return row
}

// readRows reads the given entities of bp from Port (one search page per
// 1000 identifiers) and returns each one's compared-field hashes, in the
// blueprint's column order.
func (e *Engine) readRows(ctx context.Context, seed uint64, bp string, ids []string) (map[string][]uint64, error) {
	paths := e.paths[bp]
	getters := make([]func(*port.Entity) any, len(paths))
	for i, p := range paths {
		getters[i] = pathGetter(p)
	}
	out := make(map[string][]uint64, len(ids))
	var read func(part []string) error
	read = func(part []string) error {
		vals := make([]any, len(part))
		for i, id := range part {
			vals[i] = id
		}
		q := port.SearchQuery{
			Rules:   []map[string]any{{"property": "$identifier", "operator": "in", "value": vals}},
			Include: e.includes[bp],
		}
		err := e.port.SearchEntities(ctx, bp, q, func(page []port.Entity) error {
			for i := range page {
				row := make([]uint64, len(getters))
				for j, get := range getters {
					row[j] = valueHash(seed, get(&page[i]))
				}
				out[page[i].Identifier] = row
			}
			return nil
		})
		var apiErr *port.APIError
		if errors.As(err, &apiErr) && apiErr.Status == http.StatusRequestEntityTooLarge && len(part) > 1 {
			// A body limit below Port's 1 MiB (a proxy in front): halve the
			// identifier list until it fits, as bulk writes do.
			if err := read(part[:len(part)/2]); err != nil {
				return err
			}
			return read(part[len(part)/2:])
		}
		return err
	}
	for _, part := range split(ids, applyChunk) {
		if err := read(part); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// write performs changes whose bodies are in hand (Change.Entity), without
// re-reading: Reconcile has just read Harbor and Port for them.
func (e *Engine) write(ctx context.Context, cs *Changeset) (res Result, err error) {
	if cs.Empty() {
		return res, nil
	}
	opt := port.UpsertOptions{Merge: cs.Merge, CreateMissingRelated: cs.CreateMissingRelated}
	err = e.forEachRun(cs, func(run []Change) error {
		if run[0].Op == OpDelete {
			return e.applyDeletes(ctx, run[0].Blueprint, run, cs.DeleteDependents, &res)
		}
		return e.upsert(ctx, run[0].Blueprint, run, opt, &res)
	})
	if err != nil {
		return res, err
	}
	if len(res.Failed) > 0 {
		return res, fmt.Errorf("%w: %d of %d failed", ErrPartial, len(res.Failed), len(cs.Changes))
	}
	return res, nil
}

// upsert writes creates and updates of one blueprint, bodies in hand, in
// bulk (the client batches and runs them concurrently), and records each
// entity's outcome.
func (e *Engine) upsert(ctx context.Context, bp string, run []Change, opt port.UpsertOptions, res *Result) error {
	ents := make([]port.Entity, len(run))
	for i, ch := range run {
		ents[i] = *ch.Entity
		ents[i].Blueprint, ents[i].Identifier = ch.Blueprint, ch.Identifier
	}
	results, err := e.port.UpsertEntities(ctx, bp, ents, opt)
	for _, r := range results {
		ch := run[r.Index]
		switch {
		case r.Err != nil:
			res.Failed = append(res.Failed, Failure{Change: ch, Err: r.Err})
		case ch.Op == OpCreate:
			res.Created++
		default:
			res.Updated++
		}
	}
	if err != nil {
		return fmt.Errorf("writing %s entities: %w", bp, err)
	}
	return nil
}

// deleteChunk is Port's bulk delete limit (internal/port/API-NOTES.md
// "Deleting entities"); the client chunks too, but chunking here lets one
// blocked chunk fail alone.
const deleteChunk = 100

func (e *Engine) applyDeletes(ctx context.Context, bp string, run []Change, dependents bool, res *Result) error {
	for i := 0; i < len(run); i += deleteChunk {
		chunk := run[i:min(i+deleteChunk, len(run))]
		ids := make([]string, len(chunk))
		for j, ch := range chunk {
			ids[j] = ch.Identifier
		}
		// Port skips identifiers that are already gone: that is the state
		// we want, so every identifier of a successful call counts as done.
		_, err := e.port.DeleteEntities(ctx, bp, ids, dependents)
		var apiErr *port.APIError
		switch {
		case err == nil:
			res.Deleted += len(chunk)
		case errors.As(err, &apiErr) && apiErr.Status >= 400 && apiErr.Status < 500 && apiErr.Status != 401 && apiErr.Status != 429:
			// Port refuses a chunk all or none (e.g. has_dependents): report
			// each entity, keep going with the rest.
			for _, ch := range chunk {
				res.Failed = append(res.Failed, Failure{Change: ch, Err: err})
			}
		default:
			return fmt.Errorf("deleting %s entities: %w", bp, err)
		}
	}
	return nil
}
