package provider

import (
	"context"
	"fmt"
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/harborport/terraform-provider-harborport/internal/harbor"
)

const webhookAddr = "harborport_webhook.listener"

func harborClient(t *testing.T, url string) *harbor.Client {
	t.Helper()
	hc, err := harbor.New(harbor.Config{URL: url, Username: "admin", Password: "Harbor12345"})
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

func webhookConfig(portURL, harborURL, extra string) string {
	return providerBlockHarbor(portURL, harborURL) + `
resource "harborport_webhook" "listener" {
  endpoint = "https://listener.example.com/integration/webhook"
  secret   = "Bearer acc-webhook-secret-1234"
  ` + extra + `
}
`
}

// expectPending checks the planned `pending` map.
func expectPending(want map[string]string) plancheck.PlanCheck {
	return expectChangesAttr{webhookAddr, "pending", want}
}

type expectChangesAttr struct {
	addr, attr string
	want       map[string]string
}

func (e expectChangesAttr) CheckPlan(_ context.Context, req plancheck.CheckPlanRequest, resp *plancheck.CheckPlanResponse) {
	for _, rc := range req.Plan.ResourceChanges {
		if rc.Address != e.addr {
			continue
		}
		after, _ := rc.Change.After.(map[string]any)
		got := map[string]string{}
		raw, _ := after[e.attr].(map[string]any)
		for k, v := range raw {
			got[k], _ = v.(string)
		}
		if fmt.Sprint(got) != fmt.Sprint(e.want) {
			resp.Error = fmt.Errorf("%s.%s planned %v, want %v", e.addr, e.attr, got, e.want)
		}
		return
	}
	resp.Error = fmt.Errorf("%s not in plan", e.addr)
}

func TestAccWebhook_lifecycle(t *testing.T) {
	_, portURL := testPort(t)
	hsim, harborURL, _ := testHarbor(t)
	hc := harborClient(t, harborURL)
	ctx := context.Background()
	all := webhookConfig(portURL, harborURL, "")
	narrowed := webhookConfig(portURL, harborURL, `projects = ["tfdemo"]`)

	// A foreign policy that must survive everything.
	_, err := hc.CreateWebhookPolicy(ctx, "tfdemo", harbor.WebhookPolicy{Name: "someone-else", Enabled: true,
		EventTypes: []string{"PUSH_ARTIFACT"}, Targets: []harbor.WebhookTarget{{Type: "http", Address: "https://other.example.com/hook"}}})
	must(t, err)

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		CheckDestroy: func(*terraform.State) error {
			for _, p := range []string{"library", "tfdemo", "team", "newproj"} {
				if n := len(named(t, hc, p, "harborport")); n != 0 {
					return fmt.Errorf("project %s still has %d harborport policies", p, n)
				}
			}
			if len(named(t, hc, "tfdemo", "someone-else")) != 1 {
				return fmt.Errorf("destroy removed a policy it does not manage")
			}
			return nil
		},
		Steps: []resource.TestStep{
			{
				Config: all,
				Check: func(*terraform.State) error {
					for _, p := range []string{"library", "tfdemo", "team"} {
						ps := named(t, hc, p, "harborport")
						if len(ps) != 1 || !ps[0].Enabled || ps[0].Targets[0].AuthHeader != "Bearer acc-webhook-secret-1234" ||
							ps[0].Targets[0].PayloadFormat != "CloudEvents" || len(ps[0].EventTypes) != 5 {
							return fmt.Errorf("project %s: policies %+v", p, ps)
						}
					}
					return nil
				},
			},
			{Config: all, ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}}},
			{ // a new project appears in the plan
				PreConfig: func() { hsim.CreateProject("newproj", false) },
				Config:    all,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(webhookAddr, plancheck.ResourceActionUpdate),
					expectPending(map[string]string{"newproj": "create"}),
				}},
				Check: func(*terraform.State) error {
					if len(named(t, hc, "newproj", "harborport")) != 1 {
						return fmt.Errorf("no policy in the new project")
					}
					return nil
				},
			},
			{ // a policy disabled and re-pointed in Harbor is repaired
				PreConfig: func() {
					p := named(t, hc, "tfdemo", "harborport")[0]
					p.Enabled = false
					p.Targets[0].Address = "https://elsewhere.example.com/x"
					must(t, hc.UpdateWebhookPolicy(ctx, "tfdemo", p))
				},
				Config: all,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					expectPending(map[string]string{"tfdemo": "update: enabled, endpoint"}),
				}},
				Check: func(*terraform.State) error {
					p := named(t, hc, "tfdemo", "harborport")[0]
					if !p.Enabled || p.Targets[0].Address != "https://listener.example.com/integration/webhook" {
						return fmt.Errorf("not repaired: %+v", p)
					}
					return nil
				},
			},
			{ // a policy deleted in Harbor is recreated
				PreConfig: func() {
					p := named(t, hc, "team", "harborport")[0]
					must(t, hc.DeleteWebhookPolicy(ctx, "team", p.ID))
				},
				Config: all,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					expectPending(map[string]string{"team": "create"}),
				}},
			},
			{ // import by name
				ResourceName:            webhookAddr,
				ImportState:             true,
				ImportStateId:           "harborport",
				ImportStateVerify:       true,
				ImportStateVerifyIgnore: []string{"secret", "pending"},
			},
			{ // narrowed: the other projects' policies go
				Config: narrowed,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectUnknownValue(webhookAddr, tfjsonpath.New("policies")),
				}},
				Check: func(*terraform.State) error {
					for _, p := range []string{"library", "team", "newproj"} {
						if len(named(t, hc, p, "harborport")) != 0 {
							return fmt.Errorf("project %s kept its policy", p)
						}
					}
					if len(named(t, hc, "tfdemo", "harborport")) != 1 {
						return fmt.Errorf("tfdemo lost its policy")
					}
					return nil
				},
			},
		},
	})
}

// A same-named policy that already exists is adopted, not duplicated.
func TestAccWebhook_adoptsExisting(t *testing.T) {
	_, portURL := testPort(t)
	_, harborURL, _ := testHarbor(t)
	hc := harborClient(t, harborURL)
	_, err := hc.CreateWebhookPolicy(context.Background(), "tfdemo", harbor.WebhookPolicy{Name: "harborport", Enabled: false,
		EventTypes: []string{"PUSH_ARTIFACT"}, Targets: []harbor.WebhookTarget{{Type: "http", Address: "https://old.example.com/hook"}}})
	must(t, err)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{{
			Config: webhookConfig(portURL, harborURL, `projects = ["tfdemo"]`),
			Check: func(*terraform.State) error {
				ps := named(t, hc, "tfdemo", "harborport")
				if len(ps) != 1 || !ps[0].Enabled || ps[0].Targets[0].Address != "https://listener.example.com/integration/webhook" {
					return fmt.Errorf("policies %+v, want one adopted and updated", ps)
				}
				return nil
			},
		}},
	})
}

func TestAccWebhook_invalidEndpoint(t *testing.T) {
	_, portURL := testPort(t)
	_, harborURL, _ := testHarbor(t)
	for _, c := range []struct{ endpoint, want string }{
		{"https://user:pw@listener.example.com/hook", "must not carry credentials"},
		{"https://listener.example.com/hook?token=abc", "must not have a query string"},
		{"ftp://listener.example.com/hook", "must use http or https"},
		{"listener.example.com/hook", "is not an absolute URL"},
	} {
		t.Run(c.want, func(t *testing.T) {
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: testProviders,
				Steps: []resource.TestStep{{
					Config: providerBlockHarbor(portURL, harborURL) + fmt.Sprintf(`
resource "harborport_webhook" "listener" {
  endpoint = %q
  secret   = "Bearer acc-webhook-secret-1234"
}`, c.endpoint),
					ExpectError: regexp.MustCompile(`(?s)Invalid Webhook Endpoint.*` + regexp.QuoteMeta(c.want)),
				}},
			})
		})
	}
}
