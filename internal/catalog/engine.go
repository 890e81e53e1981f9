// Package catalog is harborport's one engine: it computes what Port should
// hold (Harbor items → selectors → mapping), reads what Port holds for the
// blueprints a mapping owns, diffs the two into a Changeset, and applies a
// Changeset. terraform plan, terraform apply and the `serve` listener all go
// through it (internal/DESIGN.md "Shape").
package catalog

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/harborport/terraform-provider-harborport/internal/harbor"
	"github.com/harborport/terraform-provider-harborport/internal/mapping"
	"github.com/harborport/terraform-provider-harborport/internal/port"
)

// Engine computes and applies changesets for one mapping. It is safe for
// concurrent use once built.
type Engine struct {
	harbor  *harbor.Client
	port    *port.Client
	mapping *mapping.Config
	owned   []string       // blueprints the mapping writes to, sorted
	rank    map[string]int // blueprint → upsert order (project 0 … artifact 3)

	includes map[string][]string            // blueprint → search include paths
	paths    map[string][]string            // blueprint → compared paths (currentBP columns)
	res      map[*mapping.Resource]*resInfo // compared fields per resource

	progress      Progress      // WithProgress; nil reports nothing
	progressEvery time.Duration // at most this often while a read or apply runs

	seed func() uint64 // a changeset's hash seed (hash.go); tests fix it

	scope string // the mapping's ownership scope ("" = unscoped; scope.go)
	adopt bool   // AdoptUnscoped: unmarked entities are owned too
}

// kindRank is the upsert order of internal/DESIGN.md "Write order": project →
// user → repository → artifact (relations point "up" this list, so targets
// exist first).
var kindRank = map[mapping.Kind]int{
	mapping.KindProject: 0, mapping.KindUser: 1, mapping.KindRepository: 2, mapping.KindArtifact: 3,
}

// New builds an Engine. It refuses mappings whose ownership or diff cannot be
// known before writing: a blueprint computed by jq (which entities would the
// sync own and delete?) and search-query identifiers or relations (Port
// resolves them only on write, so a plan could not show the outcome).
func New(h *harbor.Client, p *port.Client, m *mapping.Config) (*Engine, error) {
	owned, ok := m.Blueprints()
	if !ok {
		for _, r := range m.Resources {
			if _, lit := r.Blueprint(); !lit {
				return nil, fmt.Errorf("%s:%d: resources[%d].port.entity.mappings.blueprint is computed with jq; harborport_sync must know "+
					"which blueprints it owns (it deletes their entities that Harbor no longer has), so write it as a string literal like '\"harborArtifact\"'",
					m.Source, r.Line, r.Index)
			}
		}
	}
	for _, r := range m.Resources {
		if r.UsesSearch() {
			return nil, fmt.Errorf("%s:%d: resources[%d] maps its identifier or a relation with a search query; Port resolves those only "+
				"while writing, so a plan could not show what would change. Map them to plain identifiers (the default mapping shows how)",
				m.Source, r.Line, r.Index)
		}
	}
	rank := map[string]int{}
	for _, r := range m.Resources {
		bp, _ := r.Blueprint()
		if cur, seen := rank[bp]; !seen || kindRank[r.Kind] < cur {
			rank[bp] = kindRank[r.Kind]
		}
	}
	e := &Engine{harbor: h, port: p, mapping: m, owned: owned, rank: rank,
		paths: map[string][]string{}, res: map[*mapping.Resource]*resInfo{}, seed: newSeed, scope: m.Scope}
	e.includes = includes(e)
	for bp, inc := range e.includes {
		e.paths[bp] = comparedPaths(inc)
	}
	for _, r := range m.Resources {
		f := r.Fields()
		info := &resInfo{fields: &f, refs: fieldRefs(&f)}
		bp, _ := r.Blueprint()
		for _, ref := range info.refs {
			info.cols = append(info.cols, slices.Index(e.paths[bp], ref.path))
		}
		e.res[r] = info
	}
	return e, nil
}

// Owned returns the blueprints whose entities this mapping owns.
func (e *Engine) Owned() []string { return append([]string(nil), e.owned...) }

// Mapping returns the engine's mapping.
func (e *Engine) Mapping() *mapping.Config { return e.mapping }

// Compute reads Harbor and Port and returns the changeset that would make
// Port match Harbor, with the mapping problems met on the way.
func (e *Engine) Compute(ctx context.Context) (*Report, error) {
	cp := e.startCompute("sync plan")
	rep, err := e.compute(ctx, false, cp)
	cp.end(e, rep)
	return rep, err
}

// Preview is Compute for a plan that will create the blueprints first: a
// blueprint missing in Port counts as empty instead of failing.
func (e *Engine) Preview(ctx context.Context) (*Report, error) {
	cp := e.startCompute("sync preview")
	rep, err := e.compute(ctx, true, cp)
	cp.end(e, rep)
	return rep, err
}

// compute reads Harbor and Port at the same time, and diffs as it goes:
// Port's current state is read first-or-concurrently and kept as field
// hashes; Harbor's items are mapped in parallel as they arrive, and each
// mapped entity is compared as soon as current state is ready, so only the
// entities that change are kept (plus one small row per Port entity). The
// first failure cancels the other read and is the error returned.
func (e *Engine) compute(ctx context.Context, missingOK bool, cp *computeProgress) (*Report, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu    sync.Mutex
		first error
	)
	fail := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		if first == nil {
			first = err
			cancel()
		}
	}
	var (
		cur    *currentState
		curErr error
	)
	seed := e.seed()
	ready := make(chan struct{})
	go func() {
		defer close(ready)
		if cur, curErr = e.readCurrent(ctx, seed, missingOK, cp); curErr != nil {
			fail(curErr)
		}
	}()

	d := e.newDiffer(seed)
	d.progress = cp
	pool := e.newMapPool(seed)
	haveCur := false
	// mergeReady merges finished jobs once current state is ready. It fails
	// when reading current state did (compute returns that error).
	mergeReady := func(wait bool) error {
		if !haveCur {
			if wait {
				<-ready
			} else {
				select {
				case <-ready:
				default:
					return nil
				}
			}
			if curErr != nil {
				return curErr
			}
			haveCur, d.cur = true, cur
		}
		return d.merge(wait)
	}
	repoSizes := map[string]int{}
	err := e.readHarbor(ctx, cp, repoSizes, func(kind mapping.Kind, items []harbor.Item) error {
		cp.read(kind, len(items))
		d.queue(pool.submit(kind, items))
		return mergeReady(false)
	}, d.skip)
	pool.close()
	if err == nil {
		err = mergeReady(true)
	}
	if err != nil {
		fail(err)
	}
	<-ready
	mu.Lock()
	err = first
	mu.Unlock()
	if err != nil {
		return nil, err
	}
	rep := d.report()
	rep.Changeset.repoSizes = repoSizes
	if err := e.checkCreates(ctx, rep.Changeset); err != nil {
		return nil, err
	}
	if err := e.checkUnscopedDeletes(ctx, rep.Changeset); err != nil {
		return nil, err
	}
	return rep, nil
}

// itemName is a short, human name for a Harbor item in messages.
func itemName(kind mapping.Kind, it map[string]any) string {
	s := func(k string) string { v, _ := it[k].(string); return v }
	switch kind {
	case mapping.KindProject:
		return "project " + s("name")
	case mapping.KindUser:
		return "user " + s("username")
	case mapping.KindRepository:
		return "repository " + s("name")
	case mapping.KindArtifact:
		d := s("digest")
		if len(d) > 19 {
			d = d[:19]
		}
		return "artifact " + s("repositoryName") + "@" + d
	}
	return string(kind)
}
