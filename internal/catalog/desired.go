package catalog

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
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
//
// A kind the credentials may not read (Harbor answers 403 to one of its
// listings: GET /users without user:list, say) does not fail the read: skip
// gets it, with the blueprints its resources write, and the next kind is read
// (internal/DESIGN.md "Kinds the credentials cannot read"). Any other failure
// ends the read, and nothing is written.
func (e *Engine) readHarbor(ctx context.Context, cp *computeProgress, repoSizes map[string]int, submit func(mapping.Kind, []harbor.Item) error, skip func(SkippedKind)) error {
	var allRepos []harbor.Item // shared by the repository and artifact kinds when unfiltered
	skipped := func(kind mapping.Kind, err error) bool {
		sk, ok := e.unreadable(kind, err)
		if ok {
			skip(sk)
			cp.readEnd(kind)
		}
		return ok
	}
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
					if skipped(kind, err) {
						continue
					}
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
				// Artifacts of other repositories may have been submitted already:
				// the diff drops every change of a skipped kind (differ.report).
				if skipped(kind, err) {
					continue
				}
				return fetchError(kind, err)
			}
			cp.readEnd(kind)
			continue
		}
		if err != nil {
			if skipped(kind, err) {
				continue
			}
			return fetchError(kind, err)
		}
		if err := submit(kind, items); err != nil {
			return err
		}
		cp.readEnd(kind)
	}
	return nil
}

// SkippedKind is a Harbor kind a sync could not read with its credentials:
// Harbor refused one of its listings with 403. Its blueprints are neither
// written nor pruned in that run; every other kind syncs as usual
// (internal/DESIGN.md "Kinds the credentials cannot read").
type SkippedKind struct {
	Kind       mapping.Kind `json:"k"`
	Blueprints []string     `json:"b"` // the blueprints the kind's resources write to, sorted
	// Cause is Harbor's answer, without the request id (so the same refusal
	// reads the same on every refresh): "GET /api/v2.0/users answered 403
	// FORBIDDEN (robot$sync)".
	Cause string `json:"c"`
}

// kindPermissions names, per kind, the permission Harbor checks on its
// listing and what grants it (internal/harbor/API-NOTES.md "Users",
// "Projects", "Repositories", "Artifacts").
var kindPermissions = map[mapping.Kind]struct{ permission, grant string }{
	mapping.KindUser: {"the system permission user:list",
		"a system robot account can hold user:list from Harbor 2.12 on; Harbor 2.11 and older refuse it to robots, so use a system administrator there"},
	mapping.KindProject: {"the system permission project:list",
		"a system robot account holds it as {resource: project, action: list}"},
	mapping.KindRepository: {"repository:list in every project",
		"a robot account holds it as {resource: repository, action: list} for all projects (namespace *)"},
	mapping.KindArtifact: {"artifact:list in every project",
		"a robot account holds it as {resource: artifact, action: list} for all projects (namespace *)"},
}

// Permission is the permission the kind's listing needs.
func (s SkippedKind) Permission() string { return kindPermissions[s.Kind].permission }

// Message is the warning a plan, an apply and the listener give for the
// skipped kind: the kind, Harbor's answer, the permission, who can grant it,
// and what happens meanwhile.
func (s SkippedKind) Message() string {
	p := kindPermissions[s.Kind]
	bp := "blueprint " + strings.Join(s.Blueprints, ", ")
	if len(s.Blueprints) > 1 {
		bp = "blueprints " + strings.Join(s.Blueprints, ", ")
	}
	return fmt.Sprintf("Harbor %s are not synced: %s, so the Harbor account lacks %s. Entities of %s are neither written nor deleted "+
		"until it can read them; every other kind syncs as usual. Fix: grant the permission (%s), or remove the %s kind from the mapping.",
		plural(s.Kind), s.Cause, p.permission, bp, p.grant, s.Kind)
}

// unreadable tells whether err is Harbor refusing the credentials a kind's
// listing (403), and if so describes the skip.
func (e *Engine) unreadable(kind mapping.Kind, err error) (SkippedKind, bool) {
	var ae *harbor.APIError
	if !errors.As(err, &ae) || ae.Status != http.StatusForbidden || strings.Contains(ae.Message, "CSRF") {
		return SkippedKind{}, false
	}
	cause := fmt.Sprintf("Harbor answered %s %s with %d", ae.Method, ae.Path, ae.Status)
	if ae.Code != "" {
		cause += " " + ae.Code
	}
	if ae.Message != "" {
		cause += " (" + ae.Message + ")"
	}
	return SkippedKind{Kind: kind, Blueprints: e.kindBlueprints(kind), Cause: cause}, true
}

// kindBlueprints lists, sorted, the blueprints the kind's resources write to.
func (e *Engine) kindBlueprints(kind mapping.Kind) []string {
	var out []string
	for _, r := range e.mapping.KindResources(kind) {
		if bp, _ := r.Blueprint(); !slices.Contains(out, bp) {
			out = append(out, bp)
		}
	}
	slices.Sort(out)
	return out
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

// UnreadableKinds checks, with one request, whether the credentials may list
// the kinds that need a system permission (users, when the mapping reads
// them): what a sync would skip. The listener calls it at start, so /readyz
// says it before the first resync.
func (e *Engine) UnreadableKinds(ctx context.Context) ([]SkippedKind, error) {
	if len(e.mapping.KindResources(mapping.KindUser)) == 0 {
		return nil, nil
	}
	err := e.harbor.ProbeUsers(ctx)
	if err == nil {
		return nil, nil
	}
	if sk, ok := e.unreadable(mapping.KindUser, err); ok {
		return []SkippedKind{sk}, nil
	}
	return nil, err
}
