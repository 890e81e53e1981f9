package listener

import (
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/harborport/terraform-provider-harborport/internal/catalog"
)

// loadDelivery returns the headers and body of a capture: real-* files hold
// the delivery with its headers (Harbor v2.15.2); the others are bare bodies
// from Harbor's docs, given the Content-Type Harbor uses for their format.
func loadDelivery(t *testing.T, name string) (http.Header, []byte) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{}
	if strings.HasPrefix(name, "real-") {
		var c struct {
			Headers map[string]string `json:"headers"`
			BodyRaw string            `json:"body_raw"`
		}
		if err := json.Unmarshal(raw, &c); err != nil {
			t.Fatal(err)
		}
		for k, v := range c.Headers {
			h.Set(k, v)
		}
		return h, []byte(c.BodyRaw)
	}
	h.Set("Content-Type", "application/json")
	if strings.Contains(name, "cloudevents") {
		h.Set("Content-Type", "application/cloudevents+json")
	}
	return h, raw
}

func keyStrings(ks []catalog.Key) []string {
	var out []string
	for _, k := range ks {
		s := k.String()
		if k.CheckListed {
			s += " (check listed)"
		}
		out = append(out, s)
	}
	return out
}

// threeKeys is what an artifact event yields: artifact, repository, project.
func threeKeys(repo, ref string, checkListed bool) []string {
	a := "artifact " + repo + "@" + ref
	if checkListed {
		a += " (check listed)"
	}
	project, _, _ := strings.Cut(repo, "/")
	return []string{a, "repository " + repo, "project " + project}
}

func TestParseEvent_captures(t *testing.T) {
	cases := []struct {
		file, typ, format, id string
		want                  []string // nil: ignored
	}{
		{"real-webhook-default-push_artifact.json", "PUSH_ARTIFACT", FormatDefault, "",
			threeKeys("tfdemo/hello", "sha256:6cb0ba24593f743b299f385ff8cc76a34fafabb3762c02e28131c0a203fe8558", false)},
		{"real-webhook-default-pull_artifact.json", "PULL_ARTIFACT", FormatDefault, "",
			threeKeys("tfdemo/hello", "sha256:6cb0ba24593f743b299f385ff8cc76a34fafabb3762c02e28131c0a203fe8558", false)},
		{"real-webhook-default-delete_artifact.json", "DELETE_ARTIFACT", FormatDefault, "",
			threeKeys("tfdemo/ocihello", "sha256:6a84374472407251c8e7cc9bd3e15f490ca14ad1f8fbd0d7f42196d8681d8754", false)},
		{"real-webhook-cloudevents-push_artifact.json", "PUSH_ARTIFACT", FormatCloudEvents, "f4afaf2f-1f92-44c3-ba37-d6588bb6b9c8",
			threeKeys("tfdemo/hello", "sha256:6cb0ba24593f743b299f385ff8cc76a34fafabb3762c02e28131c0a203fe8558", false)},
		{"real-webhook-cloudevents-pull_artifact.json", "PULL_ARTIFACT", FormatCloudEvents, "feef492f-d42a-4055-906b-6c311905136d",
			threeKeys("tfdemo/hello", "sha256:6cb0ba24593f743b299f385ff8cc76a34fafabb3762c02e28131c0a203fe8558", false)},
		{"real-webhook-cloudevents-delete_artifact.json", "DELETE_ARTIFACT", FormatCloudEvents, "4d32dba4-51f8-442d-9937-4e40124f45b2",
			threeKeys("tfdemo/ocihello", "sha256:6a84374472407251c8e7cc9bd3e15f490ca14ad1f8fbd0d7f42196d8681d8754", false)},
		// tag == digest on a push: maybe an index child, so the reconcile checks the listing.
		{"webhook-default-push-artifact.json", "PUSH_ARTIFACT", FormatDefault, "",
			threeKeys("harbor/alpine", "sha256:954b378c375d852eb3c63ab88978f640b4348b01c1b3456a024a81536dafbbf4", true)},
		{"webhook-default-push-artifact-tagged.json", "PUSH_ARTIFACT", FormatDefault, "",
			threeKeys("test-webhook/debian", "sha256:8a9e9863dbb6e10edb5adfe917c00da84e1700fa76e7ed02476aa6e6fb8ee0d8", false)},
		// tag == digest on a pull: not a push, nothing to check.
		{"webhook-default-pull-artifact.json", "PULL_ARTIFACT", FormatDefault, "",
			threeKeys("harbor/alpine", "sha256:954b378c375d852eb3c63ab88978f640b4348b01c1b3456a024a81536dafbbf4", false)},
		{"webhook-default-delete-artifact.json", "DELETE_ARTIFACT", FormatDefault, "",
			threeKeys("harbor/alpine", "sha256:2bb501e6173d9d006e56de5bce2720eb06396803300fe1687b58a7ff32bf4c14", false)},
		{"webhook-default-scanning-completed-no-vulns.json", "SCANNING_COMPLETED", FormatDefault, "",
			threeKeys("harbor/alpine", "sha256:954b378c375d852eb3c63ab88978f640b4348b01c1b3456a024a81536dafbbf4", false)},
		{"webhook-default-scanning-completed-with-vulns.json", "SCANNING_COMPLETED", FormatDefault, "",
			threeKeys("test/alpine/helm", "sha256:b50334049354ed01330403212605dce2f4676a4e787ed113506861d9cf3c5424", false)},
		{"webhook-default-scanning-failed.json", "SCANNING_FAILED", FormatDefault, "",
			threeKeys("harbor/alpine", "sha256:dabea2944dcc2b86482b4f0b0fb62da80e0673e900c46c0e03b45919881a5d84", false)},
		{"webhook-default-scanning-stopped.json", "SCANNING_STOPPED", FormatDefault, "",
			threeKeys("harbor/alpine", "sha256:e802987f152d7826cf929ad4999fb3bb956ce7a30966aeb46c749f9120eaf22c", false)},
		{"webhook-cloudevents-artifact-deleted.json", "DELETE_ARTIFACT", FormatCloudEvents, "343f1623-7cba-487c-88f1-c5ebf55e93aa",
			threeKeys("harbor/alpine", "sha256:2bb501e6173d9d006e56de5bce2720eb06396803300fe1687b58a7ff32bf4c14", false)},
		{"webhook-cloudevents-artifact-pulled.json", "PULL_ARTIFACT", FormatCloudEvents, "4b2f89a6-548d-4c12-9993-a1f5790b97d2",
			threeKeys("library/busybox", "sha256:dde8e930c7b6a490f728e66292bc9bce42efc9bbb5278bae40e4f30f6e00fe8c", false)},
		{"webhook-cloudevents-scan-completed.json", "SCANNING_COMPLETED", FormatCloudEvents, "64bce2fe-6159-454d-8389-852d01ef1e9d",
			threeKeys("harbor/alpine", "sha256:954b378c375d852eb3c63ab88978f640b4348b01c1b3456a024a81536dafbbf4", false)},
		{"webhook-default-quota-exceed.json", "QUOTA_EXCEED", FormatDefault, "", nil},
	}
	files, _ := filepath.Glob("testdata/*webhook-*.json")
	if len(files) != len(cases) {
		t.Errorf("%d capture files, %d cases: every capture needs a case", len(files), len(cases))
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			h, body := loadDelivery(t, c.file)
			ev, err := ParseEvent(h, body)
			if err != nil {
				t.Fatal(err)
			}
			if ev.Type != c.typ || ev.Format != c.format || ev.ID != c.id {
				t.Fatalf("type/format/id = %s/%s/%q, want %s/%s/%q", ev.Type, ev.Format, ev.ID, c.typ, c.format, c.id)
			}
			if got := keyStrings(ev.Targets); !slices.Equal(got, c.want) {
				t.Fatalf("targets\n got %q\nwant %q", got, c.want)
			}
			if c.want == nil && ev.Ignored == "" {
				t.Fatal("ignored without a reason")
			}
		})
	}
}

const (
	dg  = "sha256:954b378c375d852eb3c63ab88978f640b4348b01c1b3456a024a81536dafbbf4"
	dg2 = "sha256:2bb501e6173d9d006e56de5bce2720eb06396803300fe1687b58a7ff32bf4c14"
	// repoPR is the repository object of a valid artifact event.
	repoPR = `"repository":{"name":"r","namespace":"p","repo_full_name":"p/r","repo_type":"private"}`
)

func defaultBody(typ, eventData string) string {
	return `{"type":"` + typ + `","occur_at":1680501893,"operator":"admin","event_data":` + eventData + `}`
}

func jsonHeader(ct string) http.Header {
	h := http.Header{}
	if ct != "" {
		h.Set("Content-Type", ct)
	}
	return h
}

// Each strictness rule, with the words its message must contain.
func TestParseEvent_bad(t *testing.T) {
	ce := func(attrs string) string {
		return `{"specversion":"1.0",` + attrs + `,"data":{"resources":[{"digest":"` + dg + `"}],` + repoPR + `}}`
	}
	cases := map[string]struct{ ct, body, want string }{
		"not json":        {"application/json", `{"type":`, "not valid JSON"},
		"json array":      {"application/json", `[{"type":"PUSH_ARTIFACT"}]`, "not a JSON object"},
		"json null":       {"application/json", `null`, "not a JSON object"},
		"empty body":      {"application/json", ``, "not a JSON object"},
		"no type":         {"application/json", `{"event_data":{}}`, `"type" is missing`},
		"occur_at string": {"application/json", `{"type":"PUSH_ARTIFACT","occur_at":"yesterday"}`, "occur_at"},
		"no event_data":   {"application/json", `{"type":"PUSH_ARTIFACT"}`, "without event_data"},
		"null event_data": {"application/json", defaultBody("PUSH_ARTIFACT", `null`), "without event_data"},
		"no repository":   {"application/json", defaultBody("PUSH_ARTIFACT", `{"resources":[{"digest":"`+dg+`"}]}`), "event_data.repository"},
		"no namespace": {"application/json", defaultBody("PUSH_ARTIFACT",
			`{"resources":[{"digest":"`+dg+`"}],"repository":{"name":"r","repo_full_name":"p/r"}}`), "event_data.repository.namespace is missing"},
		"no repo_full_name": {"application/json", defaultBody("PUSH_ARTIFACT",
			`{"resources":[{"digest":"`+dg+`"}],"repository":{"name":"r","namespace":"p"}}`), "repo_full_name is missing"},
		"namespace mismatch": {"application/json", defaultBody("PUSH_ARTIFACT",
			`{"resources":[{"digest":"`+dg+`"}],"repository":{"namespace":"p","repo_full_name":"q/r"}}`), "inconsistent"},
		"name mismatch": {"application/json", defaultBody("PUSH_ARTIFACT",
			`{"resources":[{"digest":"`+dg+`"}],"repository":{"name":"x","namespace":"p","repo_full_name":"p/r"}}`), "inconsistent"},
		"uppercase project": {"application/json", defaultBody("PUSH_ARTIFACT",
			`{"resources":[{"digest":"`+dg+`"}],"repository":{"name":"r","namespace":"P","repo_full_name":"P/r"}}`), "not a Harbor project name"},
		"path traversal": {"application/json", defaultBody("PUSH_ARTIFACT",
			`{"resources":[{"digest":"`+dg+`"}],"repository":{"name":"../r","namespace":"p","repo_full_name":"p/../r"}}`), "breaks the distribution grammar"},
		"no resources":   {"application/json", defaultBody("PUSH_ARTIFACT", `{`+repoPR+`}`), "without event_data.resources"},
		"empty resource": {"application/json", defaultBody("PUSH_ARTIFACT", `{"resources":[{}],`+repoPR+`}`), "resources[0] of p/r has neither digest nor tag"},
		"bad digest":     {"application/json", defaultBody("PUSH_ARTIFACT", `{"resources":[{"digest":"sha256:../x"}],`+repoPR+`}`), "resources[0].digest"},
		"bad tag":        {"application/json", defaultBody("PUSH_ARTIFACT", `{"resources":[{"tag":"-v1/.."}],`+repoPR+`}`), "resources[0].tag"},
		"resources object": {"application/json", defaultBody("PUSH_ARTIFACT", `{"resources":{"digest":"x"},`+repoPR+`}`),
			"event_data"},
		"ce specversion":       {"application/cloudevents+json", `{"specversion":"0.3","id":"i","source":"/s","type":"harbor.artifact.pushed","data":{}}`, `"specversion" is "0.3"`},
		"ce no id":             {"application/cloudevents+json", ce(`"source":"/s","type":"harbor.artifact.pushed"`), `"id" is missing`},
		"ce no source":         {"application/cloudevents+json", ce(`"id":"i","type":"harbor.artifact.pushed"`), `"source" is missing`},
		"ce no type":           {"application/cloudevents+json", ce(`"id":"i","source":"/s"`), `"type" is missing`},
		"ce xml data":          {"application/cloudevents+json", ce(`"id":"i","source":"/s","type":"harbor.artifact.pushed","datacontenttype":"text/xml"`), "datacontenttype"},
		"ce data_base64":       {"application/cloudevents+json", `{"specversion":"1.0","id":"i","source":"/s","type":"harbor.artifact.pushed","data_base64":"e30="}`, "data_base64"},
		"ce no data":           {"application/cloudevents+json", `{"specversion":"1.0","id":"i","source":"/s","type":"harbor.artifact.pushed"}`, "without data"},
		"ce no repo":           {"application/cloudevents+json", `{"specversion":"1.0","id":"i","source":"/s","type":"harbor.scan.completed","data":{"resources":[{"digest":"` + dg + `"}]}}`, "without data.repository"},
		"retention no project": {"application/json", defaultBody("TAG_RETENTION", `{"retention":{"total":1}}`), "retention.project_name is missing"},
		"retention absent":     {"application/json", defaultBody("TAG_RETENTION", `{}`), "without event_data.retention"},
		"replication absent":   {"application/json", defaultBody("REPLICATION", `{}`), "without event_data.replication"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := ParseEvent(jsonHeader(c.ct), []byte(c.body))
			if !errors.Is(err, ErrBadPayload) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want ErrBadPayload mentioning %q", err, c.want)
			}
		})
	}
}

func TestParseEvent_mediaType(t *testing.T) {
	body := defaultBody("PUSH_ARTIFACT", `{"resources":[{"digest":"`+dg+`"}],`+repoPR+`}`)
	for ct, ok := range map[string]bool{
		"application/json": true, "application/json; charset=utf-8": true, "Application/JSON": true,
		"": false, "text/plain": false, "application/x-www-form-urlencoded": false,
		"application/cloudevents-batch+json": false, "application/json; charset": false,
	} {
		_, err := ParseEvent(jsonHeader(ct), []byte(body))
		if ok != (err == nil) || (!ok && !errors.Is(err, ErrMediaType)) {
			t.Errorf("Content-Type %q: err = %v, want ok=%v (ErrMediaType otherwise)", ct, err, ok)
		}
	}
}

func TestParseEvent_ignored(t *testing.T) {
	cases := map[string]struct{ ct, body, typ, reason string }{
		"quota warning":        {"application/json", defaultBody("QUOTA_WARNING", `{"resources":[{"digest":"`+dg+`"}],`+repoPR+`}`), "QUOTA_WARNING", "PUSH_ARTIFACT"},
		"unknown default type": {"application/json", defaultBody("UPLOAD_CHART", `{}`), "UPLOAD_CHART", "not one Harbor delivers"},
		"unknown ce type": {"application/cloudevents+json", `{"specversion":"1.0","id":"x","source":"/s","type":"com.example.other","data":{}}`,
			"com.example.other", "not a Harbor event type"},
		"sbom scan": {"application/json", defaultBody("SCANNING_COMPLETED",
			`{"scan":{"scan_type":"sbom"},"resources":[{"digest":"`+dg+`"}],`+repoPR+`}`), "SCANNING_COMPLETED", "SBOM"},
		// Push replication (local → remote), from Harbor's docs shape with src/dest swapped.
		"push replication": {"application/json", defaultBody("REPLICATION", `{"replication":{"job_status":"Success",
			"src_resource":{"registry_type":"harbor","endpoint":"https://h","namespace":"library"},
			"dest_resource":{"registry_name":"hub","registry_type":"docker-hub","endpoint":"https://hub.docker.com","namespace":"x"}}}`),
			"REPLICATION", "changes nothing here"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			ev, err := ParseEvent(jsonHeader(c.ct), []byte(c.body))
			if err != nil || len(ev.Targets) != 0 || ev.Type != c.typ || !strings.Contains(ev.Ignored, c.reason) {
				t.Fatalf("got %+v, %v; want %s ignored because %q", ev, err, c.typ, c.reason)
			}
		})
	}
}

func TestParseEvent_projectEvents(t *testing.T) {
	cases := map[string]struct {
		body     string
		want     []string
		warnings int
	}{
		// Harbor docs "Configure Webhook Notifications" TAG_RETENTION example, plus a
		// nested repository, an untagged artifact and a malformed entry.
		"retention": {defaultBody("TAG_RETENTION", `{"retention":{"total":3,"retained":0,"harbor_hostname":"localhost",
			"project_name":"harbor","retention_policy_id":1,"result":"SUCCESS","deleted_artifact":[
			{"type":"image","status":"SUCCESS","name_tag":"alpine:3.8"},{"type":"image","status":"SUCCESS","name_tag":"team/app:v1"},
			{"type":"image","status":"SUCCESS","name_tag":""},{"type":"image","status":"SUCCESS","name_tag":"Bad Name:x"}]}}`),
			[]string{"repository harbor/alpine", "repository harbor/team/app", "project harbor"}, 1},
		// Harbor docs REPLICATION example: pulled from Docker Hub into local project "harbor".
		"pull replication": {defaultBody("REPLICATION", `{"replication":{"harbor_hostname":"localhost","job_status":"Success",
			"artifact_type":"image","authentication_type":"basic","override_mode":true,"trigger_type":"MANUAL","policy_creator":"admin",
			"execution_timestamp":1680502795,
			"src_resource":{"registry_name":"dockerhub","registry_type":"docker-hub","endpoint":"https://hub.docker.com","namespace":"library"},
			"dest_resource":{"registry_type":"harbor","endpoint":"http://localhost","namespace":"harbor"},
			"successful_artifact":[{"type":"image","status":"Success","name_tag":"alpine [1 item(s) in total]"}]}}`),
			[]string{"project harbor"}, 0},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			ev, err := ParseEvent(jsonHeader("application/json"), []byte(c.body))
			if err != nil {
				t.Fatal(err)
			}
			if got := keyStrings(ev.Targets); !slices.Equal(got, c.want) {
				t.Fatalf("targets %q, want %q", got, c.want)
			}
			if len(ev.Warnings) != c.warnings {
				t.Fatalf("warnings %q, want %d", ev.Warnings, c.warnings)
			}
		})
	}
}

func TestParseEvent_resources(t *testing.T) {
	// Two resources (one twice, once as a digest-tag push), one tag-only: the
	// repository and project appear once; CheckListed only if every mention asks.
	body := defaultBody("PUSH_ARTIFACT", `{"resources":[{"digest":"`+dg+`","tag":"`+dg+`"},{"digest":"`+dg2+`","tag":"v1"},
		{"digest":"`+dg+`","tag":"latest"},{"tag":"v2"}],`+repoPR+`}`)
	ev, err := ParseEvent(jsonHeader("application/json"), []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"artifact p/r@" + dg, "artifact p/r@" + dg2, "artifact p/r@v2", "repository p/r", "project p"}
	if got := keyStrings(ev.Targets); !slices.Equal(got, want) {
		t.Fatalf("targets %q, want %q", got, want)
	}
}

func TestParseEvent_binaryCloudEvents(t *testing.T) {
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("Ce-Specversion", "1.0")
	h.Set("Ce-Id", "abc")
	h.Set("Ce-Source", "/projects/2/webhook/policies/2")
	h.Set("Ce-Type", "harbor.artifact.deleted")
	h.Set("Ce-Operator", "admin")
	data := `{"resources":[{"digest":"` + dg + `","tag":"1.0"}],` + repoPR + `}`
	ev, err := ParseEvent(h, []byte(data))
	if err != nil {
		t.Fatal(err)
	}
	if ev.Format != FormatCloudEvents || ev.Type != "DELETE_ARTIFACT" || ev.ID != "abc" || ev.Operator != "admin" ||
		!slices.Equal(keyStrings(ev.Targets), threeKeys("p/r", dg, false)) {
		t.Fatalf("got %+v", ev)
	}
	h.Del("Ce-Id")
	if _, err := ParseEvent(h, []byte(data)); err == nil || !strings.Contains(err.Error(), "header ce-id is missing") {
		t.Fatalf("binary mode without ce-id: %v", err)
	}
	h.Set("Ce-Id", "abc")
	h.Set("Content-Type", "application/cloudevents+json")
	if _, err := ParseEvent(h, []byte(data)); !errors.Is(err, ErrBadPayload) {
		t.Fatalf("binary mode with a structured Content-Type: %v", err)
	}
}

// A structured CloudEvent sent as application/json is still recognised
// (internal/harbor/API-NOTES.md "Webhook payloads": key on Content-Type or on specversion).
func TestParseEvent_cloudEventAsPlainJSON(t *testing.T) {
	h, body := loadDelivery(t, "real-webhook-cloudevents-push_artifact.json")
	h.Set("Content-Type", "application/json")
	ev, err := ParseEvent(h, body)
	if err != nil || ev.Format != FormatCloudEvents || len(ev.Targets) != 3 {
		t.Fatalf("got %+v, %v", ev, err)
	}
}
