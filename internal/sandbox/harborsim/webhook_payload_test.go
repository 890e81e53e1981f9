package harborsim

import (
	"strings"
	"testing"
	"time"
)

// eventFromCapture rebuilds the simulator Event behind a real Default/CloudEvents body.
func eventFromCapture(t *testing.T, body map[string]any) (Event, string) {
	t.Helper()
	data, _ := body["event_data"].(map[string]any)
	typ, _ := body["type"].(string)
	var occur time.Time
	if data == nil { // CloudEvents
		data = as[map[string]any](t, body["data"])
		for k, v := range cloudEventTypes {
			if v == body["type"] {
				typ = k
			}
		}
		var err error
		if occur, err = time.Parse(time.RFC3339, as[string](t, body["time"])); err != nil {
			t.Fatal(err)
		}
	} else {
		occur = time.Unix(int64(as[float64](t, body["occur_at"])), 0)
	}
	res := as[map[string]any](t, as[[]any](t, data["resources"])[0])
	repo := as[map[string]any](t, data["repository"])
	ev := Event{Type: typ, OccurAt: occur, Operator: as[string](t, body["operator"]),
		ProjectName: as[string](t, repo["namespace"]), Public: repo["repo_type"] == "public",
		RepoName: as[string](t, repo["repo_full_name"]), RepoCreated: time.Unix(int64(as[float64](t, repo["date_created"])), 0),
		Digest: as[string](t, res["digest"]), Tag: as[string](t, res["tag"])}
	url := as[string](t, res["resource_url"])
	return ev, url[:strings.Index(url, "/")]
}

// TestPayloadBytesMatchRealCaptures: the formatter reproduces the real v2.15.2 bodies byte for
// byte (field order, omitempty, number formats, no trailing newline) in both formats.
func TestPayloadBytesMatchRealCaptures(t *testing.T) {
	for _, name := range []string{"push_artifact", "pull_artifact", "delete_artifact"} {
		for _, format := range []string{"default", "cloudevents"} {
			t.Run(format+"/"+name, func(t *testing.T) {
				capt := readRealCapture(t, "real-webhook-"+format+"-"+name+".json")
				body := decodeJSON(t, []byte(capt.BodyRaw))
				ev, host := eventFromCapture(t, body)
				p := buildPayload(ev, host)
				var got []byte
				var err error
				if format == "default" {
					got, err = formatDefault(p)
				} else {
					got, err = formatCloudEvents(p, 2, 2, as[string](t, body["id"]), as[string](t, body["requestid"]))
				}
				if err != nil {
					t.Fatal(err)
				}
				if string(got) != capt.BodyRaw {
					t.Fatalf("payload differs from the real capture:\n got %s\nwant %s", got, capt.BodyRaw)
				}
				if cl := capt.Headers["Content-Length"]; cl != itoa(int64(len(got))) {
					t.Fatalf("length %d, captured Content-Length %s", len(got), cl)
				}
			})
		}
	}
}

// TestPayloadRules pins the rules that the captures alone do not cover
// (internal/harbor/API-NOTES.md "Webhook payloads").
func TestPayloadRules(t *testing.T) {
	d := "sha256:" + strings.Repeat("ab", 32)
	base := Event{OccurAt: time.Unix(1795855167, 0), Operator: "admin", ProjectName: "test", RepoName: "test/alpine/helm",
		RepoCreated: time.Unix(1795855000, 0), Digest: d}
	cases := []struct {
		name  string
		ev    func(Event) Event
		check func(t *testing.T, p *whPayload)
	}{
		{"untagged push uses the digest as tag and @ in the URL", func(e Event) Event { e.Type, e.Tag = "PUSH_ARTIFACT", d; return e },
			func(t *testing.T, p *whPayload) {
				r := p.EventData.Resources[0]
				if r.Tag != d || r.ResourceURL != "h:1/test/alpine/helm@"+d {
					t.Fatalf("%+v", r)
				}
			}},
		{"nested repo name is everything after the first slash", func(e Event) Event { e.Type, e.Tag = "PULL_ARTIFACT", "1.0"; return e },
			func(t *testing.T, p *whPayload) {
				if r := p.EventData.Repository; r.Name != "alpine/helm" || r.Namespace != "test" || r.RepoType != "private" {
					t.Fatalf("%+v", r)
				}
			}},
		{"public project", func(e Event) Event { e.Type, e.Tag, e.Public = "PUSH_ARTIFACT", "x", true; return e },
			func(t *testing.T, p *whPayload) {
				if p.EventData.Repository.RepoType != "public" {
					t.Fatal(p.EventData.Repository.RepoType)
				}
			}},
		{"deleted repository row omits date_created", func(e Event) Event { e.Type, e.Tag, e.RepoCreated = "DELETE_ARTIFACT", "x", time.Time{}; return e },
			func(t *testing.T, p *whPayload) {
				if b, _ := formatDefault(p); strings.Contains(string(b), "date_created") {
					t.Fatal(string(b))
				}
			}},
		{"scan by digest: no tag, @digest URL, no date_created, scan_type", func(e Event) Event { e.Type = "SCANNING_COMPLETED"; return e },
			func(t *testing.T, p *whPayload) {
				b, _ := formatDefault(p)
				s := string(b)
				if strings.Contains(s, `"tag"`) || strings.Contains(s, "date_created") || !strings.Contains(s, `"resource_url":"h:1/test/alpine/helm@`+d) ||
					!strings.Contains(s, `"scan":{"scan_type":"vulnerability"}`) {
					t.Fatal(s)
				}
			}},
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) { tt.check(t, buildPayload(tt.ev(base), "h:1")) })
	}
	if _, err := formatCloudEvents(&whPayload{Type: "CREATE_TAG"}, 1, 1, "i", "r"); err == nil {
		t.Fatal("an event type without a CloudEvents mapping must be an error")
	}
}
