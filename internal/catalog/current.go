package catalog

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"

	"github.com/harborport/terraform-provider-harborport/internal/port"
)

// currentState is what Port holds for the owned blueprints, kept compactly:
// per entity its identifier and one hash per compared field (hash.go), about
// 100 bytes instead of the decoded JSON's kilobyte or so.
type currentState struct {
	bps     map[string]*currentBP
	total   int      // distinct entities
	missing []string // blueprints Port does not have (Preview only)
}

// currentBP is one blueprint's entities, one row each.
type currentBP struct {
	paths  []string         // compared fields as include paths (includes() without $identifier)
	pos    map[string]int32 // identifier → row
	ids    []string         // row → identifier
	hashes []uint64         // row*len(paths)+i: the hash of paths[i]
	// Filled by the diff: 0 unseen, -1 generated and unchanged, k > 0 the
	// update at index k-1; and the relation targets of the generated entity.
	state []int32
	rels  [][]string
}

// comparedPaths are a blueprint's include paths without $identifier: the
// columns of currentBP.hashes.
func comparedPaths(include []string) []string {
	out := make([]string, 0, len(include))
	for _, p := range include {
		if p != "$identifier" {
			out = append(out, p)
		}
	}
	return out
}

// readCurrent reads every entity of the owned blueprints from Port, asking
// only for the fields the mapping sets (internal/port/API-NOTES.md "Search"
// include), so a no-op plan costs ceil(entities / 1000) search pages per
// blueprint. The blueprints are read concurrently (each search is a sequential
// chain of pages); a page is hashed on another goroutine while the next one is
// read.
func (e *Engine) readCurrent(ctx context.Context, seed uint64, missingOK bool, cp *computeProgress) (*currentState, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cur := &currentState{bps: make(map[string]*currentBP, len(e.owned))}
	errs := make([]error, len(e.owned))
	var wg sync.WaitGroup
	for i, bp := range e.owned {
		cb := &currentBP{paths: e.paths[bp], pos: map[string]int32{}}
		cur.bps[bp] = cb
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = e.readBlueprint(ctx, seed, bp, cb, cp)
			if errs[i] != nil && (!missingOK || !port.IsNotFound(errs[i])) {
				cancel()
			}
		}()
	}
	wg.Wait()
	// The first real failure in blueprint order, not a cancellation it caused.
	var first error
	for i, err := range errs {
		bp := e.owned[i]
		switch {
		case err == nil:
			continue
		case port.IsNotFound(err) && missingOK:
			cur.bps[bp] = &currentBP{paths: e.paths[bp], pos: map[string]int32{}}
			cur.missing = append(cur.missing, bp)
			continue
		case port.IsNotFound(err):
			err = fmt.Errorf("reading Port blueprint %q: it does not exist. Create it first (harborport_blueprints, "+
				"with depends_on from harborport_sync) or fix the blueprint in the mapping: %w", bp, err)
		default:
			if perr := e.scopePropertyMissing(ctx, bp, err); perr != nil {
				err = perr
				break
			}
			err = fmt.Errorf("reading Port entities of blueprint %q: %w", bp, err)
		}
		if first == nil || (errors.Is(first, context.Canceled) && !errors.Is(err, context.Canceled)) {
			first = err
		}
	}
	if first != nil {
		return nil, first
	}
	for _, cb := range cur.bps {
		cur.total += len(cb.ids)
		cb.state = make([]int32, len(cb.ids))
		cb.rels = make([][]string, len(cb.ids))
	}
	return cur, nil
}

// readBlueprint pages through one blueprint, hashing each page's compared
// fields into cb on a second goroutine.
func (e *Engine) readBlueprint(ctx context.Context, seed uint64, bp string, cb *currentBP, cp *computeProgress) error {
	pages := make(chan []port.Entity, 4)
	hashed := make(chan struct{})
	getters := make([]func(*port.Entity) any, len(cb.paths))
	for i, p := range cb.paths {
		getters[i] = pathGetter(p)
	}
	go func() {
		defer close(hashed)
		for page := range pages {
			for i := range page {
				ent := &page[i]
				row, seen := cb.pos[ent.Identifier]
				if !seen {
					row = int32(len(cb.ids))
					cb.pos[ent.Identifier] = row
					cb.ids = append(cb.ids, ent.Identifier)
					cb.hashes = append(cb.hashes, make([]uint64, len(getters))...)
				}
				base := int(row) * len(getters)
				for j, get := range getters {
					cb.hashes[base+j] = valueHash(seed, get(ent))
				}
			}
		}
	}()
	err := e.port.SearchEntities(ctx, bp, port.SearchQuery{Include: e.includes[bp], Rules: e.readRules()}, func(page []port.Entity) error {
		cp.portPage(len(page))
		select {
		case pages <- page:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	close(pages)
	<-hashed
	return err
}

// includes lists, per blueprint, the fields any resource writing to it maps.
func includes(e *Engine) map[string][]string {
	sets := map[string]map[string]bool{}
	for _, r := range e.mapping.Resources {
		bp, _ := r.Blueprint()
		s := sets[bp]
		if s == nil {
			s = map[string]bool{"$identifier": true}
			sets[bp] = s
		}
		f := r.Fields()
		for _, ref := range fieldRefs(&f) {
			s[ref.path] = true
		}
	}
	out := map[string][]string{}
	for bp, s := range sets {
		for k := range s {
			out[bp] = append(out[bp], k)
		}
		sort.Strings(out[bp])
	}
	return out
}
