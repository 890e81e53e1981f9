package harborsim

import "slices"

// DeleteRepository deletes a repository with all its artifacts, as DELETE
// /projects/{p}/repositories/{r} does (src/controller/repository/controller.go Delete): every
// root artifact is deleted with its own DELETE_ARTIFACT event (webhook and audit record), then the
// repository row goes with one "delete repository" record. All records belong to one request
// (same op_time millisecond, ids in no op_time order; see auditlog.go).
func (s *Server) DeleteRepository(projectName, repo string) error {
	s.mu.Lock()
	r, err := s.findRepoLocked(projectName, repo)
	if err != nil {
		s.mu.Unlock()
		return err
	}
	evs := s.deleteRepositoryLocked(r, s.opts.AdminUser)
	s.mu.Unlock()
	s.emit(evs)
	return nil
}

// deleteRepositoryLocked empties and removes r and records the audit entries; the caller emits
// the returned events after unlocking.
func (s *Server) deleteRepositoryLocked(r *repository, operator string) []Event {
	var evs []Event
	// The controller lists the repository's artifacts with the default base filter (index
	// children that have no tag are not listed: their index deletes them) and retries the ones
	// still referenced by an index in the next round.
	candidates := make([]*artifact, 0, len(r.arts))
	for i := len(r.arts) - 1; i >= 0; i-- { // default order: newest first
		if a := r.arts[i]; a.parents == 0 || len(a.tags) > 0 {
			candidates = append(candidates, a)
		}
	}
	for len(candidates) > 0 {
		var backlog []*artifact
		for _, a := range candidates {
			if r.byDigest[a.digest] != a {
				continue // already gone with its index
			}
			if a.parents > 0 {
				backlog = append(backlog, a)
				continue
			}
			evs = append(evs, s.deleteRootArtifactLocked(r, a, operator))
		}
		candidates = backlog
	}
	now := s.now()
	p := r.project
	delete(p.repoByName, r.name)
	p.repos = slices.DeleteFunc(p.repos, func(x *repository) bool { return x == r })
	s.repos = slices.DeleteFunc(s.repos, func(x *repository) bool { return x == r })
	s.auditLocked(now, append(artifactAuditRecords(evs), repositoryAuditRecord(r, operator))...)
	return evs
}

// deleteRootArtifactLocked deletes a root artifact (nobody references it) and the children only
// it referenced that carry no tag, and returns its DELETE_ARTIFACT event; the same steps as
// DeleteArtifact (src/controller/artifact/controller.go deleteDeeply fires for the root only).
// It records nothing: the caller records the request's events together.
func (s *Server) deleteRootArtifactLocked(r *repository, a *artifact, operator string) Event {
	var tagNames []string
	for _, t := range a.sortedTags() {
		tagNames = append(tagNames, t.name)
	}
	ev := s.artifactEvent("DELETE_ARTIFACT", operator, a, tagNames)
	s.removeArtifactLocked(r, a)
	for _, ref := range a.references {
		c := ref.child
		c.parents--
		if c.parents == 0 {
			r.children--
			if len(c.tags) == 0 {
				s.removeArtifactLocked(r, c)
			}
		}
	}
	r.updated = s.now()
	return ev
}

// deleteArtifactLocked is DELETE …/artifacts/{reference} for an artifact already resolved:
// referenced artifacts are refused like Harbor's 412.
func (s *Server) deleteArtifactLocked(r *repository, a *artifact, operator string) (Event, *apiError) {
	if a.parents > 0 {
		return Event{}, &apiError{412, "VIOLATE_FOREIGN_KEY_CONSTRAINT", "the deleting artifact is referenced by others"}
	}
	ev := s.deleteRootArtifactLocked(r, a, operator)
	s.auditArtifactEventsLocked([]Event{ev})
	return ev, nil
}

// addTagLocked attaches a new tag through the API (POST …/tags): a name already used in the
// repository is a conflict; CREATE_TAG is recorded in the audit log and sent to no webhook.
func (s *Server) addTagLocked(r *repository, a *artifact, name, operator string) *apiError {
	if r.byTag[name] != nil {
		// src/pkg/tag/dao/dao.go Create: the unique (repository_id, name) constraint.
		return errConflict("tag %s already exists under the repository %d", name, r.id)
	}
	s.attachTagLocked(r, a, name)
	r.updated = s.now() // tag controller touchRepo
	s.auditLocked(r.updated, tagAuditRecord("create", r, name, operator))
	return nil
}

// deleteTagLocked removes tag name from a (DELETE …/artifacts/{reference}/tags/{name}).
func (s *Server) deleteTagLocked(r *repository, a *artifact, name, operator string) *apiError {
	t := r.byTag[name]
	if t == nil || t.art != a {
		return errNotFound("tag %s attached to artifact %d not found", name, a.id)
	}
	a.tags = removeTag(a.tags, t)
	delete(r.byTag, name)
	s.auditLocked(s.now(), tagAuditRecord("delete", r, name, operator))
	return nil
}
