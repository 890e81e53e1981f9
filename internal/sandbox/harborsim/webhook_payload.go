package harborsim

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Webhook payload shapes, field order and omitempty as in goharbor/harbor v2.15.2
// src/pkg/notifier/model/event.go (internal/harbor/API-NOTES.md "Webhook payloads"); checked
// byte for byte against the real captures internal/listener/testdata/real-webhook-*.json by
// webhook_payload_test.go.

type whPayload struct {
	Type      string       `json:"type"`
	OccurAt   int64        `json:"occur_at"` // unix seconds
	Operator  string       `json:"operator"`
	EventData *whEventData `json:"event_data,omitempty"`
}

type whEventData struct {
	Resources        []*whResource     `json:"resources,omitempty"`
	Repository       *whRepository     `json:"repository,omitempty"`
	Scan             *whScan           `json:"scan,omitempty"`
	CustomAttributes map[string]string `json:"custom_attributes,omitempty"`
}

type whResource struct {
	Digest       string                    `json:"digest,omitempty"`
	Tag          string                    `json:"tag,omitempty"`
	ResourceURL  string                    `json:"resource_url,omitempty"`
	ScanOverview map[string]*whScanSummary `json:"scan_overview,omitempty"`
}

// whRepository: only date_created is omitempty (omitted when the repository row is gone, and
// never set by the scan handler, handler/webhook/scan/scan.go).
type whRepository struct {
	DateCreated  int64  `json:"date_created,omitempty"`
	Name         string `json:"name"`
	Namespace    string `json:"namespace"`
	RepoFullName string `json:"repo_full_name"`
	RepoType     string `json:"repo_type"`
}

// whScan is event_data.scan, present on SCANNING_* since v2.11 (internal/harbor/API-NOTES.md
// "Webhook payloads", "Version differences").
type whScan struct {
	ScanType string `json:"scan_type"`
}

// whScanSummary is vuln.NativeReportSummary as marshalled by encoding/json (no go-swagger):
// every field present, times RFC3339 without fraction, scanner omitted when unknown
// (internal/listener/testdata/webhook-default-scanning-*.json).
type whScanSummary struct {
	ReportID        string         `json:"report_id"`
	ScanStatus      string         `json:"scan_status"`
	Severity        string         `json:"severity"`
	Duration        int64          `json:"duration"`
	Summary         *whVulnSummary `json:"summary"`
	StartTime       string         `json:"start_time"`
	EndTime         string         `json:"end_time"`
	Scanner         *scannerJSON   `json:"scanner,omitempty"`
	CompletePercent int64          `json:"complete_percent"`
}

type whVulnSummary struct {
	Total   int64          `json:"total"`
	Fixable int64          `json:"fixable"`
	Summary map[string]int `json:"summary"`
}

// ceEnvelope is the structured-mode CloudEvent Harbor writes with cloudevents/sdk-go
// (src/pkg/notifier/formats/cloudevents.go): attributes, then data, then the extensions in
// name order, exactly as in internal/listener/testdata/real-webhook-cloudevents-*.json.
type ceEnvelope struct {
	SpecVersion     string       `json:"specversion"`
	ID              string       `json:"id"`
	Source          string       `json:"source"`
	Type            string       `json:"type"`
	DataContentType string       `json:"datacontenttype"`
	Time            string       `json:"time"`
	Data            *whEventData `json:"data"`
	Operator        string       `json:"operator"`
	RequestID       string       `json:"requestid"`
}

// Content types as captured (internal/harbor/API-NOTES.md "Webhook delivery").
const (
	contentTypeDefault     = "application/json"
	contentTypeCloudEvents = "application/cloudevents+json"
)

// cloudEventTypes is eventTypeMapping in formats/cloudevents.go (internal/harbor/API-NOTES.md
// "Webhook payloads").
var cloudEventTypes = map[string]string{
	"PUSH_ARTIFACT":      "harbor.artifact.pushed",
	"PULL_ARTIFACT":      "harbor.artifact.pulled",
	"DELETE_ARTIFACT":    "harbor.artifact.deleted",
	"QUOTA_EXCEED":       "harbor.quota.exceeded",
	"QUOTA_WARNING":      "harbor.quota.warned",
	"REPLICATION":        "harbor.replication.status.changed",
	"SCANNING_FAILED":    "harbor.scan.failed",
	"SCANNING_COMPLETED": "harbor.scan.completed",
	"SCANNING_STOPPED":   "harbor.scan.stopped",
	"TAG_RETENTION":      "harbor.tag_retention.finished",
}

func isScanEvent(t string) bool { return strings.HasPrefix(t, "SCANNING_") }

// buildPayload is the Default-format payload for ev; host is the external host[:port] without
// scheme (config.ExtURL).
func buildPayload(ev Event, host string) *whPayload {
	repoType := "private"
	if ev.Public {
		repoType = "public"
	}
	_, short, _ := strings.Cut(ev.RepoName, "/") // GetNameFromImgRepoFullName: after the first "/"
	repo := &whRepository{Name: short, Namespace: ev.ProjectName, RepoFullName: ev.RepoName, RepoType: repoType}
	res := &whResource{Digest: ev.Digest, Tag: ev.Tag}
	data := &whEventData{Resources: []*whResource{res}, Repository: repo}
	reference := ev.Tag
	if isScanEvent(ev.Type) {
		// The scan handler builds the URL from the scanned tag, else the digest, and sets no
		// date_created (handler/webhook/scan/scan.go).
		if reference == "" {
			reference = ev.Digest
		}
		res.ScanOverview = webhookScanOverview(ev.ScanOverview)
		data.Scan = &whScan{ScanType: "vulnerability"}
	} else if !ev.RepoCreated.IsZero() {
		repo.DateCreated = ev.RepoCreated.Unix()
	}
	res.ResourceURL = resourceURL(host, ev.RepoName, reference)
	return &whPayload{Type: ev.Type, OccurAt: ev.OccurAt.Unix(), Operator: ev.Operator, EventData: data}
}

// resourceURL is util.BuildImageResourceURL: host/repo:tag, or host/repo@digest.
func resourceURL(host, repo, reference string) string {
	if strings.HasPrefix(reference, "sha256:") {
		return host + "/" + repo + "@" + reference
	}
	return host + "/" + repo + ":" + reference
}

// webhookScanOverview re-shapes the REST summaries carried by Event.ScanOverview.
func webhookScanOverview(in map[string]any) map[string]*whScanSummary {
	if len(in) == 0 {
		return nil
	}
	out := map[string]*whScanSummary{}
	for mime, v := range in {
		rs, ok := v.(*reportSummary)
		if !ok {
			continue
		}
		w := &whScanSummary{ReportID: rs.ReportID, ScanStatus: rs.ScanStatus, Severity: rs.Severity,
			Duration: rs.Duration, StartTime: rfc3339(time.Time(rs.StartTime)), EndTime: rfc3339(time.Time(rs.EndTime)),
			Scanner: rs.Scanner, CompletePercent: rs.CompletePercent}
		if rs.Summary != nil {
			sum := rs.Summary.Summary
			if sum == nil {
				sum = map[string]int{}
			}
			w.Summary = &whVulnSummary{Total: rs.Summary.Total, Fixable: rs.Summary.Fixable, Summary: sum}
		}
		out[mime] = w
	}
	return out
}

func rfc3339(t time.Time) string { return t.UTC().Truncate(time.Second).Format(time.RFC3339) }

// formatDefault renders the Default format (json.Marshal, no trailing newline).
func formatDefault(p *whPayload) ([]byte, error) { return json.Marshal(p) }

// formatCloudEvents renders the structured-mode CloudEvent for one policy target. id is new per
// policy target; requestid is the X-Request-Id of the triggering request
// (internal/harbor/API-NOTES.md "Webhook payloads").
func formatCloudEvents(p *whPayload, projectID, policyID int64, id, requestID string) ([]byte, error) {
	ceType, ok := cloudEventTypes[p.Type]
	if !ok {
		return nil, fmt.Errorf("unknown event type %s for the CloudEvents format", p.Type)
	}
	return json.Marshal(ceEnvelope{SpecVersion: "1.0", ID: id,
		Source: fmt.Sprintf("/projects/%d/webhook/policies/%d", projectID, policyID), Type: ceType,
		DataContentType: "application/json", Time: rfc3339(time.Unix(p.OccurAt, 0)), Data: p.EventData,
		Operator: p.Operator, RequestID: requestID})
}
