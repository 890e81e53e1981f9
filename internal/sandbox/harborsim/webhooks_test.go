package harborsim

import (
	"strings"
	"testing"
)

const whBase = "/api/v2.0/projects/tfdemo/webhook/policies"

func whFixture(t *testing.T) *tc {
	c := newTC(t, Options{})
	c.s.CreateProject("tfdemo", false) // project_id 2 (library is 1)
	return c
}

func TestWebhookPolicyValidation(t *testing.T) {
	c := whFixture(t)
	target := `"targets":[{"type":"http","address":"https://h.example/hook"}]`
	cases := []struct {
		name, body string
		status     int
		msg        string
	}{
		{"missing body", "", 422, "validation failure list:\npolicy in body is required"},
		{"empty event types", `{"name":"a",` + target + `}`, 400, "empty event type"},
		{"unknown event type", `{"name":"a","event_types":["NOPE"],` + target + `}`, 400, "unsupported event type NOPE"},
		{"removed chart event", `{"name":"a","event_types":["UPLOAD_CHART"],` + target + `}`, 400, "unsupported event type UPLOAD_CHART"},
		{"no targets", `{"name":"a","event_types":["PUSH_ARTIFACT"]}`, 400, "empty notification target with policy a"},
		{"empty address", `{"name":"a","event_types":["PUSH_ARTIFACT"],"targets":[{"type":"http","address":""}]}`, 400, "empty URL"},
		{"bad scheme", `{"name":"a","event_types":["PUSH_ARTIFACT"],"targets":[{"type":"http","address":"ftp://h/x"}]}`, 400, "invalid scheme: ftp"},
		{"unknown target type", `{"name":"a","event_types":["PUSH_ARTIFACT"],"targets":[{"type":"email","address":"http://h"}]}`, 400, "unsupported target type email with policy a"},
		{"slack with payload format", `{"name":"a","event_types":["PUSH_ARTIFACT"],"targets":[{"type":"slack","address":"https://h","payload_format":"Default"}]}`, 400, "set payload format is not allowed for slack"},
		{"unknown payload format", `{"name":"a","event_types":["PUSH_ARTIFACT"],"targets":[{"type":"http","address":"https://h","payload_format":"XML"}]}`, 400, "unsupported payload format type: XML"},
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			r := c.req("POST", whBase, admin, tt.body)
			code := map[int]string{400: "BAD_REQUEST", 422: "UNPROCESSABLE_ENTITY"}[tt.status]
			if r.status != tt.status || r.body != errBody(code, tt.msg) {
				t.Fatalf("got %d %q, want %d %q", r.status, r.body, tt.status, tt.msg)
			}
		})
	}
}

func TestWebhookPolicyCRUD(t *testing.T) {
	c := whFixture(t)
	body := `{"name":"wh","description":"d","creator":"tf","event_types":["PUSH_ARTIFACT"],"targets":[{"type":"http","address":" https://user:pw@h.example/hook/?token=s#f ","auth_header":"Bearer x","skip_cert_verify":true}]}`
	r := c.req("POST", whBase, admin, body)
	if r.status != 201 || r.body != "" || r.header.Get("Location") != whBase+"/1" {
		t.Fatalf("create: %d %q Location=%q", r.status, r.body, r.header.Get("Location"))
	}
	body2 := strings.Replace(strings.Replace(body, `"wh"`, `"wh2"`, 1), " https://user:pw@h.example/hook/?token=s#f ", "h.example/x/", 1)
	r = c.req("POST", "/api/v2.0/projects/2/webhook/policies", admin, body2)
	if r.header.Get("Location") != "/api/v2.0/projects/2/webhook/policies/2" {
		t.Fatalf("Location must echo the path as sent: %q", r.header.Get("Location"))
	}
	r = c.req("POST", whBase, admin, body)
	if r.status != 409 || r.body != errBody("CONFLICT", "notification policy named wh already exists") {
		t.Fatalf("duplicate: %d %q", r.status, r.body)
	}
	var p policyJSON
	c.req("GET", whBase+"/1", admin, "").json(t, &p)
	if p.Enabled {
		t.Fatal("enabled omitted on POST must be stored as false")
	}
	tg := p.Targets[0]
	// userinfo, query and fragment are dropped; the trailing "/" survives here because it was not
	// the last character before parsing (utils.ParseEndpoint trims it first).
	if tg.Address != "https://h.example/hook/" || tg.PayloadFormat != "Default" || tg.AuthHeader != "Bearer x" || p.Creator != "tf" || p.ProjectID != 2 {
		t.Fatalf("stored policy %+v", p)
	}
	// list by exact name
	r = c.req("GET", whBase+"?q=name%3Dwh2", admin, "")
	var list []policyJSON
	r.json(t, &list)
	if len(list) != 1 || list[0].Name != "wh2" || r.header.Get("X-Total-Count") != "1" || list[0].Targets[0].Address != "http://h.example/x" {
		t.Fatalf("list by name: %s", r.body)
	}
	// PUT is a full replace; renaming onto an existing name is a 409
	r = c.req("PUT", whBase+"/1", admin, strings.Replace(body, `"wh"`, `"wh2"`, 1))
	if r.status != 409 {
		t.Fatalf("rename conflict: %d", r.status)
	}
	r = c.req("PUT", whBase+"/1", admin, `{"name":"wh","enabled":true,"event_types":["PULL_ARTIFACT"],"targets":[{"type":"http","address":"http://x"}]}`)
	if r.status != 200 || r.body != "" {
		t.Fatalf("put: %d %q", r.status, r.body)
	}
	p = policyJSON{}
	c.req("GET", whBase+"/1", admin, "").json(t, &p)
	if !p.Enabled || p.Description != "" || p.Creator != "" || p.EventTypes[0] != "PULL_ARTIFACT" {
		t.Fatalf("after put %+v", p)
	}
	errs := []struct {
		path   string
		status int
		body   string
	}{
		{whBase + "/99", 404, errBody("NOT_FOUND", "notification policy 99 not found")},
		{"/api/v2.0/projects/library/webhook/policies/1", 404, errBody("NOT_FOUND", "resource not found: project id:1, webhook policy id: 1 not found")},
		{whBase + "/abc", 422, errBody("UNPROCESSABLE_ENTITY", "validation failure list:\nwebhook_policy_id in path must be of type int64: \"abc\"")},
		{"/api/v2.0/projects/nope/webhook/policies/1", 404, errBody("NOT_FOUND", "project nope not found")},
	}
	for _, e := range errs {
		r := c.req("GET", e.path, admin, "")
		if r.status != e.status || r.body != e.body {
			t.Fatalf("%s: %d %q", e.path, r.status, r.body)
		}
	}
	if r := c.req("DELETE", whBase+"/1", admin, ""); r.status != 200 {
		t.Fatalf("delete %d", r.status)
	}
	if r := c.req("GET", whBase+"/1", admin, ""); r.status != 404 {
		t.Fatalf("after delete %d", r.status)
	}
}

func TestWebhookEventsMatchesRealCapture(t *testing.T) {
	c := whFixture(t)
	r := c.req("GET", "/api/v2.0/projects/tfdemo/webhook/events", admin, "")
	want := readCapture(t, "real-api-webhook-events.json")
	assertSameJSON(t, r.body, string(want))
}
