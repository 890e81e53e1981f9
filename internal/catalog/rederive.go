package catalog

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/harborport/terraform-provider-harborport/internal/harbor"
	"github.com/harborport/terraform-provider-harborport/internal/mapping"
	"github.com/harborport/terraform-provider-harborport/internal/port"
)

// Apply re-derives the bodies of creates and updates from Harbor instead of
// storing them in the plan (internal/DESIGN.md "Conditional apply (two writers)"): it reads the
// changes' sources again, up to qListMax per request, and maps them with the
// same mapping. So what apply writes is never older than the plan, and a
// plan's private state holds identifiers and fingerprints, not bodies.

// qListMax is how many values one q={…} list carries. Harbor turns an or-list
// into SQL `IN` (src/lib/orm/query.go setFilters, `key__in`), so any number
// works for Harbor; 50 keeps the URL (a digest is 71 characters) well under
// the 8 KiB request line that Harbor's nginx front accepts by default.
const qListMax = 50

// derivedEnt is an entity mapped again from its source at apply time.
type derivedEnt struct {
	ent    port.Entity
	res    *resInfo
	hashes []uint64 // aligned with res.refs, keyed by the changeset's seed
}

// rederive maps the sources of chunk (creates and updates of blueprint bp)
// again. The result is aligned with chunk; nil where Harbor no longer has
// the source, or the source no longer maps to the change's entity (its
// selector now excludes it, or its identifier changed).
// prefetched holds items already read (resolveCompact's listings), by
// sourceID; they are not fetched again.
func (e *Engine) rederive(ctx context.Context, seed uint64, bp string, chunk []Change, prefetched map[string]harbor.Item) ([]*derivedEnt, error) {
	byKind := map[mapping.Kind][]Key{}
	seen := map[string]bool{}
	for _, ch := range chunk {
		if ch.Source == nil || ch.Compact() {
			continue
		}
		id := sourceID(*ch.Source)
		if _, have := prefetched[id]; !seen[id] && !have {
			seen[id] = true
			byKind[ch.Source.Kind] = append(byKind[ch.Source.Kind], *ch.Source)
		}
	}
	items := map[string]harbor.Item{}
	for id, it := range prefetched {
		items[id] = it
	}
	for _, kind := range mapping.Kinds {
		keys := byKind[kind]
		if len(keys) == 0 {
			continue
		}
		got, err := e.fetchSources(ctx, kind, keys)
		if err != nil {
			return nil, fmt.Errorf("reading Harbor %ss again: %w", kind, err)
		}
		for id, it := range got {
			items[id] = it
		}
	}

	// Map each source once: itemsToParse can make several entities of the
	// chunk from one item. Within an item, a later resource's entity with the
	// same identifier wins, as in the plan's diff.
	mappedBy := map[string]map[string]*derivedEnt{}
	out := make([]*derivedEnt, len(chunk))
	for i, ch := range chunk {
		if ch.Source == nil || ch.Compact() {
			continue
		}
		id := sourceID(*ch.Source)
		ents, done := mappedBy[id]
		if !done {
			ents = map[string]*derivedEnt{}
			if it := items[id]; it != nil {
				for _, r := range e.mapping.KindResources(ch.Source.Kind) {
					if rbp, _ := r.Blueprint(); rbp != bp {
						continue
					}
					got, _, err := r.Entities(it)
					if err != nil {
						continue // a selector error: the plan did not map it either
					}
					info := e.res[r]
					for _, ent := range got {
						ents[ent.Identifier] = &derivedEnt{ent: ent, res: info, hashes: hashRefs(seed, info, &ent)}
					}
				}
			}
			mappedBy[id] = ents
		}
		out[i] = ents[ch.Identifier]
	}
	return out, nil
}

// sourceID is a map key for a source (names never hold NUL).
func sourceID(k Key) string {
	if k.Kind == mapping.KindUser {
		return string(k.Kind) + "\x00" + k.User // usernames are unique and never change
	}
	return string(k.Kind) + "\x00" + k.Project + "\x00" + k.Repository + "\x00" + k.Digest
}

// fetchSources reads the given objects of one kind from Harbor with list
// calls filtered by q or-lists, keyed by sourceID. Objects Harbor no longer
// has are missing from the result.
func (e *Engine) fetchSources(ctx context.Context, kind mapping.Kind, keys []Key) (map[string]harbor.Item, error) {
	var (
		mu   sync.Mutex
		out  = map[string]harbor.Item{}
		jobs []func(context.Context) ([]harbor.Item, error)
	)
	switch kind {
	case mapping.KindProject:
		var names []string
		for _, k := range keys {
			if qSafe(k.Project) {
				names = append(names, k.Project)
				continue
			}
			name := k.Project // all digits, or a time: q would read it as a number
			jobs = append(jobs, func(ctx context.Context) ([]harbor.Item, error) {
				it, err := e.harbor.GetProjectByName(ctx, name)
				if harbor.IsNotFound(err) || it == nil {
					return nil, nil
				}
				return []harbor.Item{it}, err
			})
		}
		for _, part := range split(names, qListMax) {
			jobs = append(jobs, func(ctx context.Context) ([]harbor.Item, error) {
				q, err := harbor.BuildQ(harbor.QIn("name", part...))
				if err != nil {
					return nil, err
				}
				return e.harbor.ListProjects(ctx, harbor.ProjectQuery{Q: q})
			})
		}
	case mapping.KindUser:
		var ids []string
		for _, k := range keys {
			if k.UserID > 0 {
				ids = append(ids, strconv.FormatInt(k.UserID, 10))
				continue
			}
			name := k.User
			jobs = append(jobs, func(ctx context.Context) ([]harbor.Item, error) {
				q, err := harbor.BuildQ(harbor.QEq("username", name))
				if err != nil {
					return nil, err
				}
				return e.harbor.ListUsers(ctx, q)
			})
		}
		for _, part := range split(ids, qListMax) {
			jobs = append(jobs, func(ctx context.Context) ([]harbor.Item, error) {
				q, err := harbor.BuildQ(harbor.QIn("user_id", part...))
				if err != nil {
					return nil, err
				}
				return e.harbor.ListUsers(ctx, q)
			})
		}
	case mapping.KindRepository:
		names := make([]string, 0, len(keys))
		for _, k := range keys {
			names = append(names, k.Repository)
		}
		for _, part := range split(names, qListMax) {
			jobs = append(jobs, func(ctx context.Context) ([]harbor.Item, error) {
				q, err := harbor.BuildQ(harbor.QIn("name", part...))
				if err != nil {
					return nil, err
				}
				return e.harbor.ListAllRepositories(ctx, harbor.RepoQuery{Q: q})
			})
		}
	case mapping.KindArtifact:
		aq := e.artifactQuery()
		type repoKey struct{ project, repo string }
		var order []repoKey
		digests := map[repoKey][]string{}
		for _, k := range keys {
			rk := repoKey{k.Project, k.Repository}
			if _, ok := digests[rk]; !ok {
				order = append(order, rk)
			}
			digests[rk] = append(digests[rk], k.Digest)
		}
		for _, rk := range order {
			for _, part := range split(digests[rk], qListMax) {
				jobs = append(jobs, func(ctx context.Context) ([]harbor.Item, error) {
					q := aq
					expr, err := harbor.BuildQ(harbor.QIn("digest", part...))
					if err != nil {
						return nil, err
					}
					q.Q = expr
					// The default listing, as the plan's: index children
					// stay hidden (internal/harbor/API-NOTES.md "Artifacts").
					items, err := e.harbor.ListArtifacts(ctx, rk.project, rk.repo, q)
					if harbor.IsNotFound(err) {
						return nil, nil // the repository or project is gone
					}
					return items, err
				})
			}
		}
	default:
		return nil, fmt.Errorf("cannot read Harbor kind %q", kind)
	}
	err := runBounded(ctx, fetchParallelism, len(jobs), func(ctx context.Context, i int) error {
		items, err := jobs[i](ctx)
		if err != nil {
			return err
		}
		mu.Lock()
		defer mu.Unlock()
		for _, it := range items {
			out[sourceID(sourceOf(kind, it))] = it
		}
		return nil
	})
	return out, err
}

// artifactQuery is what a sync asks Harbor for artifacts: tags and scan
// overviews when any artifact resource needs them, and only the keys the
// mapping reads decoded (the mapping gives the same entities either way).
func (e *Engine) artifactQuery() harbor.ArtifactQuery {
	q := harbor.ArtifactQuery{}
	for _, r := range e.mapping.KindResources(mapping.KindArtifact) {
		q.WithTag = q.WithTag || r.Selector.FetchTags()
		q.WithScanOverview = q.WithScanOverview || r.Selector.FetchScanOverview()
	}
	if keys, ok := e.mapping.ItemKeys(mapping.KindArtifact); ok {
		q.Keep = keys
	}
	return q
}

// qSafe reports whether Harbor's q parser keeps v a string: it reads values
// that parse as an integer or a time as such (src/lib/q/builder.go parseValue).
func qSafe(v string) bool {
	if _, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err == nil {
		return false
	}
	return !strings.ContainsAny(v, " ,{}()[]~\"'") && v != ""
}

func split(v []string, n int) [][]string {
	var out [][]string
	for len(v) > 0 {
		k := min(n, len(v))
		out = append(out, v[:k:k])
		v = v[k:]
	}
	return out
}

// fetchParallelism bounds the goroutines of one fetch; the Harbor client
// bounds the requests in flight (max_concurrency) anyway.
const fetchParallelism = 16

// runBounded runs fn(0..n-1) on at most limit goroutines; the first error
// cancels the rest and is returned.
func runBounded(ctx context.Context, limit, n int, fn func(context.Context, int) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	sem := make(chan struct{}, limit)
	for i := range n {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if err := fn(ctx, i); err != nil {
				mu.Lock()
				if first == nil {
					first = err
					cancel()
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if first == nil && ctx.Err() != nil {
		return ctx.Err()
	}
	return first
}

// resolveCompact finds the artifact changes of chunk that were stored
// without identifier (encoding.go "compact changes"): it lists each of their
// repositories once, maps every artifact, and matches the planned hashes of
// blueprint and identifier. It sets the identifiers and digests it finds and
// returns the listed items (for rederive). A change it does not find stays
// compact: its artifact is no longer in Harbor, or no longer selected.
func (e *Engine) resolveCompact(ctx context.Context, bp string, chunk []Change) (map[string]harbor.Item, error) {
	type repoKey struct{ project, repo string }
	want := map[repoKey]map[uint64]*Change{}
	var order []repoKey
	for i := range chunk {
		ch := &chunk[i]
		if !ch.Compact() || ch.Source == nil || ch.Source.Kind != mapping.KindArtifact {
			continue
		}
		rk := repoKey{ch.Source.Project, ch.Source.Repository}
		if want[rk] == nil {
			want[rk] = map[uint64]*Change{}
			order = append(order, rk)
		}
		want[rk][ch.IDHash] = ch
	}
	if len(order) == 0 {
		return nil, nil
	}
	q := e.artifactQuery()
	var mu sync.Mutex
	items := map[string]harbor.Item{}
	err := runBounded(ctx, fetchParallelism, len(order), func(ctx context.Context, i int) error {
		rk := order[i]
		list, err := e.harbor.ListArtifacts(ctx, rk.project, rk.repo, q)
		if harbor.IsNotFound(err) {
			return nil // the repository or project is gone: its changes stay unresolved
		}
		if err != nil {
			return fmt.Errorf("reading Harbor artifacts of %s again: %w", rk.repo, err)
		}
		mu.Lock()
		defer mu.Unlock()
		for _, it := range list {
			src := sourceOf(mapping.KindArtifact, it)
			for _, r := range e.mapping.KindResources(mapping.KindArtifact) {
				if rbp, _ := r.Blueprint(); rbp != bp {
					continue
				}
				ents, _, err := r.Entities(it)
				if err != nil {
					continue
				}
				for _, ent := range ents {
					if ch := want[rk][idHash(bp, ent.Identifier)]; ch != nil && ch.Identifier == "" {
						ch.Identifier = ent.Identifier
						s := src
						ch.Source = &s
						items[sourceID(src)] = it
					}
				}
			}
		}
		return nil
	})
	return items, err
}

// resolveCompactDeletes finds the identifiers of a delete run's compact
// changes among the blueprint's entities in Port (one pass over its search
// pages, identifiers only). What it does not find is gone from Port already.
func (e *Engine) resolveCompactDeletes(ctx context.Context, bp string, run []Change) error {
	want := map[uint64]*Change{}
	for i := range run {
		if run[i].Compact() {
			want[run[i].IDHash] = &run[i]
		}
	}
	if len(want) == 0 {
		return nil
	}
	return e.port.SearchEntities(ctx, bp, port.SearchQuery{Include: []string{"$identifier"}, Rules: e.readRules()}, func(page []port.Entity) error {
		for i := range page {
			if ch := want[idHash(bp, page[i].Identifier)]; ch != nil && ch.Identifier == "" {
				ch.Identifier = page[i].Identifier
			}
		}
		return nil
	})
}
