package harborsim

import (
	"encoding/json"
	"reflect"
	"regexp"
	"sort"
	"testing"
	"time"
)

var uuidRe = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// capturedHeaderKeys are the request headers of every real capture (Host aside, which Go moves
// to r.Host).
var capturedHeaderKeys = []string{"Accept-Encoding", "Authorization", "Content-Length", "Content-Type", "User-Agent"}

// TestDeliveredWebhooksMatchCaptures drives every deliverable artifact and scan event through
// the admin API to a real receiver with one Default and one CloudEvents policy, and compares
// each request with the real v2.15.2 captures (headers, key order, shape) or, for scans, the
// Harbor documentation examples (shape; v2.11+ adds event_data.scan).
func TestDeliveredWebhooksMatchCaptures(t *testing.T) {
	rcv := newReceiver(t, false, nil)
	c := newDeliverySim(t, Options{ExternalURL: "http://127.0.0.1:18080", Delivery: DeliveryOptions{Workers: 1}})
	c.s.CreateProject("tfdemo", false)
	all := []string{"PUSH_ARTIFACT", "PULL_ARTIFACT", "DELETE_ARTIFACT", "SCANNING_COMPLETED", "SCANNING_FAILED", "SCANNING_STOPPED"}
	defID := addPolicy(t, c, "tfdemo", "wh-default", true, all, rcv.ts.URL+"/default", "Bearer secret-default", "Default", false)
	ceID := addPolicy(t, c, "tfdemo", "wh-ce", true, all, rcv.ts.URL+"/cloudevents/", "Bearer secret-ce", "CloudEvents", false)

	hello := mustPush(t, c.s, "tfdemo", "hello", []string{"v1"}, PushOptions{})
	must(t, c.s.PullArtifact("tfdemo", "hello", "v1"))
	mustPush(t, c.s, "tfdemo", "team/helm", []string{"3.8.1"}, PushOptions{})
	must(t, c.s.ScanArtifact("tfdemo", "team/helm", "3.8.1", map[string]int{"High": 4, "Unknown": 1}))
	must(t, c.s.ScanArtifact("tfdemo", "hello", hello, nil))
	must(t, c.s.ScanArtifactWithStatus("tfdemo", "hello", hello, "Error", nil))
	must(t, c.s.ScanArtifactWithStatus("tfdemo", "hello", hello, "Stopped", nil))
	must(t, c.s.DeleteArtifact("tfdemo", "hello", hello))
	waitIdle(t, c.s)

	type want struct {
		typ, tag, url   string
		def, ce         string // template file ("" = none)
		real            bool   // templates are real captures: key order must match too
		scanStatus      string // "" for artifact events
		repoDateCreated bool
	}
	helloURL := "127.0.0.1:18080/tfdemo/hello"
	wants := []want{
		{"PUSH_ARTIFACT", "v1", helloURL + ":v1", "real-webhook-default-push_artifact.json", "real-webhook-cloudevents-push_artifact.json", true, "", true},
		{"PULL_ARTIFACT", "v1", helloURL + ":v1", "real-webhook-default-pull_artifact.json", "real-webhook-cloudevents-pull_artifact.json", true, "", true},
		{"PUSH_ARTIFACT", "3.8.1", "127.0.0.1:18080/tfdemo/team/helm:3.8.1", "real-webhook-default-push_artifact.json", "", true, "", true},
		{"SCANNING_COMPLETED", "3.8.1", "127.0.0.1:18080/tfdemo/team/helm:3.8.1", "webhook-default-scanning-completed-with-vulns.json", "", false, "Success", false},
		{"SCANNING_COMPLETED", "", helloURL + "@" + hello, "webhook-default-scanning-completed-no-vulns.json", "webhook-cloudevents-scan-completed.json", false, "Success", false},
		{"SCANNING_FAILED", "", helloURL + "@" + hello, "webhook-default-scanning-failed.json", "", false, "Error", false},
		{"SCANNING_STOPPED", "", helloURL + "@" + hello, "webhook-default-scanning-stopped.json", "", false, "Stopped", false},
		{"DELETE_ARTIFACT", "v1", helloURL + ":v1", "real-webhook-default-delete_artifact.json", "real-webhook-cloudevents-delete_artifact.json", true, "", true},
	}
	defs, ces := rcv.byPath("/default"), rcv.byPath("/cloudevents") // trailing "/" trimmed on create
	if len(defs) != len(wants) || len(ces) != len(wants) {
		t.Fatalf("got %d Default and %d CloudEvents deliveries, want %d each", len(defs), len(ces), len(wants))
	}
	ids := map[string]bool{}
	for i, w := range wants {
		d, ce := defs[i], ces[i]
		checkHeaders(t, d, "application/json", "Bearer secret-default")
		checkHeaders(t, ce, "application/cloudevents+json", "Bearer secret-ce")
		if !regexp.MustCompile(`"occur_at":\d+,`).Match(d.body) {
			t.Fatalf("occur_at must be integer unix seconds: %s", d.body)
		}
		db, cb := decodeJSON(t, d.body), decodeJSON(t, ce.body)
		ed := as[map[string]any](t, db["event_data"])
		res := as[map[string]any](t, as[[]any](t, ed["resources"])[0])
		repo := as[map[string]any](t, ed["repository"])
		tag, _ := res["tag"].(string)
		if db["type"] != w.typ || tag != w.tag || res["resource_url"] != w.url || db["operator"] != "admin" {
			t.Fatalf("event %d: type %v tag %q url %v operator %v, want %s %q %s admin", i, db["type"], tag, res["resource_url"], db["operator"], w.typ, w.tag, w.url)
		}
		if _, ok := repo["date_created"]; ok != w.repoDateCreated {
			t.Fatalf("event %d (%s): date_created present=%v, want %v", i, w.typ, ok, w.repoDateCreated)
		}
		if w.scanStatus != "" {
			for _, sum := range as[map[string]any](t, res["scan_overview"]) {
				if st := as[map[string]any](t, sum)["scan_status"]; st != w.scanStatus {
					t.Fatalf("event %d: scan_status %v, want %s", i, st, w.scanStatus)
				}
			}
		}
		// CloudEvents: structured mode, data = Default's event_data, time = occur_at.
		if !reflect.DeepEqual(cb["data"], db["event_data"]) {
			t.Fatalf("event %d: CloudEvents data differs from Default event_data:\n%s\n%s", i, ce.body, d.body)
		}
		occur := time.Unix(int64(as[float64](t, db["occur_at"])), 0).UTC().Format(time.RFC3339)
		if cb["specversion"] != "1.0" || cb["type"] != cloudEventTypes[w.typ] || cb["time"] != occur ||
			cb["datacontenttype"] != "application/json" || cb["operator"] != "admin" ||
			cb["source"] != "/projects/2/webhook/policies/"+itoa(ceID) {
			t.Fatalf("event %d: CloudEvents attributes %s", i, ce.body)
		}
		id, rid := as[string](t, cb["id"]), as[string](t, cb["requestid"])
		if !uuidRe.MatchString(id) || !uuidRe.MatchString(rid) || ids[id] {
			t.Fatalf("event %d: id %q / requestid %q must be fresh v4 UUIDs", i, id, rid)
		}
		ids[id] = true
		extra := map[string]bool{"$.event_data.scan": true, "$.data.scan": true}
		if w.scanStatus != "" && w.tag != "" {
			extra["$.data.resources[0].tag"] = true // the CloudEvents scan example was by digest
		}
		compare := func(got receivedHook, file string) {
			if file == "" {
				return
			}
			raw := readCapture(t, file)
			if w.real {
				var rc realCapture
				_ = json.Unmarshal(raw, &rc)
				raw = []byte(rc.BodyRaw)
				if g, wk := keyOrder(t, got.body), keyOrder(t, raw); !reflect.DeepEqual(g, wk) {
					t.Fatalf("event %d vs %s: key order\n got %v\nwant %v", i, file, g, wk)
				}
			}
			var gv, wv any
			_ = json.Unmarshal(got.body, &gv)
			if err := json.Unmarshal(raw, &wv); err != nil {
				t.Fatal(err)
			}
			if err := shapeDiff("$", gv, wv, extra); err != nil {
				t.Fatalf("event %d vs %s: %v\n%s", i, file, err, got.body)
			}
		}
		compare(d, w.def)
		compare(ce, w.ce)
	}
	_ = defID
	// The severity map lists only what occurs, inside the report keyed by the Trivy MIME type.
	var vulns struct {
		EventData struct {
			Resources []struct {
				ScanOverview map[string]whScanSummary `json:"scan_overview"`
			} `json:"resources"`
		} `json:"event_data"`
	}
	_ = json.Unmarshal(defs[3].body, &vulns)
	sum := vulns.EventData.Resources[0].ScanOverview[MimeTypeGenericVulnerabilityReport]
	if sum.Severity != "High" || sum.Summary == nil || sum.Summary.Total != 5 || !reflect.DeepEqual(sum.Summary.Summary, map[string]int{"High": 4, "Unknown": 1}) ||
		sum.CompletePercent != 100 || sum.Scanner == nil {
		t.Fatalf("scan summary %+v", sum)
	}
	if _, err := time.Parse(time.RFC3339, sum.StartTime); err != nil || len(sum.StartTime) != len("2006-01-02T15:04:05Z") {
		t.Fatalf("scan times are RFC3339 without fraction: %q", sum.StartTime)
	}
}

func checkHeaders(t *testing.T, h receivedHook, contentType, auth string) {
	t.Helper()
	var ks []string
	for k := range h.header {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	if !reflect.DeepEqual(ks, capturedHeaderKeys) {
		t.Fatalf("header keys %v, want exactly %v (as captured)", ks, capturedHeaderKeys)
	}
	g := h.header.Get
	if g("Content-Type") != contentType || g("Authorization") != auth || g("User-Agent") != "Go-http-client/1.1" ||
		g("Accept-Encoding") != "gzip" || g("Content-Length") != itoa(int64(len(h.body))) {
		t.Fatalf("headers %v", h.header)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
