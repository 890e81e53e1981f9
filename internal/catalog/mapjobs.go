package catalog

import (
	"fmt"
	"runtime"
	"sync"

	"github.com/harborport/terraform-provider-harborport/internal/harbor"
	"github.com/harborport/terraform-provider-harborport/internal/mapping"
	"github.com/harborport/terraform-provider-harborport/internal/port"
)

// Mapping runs jq for every item and resource: the largest CPU cost of a
// plan. It runs on GOMAXPROCS workers (mapping.Config is safe for concurrent
// use); the diff takes the results in submission order, so when two items
// map to one entity the later one still wins, deterministically.

// mapChunk bounds the items of one job, so a large listing spreads over
// the workers.
const mapChunk = 64

// resInfo is what the diff needs to know about a resource.
type resInfo struct {
	fields *mapping.Fields
	refs   []fieldRef
	cols   []int // refs[i]'s column in the blueprint's currentBP.hashes
}

// mapJob is a run of items of one kind, mapped by a worker.
type mapJob struct {
	kind  mapping.Kind
	items []harbor.Item
	n     int
	done  chan struct{}

	ents  []mapped
	warns Sample[mapping.Warning]
	errs  Sample[string]
}

// mapped is one entity with the hashes of its compared fields and the
// Harbor object it came from; its body is not kept: apply re-derives it
// from the source (internal/DESIGN.md "Conditional apply (two writers)"), so a plan holds a few
// dozen bytes per entity, and no CPU goes into encoding bodies that a
// no-op plan never sends.
type mapped struct {
	bp, id string
	src    Key
	res    *resInfo
	hashes []uint64 // aligned with res.refs
	rels   []string // relation targets, when the diff protects them
}

// mapPool is the set of mapping workers of one compute.
type mapPool struct {
	e       *Engine
	seed    uint64
	jobs    chan *mapJob
	wg      sync.WaitGroup
	protect bool
}

func (e *Engine) newMapPool(seed uint64) *mapPool {
	n := runtime.GOMAXPROCS(0)
	p := &mapPool{e: e, seed: seed, jobs: make(chan *mapJob, 2*n), protect: e.mapping.CreateMissingRelatedEntities}
	for range n {
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			for j := range p.jobs {
				p.run(j)
			}
		}()
	}
	return p
}

// close stops the workers once every queued job is done.
func (p *mapPool) close() {
	close(p.jobs)
	p.wg.Wait()
}

// submit splits items into jobs, queues them and returns them in order.
func (p *mapPool) submit(kind mapping.Kind, items []harbor.Item) []*mapJob {
	var out []*mapJob
	for len(items) > 0 {
		n := min(len(items), mapChunk)
		j := &mapJob{kind: kind, items: items[:n:n], n: n, done: make(chan struct{})}
		items = items[n:]
		p.jobs <- j
		out = append(out, j)
	}
	return out
}

func (p *mapPool) run(j *mapJob) {
	defer close(j.done)
	rs := p.e.mapping.KindResources(j.kind)
	for _, it := range j.items {
		src := sourceOf(j.kind, it)
		for _, r := range rs {
			ents, warns, err := r.Entities(it)
			for _, w := range warns {
				j.warns.add(w)
			}
			if err != nil {
				j.errs.add(fmt.Sprintf("%s: %v", itemName(j.kind, it), err))
			}
			info := p.e.res[r]
			for _, ent := range ents {
				m := mapped{bp: ent.Blueprint, id: ent.Identifier, src: src, res: info, hashes: hashRefs(p.seed, info, &ent)}
				if p.protect {
					for _, v := range ent.Relations {
						m.rels = append(m.rels, relationIDs(v)...)
					}
				}
				j.ents = append(j.ents, m)
			}
		}
	}
	j.items = nil // the raw Harbor items are no longer needed
}

// hashRefs hashes the fields info's resource maps, in info.refs order.
func hashRefs(seed uint64, info *resInfo, ent *port.Entity) []uint64 {
	out := make([]uint64, len(info.refs))
	for i, ref := range info.refs {
		out[i] = valueHash(seed, ref.get(ent))
	}
	return out
}

// sourceOf names the Harbor object an item is, so apply can read it again.
func sourceOf(kind mapping.Kind, it harbor.Item) Key {
	s := func(k string) string { v, _ := it[k].(string); return v }
	switch kind {
	case mapping.KindProject:
		return Key{Kind: kind, Project: s("name")}
	case mapping.KindUser:
		id, _ := it["user_id"].(float64)
		return Key{Kind: kind, User: s("username"), UserID: int64(id)}
	case mapping.KindRepository:
		return Key{Kind: kind, Project: s("projectName"), Repository: s("name")}
	}
	return Key{Kind: kind, Project: s("projectName"), Repository: s("repositoryName"), Digest: s("digest")}
}
