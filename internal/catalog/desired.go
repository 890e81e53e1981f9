package catalog

import (
	"context"
	"fmt"
	"strings"

	"github.com/harborport/terraform-provider-harborport/internal/harbor"
	"github.com/harborport/terraform-provider-harborport/internal/mapping"
	"github.com/harborport/terraform-provider-harborport/internal/port"
)

// Wanted is one desired entity with the fields its resource maps, which are
// the only ones compared (internal/DESIGN.md "Comparing entities").
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

// readHarbor reads Harbor, kind by kind, and hands every item to submit in
// Harbor's order. Filters are pushed down to Harbor's q= when exactly one
// resource reads a kind (with several, each needs its own superset, and one
// unfiltered listing is cheaper); every selector still runs locally.
// repoSizes, when not nil, gets the number of artifacts listed per
// repository (the changeset's encoding uses it, encoding.go).
func (e *Engine) readHarbor(ctx context.Context, cp *computeProgress, repoSizes map[string]int, submit func(mapping.Kind, []harbor.Item) error) error {
	var allRepos []harbor.Item // shared by the repository and artifact kinds when unfiltered
	for _, kind := range mapping.Kinds {
		rs := e.mapping.KindResources(kind)
		if len(rs) == 0 {
			continue
		}
		cp.readStart(kind)
		var sel *mapping.Selector
		if len(rs) == 1 {
			sel = &rs[0].Selector
		}
		var items []harbor.Item
		var err error
		switch kind {
		case mapping.KindProject:
			q := harbor.ProjectQuery{}
			if sel != nil {
				q.Public = sel.Public
				q.Name = globLiteral(sel.Name)
			}
			items, err = e.harbor.ListProjects(ctx, q)
		case mapping.KindUser:
			items, err = e.harbor.ListUsers(ctx, "")
		case mapping.KindRepository:
			items, err = e.listRepositories(ctx, sel)
			if err == nil && (sel == nil || (sel.ProjectName == "" && sel.NameContains == "" && sel.NameStartsWith == "")) {
				allRepos = items
			}
		case mapping.KindArtifact:
			if allRepos == nil {
				if allRepos, err = e.harbor.ListAllRepositories(ctx, harbor.RepoQuery{}); err != nil {
					return fetchError(kind, err)
				}
			}
			q := e.artifactQuery()
			if sel != nil && sel.Tag != "" {
				if expr, err := harbor.BuildQ(harbor.QEq("tags", sel.Tag)); err == nil {
					q.Q = expr
				}
			}
			err = e.harbor.ForEachRepositoryArtifacts(ctx, allRepos, q, func(repo harbor.Item, arts []harbor.Item) error {
				if repoSizes != nil {
					name, _ := repo["name"].(string)
					repoSizes[name] = len(arts) // fn runs on one goroutine
				}
				if err := submit(kind, arts); err != nil {
					return err
				}
				return ctx.Err()
			})
			if err != nil {
				return fetchError(kind, err)
			}
			cp.readEnd(kind)
			continue
		}
		if err != nil {
			return fetchError(kind, err)
		}
		if err := submit(kind, items); err != nil {
			return err
		}
		cp.readEnd(kind)
	}
	return nil
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
