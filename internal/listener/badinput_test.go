package listener

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
)

// ListenerBadInputs is the listener's part of the bad-input catalogue
// (docs/guides/troubleshooting.md quotes every Want; TestTroubleshootingGuideListener
// checks it): what a wrong secret, a wrong Content-Type or a malformed payload
// gets back. Harbor shows the status in the policy's execution log; the JSON
// error is in the response body and the listener's log.
var listenerBadInputs = []struct {
	name    string
	method  string
	auth    string // Authorization header; "" = none
	ctype   string
	body    string
	status  int
	want    string // the exact "error" text of the JSON reply (or "reason" of an ignored event)
	ignored bool
}{
	{name: "no Authorization header", auth: "", ctype: "application/json", body: string(pushBody(digestN(1))),
		status: 401, want: "the Authorization header does not match the configured webhook secret: set the Harbor policy's auth_header to the secret, verbatim"},
	{name: "secret without its Bearer prefix", auth: strings.TrimPrefix(testSecret, "Bearer "), ctype: "application/json", body: string(pushBody(digestN(1))),
		status: 401, want: "the Authorization header does not match the configured webhook secret: set the Harbor policy's auth_header to the secret, verbatim"},
	{name: "GET instead of POST", method: http.MethodGet, auth: testSecret,
		status: 405, want: "GET is not allowed: Harbor delivers webhooks with POST"},
	{name: "wrong Content-Type", auth: testSecret, ctype: "text/plain", body: string(pushBody(digestN(1))),
		status: 415, want: `unsupported Content-Type: Harbor sends application/json (Default) or application/cloudevents+json (CloudEvents) (got "text/plain")`},
	{name: "body is not a JSON object", auth: testSecret, ctype: "application/json", body: `[{"type":"PUSH_ARTIFACT"}]`,
		status: 400, want: "bad webhook payload: the body is not a JSON object"},
	{name: "truncated JSON", auth: testSecret, ctype: "application/json", body: `{"type":"PUSH_ARTIFACT","event_data":{`,
		status: 400, want: "bad webhook payload: the body is not valid JSON for a Harbor event: unexpected end of JSON input"},
	{name: "Default payload without type", auth: testSecret, ctype: "application/json", body: `{"occur_at":1,"event_data":{}}`,
		status: 400, want: `bad webhook payload: field "type" is missing: a Default payload is {type, occur_at, operator, event_data}, a CloudEvents one has "specversion"`},
	{name: "push without repository", auth: testSecret, ctype: "application/json",
		body:   `{"type":"PUSH_ARTIFACT","occur_at":1,"operator":"admin","event_data":{"resources":[{"digest":"` + digestN(1) + `","tag":"v1"}]}}`,
		status: 400, want: "bad webhook payload: PUSH_ARTIFACT event without event_data.repository"},
	{name: "CloudEvents without id", auth: testSecret, ctype: "application/cloudevents+json",
		body:   `{"specversion":"1.0","source":"/projects/1/webhook/policies/1","type":"harbor.artifact.pushed","data":{}}`,
		status: 400, want: `bad webhook payload: attribute "id" is missing (REQUIRED by CloudEvents 1.0)`},
	{name: "digest that is not a digest", auth: testSecret, ctype: "application/json",
		body:   `{"type":"PUSH_ARTIFACT","occur_at":1,"event_data":{"resources":[{"digest":"latest"}],"repository":{"name":"r","namespace":"p","repo_full_name":"p/r"}}}`,
		status: 400, want: `bad webhook payload: event_data.resources[0].digest "latest" is not a digest (algorithm:hex)`},
	{name: "body over 1 MiB", auth: testSecret, ctype: "application/json", body: `{"type":"PUSH_ARTIFACT","pad":"` + strings.Repeat("x", 1<<20) + `"}`,
		status: 413, want: "body of 1048609 bytes is over the 1048576-byte limit"},
	{name: "event type that changes nothing", auth: testSecret, ctype: "application/json",
		body:   `{"type":"QUOTA_EXCEED","occur_at":1,"operator":"admin","event_data":{}}`,
		status: 202, ignored: true, want: "QUOTA_EXCEED changes no catalog entity (the push it concerns has its own PUSH_ARTIFACT event, or was refused)"},
}

func TestListenerBadInput(t *testing.T) {
	s := newTestServer(t, t.TempDir(), &recorder{})
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	for _, c := range listenerBadInputs {
		t.Run(c.name, func(t *testing.T) {
			method := c.method
			if method == "" {
				method = http.MethodPost
			}
			req, err := http.NewRequest(method, srv.URL+WebhookPath, bytes.NewReader([]byte(c.body)))
			if err != nil {
				t.Fatal(err)
			}
			if c.ctype != "" {
				req.Header.Set("Content-Type", c.ctype)
			}
			if c.auth != "" {
				req.Header.Set("Authorization", c.auth)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = resp.Body.Close() }() // read below; a close error changes nothing
			raw, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != c.status {
				t.Errorf("status %d, want %d; body %s", resp.StatusCode, c.status, raw)
			}
			var body struct{ Error, Status, Reason string }
			if err := json.Unmarshal(raw, &body); err != nil {
				t.Fatalf("the reply is not JSON: %v: %s", err, raw)
			}
			got := body.Error
			if c.ignored {
				got = body.Reason
				if body.Status != "ignored" {
					t.Errorf("status %q, want ignored", body.Status)
				}
			}
			if got != c.want {
				t.Errorf("reply\n  %q\nwant\n  %q", got, c.want)
			}
			if strings.Contains(string(raw), "s3cret") {
				t.Errorf("the reply repeats the secret: %s", raw)
			}
		})
	}
	if n := s.Spool().Depth(); n != 0 {
		t.Errorf("%d keys were spooled from bad deliveries", n)
	}
}

// TestTroubleshootingGuideListener: the guide quotes each reply verbatim.
func TestTroubleshootingGuideListener(t *testing.T) {
	raw, err := os.ReadFile("../../docs/guides/troubleshooting.md")
	if err != nil {
		t.Fatalf("the troubleshooting guide is missing (make docs renders templates/guides/troubleshooting.md.tmpl): %v", err)
	}
	doc := strings.Join(strings.Fields(string(raw)), " ")
	for _, c := range listenerBadInputs {
		if c.name == "body over 1 MiB" {
			continue // the byte count depends on the body; the guide quotes the limit
		}
		if !strings.Contains(doc, strings.Join(strings.Fields(c.want), " ")) {
			t.Errorf("%s: docs/guides/troubleshooting.md does not quote %q", c.name, c.want)
		}
	}
	if !strings.Contains(doc, "is over the 1048576-byte limit") {
		t.Error("docs/guides/troubleshooting.md does not quote the body limit message")
	}
}
