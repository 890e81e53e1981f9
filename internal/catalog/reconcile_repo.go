package catalog

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/harborport/terraform-provider-harborport/internal/harbor"
	"github.com/harborport/terraform-provider-harborport/internal/mapping"
	"github.com/harborport/terraform-provider-harborport/internal/port"
)

// KindRepositoryArtifacts is a key kind of the listener, not a Harbor kind of
// the mapping: every artifact of one repository (Key.Project, Key.Repository),
// reconciled as a batch. A tag deleted through the API reaches the listener
// only as an audit record naming "project/repo:tag" (internal/harbor/API-NOTES.md
// "Audit log"), and a deleted tag no longer resolves, so the artifact that
// carried it can only be found by re-reading the repository's artifacts.
const KindRepositoryArtifacts mapping.Kind = "repository-artifacts"

// portSearchMax is how many identifiers one Port search carries: the
// search route's page limit (internal/port/API-NOTES.md "Search").
const portSearchMax = 1000

// reconcileRepoArtifacts makes Port match Harbor for every artifact Harbor
// lists in one repository. It lists the repository page by page (the default
// listing, as a full sync: index children stay hidden), maps every artifact,
// reads the mapped entities from Port with one search per 1000 identifiers
// (only the compared fields), and writes only what differs: creates and
// updates, and deletes of the entities of listed artifacts that their selector
// now excludes (the live-event rule of Reconcile, item by item: a mapping that
// selects by tag loses an artifact when the tag goes). It never deletes for an
// artifact Harbor no longer lists: a tag change deletes no artifact, and
// deleted artifacts arrive as their own events. Like Reconcile it re-reads
// Harbor after Port before writing, and writes only entities that read
// confirms (internal/DESIGN.md "Conditional apply (two writers)"). A selector
// error on one artifact does not hold back the others: it is returned after
// the writes.
func (e *Engine) reconcileRepoArtifacts(ctx context.Context, k Key) (*Changeset, Result, error) {
	st, err := e.repoRead(ctx, k)
	if err != nil {
		return nil, Result{}, err
	}
	for attempt := 1; ; attempt++ {
		cs, err := e.repoPlan(ctx, k, st)
		if err != nil {
			return nil, Result{}, err
		}
		if cs.Empty() {
			return cs, Result{}, st.itemErr
		}
		again, err := e.repoRead(ctx, k)
		if err != nil {
			return nil, Result{}, err
		}
		if !sameWrites(cs, st, again) {
			if attempt < reconcileAttempts {
				st = again
				continue
			}
			// Harbor keeps changing: write what the newest read says (the
			// next event for the repository reconciles again).
			if cs, err = e.repoPlan(ctx, k, again); err != nil {
				return nil, Result{}, err
			}
			st = again
		}
		res, err := e.write(ctx, cs)
		if err != nil {
			return cs, res, fmt.Errorf("%s: %w", k, err)
		}
		return cs, res, st.itemErr
	}
}

// repoState is one read of a repository's artifacts, mapped: the entities
// they want and the owned entities of listed artifacts their selector now
// excludes, both keyed by Entity.Key(); itemErr is the first selector error.
type repoState struct {
	wanted  map[string]*Wanted
	doomed  map[string]port.Entity
	itemErr error
}

// repoRead lists the repository's artifacts and maps them. A repository (or
// project) Harbor no longer has lists nothing.
func (e *Engine) repoRead(ctx context.Context, k Key) (*repoState, error) {
	items, err := e.harbor.ListArtifacts(ctx, k.Project, k.Repository, e.repoArtifactQuery())
	if harbor.IsNotFound(err) {
		items, err = nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%s: reading Harbor: %w", k, err)
	}
	st := &repoState{wanted: map[string]*Wanted{}, doomed: map[string]port.Entity{}}
	for _, it := range items {
		for _, r := range e.mapping.KindResources(mapping.KindArtifact) {
			f := r.Fields()
			ents, _, selErr := r.Entities(it)
			if selErr != nil {
				if st.itemErr == nil {
					st.itemErr = fmt.Errorf("%s: %w", k, selErr)
				}
				continue
			}
			for _, ent := range ents {
				st.wanted[ent.Key()] = &Wanted{Entity: ent, Fields: &f}
			}
			if len(ents) == 0 {
				gone, _ := r.Map(it)
				for _, ent := range gone {
					st.doomed[ent.Key()] = ent
				}
			}
		}
	}
	for key := range st.wanted {
		delete(st.doomed, key)
	}
	return st, nil
}

// repoArtifactQuery asks Harbor for what the artifact resources map: tags and
// scan overviews when a selector needs them.
func (e *Engine) repoArtifactQuery() harbor.ArtifactQuery {
	q := harbor.ArtifactQuery{}
	for _, r := range e.mapping.KindResources(mapping.KindArtifact) {
		q.WithTag = q.WithTag || r.Selector.FetchTags()
		q.WithScanOverview = q.WithScanOverview || r.Selector.FetchScanOverview()
	}
	return q
}

// repoPlan diffs a read against Port: creates and updates with the bodies in
// hand (Change.Entity), and deletes of doomed entities Port holds.
func (e *Engine) repoPlan(ctx context.Context, k Key, st *repoState) (*Changeset, error) {
	cs := &Changeset{
		Version: changesetVersion, Merge: e.mapping.EnableMergeEntity,
		CreateMissingRelated: e.mapping.CreateMissingRelatedEntities, DeleteDependents: e.mapping.DeleteDependentEntities,
	}
	byBP := map[string][]string{}
	include := map[string]map[string]bool{}
	note := func(bp, id string, f *mapping.Fields) {
		byBP[bp] = append(byBP[bp], id)
		if include[bp] == nil {
			include[bp] = map[string]bool{"$identifier": true}
			if e.scope != "" {
				include[bp][scopePath] = true // mayDelete and conflict read it
			}
		}
		if f != nil {
			for _, ref := range fieldRefs(f) {
				include[bp][ref.path] = true
			}
		}
	}
	for _, key := range sortedKeys(st.wanted) {
		w := st.wanted[key]
		note(w.Entity.Blueprint, w.Entity.Identifier, w.Fields)
	}
	for _, key := range sortedKeys(st.doomed) {
		note(st.doomed[key].Blueprint, st.doomed[key].Identifier, nil)
	}
	for _, bp := range sortedKeys(byBP) {
		cur, err := e.searchByID(ctx, bp, byBP[bp], sortedKeys(include[bp]))
		if err != nil {
			return nil, fmt.Errorf("%s: reading Port entities of %s: %w", k, bp, err)
		}
		for _, id := range byBP[bp] {
			key := port.Entity{Blueprint: bp, Identifier: id}.Key()
			have, inPort := cur[id]
			w := st.wanted[key]
			switch {
			case w == nil && inPort && e.mayDelete(&have):
				cs.Changes = append(cs.Changes, Change{Op: OpDelete, Blueprint: bp, Identifier: id})
			case w == nil:
			case !inPort:
				ent := w.Entity
				cs.Changes = append(cs.Changes, Change{Op: OpCreate, Blueprint: bp, Identifier: id, Entity: &ent})
			default:
				if err := e.conflict(bp, &have); err != nil {
					return nil, fmt.Errorf("%s: %w", k, err)
				}
				if fields := changedFields(w, have); len(fields) > 0 {
					ent := w.Entity
					cs.Changes = append(cs.Changes, Change{Op: OpUpdate, Blueprint: bp, Identifier: id, Fields: fields, Entity: &ent})
				} else {
					cs.Unchanged++
				}
			}
		}
	}
	e.order(cs)
	return cs, nil
}

// searchByID reads the given entities of bp from Port, one search per 1000
// identifiers (halved on a 413 from a proxy with a lower body limit).
func (e *Engine) searchByID(ctx context.Context, bp string, ids, include []string) (map[string]port.Entity, error) {
	out := make(map[string]port.Entity, len(ids))
	var read func(part []string) error
	read = func(part []string) error {
		vals := make([]any, len(part))
		for i, id := range part {
			vals[i] = id
		}
		q := port.SearchQuery{Rules: []map[string]any{{"property": "$identifier", "operator": "in", "value": vals}}, Include: include}
		err := e.port.SearchEntities(ctx, bp, q, func(page []port.Entity) error {
			for _, ent := range page {
				out[ent.Identifier] = ent
			}
			return nil
		})
		var apiErr *port.APIError
		if errors.As(err, &apiErr) && apiErr.Status == http.StatusRequestEntityTooLarge && len(part) > 1 {
			if err := read(part[:len(part)/2]); err != nil {
				return err
			}
			return read(part[len(part)/2:])
		}
		return err
	}
	for len(ids) > 0 {
		part := ids[:min(len(ids), portSearchMax)]
		ids = ids[len(part):]
		if err := read(part); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// sameWrites reports whether every change of cs, planned from the first
// read, stands in the second: an entity to write maps the same, an entity to
// delete is still excluded.
func sameWrites(cs *Changeset, first, second *repoState) bool {
	for _, ch := range cs.Changes {
		key := port.Entity{Blueprint: ch.Blueprint, Identifier: ch.Identifier}.Key()
		if ch.Op == OpDelete {
			if _, still := second.doomed[key]; !still {
				return false
			}
			continue
		}
		a, b := first.wanted[key], second.wanted[key]
		if a == nil || b == nil || entityValue(a.Entity) != entityValue(b.Entity) {
			return false
		}
	}
	return true
}

// digestMarker stands for a digest when the mapping is asked what identifier
// prefix an artifact of a repository has (artifactPrefix).
const digestMarker = "0fde5f2bd2a9c41d8e5b7a3c6f1e9d0b4a2c8e6f1b3d5a7c9e0f2b4d6a8c0e1f"

// artifactPrefix is the identifier prefix every artifact entity of the
// repository has under resource r, found by mapping a stub artifact whose
// digest is a marker: the identifier up to the marker. ok is false when the
// mapping does not make such a prefix that names the repository and ends it
// with a character no repository name can contain (the built-in mapping's
// "project/repo@sha256:" does); a prefix such as "sha256:" would match the
// artifacts of every repository.
func artifactPrefix(r *mapping.Resource, k Key) (bp, prefix string, ok bool) {
	stub := map[string]any{"digest": "sha256:" + digestMarker, "repositoryName": k.Repository, "projectName": k.Project,
		"repository_name": strings.TrimPrefix(k.Repository, k.Project+"/"), "tags": []any{}}
	ents, _ := r.Map(stub)
	if len(ents) != 1 {
		return "", "", false
	}
	id := ents[0].Identifier
	i := strings.Index(id, digestMarker)
	if i < 0 {
		return "", "", false
	}
	prefix = id[:i]
	j := strings.Index(prefix, k.Repository)
	end := j + len(k.Repository)
	if j < 0 || end >= len(prefix) || strings.ContainsRune("abcdefghijklmnopqrstuvwxyz0123456789._-/", rune(prefix[end])) {
		return "", "", false
	}
	return ents[0].Blueprint, prefix, true
}

// repoArtifactDeletes lists the artifact entities Port holds under a
// repository Harbor no longer has, as deletes: found with a search on the
// identifier prefix the mapping gives the repository's artifacts
// (artifactPrefix; internal/port/API-NOTES.md "Search": $identifier
// beginsWith). Artifact resources whose identifiers have no such prefix are
// left to the next full sync, and named in skipped.
func (e *Engine) repoArtifactDeletes(ctx context.Context, k Key) (dels []Change, skipped []string, err error) {
	seen := map[string]bool{}
	owned := map[string]bool{}
	for _, bp := range e.owned {
		owned[bp] = true
	}
	for _, r := range e.mapping.KindResources(mapping.KindArtifact) {
		bp, prefix, ok := artifactPrefix(r, k)
		if !ok || !owned[bp] {
			skipped = append(skipped, fmt.Sprintf("resources[%d]", r.Index))
			continue
		}
		q := port.SearchQuery{Rules: append([]map[string]any{{"property": "$identifier", "operator": "beginsWith", "value": prefix}}, e.ownRules()...),
			Include: []string{"$identifier"}}
		err := e.port.SearchEntities(ctx, bp, q, func(page []port.Entity) error {
			for _, ent := range page {
				key := bp + "\x00" + ent.Identifier
				if !seen[key] && strings.HasPrefix(ent.Identifier, prefix) {
					seen[key] = true
					dels = append(dels, Change{Op: OpDelete, Blueprint: bp, Identifier: ent.Identifier})
				}
			}
			return nil
		})
		if err != nil {
			return nil, nil, fmt.Errorf("%s: searching Port for its artifacts: %w", k, err)
		}
	}
	return dels, skipped, nil
}

// fetchUser reads a user by name, exactly: q's
// username= is exact, but Harbor types an all-digit value as a number
// (src/lib/q/builder.go parseValue), so such names are looked up fuzzily and
// filtered here. Soft-deleted users are renamed by Harbor and never match
// (internal/harbor/API-NOTES.md "Users").
func (e *Engine) fetchUser(ctx context.Context, k Key) (map[string]any, error) {
	term := harbor.QEq("username", k.User)
	if k.User == "" || strings.Trim(k.User, "0123456789") == "" || strings.ContainsAny(k.User, ",~[]{}()\"' ") {
		term = harbor.QLike("username", strings.Trim(k.User, ",~[]{}()\"' "))
		if term.Values[0] == "" {
			return nil, fmt.Errorf("%s: cannot look up this username in Harbor's q syntax", k)
		}
	}
	q, err := harbor.BuildQ(term)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", k, err)
	}
	items, err := e.harbor.ListUsers(ctx, q)
	if err != nil {
		return nil, err
	}
	for _, it := range items {
		if name, _ := it["username"].(string); name == k.User {
			return it, nil
		}
	}
	return nil, nil
}
