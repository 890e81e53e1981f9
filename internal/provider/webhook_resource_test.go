package provider

import (
	"context"
	"fmt"
	"maps"
	"regexp"
	"slices"
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
	"github.com/harborport/terraform-provider-harborport/internal/webhookpolicy"
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

func TestPlannedPolicies(t *testing.T) {
	ops := []webhookpolicy.Op{
		{Project: "a", ProjectID: 1, Op: webhookpolicy.OpAdopt, ID: 7},
		{Project: "c", ProjectID: 3, Op: webhookpolicy.OpCreate},
		{Project: "d", ProjectID: 4, Op: webhookpolicy.OpDelete, ID: 9},
		{Project: "e", ProjectID: 5, Op: webhookpolicy.OpUpdate, ID: 10, Fields: []string{"endpoint", "secret"}},
	}
	pp := plannedPolicies(map[string]int64{"d": 9, "e": 10, "z": 11}, ops)
	el := pp.Elements()
	if len(el) != 4 || !el["c"].IsUnknown() || el["d"] != nil || el["a"].String() != "7" || el["e"].String() != "10" || el["z"].String() != "11" {
		t.Errorf("plannedPolicies = %v", pp)
	}
	if got := pendingPreview(ops); len(got) != 4 || got["e"] != "update: endpoint, secret" {
		t.Errorf("pendingPreview = %v", got)
	}
}
