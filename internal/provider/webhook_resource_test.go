package provider

import (
	"context"
	"fmt"
	"maps"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	fwresource "github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/harborport/terraform-provider-harborport/internal/harbor"
	"github.com/harborport/terraform-provider-harborport/internal/sandbox/harborsim"
)

const (
	webhookAddr     = "harborport_webhook.listener"
	webhookEndpoint = "https://listener.example.com/integration/webhook"
	webhookSecret   = "Bearer acc-webhook-secret-1234"
)

func adminHarbor(t *testing.T, url string) *harbor.Client {
	t.Helper()
	hc, err := harbor.New(harbor.Config{URL: url, Username: "admin", Password: "Harbor12345", MaxRetries: -1})
	must(t, err)
	return hc
}

// named returns the policies called name in project.
func named(t *testing.T, hc *harbor.Client, project, name string) []harbor.WebhookPolicy {
	t.Helper()
	list, err := hc.ListWebhookPolicies(context.Background(), project)
	must(t, err)
	var out []harbor.WebhookPolicy
	for _, p := range list {
		if p.Name == name {
			out = append(out, p)
		}
	}
	return out
}

// ours checks project holds exactly one "harborport" policy, as configured.
func ours(t *testing.T, hc *harbor.Client, project string) error {
	ps := named(t, hc, project, "harborport")
	if len(ps) != 1 {
		return fmt.Errorf("project %s has %d harborport policies, want 1", project, len(ps))
	}
	p := ps[0]
	if !p.Enabled || len(p.Targets) != 1 || p.Targets[0].Address != webhookEndpoint || p.Targets[0].AuthHeader != webhookSecret ||
		p.Targets[0].PayloadFormat != "CloudEvents" || p.Targets[0].SkipCertVerify || len(p.EventTypes) != len(defaultEventTypes) {
		return fmt.Errorf("project %s: policy not as configured: enabled=%v events=%v targets=%d", project, p.Enabled, p.EventTypes, len(p.Targets))
	}
	return nil
}

func oursIn(t *testing.T, hc *harbor.Client, projects ...string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		for _, p := range projects {
			if err := ours(t, hc, p); err != nil {
				return err
			}
		}
		return nil
	}
}

func noneIn(t *testing.T, hc *harbor.Client, projects ...string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		for _, p := range projects {
			if n := len(named(t, hc, p, "harborport")); n != 0 {
				return fmt.Errorf("project %s still has %d harborport policies", p, n)
			}
		}
		return nil
	}
}

func webhookConfig(portURL, harborURL, extra string) string {
	return providerBlockHarbor(portURL, harborURL) + fmt.Sprintf(`
resource "harborport_webhook" "listener" {
  endpoint = %q
  secret   = %q
  %s
}
`, webhookEndpoint, webhookSecret, extra)
}

// expectPending checks the planned `pending` map equals want exactly.
type expectPending map[string]string

func (want expectPending) CheckPlan(_ context.Context, req plancheck.CheckPlanRequest, resp *plancheck.CheckPlanResponse) {
	for _, rc := range req.Plan.ResourceChanges {
		if rc.Address != webhookAddr {
			continue
		}
		after, _ := rc.Change.After.(map[string]any)
		raw, _ := after["pending"].(map[string]any)
		got := map[string]string{}
		for k, v := range raw {
			got[k], _ = v.(string)
			if strings.Contains(got[k], "acc-webhook-secret") || strings.Contains(got[k], "rotated") {
				resp.Error = fmt.Errorf("the secret leaked into pending[%q]", k)
				return
			}
		}
		if !maps.Equal(got, map[string]string(want)) {
			resp.Error = fmt.Errorf("planned pending %v, want %v", got, map[string]string(want))
		}
		return
	}
	resp.Error = fmt.Errorf("%s is not in the plan", webhookAddr)
}

func policyKey(p string) tfjsonpath.Path { return tfjsonpath.New("policies").AtMapKey(p) }

// The plan/apply contract, step by step with real terraform: drift and new
// projects show in the plan, apply repairs exactly what was planned,
// adoption never duplicates, destroy spares foreign policies.
func TestAccWebhook_lifecycle(t *testing.T) {
	_, portURL := testPort(t)
	hsim, harborURL, _ := testHarbor(t)
	hc := adminHarbor(t, harborURL)
	ctx := context.Background()
	all := webhookConfig(portURL, harborURL, "")
	narrowed := webhookConfig(portURL, harborURL, `projects = ["tfdemo", "team"]`)
	edit := func(project string, f func(*harbor.WebhookPolicy)) {
		p := named(t, hc, project, "harborport")[0]
		f(&p)
		must(t, hc.UpdateWebhookPolicy(ctx, project, p))
	}

	// A foreign policy in a managed project must survive everything.
	_, err := hc.CreateWebhookPolicy(ctx, "tfdemo", harbor.WebhookPolicy{Name: "someone-else", Enabled: true,
		EventTypes: []string{"PUSH_ARTIFACT"}, Targets: []harbor.WebhookTarget{{Type: "http", Address: "https://other.example.com/hook"}}})
	must(t, err)

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		CheckDestroy: func(s *terraform.State) error {
			if err := noneIn(t, hc, "library", "tfdemo", "team", "newproj")(s); err != nil {
				return err
			}
			if len(named(t, hc, "tfdemo", "someone-else")) != 1 {
				return fmt.Errorf("destroy removed a policy it does not manage")
			}
			return nil
		},
		Steps: []resource.TestStep{
			{ // create: one policy per project, ids unknown at plan
				Config: all,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectUnknownValue(webhookAddr, tfjsonpath.New("policies")),
				}},
				Check: resource.ComposeAggregateTestCheckFunc(
					oursIn(t, hc, "library", "tfdemo", "team"),
					resource.TestCheckResourceAttr(webhookAddr, "policies.%", "3"),
					resource.TestCheckResourceAttr(webhookAddr, "id", "harborport"),
				),
			},
			{Config: all, ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}}},
			{ // a new project, and one that already has a same-named policy: create and adopt
				PreConfig: func() {
					hsim.CreateProject("newproj", false)
					hsim.CreateProject("adoptme", false)
					_, err := hc.CreateWebhookPolicy(ctx, "adoptme", harbor.WebhookPolicy{Name: "harborport", Enabled: false,
						EventTypes: defaultEventTypes, Targets: []harbor.WebhookTarget{{Type: "http", Address: "https://old.example.com/hook",
							AuthHeader: webhookSecret, PayloadFormat: "CloudEvents"}}})
					must(t, err)
				},
				Config: all,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(webhookAddr, plancheck.ResourceActionUpdate),
					expectPending{"newproj": "create", "adoptme": "adopt, update: enabled, endpoint"},
					plancheck.ExpectUnknownValue(webhookAddr, policyKey("newproj")),
					plancheck.ExpectKnownValue(webhookAddr, policyKey("adoptme"), knownvalue.NotNull()),
					plancheck.ExpectKnownValue(webhookAddr, policyKey("tfdemo"), knownvalue.NotNull()),
				}},
				Check: resource.ComposeAggregateTestCheckFunc(
					oursIn(t, hc, "newproj", "adoptme"),
					resource.TestCheckResourceAttr(webhookAddr, "policies.%", "5"),
				),
			},
			{ // edited in Harbor: disabled and re-pointed; the secret changed elsewhere
				PreConfig: func() {
					edit("tfdemo", func(p *harbor.WebhookPolicy) {
						p.Enabled = false
						p.Targets[0].Address = "https://elsewhere.example.com/x"
					})
					edit("team", func(p *harbor.WebhookPolicy) { p.Targets[0].AuthHeader = "Bearer rotated-by-hand-000" })
				},
				Config: all,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					expectPending{"tfdemo": "update: enabled, endpoint", "team": "update: secret"},
					plancheck.ExpectKnownValue(webhookAddr, tfjsonpath.New("policies"), knownvalue.MapSizeExact(5)),
				}},
				Check: oursIn(t, hc, "tfdemo", "team"),
			},
			{ // deleted in Harbor: recreated
				PreConfig: func() { must(t, hc.DeleteWebhookPolicy(ctx, "library", named(t, hc, "library", "harborport")[0].ID)) },
				Config:    all,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					expectPending{"library": "create"},
					plancheck.ExpectUnknownValue(webhookAddr, policyKey("library")),
				}},
				Check: oursIn(t, hc, "library"),
			},
			{ // Harbor changes after the plan: apply does only what was planned
				PreConfig: func() { edit("team", func(p *harbor.WebhookPolicy) { p.Enabled = false }) },
				Config:    all,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					expectPending{"team": "update: enabled"},
					planFunc(func() error {
						return hc.DeleteWebhookPolicy(ctx, "newproj", named(t, hc, "newproj", "harborport")[0].ID)
					}),
				}},
				ExpectNonEmptyPlan: true, // the refresh after apply sees the late deletion
				Check:              resource.ComposeAggregateTestCheckFunc(oursIn(t, hc, "team"), noneIn(t, hc, "newproj")),
			},
			{ // …which the next plan shows
				Config: all,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					expectPending{"newproj": "create"},
				}},
				Check: oursIn(t, hc, "newproj"),
			},
			{ // a project deleted in Harbor takes its policy along: nothing to do
				PreConfig: func() { must(t, hsim.DeleteProject("adoptme")) },
				Config:    all,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectEmptyPlan(),
				}},
			},
			{ // narrowed: the policies of the other projects are deleted, foreign ones stay
				Config: narrowed,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectUnknownValue(webhookAddr, tfjsonpath.New("pending")),
				}},
				Check: resource.ComposeAggregateTestCheckFunc(
					noneIn(t, hc, "library", "newproj"),
					oursIn(t, hc, "tfdemo", "team"),
					resource.TestCheckResourceAttr(webhookAddr, "pending.library", "delete"),
					resource.TestCheckResourceAttr(webhookAddr, "pending.newproj", "delete"),
					resource.TestCheckResourceAttr(webhookAddr, "policies.%", "2"),
					func(*terraform.State) error {
						if len(named(t, hc, "tfdemo", "someone-else")) != 1 {
							return fmt.Errorf("narrowing removed a foreign policy")
						}
						return nil
					},
				),
			},
			{Config: narrowed, ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}}},
			{ // import by name: the secret is not imported, the config's is applied next
				ResourceName:            webhookAddr,
				ImportState:             true,
				ImportStateId:           "harborport",
				ImportStateVerify:       true,
				ImportStateVerifyIgnore: []string{"secret", "pending"},
			},
		},
	})
}

// A same-named policy that exists before the resource is adopted at create,
// not duplicated (Harbor would answer 409).
func TestAccWebhook_adoptsAtCreate(t *testing.T) {
	_, portURL := testPort(t)
	_, harborURL, _ := testHarbor(t)
	hc := adminHarbor(t, harborURL)
	_, err := hc.CreateWebhookPolicy(context.Background(), "tfdemo", harbor.WebhookPolicy{Name: "harborport", Enabled: false,
		EventTypes: []string{"PUSH_ARTIFACT"}, Targets: []harbor.WebhookTarget{{Type: "http", Address: "https://old.example.com/hook"}}})
	must(t, err)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{{
			Config: webhookConfig(portURL, harborURL, `projects = ["tfdemo"]`),
			Check: resource.ComposeAggregateTestCheckFunc(
				oursIn(t, hc, "tfdemo"),
				resource.TestCheckResourceAttr(webhookAddr, "pending.tfdemo", "adopt, update: enabled, endpoint, event_types, payload_format, secret"),
			),
		}},
	})
}

// Missing rights: the error names the project, the Harbor user and the role needed.
func TestAccWebhook_forbidden(t *testing.T) {
	_, portURL := testPort(t)
	hsim, harborURL, _ := testHarbor(t)
	hsim.AddUser("ci-bot", "Ci-bot-pass1", false)
	must(t, hsim.AddMember("tfdemo", "ci-bot", harborsim.RoleMaintainer)) // may list policies, not create them
	must(t, hsim.AddMember("team", "ci-bot", harborsim.RoleDeveloper))    // may not even list them
	provider := strings.NewReplacer(`"admin"`, `"ci-bot"`, "Harbor12345", "Ci-bot-pass1").Replace(providerBlockHarbor(portURL, harborURL))
	cfg := func(project string) string {
		return provider + fmt.Sprintf(`
resource "harborport_webhook" "listener" {
  endpoint = %q
  secret   = %q
  projects = [%q]
}`, webhookEndpoint, webhookSecret, project)
	}
	for _, c := range []struct{ project, want string }{
		{"tfdemo", `Unable to Apply a Webhook Policy.*Could not create policy "harborport" in Harbor project "tfdemo".*403.*The Harbor user "ci-bot" needs the Project Admin role in project "tfdemo"`},
		{"team", `Unable to Read Webhook Policies.*project "team".*403.*The Harbor user "ci-bot" needs the Project Admin role in project "team"`},
	} {
		t.Run(c.project, func(t *testing.T) {
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: testProviders,
				Steps:                    []resource.TestStep{{Config: cfg(c.project), ExpectError: wrapped(c.want)}},
			})
		})
	}
}

// wrapped matches pattern across terraform's line wrapping (any space may be a line break).
func wrapped(pattern string) *regexp.Regexp {
	return regexp.MustCompile(`(?s)` + strings.ReplaceAll(pattern, " ", `\s+`))
}

func TestAccWebhook_invalidConfig(t *testing.T) {
	_, portURL := testPort(t)
	_, harborURL, _ := testHarbor(t)
	for _, c := range []struct{ name, attrs, want string }{
		{"userinfo", `endpoint = "https://user:pw@listener.example.com/hook"`, `Invalid Webhook Endpoint.*endpoint must not contain a user name or password`},
		{"query", `endpoint = "https://listener.example.com/hook?token=abc"`, `Invalid Webhook Endpoint.*endpoint must not have a query string.*secret`},
		{"scheme", `endpoint = "ftp://listener.example.com/hook"`, `endpoint must start with https:// or http://`},
		{"relative", `endpoint = "listener.example.com/hook"`, `endpoint is not an absolute URL`},
		{"secret line break", `secret = "Bearer abcdefghijklmnop\nX-Injected: 1"`, `Invalid Webhook Secret.*must be one line`},
		{"event type", `event_types = ["PUSH_ARTIFACT", "CREATE_TAG"]`, `event_types.*PUSH_ARTIFACT`},
		{"payload format", `payload_format = "cloudevents"`, `payload_format.*CloudEvents`},
	} {
		t.Run(c.name, func(t *testing.T) {
			attrs := map[string]string{"endpoint": fmt.Sprintf("endpoint = %q", webhookEndpoint), "secret": fmt.Sprintf("secret = %q", webhookSecret)}
			key := strings.Fields(c.attrs)[0]
			attrs[key] = c.attrs
			body := strings.Join(slices.Sorted(maps.Values(attrs)), "\n  ")
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: testProviders,
				Steps: []resource.TestStep{{
					Config:      providerBlockHarbor(portURL, harborURL) + "resource \"harborport_webhook\" \"listener\" {\n  " + body + "\n}\n",
					ExpectError: wrapped(c.want),
				}},
			})
		})
	}
}

// plugin-testing cannot assert warnings, so ModifyPlan is called directly.
func TestWebhookModifyPlan_notificationsDisabled(t *testing.T) {
	ctx := context.Background()
	for _, enabled := range []bool{false, true} {
		r := &webhookResource{data: &providerData{harborInfo: &harbor.Info{NotificationEnable: enabled}}}
		var sr fwresource.SchemaResponse
		r.Schema(ctx, fwresource.SchemaRequest{}, &sr)
		typ := sr.Schema.Type().TerraformType(ctx)
		plan := tfsdk.Plan{Schema: sr.Schema, Raw: tftypes.NewValue(typ, nil)}
		must(t, diagErr(plan.Set(ctx, &webhookModel{
			ID: types.StringUnknown(), Name: types.StringValue("harborport"), Endpoint: types.StringValue(webhookEndpoint),
			Secret: types.StringValue(webhookSecret), Projects: types.SetNull(types.StringType),
			EventTypes: types.SetValueMust(types.StringType, nil), PayloadFormat: types.StringValue("CloudEvents"),
			Enabled: types.BoolValue(true), SkipCertVerify: types.BoolValue(false),
			Policies: types.MapUnknown(types.Int64Type), Pending: types.MapUnknown(types.StringType),
		})))
		req := fwresource.ModifyPlanRequest{Plan: plan, Config: tfsdk.Config{Schema: sr.Schema, Raw: plan.Raw},
			State: tfsdk.State{Schema: sr.Schema, Raw: tftypes.NewValue(typ, nil)}}
		resp := &fwresource.ModifyPlanResponse{Plan: plan}
		r.ModifyPlan(ctx, req, resp)
		warned := false
		for _, d := range resp.Diagnostics.Warnings() {
			warned = warned || (d.Summary() == "Harbor Notifications Are Disabled" && strings.Contains(d.Detail(), "notification_enable"))
		}
		if warned == enabled || resp.Diagnostics.HasError() {
			t.Errorf("notification_enable=%v: warned=%v, diagnostics %v", enabled, warned, resp.Diagnostics)
		}
	}
}

func diagErr(d interface {
	HasError() bool
}) error {
	if d.HasError() {
		return fmt.Errorf("%v", d)
	}
	return nil
}

func TestCheckEndpoint(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"https://listener.example.com/integration/webhook", ""},
		{"http://10.0.0.5:8080/hook/", ""},
		{" https://listener.example.com ", ""},
		{"https://user:secret-pw@listener.example.com/hook", "must not contain a user name or password"},
		{"https://listener.example.com/hook?token=x", "must not have a query string"},
		{"https://listener.example.com/hook?", "must not have a query string"},
		{"https://listener.example.com/hook#frag", "#fragment"},
		{"ftp://listener.example.com/hook", "must start with https:// or http://"},
		{"HTTPS://listener.example.com/hook", "lower case"},
		{"listener.example.com/hook", "not an absolute URL"},
		{"https://", "not an absolute URL"},
		{"https://exa mple.com/x", "not an absolute URL"},
	} {
		got := checkEndpoint(c.in)
		if (c.want == "") != (got == "") || !strings.Contains(got, c.want) {
			t.Errorf("checkEndpoint(%q) = %q, want %q", c.in, got, c.want)
		}
		if strings.Contains(got, "secret-pw") {
			t.Errorf("checkEndpoint echoed credentials: %q", got)
		}
	}
}

func TestNormalizeEndpoint(t *testing.T) {
	for in, want := range map[string]string{
		"https://l.example.com/hook/":    "https://l.example.com/hook",
		" https://l.example.com:8443/ ":  "https://l.example.com:8443",
		"http://l.example.com/a%20b":     "http://l.example.com/a b", // Harbor keeps u.Path (decoded)
		"https://l.example.com/x/y//":    "https://l.example.com/x/y",
		"https://l.example.com/integ/wh": "https://l.example.com/integ/wh",
	} {
		if got := normalizeEndpoint(in); got != want {
			t.Errorf("normalizeEndpoint(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCheckSecret(t *testing.T) {
	for in, want := range map[string]string{
		"Bearer 0123456789abcdef":      "",
		"Bearer 0123456789\nabcdef":    "one line",
		"Bearer 0123456789\x00abcdef":  "one line",
		"Bearer 0123456789abcdef\n":    "spaces or line breaks",
		" Bearer 0123456789abcdef":     "spaces or line breaks",
		"Bearer 0123456789\tabcdefxyz": "one line",
	} {
		got := checkSecret(in)
		if (want == "") != (got == "") || !strings.Contains(got, want) {
			t.Errorf("checkSecret(%q) = %q, want %q", in, got, want)
		}
		if strings.Contains(got, "0123456789") {
			t.Errorf("checkSecret echoed the secret: %q", got)
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
		got := strings.Join(differences(c.have, want), ", ")
		if got != c.want {
			t.Errorf("%s: differences = %q, want %q", c.name, got, c.want)
		}
		if strings.Contains(got, "s3cr3t") {
			t.Errorf("%s: the secret leaked: %q", c.name, got)
		}
	}
}

func TestPendingPreviewAndPlannedPolicies(t *testing.T) {
	ops := []policyOp{
		{Project: "a", ProjectID: 1, Op: opAdopt, ID: 7},
		{Project: "b", ProjectID: 2, Op: opAdopt, ID: 8, Fields: []string{"enabled"}},
		{Project: "c", ProjectID: 3, Op: opCreate},
		{Project: "d", ProjectID: 4, Op: opDelete, ID: 9},
		{Project: "e", ProjectID: 5, Op: opUpdate, ID: 10, Fields: []string{"endpoint", "secret"}},
	}
	got := pendingPreview(ops)
	want := map[string]string{"a": "adopt", "b": "adopt, update: enabled", "c": "create", "d": "delete", "e": "update: endpoint, secret"}
	if !maps.Equal(got, want) {
		t.Errorf("pendingPreview = %v, want %v", got, want)
	}

	pp := plannedPolicies(map[string]int64{"d": 9, "e": 10, "z": 11}, ops)
	el := pp.Elements()
	if len(el) != 5 || !el["c"].IsUnknown() || el["d"] != nil || el["a"].String() != "7" || el["e"].String() != "10" || el["z"].String() != "11" {
		t.Errorf("plannedPolicies = %v", pp)
	}

	var many []policyOp
	for i := range pendingPreviewLimit + 5 {
		many = append(many, policyOp{Project: fmt.Sprintf("p%04d", i), ProjectID: int64(i + 1), Op: opCreate})
	}
	got = pendingPreview(many)
	if len(got) != pendingPreviewLimit || got[moreKey] != "6 more" {
		t.Errorf("bounded preview: %d entries, %s = %q", len(got), moreKey, got[moreKey])
	}
}

func TestDecodeOps(t *testing.T) {
	if ops, err := decodeOps(nil); err != nil || ops != nil {
		t.Errorf("empty: %v %v", ops, err)
	}
	if _, err := decodeOps([]byte(`{`)); err == nil || !strings.Contains(err.Error(), "run terraform plan again") {
		t.Errorf("garbage: %v", err)
	}
	if _, err := decodeOps([]byte(`[{"p":"a","o":"create"}]`)); err == nil || !strings.Contains(err.Error(), "project ids") {
		t.Errorf("old format accepted: %v", err)
	}
	if ops, err := decodeOps([]byte(`[{"p":"a","pid":3,"o":"update","i":4,"f":["enabled"]}]`)); err != nil || ops[0].summary() != "update: enabled" {
		t.Errorf("valid: %v %v", ops, err)
	}
}

// surveyHarbor is a Harbor simulator with projects "tfdemo" and the
// all-digit "2024", and a resource wired to it.
func surveyHarbor(t *testing.T) (*harborsim.Server, *harbor.Client, *webhookResource) {
	t.Helper()
	sim := harborsim.New(harborsim.Options{NoLibraryProject: true})
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	sim.CreateProject("tfdemo", false)
	sim.CreateProject("2024", false) // a valid Harbor name the client would read as an id
	hc := adminHarbor(t, srv.URL)
	return sim, hc, &webhookResource{data: &providerData{harbor: hc, config: Config{HarborUsername: "admin", MaxConcurrency: 4}}}
}

func surveyModel(projects ...string) webhookModel {
	events := make([]string, len(defaultEventTypes))
	copy(events, defaultEventTypes)
	m := webhookModel{Name: types.StringValue("harborport"), Endpoint: types.StringValue(webhookEndpoint), Secret: types.StringValue(webhookSecret),
		Projects: types.SetNull(types.StringType), EventTypes: types.SetValueMust(types.StringType, nil),
		PayloadFormat: types.StringValue("CloudEvents"), Enabled: types.BoolValue(true), SkipCertVerify: types.BoolValue(false)}
	m.EventTypes, _ = types.SetValueFrom(context.Background(), types.StringType, events)
	if len(projects) > 0 {
		m.Projects, _ = types.SetValueFrom(context.Background(), types.StringType, projects)
	}
	return m
}

// Survey and execute against the simulator, without terraform: project ids
// in paths, leftovers, renamed and vanished policies, a 409 after the plan.
func TestWebhookSurveyAndExecute(t *testing.T) {
	ctx := context.Background()
	sim, hc, r := surveyHarbor(t)
	m := surveyModel()
	want, _, _ := desiredPolicy(ctx, m)

	sv, diags := r.survey(ctx, hc, m, nil)
	if diags.HasError() || fmt.Sprint(pendingPreview(sv.ops)) != "map[2024:create tfdemo:create]" {
		t.Fatalf("first survey: %v %v", pendingPreview(sv.ops), diags)
	}
	// Someone creates the policy in tfdemo between plan and apply, different
	// from ours: adopted (not duplicated), but not overwritten blindly — a
	// warning says so and the next plan shows the update.
	other := want
	other.Enabled = false
	_, err := hc.CreateWebhookPolicy(ctx, "tfdemo", other)
	must(t, err)
	managed, diags := r.execute(ctx, hc, want, sv.ops, sv.kept)
	if diags.HasError() || len(managed) != 2 {
		t.Fatalf("execute: %v %v", managed, diags)
	}
	if w := diags.Warnings(); len(w) != 1 || w[0].Summary() != "Webhook Policies Changed Since the Plan" ||
		!strings.Contains(w[0].Detail(), "tfdemo create: a policy with this name appeared in Harbor since the plan; adopted unchanged") {
		t.Fatalf("warnings: %v", w)
	}
	if ps := named(t, hc, "tfdemo", "harborport"); len(ps) != 1 || ps[0].Enabled {
		t.Fatalf("tfdemo: %+v, want the one policy, left disabled", ps)
	}
	sv, diags = r.survey(ctx, hc, m, managed)
	if got := fmt.Sprint(pendingPreview(sv.ops)); diags.HasError() || got != "map[tfdemo:update: enabled]" {
		t.Fatalf("the next plan: %s %v", got, diags)
	}
	if _, diags = r.execute(ctx, hc, want, sv.ops, sv.kept); diags.HasError() || len(diags.Warnings()) != 0 {
		t.Fatalf("execute the update: %v", diags)
	}
	if err := ours(t, hc, "tfdemo"); err != nil {
		t.Error(err)
	}
	if ps := named(t, hc, strconv.Itoa(int(managedProjectID(t, hc, "2024"))), "harborport"); len(ps) != 1 || ps[0].ID != managed["2024"] {
		t.Errorf("project 2024 (by id): %+v, managed %v", ps, managed)
	}

	// In sync now.
	if sv, diags = r.survey(ctx, hc, m, managed); diags.HasError() || len(sv.ops) != 0 || !maps.Equal(sv.kept, managed) {
		t.Fatalf("second survey: %v %v %v", sv.ops, sv.kept, diags)
	}

	// Narrowed to tfdemo: 2024's policy is deleted, unless it was renamed in Harbor (then it is no longer ours).
	narrowed := surveyModel("tfdemo")
	sv, _ = r.survey(ctx, hc, narrowed, managed)
	if got := fmt.Sprint(pendingPreview(sv.ops)); got != "map[2024:delete]" {
		t.Errorf("narrowed: %s", got)
	}
	pid := strconv.FormatInt(managedProjectID(t, hc, "2024"), 10)
	p, err := hc.GetWebhookPolicy(ctx, pid, managed["2024"])
	must(t, err)
	p.Name = "renamed-by-hand"
	must(t, hc.UpdateWebhookPolicy(ctx, pid, *p))
	sv, _ = r.survey(ctx, hc, narrowed, managed)
	if len(sv.ops) != 0 || sv.kept["2024"] != 0 {
		t.Errorf("renamed policy still managed: ops %v kept %v", sv.ops, sv.kept)
	}
	must(t, deleteManaged(ctx, hc, pid, managed["2024"], "harborport"))
	if _, err := hc.GetWebhookPolicy(ctx, pid, managed["2024"]); err != nil {
		t.Errorf("deleteManaged removed a policy renamed in Harbor: %v", err)
	}
	// A deleted project (and an explicit one that does not exist) just drops out, with a warning for the latter.
	must(t, sim.DeleteProject("2024"))
	sv, diags = r.survey(ctx, hc, surveyModel("tfdemo", "nope"), managed)
	if diags.HasError() || len(sv.ops) != 0 || !maps.Equal(sv.kept, map[string]int64{"tfdemo": managed["tfdemo"]}) {
		t.Errorf("deleted project: ops %v kept %v diags %v", sv.ops, sv.kept, diags)
	}
	if w := diags.Warnings(); len(w) != 1 || !strings.Contains(w[0].Detail(), `Project "nope" does not exist`) {
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
	m := surveyModel()
	want, _, _ := desiredPolicy(ctx, m)
	sv, _ := r.survey(ctx, hc, m, nil)
	managed, diags := r.execute(ctx, hc, want, sv.ops, sv.kept)
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
	sv, _ = r.survey(ctx, hc, m, managed)
	if got := fmt.Sprint(pendingPreview(sv.ops)); got != "map[2024:update: enabled tfdemo:update: enabled third:update: enabled]" {
		t.Fatalf("plan: %s", got)
	}
	// Between plan and apply: tfdemo's endpoint is edited, 2024 is fixed by
	// someone else, third's policy is deleted.
	edit("tfdemo", func(p *harbor.WebhookPolicy) { p.Targets[0].Address = "https://elsewhere.example.com/hook" })
	edit("2024", func(p *harbor.WebhookPolicy) { p.Enabled = true })
	must(t, hc.DeleteWebhookPolicy(ctx, strconv.FormatInt(managedProjectID(t, hc, "third"), 10), managed["third"]))
	after, diags := r.execute(ctx, hc, want, sv.ops, sv.kept)
	if diags.HasError() {
		t.Fatalf("execute: %v", diags)
	}
	w := diags.Warnings()
	if len(w) != 1 || !strings.Contains(w[0].Detail(), "2 planned policy changes skipped") ||
		!strings.Contains(w[0].Detail(), "tfdemo update: edited in Harbor since the plan") ||
		!strings.Contains(w[0].Detail(), "third update: deleted in Harbor since the plan") {
		t.Fatalf("warnings: %v", w)
	}
	if p := named(t, hc, "tfdemo", "harborport")[0]; p.Targets[0].Address != "https://elsewhere.example.com/hook" || p.Enabled {
		t.Fatalf("tfdemo's edit was overwritten: %+v", p)
	}
	if len(named(t, hc, "third", "harborport")) != 0 {
		t.Fatal("third's deleted policy was re-created behind the plan")
	}
	sv, _ = r.survey(ctx, hc, m, after)
	if got := fmt.Sprint(pendingPreview(sv.ops)); got != "map[tfdemo:update: enabled, endpoint third:create]" {
		t.Fatalf("the next plan: %s", got)
	}

	// A delete (project deselected) of a policy edited since the plan.
	narrowed := surveyModel("tfdemo", "third")
	managed, _ = r.execute(ctx, hc, want, sv.ops, sv.kept)
	sv, _ = r.survey(ctx, hc, narrowed, managed)
	if got := fmt.Sprint(pendingPreview(sv.ops)); got != "map[2024:delete]" {
		t.Fatalf("narrowed plan: %s", got)
	}
	edit("2024", func(p *harbor.WebhookPolicy) { p.EventTypes = []string{"PUSH_ARTIFACT"} })
	after, diags = r.execute(ctx, hc, want, sv.ops, sv.kept)
	if w := diags.Warnings(); len(w) != 1 || !strings.Contains(w[0].Detail(), "2024 delete: edited in Harbor since the plan; left in place and no longer managed") {
		t.Fatalf("warnings: %v", w)
	}
	if _, still := after["2024"]; still || len(named(t, hc, strconv.FormatInt(managedProjectID(t, hc, "2024"), 10), "harborport")) != 1 {
		t.Fatalf("2024: managed %v; the edited policy must stay in Harbor, unmanaged", after)
	}
}

func managedProjectID(t *testing.T, hc *harbor.Client, name string) int64 {
	t.Helper()
	it, err := hc.GetProjectByName(context.Background(), name)
	must(t, err)
	return projectID(it)
}
