package harbor

import (
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"
)

func TestWebhookPolicies(t *testing.T) {
	s := newStub(t)
	base := "/api/v2.0/projects/tfdemo/webhook/policies"
	s.handle("GET", base, pageOf(as[[]any](t, loadJSON(t, "real-api-webhook-policies-list.json"))))
	s.handle("GET", base+"/2", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, loadJSON(t, "real-api-webhook-policy-get.json"))
	})
	s.handle("POST", base, func(w http.ResponseWriter, r *http.Request) {
		// Harbor: 201, empty body, Location = request path + id (handler/webhook.go).
		w.Header().Set("Location", r.URL.Path+"/3")
		w.WriteHeader(201)
	})
	s.handle("PUT", base+"/3", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(200) })
	s.handle("DELETE", base+"/3", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(200) })
	s.handle("POST", "/api/v2.0/projects/2/webhook/policies", func(w http.ResponseWriter, r *http.Request) {
		harborError(w, 409, "CONFLICT", "notification policy named wh-default already exists")
	})
	c := newTestClient(t, fastConfig(s.srv.URL))
	ctx := ctxT(t)

	list, err := c.ListWebhookPolicies(ctx, "tfdemo")
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].Name != "wh-cloudevents" || list[0].Targets[0].PayloadFormat != "CloudEvents" || list[0].Targets[0].AuthHeader != "Bearer secret-ce" || !list[0].Enabled || list[0].ProjectID != 2 {
		t.Fatalf("list = %+v", list)
	}
	got, err := c.GetWebhookPolicy(ctx, "tfdemo", 2)
	if err != nil || !reflect.DeepEqual(*got, list[0]) {
		t.Fatalf("get = %+v, %v", got, err)
	}

	p := WebhookPolicy{Name: "harborport", EventTypes: []string{"PUSH_ARTIFACT"}, Targets: []WebhookTarget{{Type: "http", Address: "https://l.example.com/integration/webhook", AuthHeader: "Bearer x"}}}
	id, err := c.CreateWebhookPolicy(ctx, "tfdemo", p)
	if err != nil || id != 3 {
		t.Fatalf("create = %d, %v", id, err)
	}
	p.ID = 3
	if err := c.UpdateWebhookPolicy(ctx, "tfdemo", p); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteWebhookPolicy(ctx, "tfdemo", 3); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateWebhookPolicy(ctx, "2", p); !IsConflict(err) {
		t.Fatalf("duplicate name: err = %v", err)
	}

	for _, r := range s.requests() {
		name := r.Header.Get("X-Is-Resource-Name")
		if strings.Contains(r.URI, "/projects/tfdemo/") != (name == "true") {
			t.Errorf("%s %s: X-Is-Resource-Name = %q", r.Method, r.URI, name)
		}
		if r.Method == "POST" || r.Method == "PUT" {
			var body map[string]any
			if err := json.Unmarshal(r.Body, &body); err != nil {
				t.Fatal(err)
			}
			// Harbor stores an omitted enabled as false (internal/harbor/API-NOTES.md
			// "Webhook policies"): always send it.
			if v, ok := body["enabled"]; !ok || v != false {
				t.Errorf("%s body enabled = %v (present %v)", r.Method, v, ok)
			}
			targets := as[[]any](t, body["targets"])
			if len(targets) == 0 {
				t.Fatalf("%s body has no targets", r.Method)
			}
			tg := as[map[string]any](t, targets[0])
			if _, ok := tg["payload_format"]; ok {
				t.Errorf("empty payload_format must be omitted (400 for slack targets)")
			}
			if _, ok := tg["skip_cert_verify"]; !ok {
				t.Errorf("skip_cert_verify must always be sent")
			}
			if _, ok := body["creation_time"]; ok {
				t.Errorf("read-only creation_time sent")
			}
			if r.Header.Get("Content-Type") != "application/json" {
				t.Errorf("Content-Type %q", r.Header.Get("Content-Type"))
			}
		}
	}
}

func TestCreateWebhookPolicyWithoutLocation(t *testing.T) {
	s := newStub(t)
	s.handle("POST", "/api/v2.0/projects/p/webhook/policies", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(201) })
	_, err := newTestClient(t, fastConfig(s.srv.URL)).CreateWebhookPolicy(ctxT(t), "p", WebhookPolicy{Name: "n"})
	if err == nil || !strings.Contains(err.Error(), `find the policy by name "n"`) {
		t.Fatalf("err = %v", err)
	}
}

func TestListWebhookPoliciesEmptyIsNotNil(t *testing.T) {
	s := newStub(t)
	s.handle("GET", "/api/v2.0/projects/p/webhook/policies", pageOf([]any{}))
	got, err := newTestClient(t, fastConfig(s.srv.URL)).ListWebhookPolicies(ctxT(t), "p")
	if err != nil || got == nil || len(got) != 0 {
		t.Fatalf("got %#v, %v", got, err)
	}
}
