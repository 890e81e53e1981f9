package catalog

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/harborport/terraform-provider-harborport/internal/harbor"
	"github.com/harborport/terraform-provider-harborport/internal/mapping"
	"github.com/harborport/terraform-provider-harborport/internal/port"
)

// Key names one Harbor object the listener was told about.
type Key struct {
	Kind       mapping.Kind
	Project    string // project name
	Repository string // full "project/repo", for repositories and artifacts
	Digest     string // for artifacts; a tag also works (Harbor resolves it)
	User       string `json:",omitempty"` // for users: the username
	UserID     int64  `json:",omitempty"` // for users, when known: Harbor's user_id
	// CheckListed treats an artifact Harbor does not list (an index child,
	// pushed by digest) as absent, as a full sync would
	// (internal/harbor/API-NOTES.md "Webhook payloads").
	CheckListed bool `json:",omitempty"`
	// FollowScan asks the listener to look at the artifact again until its
	// scan is final: a push it heard of only from the audit log, in a project
	// that scans on push (internal/harbor/API-NOTES.md "Scan on push").
	// Reconcile itself ignores it.
	FollowScan bool `json:",omitempty"`
}

func (k Key) String() string {
	switch k.Kind {
	case mapping.KindProject:
		return "project " + k.Project
	case mapping.KindRepository:
		return "repository " + k.Repository
	case mapping.KindUser:
		return "user " + k.User
	case KindRepositoryArtifacts:
		return "artifacts of repository " + k.Repository
	}
	return fmt.Sprintf("artifact %s@%s", k.Repository, k.Digest)
}

// Reconcile makes Port match Harbor for one object, through the same mapping,
// diff and apply as a full sync: the object is re-read from Harbor (events are
// hints, not truth), mapped, compared with what Port holds under the mapped
// identifiers, and written only if different. If Harbor no longer has it, or
// it fails its selector, the owned entities it maps to are deleted (Ocean's
// live-event rule, internal/port/API-NOTES.md "Ocean's live events"). Replays
// and reordering are harmless: the outcome depends only on Harbor's state when
// the reconcile runs.
//
// Another writer (a terraform apply, another replica) may have written a
// newer state of the object between this reconcile's Harbor read and its
// Port read; writing the older read over it would move Port back. So when
// there is something to write, Harbor is read once more, after Port: the
// write goes ahead only if that read maps to the same entities, else the
// reconcile starts over with it (internal/DESIGN.md "Conditional apply (two writers)"). The cost is one
// extra Harbor read per reconcile that writes.
//
// Besides Harbor's kinds: KindRepositoryArtifacts reconciles every artifact
// of a repository (reconcile_repo.go); an artifact key by tag whose tag no
// longer resolves does the same for its repository (the artifact that had the
// tag cannot be named any more); a repository Harbor no longer has takes the
// artifact entities under it along (found by identifier prefix,
// repoArtifactDeletes), artifacts first.
func (e *Engine) Reconcile(ctx context.Context, k Key) (*Changeset, Result, error) {
	if k.Kind == KindRepositoryArtifacts {
		return e.reconcileRepoArtifacts(ctx, k)
	}
	item, err := e.fetchOne(ctx, k)
	if err != nil {
		return nil, Result{}, err
	}
	if item == nil && k.Kind == mapping.KindArtifact && !strings.Contains(k.Digest, ":") {
		// A tag (tags never hold ':', digests always do) that no longer resolves.
		return e.reconcileRepoArtifacts(ctx, Key{Kind: KindRepositoryArtifacts, Project: k.Project, Repository: k.Repository})
	}
	for attempt := 1; ; attempt++ {
		cs, mapped, err := e.reconcilePlan(ctx, k, item)
		if err == nil && item == nil && k.Kind == mapping.KindRepository {
			var dels []Change
			if dels, _, err = e.repoArtifactDeletes(ctx, k); err == nil && len(dels) > 0 {
				cs.Changes = append(cs.Changes, dels...)
				e.order(cs)
			}
		}
		if err != nil || cs.Empty() {
			return cs, Result{}, err
		}
		again, err := e.fetchOne(ctx, k)
		if err != nil {
			return nil, Result{}, err
		}
		wanted, doomed, err := e.reconcileEntities(k, again)
		if err != nil {
			return nil, Result{}, err
		}
		remapped := mappedDigest(wanted, doomed)
		if remapped == mapped || attempt == reconcileAttempts {
			// Confirmed (or Harbor keeps changing: the last read is the newest,
			// and the next event for the key reconciles again).
			res, err := e.write(ctx, cs)
			if err != nil {
				return cs, res, fmt.Errorf("%s: %w", k, err)
			}
			return cs, res, nil
		}
		item = again
	}
}

// KindUnreadableError is a Reconcile of a key whose kind the credentials
// cannot read at all (GET /users answered 403): nothing was written, and
// retrying cannot help until the permission is granted. The listener logs it
// once instead of retrying (internal/DESIGN.md "Kinds the credentials cannot
// read").
type KindUnreadableError struct{ Skip SkippedKind }

func (e *KindUnreadableError) Error() string { return e.Skip.Message() }

// reconcileAttempts bounds the confirm-read loop of Reconcile.
const reconcileAttempts = 3

// mappedDigest sums up what a read of the object maps to, to compare two
// reads.
func mappedDigest(wanted map[string]*Wanted, doomed map[string]port.Entity) uint64 {
	parts := make([]any, 0, len(wanted)+len(doomed))
	for _, key := range sortedKeys(wanted) {
		parts = append(parts, entityValue(wanted[key].Entity))
	}
	for _, key := range sortedKeys(doomed) {
		parts = append(parts, "-"+key)
	}
	return valueHash(processSeed, parts)
}

// entityValue is an entity as a plain value, for hashing.
func entityValue(ent port.Entity) any {
	b, err := ent.MarshalJSON()
	if err != nil {
		return nil
	}
	return string(b) + "\x00" + ent.Blueprint + "\x00" + ent.Identifier
}

// reconcileEntities maps item: the entities it wants, and the owned ones
// it maps to but must no longer exist (Harbor lost it, or its selector now
// excludes it).
func (e *Engine) reconcileEntities(k Key, item map[string]any) (wanted map[string]*Wanted, doomed map[string]port.Entity, err error) {
	gone := item == nil
	if gone {
		item = stubItem(k)
	}
	wanted = map[string]*Wanted{}
	doomed = map[string]port.Entity{}
	for _, r := range e.mapping.KindResources(k.Kind) {
		f := r.Fields()
		if !gone {
			ents, _, selErr := r.Entities(item)
			if selErr != nil {
				return nil, nil, fmt.Errorf("%s: %w", k, selErr)
			}
			for _, ent := range ents {
				wanted[ent.Key()] = &Wanted{Entity: ent, Fields: &f}
			}
			if len(ents) > 0 {
				continue
			}
		}
		ents, _ := r.Map(item)
		for _, ent := range ents {
			doomed[ent.Key()] = ent
		}
	}
	return wanted, doomed, nil
}

// reconcilePlan diffs item's entities against Port; mapped digests them
// (mappedDigest) for the confirm read.
func (e *Engine) reconcilePlan(ctx context.Context, k Key, item map[string]any) (cs *Changeset, mapped uint64, err error) {
	wanted, doomed, err := e.reconcileEntities(k, item)
	if err != nil {
		return nil, 0, err
	}
	mapped = mappedDigest(wanted, doomed)
	cs = &Changeset{
		Version: changesetVersion, Merge: e.mapping.EnableMergeEntity,
		CreateMissingRelated: e.mapping.CreateMissingRelatedEntities, DeleteDependents: e.mapping.DeleteDependentEntities,
	}
	keys := sortedKeys(wanted)
	for _, key := range keys {
		w := wanted[key]
		cur, err := e.port.GetEntity(ctx, w.Entity.Blueprint, w.Entity.Identifier)
		ent := w.Entity
		switch {
		case port.IsNotFound(err):
			cs.Changes = append(cs.Changes, Change{Op: OpCreate, Blueprint: ent.Blueprint, Identifier: ent.Identifier, Entity: &ent})
		case err != nil:
			return nil, 0, fmt.Errorf("%s: reading Port entity %s: %w", k, key, err)
		default:
			if err := e.conflict(ent.Blueprint, cur); err != nil {
				return nil, 0, fmt.Errorf("%s: %w", k, err)
			}
			if fields := changedFields(w, *cur); len(fields) > 0 {
				cs.Changes = append(cs.Changes, Change{Op: OpUpdate, Blueprint: ent.Blueprint, Identifier: ent.Identifier, Fields: fields, Entity: &ent})
			} else {
				cs.Unchanged++
			}
		}
	}
	for _, key := range sortedKeys(doomed) {
		if _, keep := wanted[key]; keep {
			continue
		}
		ent := doomed[key]
		cur, err := e.port.GetEntity(ctx, ent.Blueprint, ent.Identifier)
		switch {
		case port.IsNotFound(err):
			continue // already gone
		case err != nil:
			return nil, 0, fmt.Errorf("%s: reading Port entity %s: %w", k, key, err)
		case !e.mayDelete(cur):
			continue // another scope's, or unmarked (scope.go)
		}
		cs.Changes = append(cs.Changes, Change{Op: OpDelete, Blueprint: ent.Blueprint, Identifier: ent.Identifier})
	}
	e.order(cs)
	return cs, mapped, nil
}

// fetchOne reads the object; nil without error when Harbor says 404.
func (e *Engine) fetchOne(ctx context.Context, k Key) (map[string]any, error) {
	var it map[string]any
	var err error
	switch k.Kind {
	case mapping.KindProject:
		it, err = e.harbor.GetProjectByName(ctx, k.Project)
	case mapping.KindRepository:
		it, err = e.harbor.GetRepository(ctx, k.Project, k.Repository)
	case mapping.KindUser:
		// Users are listed under a system permission: a 403 means the account
		// cannot read any user, not that this one is gone.
		if it, err = e.fetchUser(ctx, k); err != nil {
			if sk, ok := e.unreadable(k.Kind, err); ok {
				return nil, &KindUnreadableError{Skip: sk}
			}
		}
	case mapping.KindArtifact:
		q := harbor.ArtifactQuery{}
		for _, r := range e.mapping.KindResources(mapping.KindArtifact) {
			q.WithTag = q.WithTag || r.Selector.FetchTags()
			q.WithScanOverview = q.WithScanOverview || r.Selector.FetchScanOverview()
		}
		it, err = e.harbor.GetArtifact(ctx, k.Project, k.Repository, k.Digest, q)
		if err == nil && it != nil && k.CheckListed {
			d, _ := it["digest"].(string)
			expr, qerr := harbor.BuildQ(harbor.QEq("digest", d))
			if qerr != nil {
				return nil, fmt.Errorf("%s: %w", k, qerr)
			}
			listed, lerr := e.harbor.ListArtifacts(ctx, k.Project, k.Repository, harbor.ArtifactQuery{Q: expr})
			if lerr != nil {
				return nil, fmt.Errorf("%s: reading Harbor: %w", k, lerr)
			}
			if len(listed) == 0 {
				return nil, nil
			}
		}
	default:
		return nil, fmt.Errorf("cannot reconcile kind %q", k.Kind)
	}
	if harbor.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%s: reading Harbor: %w", k, err)
	}
	return it, nil
}

// stubItem is what is still known about an object Harbor no longer has: the
// fields identifiers are usually made of (the default mapping needs no more).
func stubItem(k Key) map[string]any {
	switch k.Kind {
	case mapping.KindProject:
		return map[string]any{"name": k.Project}
	case mapping.KindRepository:
		return map[string]any{"name": k.Repository, "projectName": k.Project}
	case mapping.KindUser:
		it := map[string]any{"username": k.User}
		if k.UserID > 0 {
			it["user_id"] = float64(k.UserID)
		}
		return it
	}
	return map[string]any{"digest": k.Digest, "repositoryName": k.Repository, "projectName": k.Project,
		"repository_name": strings.TrimPrefix(k.Repository, k.Project+"/")}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
