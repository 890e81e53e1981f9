package webhookpolicy

import (
	"context"
	"fmt"
	"maps"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/harborport/terraform-provider-harborport/internal/harbor"
	"github.com/harborport/terraform-provider-harborport/internal/sandbox/harborsim"
)

func TestNormalizeEndpoint(t *testing.T) {
	for in, want := range map[string]string{
		"https://l.example.com/hook/":    "https://l.example.com/hook",
		" https://l.example.com:8443/ ":  "https://l.example.com:8443",
		"http://l.example.com/a%20b":     "http://l.example.com/a b", // Harbor keeps u.Path (decoded)
		"https://l.example.com/x/y//":    "https://l.example.com/x/y",
		"https://l.example.com/integ/wh": "https://l.example.com/integ/wh",
	} {
		if got := NormalizeEndpoint(in); got != want {
			t.Errorf("NormalizeEndpoint(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestPolicyDifferences(t *testing.T) {
	want := harbor.WebhookPolicy{Name: "harborport", Enabled: true, EventTypes: []string{"DELETE_ARTIFACT", "PUSH_ARTIFACT"},
		Targets: []harbor.WebhookTarget{{Type: "http", Address: "https://l.example.com/h", AuthHeader: "Bearer s3cr3t-value-xyz", PayloadFormat: "Default"}}}
	with := func(f func(*harbor.WebhookPolicy)) harbor.WebhookPolicy {
		p := want
		p.EventTypes = slices.Clone(want.EventTypes)
		p.Targets = slices.Clone(want.Targets)
		f(&p)
		return p
	}
	for _, c := range []struct {
		name string
		have harbor.WebhookPolicy
		want string
	}{
		{"equal", want, ""},
		{"event order and duplicates ignored", with(func(p *harbor.WebhookPolicy) {
			p.EventTypes = []string{"PUSH_ARTIFACT", "DELETE_ARTIFACT", "PUSH_ARTIFACT"}
		}), ""},
		{"trailing slash is Harbor's normalisation", with(func(p *harbor.WebhookPolicy) { p.Targets[0].Address += "/" }), ""},
		{"empty format is Default", with(func(p *harbor.WebhookPolicy) { p.Targets[0].PayloadFormat = "" }), ""},
		{"disabled", with(func(p *harbor.WebhookPolicy) { p.Enabled = false }), "enabled"},
		{"events", with(func(p *harbor.WebhookPolicy) { p.EventTypes = []string{"PUSH_ARTIFACT"} }), "event_types"},
		{"endpoint", with(func(p *harbor.WebhookPolicy) { p.Targets[0].Address = "https://x.example.com/h" }), "endpoint"},
		{"slack target", with(func(p *harbor.WebhookPolicy) { p.Targets[0].Type = "slack" }), "endpoint"},
		{"secret", with(func(p *harbor.WebhookPolicy) { p.Targets[0].AuthHeader = "other" }), "secret"},
		{"format", with(func(p *harbor.WebhookPolicy) { p.Targets[0].PayloadFormat = "CloudEvents" }), "payload_format"},
		{"tls", with(func(p *harbor.WebhookPolicy) { p.Targets[0].SkipCertVerify = true }), "skip_cert_verify"},
		{"two targets", with(func(p *harbor.WebhookPolicy) { p.Targets = append(p.Targets, p.Targets[0]) }), "targets"},
		{"several, sorted", with(func(p *harbor.WebhookPolicy) { p.Enabled = false; p.Targets[0].AuthHeader = "x" }), "enabled, secret"},
	} {
		got := strings.Join(Differences(c.have, want), ", ")
		if got != c.want {
			t.Errorf("%s: differences = %q, want %q", c.name, got, c.want)
		}
		if strings.Contains(got, "s3cr3t") {
			t.Errorf("%s: the secret leaked: %q", c.name, got)
		}
	}
}

func TestPreview(t *testing.T) {
	ops := []Op{
		{Project: "a", ProjectID: 1, Op: OpAdopt, ID: 7},
		{Project: "b", ProjectID: 2, Op: OpAdopt, ID: 8, Fields: []string{"enabled"}},
		{Project: "c", ProjectID: 3, Op: OpCreate},
		{Project: "d", ProjectID: 4, Op: OpDelete, ID: 9},
		{Project: "e", ProjectID: 5, Op: OpUpdate, ID: 10, Fields: []string{"endpoint", "secret"}},
	}
	got := Preview(ops, 500)
	want := map[string]string{"a": "adopt", "b": "adopt, update: enabled", "c": "create", "d": "delete", "e": "update: endpoint, secret"}
	if !maps.Equal(got, want) {
		t.Errorf("pendingPreview = %v, want %v", got, want)
	}

	var many []Op
	for i := range previewLimit + 5 {
		many = append(many, Op{Project: fmt.Sprintf("p%04d", i), ProjectID: int64(i + 1), Op: OpCreate})
	}
	got = Preview(many, previewLimit)
	if len(got) != previewLimit || got[MoreKey] != "6 more" {
		t.Errorf("bounded preview: %d entries, %s = %q", len(got), MoreKey, got[MoreKey])
	}
}

func TestDecodeOps(t *testing.T) {
	if ops, err := DecodeOps(nil); err != nil || ops != nil {
		t.Errorf("empty: %v %v", ops, err)
	}
	if _, err := DecodeOps([]byte(`{`)); err == nil || !strings.Contains(err.Error(), "run terraform plan again") {
		t.Errorf("garbage: %v", err)
	}
	if _, err := DecodeOps([]byte(`[{"p":"a","o":"create"}]`)); err == nil || !strings.Contains(err.Error(), "project ids") {
		t.Errorf("old format accepted: %v", err)
	}
	if ops, err := DecodeOps([]byte(`[{"p":"a","pid":3,"o":"update","i":4,"f":["enabled"]}]`)); err != nil || ops[0].Summary() != "update: enabled" {
		t.Errorf("valid: %v %v", ops, err)
	}
}

// surveyHarbor is a Harbor simulator with projects "tfdemo" and the
// all-digit "2024", and a policy client on it.
func surveyHarbor(t *testing.T) (*harborsim.Server, *harbor.Client, *Client) {
	t.Helper()
	sim := harborsim.New(harborsim.Options{NoLibraryProject: true})
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	sim.CreateProject("tfdemo", false)
	sim.CreateProject("2024", false) // a valid Harbor name the client would read as an id
	hc, err := harbor.New(harbor.Config{URL: srv.URL, Username: "admin", Password: "Harbor12345", MaxRetries: -1})
	must(t, err)
	return sim, hc, &Client{Harbor: hc, User: "admin", Concurrency: 4}
}

const (
	testEndpoint = "https://listener.example.com/integration/webhook"
	testSecret   = "Bearer acc-webhook-secret-1234"
)

// surveySpec is harborport_webhook's default policy for projects (nil: all).
func surveySpec(projects ...string) Spec {
	events := []string{"DELETE_ARTIFACT", "PULL_ARTIFACT", "PUSH_ARTIFACT", "SCANNING_COMPLETED", "SCANNING_FAILED"}
	sp := Spec{HaveSecret: true, Policy: harbor.WebhookPolicy{Name: "harborport", Description: Description, Enabled: true, EventTypes: events,
		Targets: []harbor.WebhookTarget{{Type: TypeHTTP, Address: testEndpoint, AuthHeader: testSecret, PayloadFormat: "CloudEvents"}}}}
	if len(projects) > 0 {
		sp.Projects = projects
	}
	return sp
}

func preview(ops []Op) map[string]string { return Preview(ops, previewLimit) }

const previewLimit = 500

// named returns the policies called "harborport" in project.
func named(t *testing.T, hc *harbor.Client, project string) []harbor.WebhookPolicy {
	t.Helper()
	list, err := hc.ListWebhookPolicies(context.Background(), project)
	must(t, err)
	var out []harbor.WebhookPolicy
	for _, p := range list {
		if p.Name == "harborport" {
			out = append(out, p)
		}
	}
	return out
}

// ours checks project holds exactly one "harborport" policy, as specified.
func ours(t *testing.T, hc *harbor.Client, project string) error {
	ps := named(t, hc, project)
	if len(ps) != 1 {
		return fmt.Errorf("project %s has %d harborport policies, want 1", project, len(ps))
	}
	p := ps[0]
	if !p.Enabled || len(p.Targets) != 1 || p.Targets[0].Address != testEndpoint || p.Targets[0].AuthHeader != testSecret ||
		p.Targets[0].PayloadFormat != "CloudEvents" || p.Targets[0].SkipCertVerify || len(p.EventTypes) != 5 {
		return fmt.Errorf("project %s: policy not as specified: enabled=%v events=%v targets=%d", project, p.Enabled, p.EventTypes, len(p.Targets))
	}
	return nil
}

func managedProjectID(t *testing.T, hc *harbor.Client, name string) int64 {
	t.Helper()
	it, err := hc.GetProjectByName(context.Background(), name)
	must(t, err)
	return ProjectID(it)
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// Survey and execute against the simulator, without terraform: project ids
// in paths, leftovers, renamed and vanished policies, a 409 after the plan.
func TestWebhookSurveyAndExecute(t *testing.T) {
	ctx := context.Background()
	sim, hc, r := surveyHarbor(t)
	m := surveySpec()
	want := m.Policy

	sv, diags := r.Survey(ctx, m, nil)
	if diags.HasError() || fmt.Sprint(preview(sv.Ops)) != "map[2024:create tfdemo:create]" {
		t.Fatalf("first survey: %v %v", preview(sv.Ops), diags)
	}
	// Someone creates the policy in tfdemo between plan and apply, different
	// from ours: adopted (not duplicated), but not overwritten blindly — a
	// warning says so and the next plan shows the update.
	other := want
	other.Enabled = false
	_, err := hc.CreateWebhookPolicy(ctx, "tfdemo", other)
	must(t, err)
	managed, diags := r.Execute(ctx, want, sv.Ops, sv.Kept)
	if diags.HasError() || len(managed) != 2 {
		t.Fatalf("execute: %v %v", managed, diags)
	}
	if w := diags.Warnings(); len(w) != 1 || w[0].Summary != "Webhook Policies Changed Since the Plan" ||
		!strings.Contains(w[0].Detail, "tfdemo create: a policy with this name appeared in Harbor since the plan; adopted unchanged") {
		t.Fatalf("warnings: %v", w)
	}
	if ps := named(t, hc, "tfdemo"); len(ps) != 1 || ps[0].Enabled {
		t.Fatalf("tfdemo: %+v, want the one policy, left disabled", ps)
	}
	sv, diags = r.Survey(ctx, m, managed)
	if got := fmt.Sprint(preview(sv.Ops)); diags.HasError() || got != "map[tfdemo:update: enabled]" {
		t.Fatalf("the next plan: %s %v", got, diags)
	}
	if _, diags = r.Execute(ctx, want, sv.Ops, sv.Kept); diags.HasError() || len(diags.Warnings()) != 0 {
		t.Fatalf("execute the update: %v", diags)
	}
	if err := ours(t, hc, "tfdemo"); err != nil {
		t.Error(err)
	}
	if ps := named(t, hc, strconv.Itoa(int(managedProjectID(t, hc, "2024")))); len(ps) != 1 || ps[0].ID != managed["2024"] {
		t.Errorf("project 2024 (by id): %+v, managed %v", ps, managed)
	}

	// In sync now.
	if sv, diags = r.Survey(ctx, m, managed); diags.HasError() || len(sv.Ops) != 0 || !maps.Equal(sv.Kept, managed) {
		t.Fatalf("second survey: %v %v %v", sv.Ops, sv.Kept, diags)
	}

	// Narrowed to tfdemo: 2024's policy is deleted, unless it was renamed in Harbor (then it is no longer ours).
	narrowed := surveySpec("tfdemo")
	sv, _ = r.Survey(ctx, narrowed, managed)
	if got := fmt.Sprint(preview(sv.Ops)); got != "map[2024:delete]" {
		t.Errorf("narrowed: %s", got)
	}
	pid := strconv.FormatInt(managedProjectID(t, hc, "2024"), 10)
	p, err := hc.GetWebhookPolicy(ctx, pid, managed["2024"])
	must(t, err)
	p.Name = "renamed-by-hand"
	must(t, hc.UpdateWebhookPolicy(ctx, pid, *p))
	sv, _ = r.Survey(ctx, narrowed, managed)
	if len(sv.Ops) != 0 || sv.Kept["2024"] != 0 {
		t.Errorf("renamed policy still managed: ops %v kept %v", sv.Ops, sv.Kept)
	}
	must(t, r.DeleteManaged(ctx, pid, managed["2024"], "harborport"))
	if _, err := hc.GetWebhookPolicy(ctx, pid, managed["2024"]); err != nil {
		t.Errorf("DeleteManaged removed a policy renamed in Harbor: %v", err)
	}
	// A deleted project (and an explicit one that does not exist) just drops out, with a warning for the latter.
	must(t, sim.DeleteProject("2024"))
	sv, diags = r.Survey(ctx, surveySpec("tfdemo", "nope"), managed)
	if diags.HasError() || len(sv.Ops) != 0 || !maps.Equal(sv.Kept, map[string]int64{"tfdemo": managed["tfdemo"]}) {
		t.Errorf("deleted project: ops %v kept %v diags %v", sv.Ops, sv.Kept, diags)
	}
	if w := diags.Warnings(); len(w) != 1 || !strings.Contains(w[0].Detail, `Project "nope" does not exist`) {
		t.Errorf("warnings: %v", w)
	}
}

// Conditional apply for policies: an edit made in Harbor between the plan
// and the apply is not overwritten; the next plan shows the policy again.
// A policy already as wanted needs no write; a deleted one is not re-created
// behind the plan's back; a delete of an edited policy leaves it alone.
func TestWebhookExecuteIsConditional(t *testing.T) {
	ctx := context.Background()
	sim, hc, r := surveyHarbor(t)
	sim.CreateProject("third", false)
	m := surveySpec()
	want := m.Policy
	sv, _ := r.Survey(ctx, m, nil)
	managed, diags := r.Execute(ctx, want, sv.Ops, sv.Kept)
	if diags.HasError() || len(managed) != 3 {
		t.Fatalf("create: %v %v", managed, diags)
	}
	edit := func(project string, f func(*harbor.WebhookPolicy)) {
		t.Helper()
		pid := strconv.FormatInt(managedProjectID(t, hc, project), 10)
		p, err := hc.GetWebhookPolicy(ctx, pid, managed[project])
		must(t, err)
		f(p)
		must(t, hc.UpdateWebhookPolicy(ctx, pid, *p))
	}
	// Disabled by hand in all three: the plan updates all three.
	for _, p := range []string{"tfdemo", "2024", "third"} {
		edit(p, func(p *harbor.WebhookPolicy) { p.Enabled = false })
	}
	sv, _ = r.Survey(ctx, m, managed)
	if got := fmt.Sprint(preview(sv.Ops)); got != "map[2024:update: enabled tfdemo:update: enabled third:update: enabled]" {
		t.Fatalf("plan: %s", got)
	}
	// Between plan and apply: tfdemo's endpoint is edited, 2024 is fixed by
	// someone else, third's policy is deleted.
	edit("tfdemo", func(p *harbor.WebhookPolicy) { p.Targets[0].Address = "https://elsewhere.example.com/hook" })
	edit("2024", func(p *harbor.WebhookPolicy) { p.Enabled = true })
	must(t, hc.DeleteWebhookPolicy(ctx, strconv.FormatInt(managedProjectID(t, hc, "third"), 10), managed["third"]))
	after, diags := r.Execute(ctx, want, sv.Ops, sv.Kept)
	if diags.HasError() {
		t.Fatalf("execute: %v", diags)
	}
	w := diags.Warnings()
	if len(w) != 1 || !strings.Contains(w[0].Detail, "2 planned policy changes skipped") ||
		!strings.Contains(w[0].Detail, "tfdemo update: edited in Harbor since the plan") ||
		!strings.Contains(w[0].Detail, "third update: deleted in Harbor since the plan") {
		t.Fatalf("warnings: %v", w)
	}
	if p := named(t, hc, "tfdemo")[0]; p.Targets[0].Address != "https://elsewhere.example.com/hook" || p.Enabled {
		t.Fatalf("tfdemo's edit was overwritten: %+v", p)
	}
	if len(named(t, hc, "third")) != 0 {
		t.Fatal("third's deleted policy was re-created behind the plan")
	}
	sv, _ = r.Survey(ctx, m, after)
	if got := fmt.Sprint(preview(sv.Ops)); got != "map[tfdemo:update: enabled, endpoint third:create]" {
		t.Fatalf("the next plan: %s", got)
	}

	// A project deleted between the plan and the apply: its planned create
	// is skipped, not an error, and nothing is recorded for it.
	sim.CreateProject("fourth", false)
	sv4, _ := r.Survey(ctx, m, after)
	if got := fmt.Sprint(preview(sv4.Ops)); got != "map[fourth:create tfdemo:update: enabled, endpoint third:create]" {
		t.Fatalf("plan with fourth: %s", got)
	}
	must(t, sim.DeleteProject("fourth"))
	after4, diags := r.Execute(ctx, want, sv4.Ops, sv4.Kept)
	if diags.HasError() || !strings.Contains(fmt.Sprint(diags.Warnings()), "fourth create: the project was deleted in Harbor since the plan") {
		t.Fatalf("create in a deleted project: %v", diags)
	}
	if _, recorded := after4["fourth"]; recorded {
		t.Fatalf("a policy recorded for the deleted project: %v", after4)
	}
	sv, _ = r.Survey(ctx, m, after4)

	// A delete (project deselected) of a policy edited since the plan.
	narrowed := surveySpec("tfdemo", "third")
	managed, _ = r.Execute(ctx, want, sv.Ops, sv.Kept)
	sv, _ = r.Survey(ctx, narrowed, managed)
	if got := fmt.Sprint(preview(sv.Ops)); got != "map[2024:delete]" {
		t.Fatalf("narrowed plan: %s", got)
	}
	edit("2024", func(p *harbor.WebhookPolicy) { p.EventTypes = []string{"PUSH_ARTIFACT"} })
	after, diags = r.Execute(ctx, want, sv.Ops, sv.Kept)
	if w := diags.Warnings(); len(w) != 1 || !strings.Contains(w[0].Detail, "2024 delete: edited in Harbor since the plan; left in place and no longer managed") {
		t.Fatalf("warnings: %v", w)
	}
	if _, still := after["2024"]; still || len(named(t, hc, strconv.FormatInt(managedProjectID(t, hc, "2024"), 10))) != 1 {
		t.Fatalf("2024: managed %v; the edited policy must stay in Harbor, unmanaged", after)
	}
}
