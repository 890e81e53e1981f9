package auditfeed

import (
	"strings"

	"github.com/harborport/terraform-provider-harborport/internal/catalog"
	"github.com/harborport/terraform-provider-harborport/internal/harbor"
	"github.com/harborport/terraform-provider-harborport/internal/listener"
	"github.com/harborport/terraform-provider-harborport/internal/mapping"
)

// Record types (operation_resource_type) the feed turns into keys; every
// other type is counted as "other" and ignored (internal/harbor/API-NOTES.md
// "Audit log").
var recordTypes = map[string]bool{
	"create_artifact": true, "delete_artifact": true, "pull_artifact": true,
	"create_tag": true, "delete_tag": true, "delete_repository": true,
	"create_project": true, "delete_project": true,
	"create_user": true, "update_user": true, "delete_user": true,
}

// recordType is the record's type as a bounded metric label.
func recordType(r harbor.AuditLogRecord) string {
	t := r.Operation + "_" + r.ResourceType
	if recordTypes[t] {
		return t
	}
	return "other"
}

// Mapping is what the feed needs to know about the mapping.
type Mapping struct {
	// ArtifactsReadPulls: a pull changes artifact entities (pull times are
	// mapped), so a pull reconciles the artifact, not only the repository
	// (catalog.Engine.ArtifactsReadPulls).
	ArtifactsReadPulls bool
	// FollowScans: artifacts map scan overviews, so a push is followed until
	// its scan on push is final (catalog.Engine.ArtifactsFollowScans).
	FollowScans bool
}

// artifactRef splits an artifact or tag resource, "project/repo:tag" or
// "project/repo@digest" (internal/harbor/API-NOTES.md "Audit log"), into
// project, full repository name and reference. Repository names hold neither
// ':' nor '@', so the last of them separates the reference.
func artifactRef(resource string) (project, repo, ref string, byDigest, ok bool) {
	if i := strings.Index(resource, "@"); i > 0 {
		repo, ref, byDigest = resource[:i], resource[i+1:], true
		ok = listener.IsDigest(ref)
	} else if i := strings.LastIndex(resource, ":"); i > 0 {
		repo, ref = resource[:i], resource[i+1:]
		ok = listener.IsTag(ref)
	}
	if !ok || !listener.ValidRepository(repo) {
		return "", "", "", false, false
	}
	project, _, _ = strings.Cut(repo, "/")
	return project, repo, ref, byDigest, true
}

// describedDigest reads the digest Harbor writes into the description of a
// push or pull record, "push artifact: project/repo@sha256:…", when it names
// the same repository.
func describedDigest(desc, repo string) string {
	_, rest, found := strings.Cut(desc, ": ")
	if !found {
		return ""
	}
	r, d, found := strings.Cut(rest, "@")
	if !found || r != repo || !listener.IsDigest(d) {
		return ""
	}
	return d
}

// Keys turns one audit record into the keys the listener's workers reconcile
// (internal/DESIGN.md "Event sources"); why names the reason when it yields
// none. Events are hints: every key is re-read from Harbor, so a record only
// has to name what may have changed.
func (m Mapping) Keys(r harbor.AuditLogRecord) (keys []catalog.Key, why string) {
	if !r.Successful {
		return nil, "failed request (operation_result false): it changed nothing"
	}
	t := r.Operation + "_" + r.ResourceType
	if !recordTypes[t] {
		return nil, "record type " + t + " changes no catalog entity"
	}
	switch r.ResourceType {
	case "project":
		if !listener.ValidProject(r.Resource) {
			return nil, "resource " + quote(r.Resource) + " is not a project name"
		}
		return []catalog.Key{{Kind: mapping.KindProject, Project: r.Resource}}, ""
	case "repository":
		if !listener.ValidRepository(r.Resource) {
			return nil, "resource " + quote(r.Resource) + " is not a repository name"
		}
		project, _, _ := strings.Cut(r.Resource, "/")
		return []catalog.Key{{Kind: mapping.KindRepository, Project: project, Repository: r.Resource},
			{Kind: mapping.KindProject, Project: project}}, ""
	case "user":
		if r.Resource == "" || strings.ContainsRune(r.Resource, 0) {
			return nil, "resource " + quote(r.Resource) + " is not a username"
		}
		return []catalog.Key{{Kind: mapping.KindUser, User: r.Resource}}, ""
	}
	project, repo, ref, byDigest, ok := artifactRef(r.Resource)
	if !ok {
		return nil, "resource " + quote(r.Resource) + " is not project/repo:tag or project/repo@digest"
	}
	repoKey := catalog.Key{Kind: mapping.KindRepository, Project: project, Repository: repo}
	projectKey := catalog.Key{Kind: mapping.KindProject, Project: project}
	artifact := func(ref string) catalog.Key {
		return catalog.Key{Kind: mapping.KindArtifact, Project: project, Repository: repo, Digest: ref}
	}
	switch t {
	case "create_artifact":
		a := artifact(ref)
		if byDigest {
			// A push by digest may be an index child, which a full sync does not
			// list (internal/harbor/API-NOTES.md "Webhook payloads").
			a.CheckListed = true
		} else if d := describedDigest(r.Description, repo); d != "" {
			a.Digest = d // the pushed manifest, wherever the tag has moved since
		}
		a.FollowScan = m.FollowScans
		return []catalog.Key{a, repoKey, projectKey}, ""
	case "delete_artifact":
		return []catalog.Key{artifact(ref), repoKey, projectKey}, ""
	case "pull_artifact":
		if !m.ArtifactsReadPulls {
			return []catalog.Key{repoKey}, ""
		}
		a := artifact(ref)
		if d := describedDigest(r.Description, repo); d != "" {
			a.Digest = d
		}
		return []catalog.Key{a, repoKey}, ""
	case "create_tag":
		// By tag: the reconcile resolves it, or re-reads the repository's
		// artifacts when it no longer resolves (catalog.Engine.Reconcile).
		return []catalog.Key{artifact(ref), repoKey}, ""
	case "delete_tag":
		// The tag no longer resolves: re-read the repository's artifacts.
		return []catalog.Key{{Kind: catalog.KindRepositoryArtifacts, Project: project, Repository: repo}, repoKey}, ""
	}
	return nil, "record type " + t + " changes no catalog entity"
}

func quote(s string) string {
	if len(s) > 80 {
		s = s[:77] + "..."
	}
	return `"` + s + `"`
}
