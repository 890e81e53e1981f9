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

// mapped is one entity with the hashes of its compared fields. Its body is
// kept as the JSON a bulk write sends (port.Entity.Raw), encoded by the
// mapping worker: a 100k-entity first sync then holds ~0.5 KB per entity
// instead of the decoded maps (several KB), and the Port client sends the
// bytes as they are instead of marshalling again.
type mapped struct {
	bp, id string
	raw    []byte
	res    *resInfo
	hashes []uint64 // aligned with res.refs
	rels   []string // relation targets, when the diff protects them
}

// entity returns the mapped entity, its body kept encoded.
func (m *mapped) entity() *port.Entity {
	return &port.Entity{Blueprint: m.bp, Identifier: m.id, Raw: m.raw}
}

// mapPool is the set of mapping workers of one compute.
type mapPool struct {
	e       *Engine
	jobs    chan *mapJob
	wg      sync.WaitGroup
	protect bool
}

func (e *Engine) newMapPool() *mapPool {
	n := runtime.GOMAXPROCS(0)
	p := &mapPool{e: e, jobs: make(chan *mapJob, 2*n), protect: e.mapping.CreateMissingRelatedEntities}
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
				m := mapped{bp: ent.Blueprint, id: ent.Identifier, res: info, hashes: make([]uint64, len(info.refs))}
				for i, ref := range info.refs {
					m.hashes[i] = valueHash(ref.get(&ent))
				}
				if p.protect {
					for _, v := range ent.Relations {
						m.rels = append(m.rels, relationIDs(v)...)
					}
				}
				ent.Blueprint = "" // the URL's on writes; m.bp keeps it
				raw, err := ent.MarshalJSON()
				if err != nil {
					// jq output is JSON, so this is a bug, not a user error.
					j.errs.add(fmt.Sprintf("%s: entity %s/%s cannot be encoded: %v", itemName(j.kind, it), m.bp, m.id, err))
					continue
				}
				m.raw = raw
				j.ents = append(j.ents, m)
			}
		}
	}
	j.items = nil // the raw Harbor items are no longer needed
}
