package catalog

import (
	"context"
	"fmt"
	"strings"

	"github.com/harborport/terraform-provider-harborport/internal/harbor"
	"github.com/harborport/terraform-provider-harborport/internal/mapping"
	"github.com/harborport/terraform-provider-harborport/internal/port"
)

// Desired is what Port should hold according to Harbor and the mapping.
type Desired struct {
	// Entities by key "<blueprint>/<identifier>". When two items map to one
	// key the later one wins, as consecutive upserts would in Ocean.
	Entities map[string]*Wanted
	// Problems met while mapping; ItemErrors stop the delete phase.
	Warnings   Sample[mapping.Warning]
	ItemErrors Sample[string]
	// Items counts the Harbor items read per kind.
	Items map[mapping.Kind]int
}

// Wanted is one desired entity with the fields its resource maps, which are
// the only ones compared (design.md "Plan and apply").
type Wanted struct {
	Entity port.Entity
	Fields *mapping.Fields
}

// Sample keeps a count and the first few examples of a problem.
type Sample[T any] struct {
	Count    int
	Examples []T
}

const sampleSize = 5

func (s *Sample[T]) add(v T) {
	s.Count++
	if len(s.Examples) < sampleSize {
		s.Examples = append(s.Examples, v)
	}
}

// Desired reads Harbor, kind by kind, and maps every item with every
// resource of its kind. Filters are pushed down to Harbor's q= when exactly
// one resource reads a kind (with several, each needs its own superset, and
// one unfiltered listing is cheaper); every selector still runs locally.
func (e *Engine) Desired(ctx context.Context) (*Desired, error) {
	d := &Desired{Entities: map[string]*Wanted{}, Items: map[mapping.Kind]int{}}
	fields := map[int]*mapping.Fields{}
	for _, r := range e.mapping.Resources {
		f := r.Fields()
		fields[r.Index] = &f
	}
	add := func(kind mapping.Kind, it map[string]any) {
		d.Items[kind]++
		for _, r := range e.mapping.KindResources(kind) {
			ents, warns, err := r.Entities(it)
			for _, w := range warns {
				d.Warnings.add(w)
			}
			if err != nil {
				d.ItemErrors.add(fmt.Sprintf("%s: %v", itemName(kind, it), err))
			}
			for _, ent := range ents {
				d.Entities[ent.Key()] = &Wanted{Entity: ent, Fields: fields[r.Index]}
			}
		}
	}

	var allRepos []harbor.Item // shared by the repository and artifact kinds when unfiltered
	for _, kind := range mapping.Kinds {
		rs := e.mapping.KindResources(kind)
		if len(rs) == 0 {
			continue
		}
		var sel *mapping.Selector
		if len(rs) == 1 {
			sel = &rs[0].Selector
		}
		switch kind {
		case mapping.KindProject:
			q := harbor.ProjectQuery{}
			if sel != nil {
				q.Public = sel.Public
				q.Name = globLiteral(sel.Name)
			}
			items, err := e.harbor.ListProjects(ctx, q)
			if err != nil {
				return nil, fetchError(kind, err)
			}
			for _, it := range items {
				add(kind, it)
			}
		case mapping.KindUser:
			items, err := e.harbor.ListUsers(ctx, "")
			if err != nil {
				return nil, fetchError(kind, err)
			}
			for _, it := range items {
				add(kind, it)
			}
		case mapping.KindRepository:
			items, err := e.listRepositories(ctx, sel)
			if err != nil {
				return nil, fetchError(kind, err)
			}
			if sel == nil || (sel.ProjectName == "" && sel.NameContains == "" && sel.NameStartsWith == "") {
				allRepos = items
			}
			for _, it := range items {
				add(kind, it)
			}
		case mapping.KindArtifact:
			if allRepos == nil {
				var err error
				if allRepos, err = e.harbor.ListAllRepositories(ctx, harbor.RepoQuery{}); err != nil {
					return nil, fetchError(kind, err)
				}
			}
			q := harbor.ArtifactQuery{}
			for _, r := range rs {
				q.WithTag = q.WithTag || r.Selector.FetchTags()
				q.WithScanOverview = q.WithScanOverview || r.Selector.FetchScanOverview()
			}
			if sel != nil && sel.Tag != "" {
				if expr, err := harbor.BuildQ(harbor.QEq("tags", sel.Tag)); err == nil {
					q.Q = expr
				}
			}
			err := e.harbor.ForEachRepositoryArtifacts(ctx, allRepos, q, func(_ harbor.Item, arts []harbor.Item) error {
				for _, it := range arts {
					add(kind, it)
				}
				return ctx.Err()
			})
			if err != nil {
				return nil, fetchError(kind, err)
			}
		}
	}
	return d, nil
}

// listRepositories lists repositories with the one resource's selector pushed down.
func (e *Engine) listRepositories(ctx context.Context, sel *mapping.Selector) ([]harbor.Item, error) {
	q := harbor.RepoQuery{}
	if sel != nil {
		// Harbor's name=~ is a case-insensitive contains on the full
		// "project/repo" name: a superset of both selectors, narrowed locally.
		term := sel.NameContains
		if term == "" {
			term = sel.NameStartsWith
		}
		if term != "" && !strings.ContainsAny(term, ",") {
			if expr, err := harbor.BuildQ(harbor.QLike("name", term)); err == nil {
				q.Q = expr
			}
		}
		if sel.ProjectName != "" {
			items, err := e.harbor.ListRepositories(ctx, sel.ProjectName, q)
			if harbor.IsNotFound(err) {
				return nil, nil // the named project does not exist: nothing to sync
			}
			return items, err
		}
	}
	return e.harbor.ListAllRepositories(ctx, q)
}

// globLiteral returns the literal text before a glob's first wildcard, for
// Harbor's fuzzy name filter (a superset; the glob runs locally).
func globLiteral(glob string) string {
	if i := strings.IndexAny(glob, `*?[\`); i >= 0 {
		glob = glob[:i]
	}
	return glob
}

// fetchError says which kind failed to read; nothing is written after it.
func fetchError(kind mapping.Kind, err error) error {
	return fmt.Errorf("reading Harbor %ss: %w", kind, err)
}
