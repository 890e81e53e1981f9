package listener

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strings"

	"github.com/harborport/terraform-provider-harborport/internal/catalog"
	"github.com/harborport/terraform-provider-harborport/internal/mapping"
)

// Payload formats, as in Harbor's webhook policy (internal/harbor/API-NOTES.md
// "Webhook policies").
const (
	FormatDefault     = "default"
	FormatCloudEvents = "cloudevents"
)

// Event is what one delivery asks for.
type Event struct {
	Type     string // Harbor's type, e.g. PUSH_ARTIFACT (CloudEvents types are mapped back); verbatim if unknown
	Format   string // FormatDefault or FormatCloudEvents
	ID       string // CloudEvents id; "" for Default (which has none)
	Operator string
	// Targets: each resource's artifact, then its repository, then its
	// project; deduplicated, in that order.
	Targets []catalog.Key
	Ignored string // why nothing is reconciled, when Targets is empty
	// Warnings name parts of a valid delivery that were skipped (e.g. a
	// retention entry whose name_tag is not parseable).
	Warnings []string
}

// ErrMediaType is returned for a Content-Type the listener does not take (415).
var ErrMediaType = errors.New("unsupported Content-Type: Harbor sends application/json (Default) or application/cloudevents+json (CloudEvents)")

// cloudTypes maps CloudEvents types back to Harbor's event types
// (internal/harbor/API-NOTES.md "Webhook payloads",
// src/pkg/notifier/formats/cloudevents.go).
var cloudTypes = map[string]string{
	"harbor.artifact.pushed": "PUSH_ARTIFACT", "harbor.artifact.pulled": "PULL_ARTIFACT",
	"harbor.artifact.deleted": "DELETE_ARTIFACT", "harbor.quota.exceeded": "QUOTA_EXCEED",
	"harbor.quota.warned": "QUOTA_WARNING", "harbor.replication.status.changed": "REPLICATION",
	"harbor.scan.failed": "SCANNING_FAILED", "harbor.scan.completed": "SCANNING_COMPLETED",
	"harbor.scan.stopped": "SCANNING_STOPPED", "harbor.tag_retention.finished": "TAG_RETENTION",
}

// knownTypes are the webhook-deliverable types of v2.15.2
// (internal/harbor/testdata/real-api-webhook-events.json). Other values are
// counted as "unknown" in metrics so a sender cannot mint label values.
var knownTypes = map[string]bool{
	"PUSH_ARTIFACT": true, "PULL_ARTIFACT": true, "DELETE_ARTIFACT": true, "QUOTA_EXCEED": true,
	"QUOTA_WARNING": true, "SCANNING_FAILED": true, "SCANNING_STOPPED": true, "SCANNING_COMPLETED": true,
	"REPLICATION": true, "TAG_RETENTION": true,
}

func metricType(t string) string {
	if knownTypes[t] {
		return t
	}
	return "unknown"
}

// artifactEvents name an artifact in resources[] and its repository
// (internal/harbor/API-NOTES.md "Webhook payloads"). A delete also yields the
// artifact key: the reconcile finds Harbor's 404 and deletes the entity.
var artifactEvents = map[string]bool{
	"PUSH_ARTIFACT": true, "PULL_ARTIFACT": true, "DELETE_ARTIFACT": true,
	"SCANNING_COMPLETED": true, "SCANNING_FAILED": true, "SCANNING_STOPPED": true,
}

// eventData is Default's event_data and CloudEvents' data
// (src/pkg/notifier/model/event.go). Unknown fields are allowed: Harbor adds
// some in minor versions (sbom_overview, scan).
type eventData struct {
	Resources []struct {
		Digest string `json:"digest"`
		Tag    string `json:"tag"`
	} `json:"resources"`
	Repository *struct {
		Name         string `json:"name"`
		Namespace    string `json:"namespace"`
		RepoFullName string `json:"repo_full_name"`
	} `json:"repository"`
	Scan *struct {
		ScanType string `json:"scan_type"`
	} `json:"scan"`
	Retention *struct {
		ProjectName     string `json:"project_name"`
		DeletedArtifact []struct {
			NameTag string `json:"name_tag"`
		} `json:"deleted_artifact"`
	} `json:"retention"`
	Replication *struct {
		SrcResource  *replicationResource `json:"src_resource"`
		DestResource *replicationResource `json:"dest_resource"`
	} `json:"replication"`
}

type replicationResource struct {
	RegistryName string `json:"registry_name"`
	RegistryType string `json:"registry_type"`
	Namespace    string `json:"namespace"`
}

// ParseEvent reads a delivery: Default, or CloudEvents in structured mode
// (Harbor's, application/cloudevents+json) or binary mode (ce-* headers), per
// internal/harbor/API-NOTES.md "Webhook payloads" and the real captures
// (testdata/real-webhook-*). A JSON body with "specversion" is taken as
// structured CloudEvents whatever its Content-Type
// (internal/harbor/API-NOTES.md "Webhook payloads"). Errors wrap ErrBadPayload
// (400) or are ErrMediaType (415) and name the offending field.
func ParseEvent(h http.Header, body []byte) (Event, error) {
	mt, _, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil || (mt != "application/json" && mt != "application/cloudevents+json") {
		return Event{}, fmt.Errorf("%w (got %q)", ErrMediaType, h.Get("Content-Type"))
	}
	if h.Get("Ce-Specversion") != "" {
		return parseBinaryCloudEvent(h, mt, body)
	}
	if t := bytes.TrimLeft(body, " \t\r\n"); len(t) == 0 || t[0] != '{' {
		return Event{}, bad("the body is not a JSON object")
	}
	var env struct {
		// Both: "type"; "operator" is a Default field and a CloudEvents extension.
		Type      *string         `json:"type"`
		Operator  string          `json:"operator"`
		OccurAt   *int64          `json:"occur_at"`
		EventData json.RawMessage `json:"event_data"`
		// CloudEvents (structured)
		SpecVersion     *string         `json:"specversion"`
		ID              string          `json:"id"`
		Source          string          `json:"source"`
		DataContentType string          `json:"datacontenttype"`
		Data            json.RawMessage `json:"data"`
		DataBase64      string          `json:"data_base64"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return Event{}, bad("the body is not valid JSON for a Harbor event: %v", err)
	}
	if mt == "application/cloudevents+json" || env.SpecVersion != nil {
		ce := cloudEvent{ID: env.ID, Source: env.Source, DataContentType: env.DataContentType, Operator: env.Operator, Data: env.Data}
		if env.SpecVersion != nil {
			ce.SpecVersion = *env.SpecVersion
		}
		if env.Type != nil {
			ce.Type = *env.Type
		}
		if env.DataBase64 != "" {
			return Event{Format: FormatCloudEvents, ID: env.ID}, bad("data_base64 is not supported: Harbor sends its event data as a JSON \"data\" object")
		}
		return ce.event("")
	}
	if env.Type == nil || *env.Type == "" {
		return Event{Format: FormatDefault}, bad("field \"type\" is missing: a Default payload is {type, occur_at, operator, event_data}, a CloudEvents one has \"specversion\"")
	}
	ev := Event{Type: *env.Type, Format: FormatDefault, Operator: env.Operator}
	return targets(ev, "event_data", env.EventData)
}

type cloudEvent struct {
	SpecVersion, ID, Source, Type, DataContentType, Operator string
	Data                                                     json.RawMessage
}

// event checks the attributes CloudEvents 1.0 makes REQUIRED (id, source,
// specversion, type) and maps the type. where is "header " for binary mode.
func (ce cloudEvent) event(where string) (Event, error) {
	ev := Event{Format: FormatCloudEvents, ID: ce.ID, Operator: ce.Operator, Type: ce.Type}
	attr := func(name string) string {
		if where != "" {
			return where + "ce-" + name
		}
		return "attribute \"" + name + "\""
	}
	if ce.SpecVersion != "1.0" {
		return ev, bad("%s is %q: only CloudEvents 1.0 is supported (Harbor ≥ 2.8 sends 1.0)", attr("specversion"), ce.SpecVersion)
	}
	for _, a := range []struct{ name, v string }{{"id", ce.ID}, {"source", ce.Source}, {"type", ce.Type}} {
		if a.v == "" {
			return ev, bad("%s is missing (REQUIRED by CloudEvents 1.0)", attr(a.name))
		}
	}
	if ce.DataContentType != "" {
		if mt, _, err := mime.ParseMediaType(ce.DataContentType); err != nil || mt != "application/json" {
			return ev, bad("%s is %q: Harbor's data is application/json", attr("datacontenttype"), ce.DataContentType)
		}
	}
	t, known := cloudTypes[ce.Type]
	if !known {
		ev.Ignored = "CloudEvents type " + ce.Type + " is not a Harbor event type"
		return ev, nil
	}
	ev.Type = t
	return targets(ev, "data", ce.Data)
}

// parseBinaryCloudEvent reads binary mode: attributes in ce-* headers, the
// body is the data (CloudEvents HTTP binding §3.1). Harbor itself uses
// structured mode; binary mode is accepted for relays that convert.
func parseBinaryCloudEvent(h http.Header, mt string, body []byte) (Event, error) {
	if mt != "application/json" {
		return Event{Format: FormatCloudEvents}, bad("binary-mode CloudEvents (ce-* headers) need Content-Type application/json for the data, got %q", mt)
	}
	ce := cloudEvent{SpecVersion: h.Get("Ce-Specversion"), ID: h.Get("Ce-Id"), Source: h.Get("Ce-Source"),
		Type: h.Get("Ce-Type"), Operator: h.Get("Ce-Operator"), Data: body}
	return ce.event("header ")
}

// targets turns the event data into keys. field is the data's name in the
// payload ("event_data" or "data"), used in error messages.
func targets(ev Event, field string, raw json.RawMessage) (Event, error) {
	switch {
	case !knownTypes[ev.Type]:
		ev.Ignored = "event type " + ev.Type + " is not one Harbor delivers by webhook"
		return ev, nil
	case ev.Type == "QUOTA_EXCEED" || ev.Type == "QUOTA_WARNING":
		// EXCEED: the push was refused, nothing changed. WARNING: the push
		// went through and has its own PUSH_ARTIFACT.
		ev.Ignored = ev.Type + " changes no catalog entity (the push it concerns has its own PUSH_ARTIFACT event, or was refused)"
		return ev, nil
	}
	if len(bytes.TrimSpace(raw)) == 0 || string(bytes.TrimSpace(raw)) == "null" {
		return ev, bad("%s event without %s", ev.Type, field)
	}
	var d eventData
	if err := json.Unmarshal(raw, &d); err != nil {
		return ev, bad("%s: %v", field, err)
	}
	var out []catalog.Key
	var err error
	switch {
	case artifactEvents[ev.Type]:
		if d.Scan != nil && d.Scan.ScanType == "sbom" {
			// SBOM scans reuse SCANNING_* (v2.11+, internal/harbor/API-NOTES.md
			// "Webhook payloads") and change no vulnerability summary.
			ev.Ignored = "SBOM scan events change no mapped field (" + field + ".scan.scan_type is \"sbom\")"
			return ev, nil
		}
		out, err = artifactTargets(ev.Type, field, &d)
	case ev.Type == "TAG_RETENTION":
		out, ev.Warnings, err = retentionTargets(field, &d)
	case ev.Type == "REPLICATION":
		out, ev.Ignored, err = replicationTargets(field, &d)
	}
	if err != nil {
		return ev, err
	}
	ev.Targets = dedupe(out)
	if len(ev.Targets) == 0 && ev.Ignored == "" {
		ev.Ignored = ev.Type + " named nothing to reconcile"
	}
	return ev, nil
}

func artifactTargets(typ, field string, d *eventData) ([]catalog.Key, error) {
	if d.Repository == nil {
		return nil, bad("%s event without %s.repository", typ, field)
	}
	r := d.Repository
	project, full := r.Namespace, r.RepoFullName
	if project == "" {
		return nil, bad("%s.repository.namespace is missing", field)
	}
	if full == "" {
		return nil, bad("%s.repository.repo_full_name is missing", field)
	}
	if err := checkProject(field+".repository.namespace", project); err != nil {
		return nil, err
	}
	if err := checkRepository(field+".repository.repo_full_name", full); err != nil {
		return nil, err
	}
	// repo_full_name is namespace + "/" + name (internal/harbor/API-NOTES.md
	// "Webhook payloads").
	if !strings.HasPrefix(full, project+"/") || (r.Name != "" && full != project+"/"+r.Name) {
		return nil, bad("%s.repository is inconsistent: repo_full_name %q is not namespace %q + \"/\" + name %q", field, full, project, r.Name)
	}
	if len(d.Resources) == 0 {
		return nil, bad("%s event for %s without %s.resources", typ, full, field)
	}
	var out []catalog.Key
	for i, res := range d.Resources {
		ref, checkListed := res.Digest, false
		switch {
		case ref != "":
			if !isDigest(ref) {
				return nil, bad("%s.resources[%d].digest %q is not a digest (algorithm:hex)", field, i, ref)
			}
			// tag is the first tag or, when there is none, the digest itself: a
			// push by digest may be an index child, which a full sync does not
			// list (internal/harbor/API-NOTES.md "Webhook payloads"), so the
			// reconcile checks the listing.
			checkListed = typ == "PUSH_ARTIFACT" && isDigest(res.Tag)
		case res.Tag != "":
			// No digest: the tag identifies the artifact; Harbor resolves it.
			if !isTag(res.Tag) && !isDigest(res.Tag) {
				return nil, bad("%s.resources[%d].tag %q is neither a tag nor a digest", field, i, res.Tag)
			}
			ref = res.Tag
		default:
			return nil, bad("%s.resources[%d] of %s has neither digest nor tag", field, i, full)
		}
		out = append(out, catalog.Key{Kind: mapping.KindArtifact, Project: project, Repository: full, Digest: ref, CheckListed: checkListed})
	}
	return append(out,
		catalog.Key{Kind: mapping.KindRepository, Project: project, Repository: full},
		catalog.Key{Kind: mapping.KindProject, Project: project}), nil
}

// retentionTargets: a retention run deleted artifacts of a project
// (src/controller/event/handler/webhook/artifact/retention.go). The payload
// names no digests; the deletions reach Harbor's artifact API and so arrive
// as DELETE_ARTIFACT events too (operator "harbor-jobservice", as in
// webhook-default-delete-artifact.json). Here: each named repository (counts
// changed) and the project. name_tag is "<repo without project>:<tag>".
func retentionTargets(field string, d *eventData) ([]catalog.Key, []string, error) {
	if d.Retention == nil {
		return nil, nil, bad("TAG_RETENTION event without %s.retention", field)
	}
	project := d.Retention.ProjectName
	if project == "" {
		return nil, nil, bad("%s.retention.project_name is missing", field)
	}
	if err := checkProject(field+".retention.project_name", project); err != nil {
		return nil, nil, err
	}
	var out []catalog.Key
	var warns []string
	for i, a := range d.Retention.DeletedArtifact {
		if a.NameTag == "" {
			continue // an untagged artifact: Harbor leaves name_tag empty
		}
		name, _, _ := strings.Cut(a.NameTag, ":")
		full := project + "/" + name
		if checkRepository("", full) != nil {
			warns = append(warns, fmt.Sprintf("%s.retention.deleted_artifact[%d].name_tag %q names no repository; only the project is reconciled for it", field, i, a.NameTag))
			continue
		}
		out = append(out, catalog.Key{Kind: mapping.KindRepository, Project: project, Repository: full})
	}
	return append(out, catalog.Key{Kind: mapping.KindProject, Project: project}), warns, nil
}

// replicationTargets: Harbor's side of a replication is the resource without
// registry_name (replication.go constructReplicationPayload: localRes has no
// RegistryName). Pulling into a local project adds artifacts there (their
// pushes also fire PUSH_ARTIFACT); pushing to a remote changes nothing here.
// name_tag keeps only one path component (getMetadataFromResource), so it
// cannot name nested repositories and is not used.
func replicationTargets(field string, d *eventData) ([]catalog.Key, string, error) {
	r := d.Replication
	if r == nil {
		return nil, "", bad("REPLICATION event without %s.replication", field)
	}
	local := func(x *replicationResource) bool { return x != nil && x.RegistryName == "" }
	switch {
	case local(r.DestResource) && r.DestResource.Namespace != "":
		ns := r.DestResource.Namespace
		if err := checkProject(field+".replication.dest_resource.namespace", ns); err != nil {
			return nil, "", err
		}
		return []catalog.Key{{Kind: mapping.KindProject, Project: ns}}, "", nil
	case local(r.SrcResource):
		return nil, "replication from this Harbor to a remote registry changes nothing here", nil
	}
	return nil, "replication event names no local project (" + field + ".replication.dest_resource has a registry_name or no namespace)", nil
}

func dedupe(keys []catalog.Key) []catalog.Key {
	seen := map[string]int{}
	out := keys[:0:0]
	for _, k := range keys {
		id := string(spoolKey(k))
		if i, ok := seen[id]; ok {
			// Same artifact twice: check the listing only if every mention asks.
			out[i].CheckListed = out[i].CheckListed && k.CheckListed
			continue
		}
		seen[id] = len(out)
		out = append(out, k)
	}
	return out
}
