package listener

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/harborport/terraform-provider-harborport/internal/mapping"
)

// loadDelivery returns the Content-Type and body of a capture: real-* files
// hold the delivery with its headers; the others are bare bodies from Harbor's docs.
func loadDelivery(t *testing.T, name string) (string, []byte) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	if strings.HasPrefix(name, "real-") {
		var c struct {
			Headers map[string]string `json:"headers"`
			BodyRaw string            `json:"body_raw"`
		}
		if err := json.Unmarshal(raw, &c); err != nil {
			t.Fatal(err)
		}
		return c.Headers["Content-Type"], []byte(c.BodyRaw)
	}
	if strings.Contains(name, "cloudevents") {
		return "application/cloudevents+json", raw
	}
	return "application/json", raw
}

func TestParseEvent_captures(t *testing.T) {
	cases := []struct {
		file, typ, format, repo, digestPrefix string
		ignored, checkListed                  bool
	}{
		{"real-webhook-default-push_artifact.json", "PUSH_ARTIFACT", "default", "tfdemo/hello", "sha256:", false, false},
		{"real-webhook-default-pull_artifact.json", "PULL_ARTIFACT", "default", "", "sha256:", false, false},
		{"real-webhook-default-delete_artifact.json", "DELETE_ARTIFACT", "default", "tfdemo/ocihello", "sha256:6a84374472407251", false, false},
		{"real-webhook-cloudevents-push_artifact.json", "PUSH_ARTIFACT", "cloudevents", "tfdemo/hello", "sha256:6cb0ba24593f", false, false},
		{"real-webhook-cloudevents-pull_artifact.json", "PULL_ARTIFACT", "cloudevents", "", "sha256:", false, false},
		{"real-webhook-cloudevents-delete_artifact.json", "DELETE_ARTIFACT", "cloudevents", "", "sha256:", false, false},
		{"webhook-default-push-artifact.json", "PUSH_ARTIFACT", "default", "harbor/alpine", "sha256:954b378c", false, true},
		{"webhook-default-push-artifact-tagged.json", "PUSH_ARTIFACT", "default", "test-webhook/debian", "sha256:8a9e9863", false, false},
		{"webhook-default-pull-artifact.json", "PULL_ARTIFACT", "default", "harbor/alpine", "sha256:", false, false},
		{"webhook-default-delete-artifact.json", "DELETE_ARTIFACT", "default", "harbor/alpine", "sha256:2bb501e6", false, false},
		{"webhook-default-scanning-completed-no-vulns.json", "SCANNING_COMPLETED", "default", "harbor/alpine", "sha256:", false, false},
		{"webhook-default-scanning-completed-with-vulns.json", "SCANNING_COMPLETED", "default", "test/alpine/helm", "sha256:b5033404", false, false},
		{"webhook-default-scanning-failed.json", "SCANNING_FAILED", "default", "harbor/alpine", "sha256:", false, false},
		{"webhook-default-scanning-stopped.json", "SCANNING_STOPPED", "default", "harbor/alpine", "sha256:", false, false},
		{"webhook-cloudevents-artifact-deleted.json", "DELETE_ARTIFACT", "cloudevents", "harbor/alpine", "sha256:2bb501e6", false, false},
		{"webhook-cloudevents-artifact-pulled.json", "PULL_ARTIFACT", "cloudevents", "library/busybox", "sha256:dde8e930", false, false},
		{"webhook-cloudevents-scan-completed.json", "SCANNING_COMPLETED", "cloudevents", "harbor/alpine", "sha256:954b378c", false, false},
		{"webhook-default-quota-exceed.json", "QUOTA_EXCEED", "default", "", "", true, false},
	}
	files, _ := filepath.Glob("testdata/*webhook-*.json")
	if len(files) != len(cases) {
		t.Errorf("%d capture files, %d cases: every capture needs a case", len(files), len(cases))
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			ct, body := loadDelivery(t, c.file)
			ev, err := ParseEvent(ct, body)
			if err != nil {
				t.Fatal(err)
			}
			if ev.Type != c.typ || ev.Format != c.format {
				t.Fatalf("type/format = %s/%s, want %s/%s", ev.Type, ev.Format, c.typ, c.format)
			}
			if c.ignored {
				if len(ev.Targets) != 0 || ev.Ignored == "" {
					t.Fatalf("want ignored with a reason, got %+v", ev)
				}
				return
			}
			if len(ev.Targets) != 3 {
				t.Fatalf("targets = %+v, want artifact, repository, project", ev.Targets)
			}
			a, r, p := ev.Targets[0], ev.Targets[1], ev.Targets[2]
			if a.Kind != mapping.KindArtifact || r.Kind != mapping.KindRepository || p.Kind != mapping.KindProject {
				t.Fatalf("kinds: %+v", ev.Targets)
			}
			if c.repo != "" && (a.Repository != c.repo || r.Repository != c.repo || !strings.HasPrefix(c.repo, p.Project+"/")) {
				t.Errorf("repository/project = %q %q %q, want %q", a.Repository, r.Repository, p.Project, c.repo)
			}
			if !strings.HasPrefix(a.Digest, c.digestPrefix) {
				t.Errorf("digest = %q, want prefix %q", a.Digest, c.digestPrefix)
			}
			if a.CheckListed != c.checkListed {
				t.Errorf("CheckListed = %v, want %v (a push by digest may be an index child)", a.CheckListed, c.checkListed)
			}
			if c.format == "cloudevents" && ev.ID == "" {
				t.Error("CloudEvents id missing")
			}
		})
	}
}

func TestParseEvent_bad(t *testing.T) {
	cases := map[string]struct{ ct, body, want string }{
		"not json":            {"application/json", `{"type":`, "not a JSON object"},
		"no type":             {"application/json", `{"event_data":{}}`, "no event type"},
		"no data":             {"application/json", `{"type":"PUSH_ARTIFACT"}`, "without event_data"},
		"no repository":       {"application/json", `{"type":"PUSH_ARTIFACT","event_data":{"resources":[{"digest":"sha256:1"}]}}`, "without repository"},
		"no resources":        {"application/json", `{"type":"PUSH_ARTIFACT","event_data":{"repository":{"namespace":"p","repo_full_name":"p/r","name":"r"}}}`, "without resources"},
		"empty resource":      {"application/json", `{"type":"PUSH_ARTIFACT","event_data":{"resources":[{}],"repository":{"namespace":"p","repo_full_name":"p/r","name":"r"}}}`, "neither digest nor tag"},
		"namespace mismatch":  {"application/json", `{"type":"PUSH_ARTIFACT","event_data":{"resources":[{"digest":"sha256:1"}],"repository":{"namespace":"p","repo_full_name":"q/r"}}}`, "namespace"},
		"cloudevents version": {"application/cloudevents+json", `{"specversion":"0.3","type":"harbor.artifact.pushed","data":{}}`, "specversion"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := ParseEvent(c.ct, []byte(c.body))
			if !errors.Is(err, ErrBadPayload) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want ErrBadPayload mentioning %q", err, c.want)
			}
		})
	}
}

func TestParseEvent_ignored(t *testing.T) {
	for _, body := range []string{
		`{"type":"TAG_RETENTION","event_data":{}}`,
		`{"specversion":"1.0","id":"x","type":"com.example.other","data":{}}`,
		`{"type":"SCANNING_COMPLETED","event_data":{"scan":{"scan_type":"sbom"},"resources":[{"digest":"sha256:1"}],"repository":{"namespace":"p","repo_full_name":"p/r"}}}`,
	} {
		ev, err := ParseEvent("application/json", []byte(body))
		if err != nil || len(ev.Targets) != 0 || ev.Ignored == "" {
			t.Errorf("%s: %+v %v, want ignored", body, ev, err)
		}
	}
}
