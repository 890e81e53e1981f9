package listener

import (
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"strings"

	"github.com/harborport/terraform-provider-harborport/internal/catalog"
	"github.com/harborport/terraform-provider-harborport/internal/mapping"
)

// Event is what one delivery asks for.
type Event struct {
	Type    string // Harbor's type, e.g. PUSH_ARTIFACT (CloudEvents types are mapped back)
	Format  string // "default" or "cloudevents"
	ID      string // CloudEvents id; "" for Default
	Targets []catalog.Key
	Ignored string // why nothing is reconciled, when Targets is empty
}

// cloudTypes maps CloudEvents types back to Harbor's event types
// (harbor-api.md §6.4, src/pkg/notifier/formats/cloudevents.go).
var cloudTypes = map[string]string{
	"harbor.artifact.pushed": "PUSH_ARTIFACT", "harbor.artifact.pulled": "PULL_ARTIFACT",
	"harbor.artifact.deleted": "DELETE_ARTIFACT", "harbor.quota.exceeded": "QUOTA_EXCEED",
	"harbor.quota.warned": "QUOTA_WARNING", "harbor.replication.status.changed": "REPLICATION",
	"harbor.scan.failed": "SCANNING_FAILED", "harbor.scan.completed": "SCANNING_COMPLETED",
	"harbor.scan.stopped": "SCANNING_STOPPED", "harbor.tag_retention.finished": "TAG_RETENTION",
}

// artifactEvents change an artifact (and so its repository's counts and its
// project's repo count); the rest carry nothing the catalog maps.
var artifactEvents = map[string]bool{
	"PUSH_ARTIFACT": true, "PULL_ARTIFACT": true, "DELETE_ARTIFACT": true,
	"SCANNING_COMPLETED": true, "SCANNING_FAILED": true, "SCANNING_STOPPED": true,
}

type eventData struct {
	Resources []struct {
		Digest      string `json:"digest"`
		Tag         string `json:"tag"`
		ResourceURL string `json:"resource_url"`
	} `json:"resources"`
	Repository *struct {
		Name         string `json:"name"`
		Namespace    string `json:"namespace"`
		RepoFullName string `json:"repo_full_name"`
	} `json:"repository"`
	Scan *struct {
		ScanType string `json:"scan_type"`
	} `json:"scan"`
}

// ErrBadPayload wraps every reason a body is refused (answered 400).
var ErrBadPayload = errors.New("bad webhook payload")

func bad(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrBadPayload, fmt.Sprintf(format, a...))
}

// ParseEvent reads a Default or CloudEvents (structured mode) delivery
// (harbor-api.md §6.3–6.4; real captures in reference/examples/real-webhook-*).
// The format is told by the Content-Type, or by "specversion" in the body.
func ParseEvent(contentType string, body []byte) (Event, error) {
	var raw struct {
		// Default
		Type      string          `json:"type"`
		EventData json.RawMessage `json:"event_data"`
		// CloudEvents
		SpecVersion string          `json:"specversion"`
		ID          string          `json:"id"`
		Data        json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		return Event{}, bad("the body is not a JSON object: %v", err)
	}
	mt, _, _ := mime.ParseMediaType(contentType)
	ev := Event{Format: "default"}
	data := raw.EventData
	if mt == "application/cloudevents+json" || raw.SpecVersion != "" {
		ev.Format, ev.ID = "cloudevents", raw.ID
		if raw.SpecVersion != "1.0" {
			return ev, bad("specversion %q is not 1.0", raw.SpecVersion)
		}
		t, known := cloudTypes[raw.Type]
		if !known {
			ev.Type = raw.Type
			ev.Ignored = "event type " + raw.Type + " is not a Harbor event harborport handles"
			return ev, nil
		}
		ev.Type, data = t, raw.Data
	} else {
		ev.Type = raw.Type
	}
	if ev.Type == "" {
		return ev, bad("no event type: a Default payload has \"type\", a CloudEvents one \"specversion\" and \"type\"")
	}
	if !artifactEvents[ev.Type] {
		ev.Ignored = "event type " + ev.Type + " does not change catalog entities"
		return ev, nil
	}
	var d eventData
	if len(data) == 0 {
		return ev, bad("%s event without %s", ev.Type, map[string]string{"default": "event_data", "cloudevents": "data"}[ev.Format])
	}
	if err := json.Unmarshal(data, &d); err != nil {
		return ev, bad("event data: %v", err)
	}
	if d.Scan != nil && d.Scan.ScanType == "sbom" {
		// SBOM scans reuse the SCANNING_* types (v2.11+, §6.3) and change no vulnerability summary.
		ev.Ignored = "SBOM scan events do not change the mapped scan summary"
		return ev, nil
	}
	if d.Repository == nil {
		return ev, bad("%s event without repository", ev.Type)
	}
	project, full := d.Repository.Namespace, d.Repository.RepoFullName
	if full == "" && project != "" && d.Repository.Name != "" {
		full = project + "/" + d.Repository.Name
	}
	if project == "" {
		project, _, _ = strings.Cut(full, "/")
	}
	if project == "" || !strings.HasPrefix(full, project+"/") {
		return ev, bad("repository must name namespace and repo_full_name (got namespace %q, repo_full_name %q)", project, full)
	}
	if len(d.Resources) == 0 {
		return ev, bad("%s event for %s without resources", ev.Type, full)
	}
	for i, r := range d.Resources {
		ref := r.Digest
		if ref == "" {
			ref = r.Tag // a digest is always there in Harbor's artifact events; a tag is the fallback
		}
		if ref == "" {
			return ev, bad("resources[%d] of %s has neither digest nor tag", i, full)
		}
		ev.Targets = append(ev.Targets, catalog.Key{Kind: mapping.KindArtifact, Project: project, Repository: full, Digest: ref,
			// A push whose tag is a digest may be an index child, which a full
			// sync does not list (§6.3): the reconcile checks the listing.
			CheckListed: ev.Type == "PUSH_ARTIFACT" && strings.HasPrefix(r.Tag, "sha256:")})
	}
	ev.Targets = append(ev.Targets,
		catalog.Key{Kind: mapping.KindRepository, Project: project, Repository: full},
		catalog.Key{Kind: mapping.KindProject, Project: project})
	return ev, nil
}
