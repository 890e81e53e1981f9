package serve

import (
	"fmt"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/harborport/terraform-provider-harborport/internal/provider"
	"github.com/harborport/terraform-provider-harborport/internal/sandbox/harborsim"
)

// The whole product: terraform applies blueprints, the first sync and the
// webhooks; the listener (a separate process) keeps Port current as Harbor
// changes; the next terraform plan then has nothing to do.
func TestAccE2E_terraformThenRealTime(t *testing.T) {
	e := newSims(t, harborsim.DeliveryOptions{})
	e.start()
	cfg := fmt.Sprintf(`
provider "harborport" {
  port_base_url      = %q
  port_client_id     = "e2e-id"
  port_client_secret = "e2e-port-secret"
  harbor_url         = %q
  harbor_username    = "admin"
  harbor_password    = "Harbor12345"
}

resource "harborport_blueprints" "harbor" {
  delete_entities = true
}

resource "harborport_sync" "harbor" {
  blueprints = harborport_blueprints.harbor.identifiers
}

resource "harborport_webhook" "listener" {
  endpoint   = "%s/integration/webhook"
  secret     = %q
  depends_on = [harborport_sync.harbor]
}
`, e.port, e.harbor, e.listener, e2eSecret)

	var digest string
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: map[string]func() (tfprotov6.ProviderServer, error){
			"harborport": providerserver.NewProtocol6WithError(provider.New("test")()),
		},
		Steps: []resource.TestStep{
			{
				Config: cfg,
				Check: func(*terraform.State) error {
					var err error
					if digest, err = e.hs.PushArtifact("apps", "web", []string{"1.0"}, harborsim.PushOptions{}); err != nil {
						return err
					}
					e.waitFor("push in Port", 10*time.Second, func() bool { _, ok := e.artifact("web", digest); return ok })
					if _, err := e.hs.PushArtifact("apps", "web", []string{"stable"}, harborsim.PushOptions{Digest: digest}); err != nil {
						return err
					}
					e.waitFor("tag in Port", 10*time.Second, func() bool {
						ent, _ := e.artifact("web", digest)
						tags, _ := ent["properties"].(map[string]any)["tags"].([]any)
						return len(tags) == 2
					})
					if err := e.hs.ScanArtifact("apps", "web", digest, map[string]int{"High": 2}); err != nil {
						return err
					}
					e.waitFor("scan in Port", 10*time.Second, func() bool {
						ent, _ := e.artifact("web", digest)
						so, _ := ent["properties"].(map[string]any)["scanOverview"].(map[string]any)
						return so != nil && so["severity"] == "High"
					})
					if _, err := e.hs.PushArtifact("apps", "api", []string{"2.0"}, harborsim.PushOptions{}); err != nil {
						return err
					}
					if err := e.hs.DeleteArtifact("apps", "web", digest); err != nil {
						return err
					}
					e.waitFor("delete in Port", 10*time.Second, func() bool { _, ok := e.artifact("web", digest); return !ok })
					e.syncCheck(10 * time.Second)
					return nil
				},
			},
			{ // the listener kept Port current: nothing for terraform to do
				Config:           cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
			},
		},
	})
}
