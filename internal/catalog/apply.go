package catalog

import (
	"context"
	"errors"
	"fmt"

	"github.com/harborport/terraform-provider-harborport/internal/port"
)

// Result is what an Apply did.
type Result struct {
	Created, Updated, Deleted int
	Failed                    []Failure
}

// Failure is one change Port did not confirm.
type Failure struct {
	Change Change
	Err    error
}

func (f Failure) String() string {
	return fmt.Sprintf("%s %s/%s: %v", f.Change.Op, f.Change.Blueprint, f.Change.Identifier, f.Err)
}

// Done counts the changes Port confirmed.
func (r Result) Done() int { return r.Created + r.Updated + r.Deleted }

// ErrPartial is returned (wrapped) when some changes failed; the Result says which.
var ErrPartial = errors.New("some changes were not applied")

// Apply performs the changeset in its order: upserts blueprint by blueprint
// (each in bulk batches, concurrently within the blueprint), then deletes.
// It keeps going past per-entity failures, so one bad entity does not hold
// back the rest; what failed is in Result.Failed and the next plan, which
// recomputes from Harbor and Port, shows it again. A whole-call failure
// (Port down, credentials revoked) stops at once; the changes already
// confirmed are counted.
func (e *Engine) Apply(ctx context.Context, cs *Changeset) (res Result, err error) {
	if cs.Empty() {
		return res, nil
	}
	ap := e.startApply(len(cs.Changes))
	defer func() { ap.end(e, res, err) }()
	opt := port.UpsertOptions{Merge: cs.Merge, CreateMissingRelated: cs.CreateMissingRelated}
	for start := 0; start < len(cs.Changes); {
		// A run: consecutive changes with the same blueprint and kind of write.
		first := cs.Changes[start]
		end := start + 1
		for end < len(cs.Changes) && cs.Changes[end].Blueprint == first.Blueprint &&
			(cs.Changes[end].Op == OpDelete) == (first.Op == OpDelete) {
			end++
		}
		run := cs.Changes[start:end]
		start = end

		ap.runStarted(first.Blueprint, first.Op, len(run))
		before := res
		if first.Op == OpDelete {
			err := e.applyDeletes(ctx, first.Blueprint, run, cs.DeleteDependents, &res)
			ap.runEnded(first.Blueprint, first.Op, len(run), res.Done()-before.Done(), len(res.Failed)-len(before.Failed))
			if err != nil {
				return res, err
			}
			continue
		}
		ents := make([]port.Entity, len(run))
		for i, ch := range run {
			ents[i] = *ch.Entity
			ents[i].Blueprint, ents[i].Identifier = ch.Blueprint, ch.Identifier
		}
		results, err := e.port.UpsertEntities(ctx, first.Blueprint, ents, opt)
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
		ap.runEnded(first.Blueprint, first.Op, len(run), res.Done()-before.Done(), len(res.Failed)-len(before.Failed))
		if err != nil {
			return res, fmt.Errorf("writing %s entities: %w", first.Blueprint, err)
		}
	}
	if len(res.Failed) > 0 {
		return res, fmt.Errorf("%w: %d of %d failed", ErrPartial, len(res.Failed), len(cs.Changes))
	}
	return res, nil
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
