package catalog

import (
	"fmt"

	"github.com/harborport/terraform-provider-harborport/internal/mapping"
)

// What the listener needs to know about the mapping before it turns audit
// records into keys (internal/DESIGN.md "Event sources").

// probeArtifact is an artifact as Harbor lists it, with pull times at and the
// fields the built-in mapping reads.
func probeArtifact(pulled string) map[string]any {
	return map[string]any{
		"id": float64(1), "digest": "sha256:" + digestMarker, "size": float64(1024), "type": "IMAGE",
		"media_type": "application/vnd.docker.container.image.v1+json", "project_id": float64(1), "repository_id": float64(1),
		"repository_name": "probe/app", "repositoryName": "probe/app", "projectName": "probe",
		"push_time": "2026-01-02T03:04:05.000Z", "pull_time": pulled,
		"tags": []any{map[string]any{"id": float64(1), "name": "v1", "push_time": "2026-01-02T03:04:05.000Z", "pull_time": pulled,
			"immutable": false, "repository_id": float64(1), "artifact_id": float64(1)}},
	}
}

// ArtifactsReadPulls reports whether an artifact's entities change when it is
// pulled (its pull_time and its tags' pull times): then a pull must reconcile
// the artifact, otherwise only the repository's pull count moves. It maps a
// probe artifact with two pull times and compares; a mapping that fails on the
// probe counts as reading them (the safe answer).
func (e *Engine) ArtifactsReadPulls() bool {
	for _, r := range e.mapping.KindResources(mapping.KindArtifact) {
		a, _, errA := r.Entities(probeArtifact("0001-01-01T00:00:00.000Z"))
		b, _, errB := r.Entities(probeArtifact("2026-02-03T04:05:06.789Z"))
		if errA != nil || errB != nil || len(a) != len(b) {
			return true
		}
		for i := range a {
			if entityValue(a[i]) != entityValue(b[i]) {
				return true
			}
		}
	}
	return false
}

// ArtifactsFollowScans reports whether an artifact resource reads scan
// overviews (its selector asks Harbor for them): only then is a scan worth
// following.
func (e *Engine) ArtifactsFollowScans() bool {
	for _, r := range e.mapping.KindResources(mapping.KindArtifact) {
		if r.Selector.FetchScanOverview() {
			return true
		}
	}
	return false
}

// RepositoryDeleteGaps names the artifact resources whose entities cannot be
// found by repository when Harbor deletes one (their identifiers do not start
// with a prefix naming the repository, see artifactPrefix): their entities
// stay until the next full sync.
func (e *Engine) RepositoryDeleteGaps() []string {
	var out []string
	k := Key{Kind: mapping.KindRepository, Project: "probe", Repository: "probe/app"}
	owned := map[string]bool{}
	for _, bp := range e.owned {
		owned[bp] = true
	}
	for _, r := range e.mapping.KindResources(mapping.KindArtifact) {
		if bp, _, ok := artifactPrefix(r, k); !ok || !owned[bp] {
			out = append(out, fmt.Sprintf("%s:%d: resources[%d]", e.mapping.Source, r.Line, r.Index))
		}
	}
	return out
}
