package serve

import (
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/harborport/terraform-provider-harborport/internal/provider"
	"github.com/harborport/terraform-provider-harborport/internal/sandbox/harborsim"
	"github.com/harborport/terraform-provider-harborport/internal/testenv"
)

// withSecrets sets the listener's webhook secret and, when prev is not
// empty, the previous one, replacing what its environment had.
func (e *e2e) withSecrets(cur, prev string) {
	var env []string
	for _, kv := range e.lis.Env {
		if !strings.HasPrefix(kv, "HARBORPORT_WEBHOOK_SECRET") {
			env = append(env, kv)
		}
	}
	env = append(env, "HARBORPORT_WEBHOOK_SECRET="+cur)
	if prev != "" {
		env = append(env, "HARBORPORT_WEBHOOK_SECRET_PREVIOUS="+prev)
	}
	e.lis.Env = env
}

// metric reads one sample of the listener's /metrics ("" when absent).
func (e *e2e) metric(sample string) string {
	e.t.Helper()
	resp, err := http.Get(e.listener + "/metrics")
	if err != nil {
		e.t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, _ := io.ReadAll(resp.Body)
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(sample) + ` (\S+)$`).FindStringSubmatch(string(b))
	if m == nil {
		return ""
	}
	return m[1]
}

// The rotation the webhook docs describe, for real: terraform (secret_wo),
// Harbor's queued deliveries, and the listener process restarted twice.
//  1. The listener and Harbor's policies share the old secret.
//  2. A delivery is queued in Harbor with the old header; the listener is
//     restarted with the new secret and the old one as previous; terraform
//     applies the new secret_wo (version 2); a new push is queued with the
//     new header. Both are accepted: the queued one by the previous secret.
//  3. The listener restarted with the new secret alone refuses the old one
//     and accepts Harbor's deliveries.
func TestAccE2E_webhookSecretRotation(t *testing.T) {
	const oldSecret, newSecret = "Bearer rotation-old-5d1f0a9c7e3b", "Bearer rotation-new-8b2e6c4a0f1d"
	e := newSims(t, harborsim.DeliveryOptions{})
	testenv.SetDefaultBlueprints(t, e.ps)
	e.withSecrets(oldSecret, "")
	e.start()
	cfg := func(secret string, version int) string {
		return fmt.Sprintf(`
provider "harborport" {
  port_base_url      = %q
  port_client_id     = "e2e-id"
  port_client_secret = "e2e-port-secret"
  harbor_url         = %q
  harbor_username    = "admin"
  harbor_password    = "Harbor12345"
}

resource "harborport_webhook" "listener" {
  endpoint          = "%s/integration/webhook"
  secret_wo         = %q
  secret_wo_version = %d
  projects          = ["apps"]
}
`, e.port, e.harbor, e.listener, secret, version)
	}
	push := func(repo string) string {
		d, err := e.hs.PushArtifact("apps", repo, []string{"1.0"}, harborsim.PushOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	inPort := func(what, repo, digest string) {
		e.waitFor(what, 20*time.Second, func() bool { _, ok := e.artifact(repo, digest); return ok })
	}
	deliveriesOK := func() error {
		for _, a := range e.hs.DeliveryLog() {
			if !a.OK() {
				return fmt.Errorf("a delivery was refused: attempt %d, %d %s", a.Attempt, a.StatusCode, a.Error)
			}
		}
		return nil
	}
	var queued string
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: map[string]func() (tfprotov6.ProviderServer, error){
			"harborport": providerserver.NewProtocol6WithError(provider.New("test")()),
		},
		Steps: []resource.TestStep{
			{
				Config: cfg(oldSecret, 1),
				Check: func(*terraform.State) error {
					inPort("a push before the rotation", "before", push("before"))
					if got := e.metric(`harborport_webhook_auth_matches_total{secret="current"}`); got != "1" {
						return fmt.Errorf("deliveries matched by the current secret: %q, want 1", got)
					}
					return deliveriesOK()
				},
			},
			{
				PreConfig: func() {
					e.hs.PauseDeliveries()
					queued = push("queued") // Harbor queues it with the old Authorization header
					e.stop(syscall.SIGTERM)
					e.withSecrets(newSecret, oldSecret)
					e.start()
				},
				Config: cfg(newSecret, 2),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("harborport_webhook.listener", plancheck.ResourceActionUpdate),
				}},
				Check: func(*terraform.State) error {
					pols, err := e.hc.ListWebhookPolicies(t.Context(), "apps")
					if err != nil || len(pols) != 1 || pols[0].Targets[0].AuthHeader != newSecret {
						return fmt.Errorf("after apply, Harbor's policy does not hold the new secret (%d policies, %v)", len(pols), err)
					}
					fresh := push("fresh") // queued with the new header
					e.hs.ResumeDeliveries()
					inPort("the delivery queued with the old secret", "queued", queued)
					inPort("the delivery with the new secret", "fresh", fresh)
					prev, cur := e.metric(`harborport_webhook_auth_matches_total{secret="previous"}`), e.metric(`harborport_webhook_auth_matches_total{secret="current"}`)
					if prev != "1" || cur != "1" {
						return fmt.Errorf("during the rotation: matched previous=%q current=%q, want 1 and 1", prev, cur)
					}
					if !strings.Contains(e.log(), "secret=previous") || !strings.Contains(e.log(), "webhook secret rotation") {
						return fmt.Errorf("the listener's log does not say which secret matched:\n%s", e.lis.LogTail(30))
					}
					return deliveriesOK()
				},
			},
			{
				PreConfig: func() {
					e.stop(syscall.SIGTERM)
					e.withSecrets(newSecret, "")
					e.start()
				},
				Config:           cfg(newSecret, 2),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
				Check: func(*terraform.State) error {
					req, _ := http.NewRequest(http.MethodPost, e.listener+"/integration/webhook", strings.NewReader(`{}`))
					req.Header.Set("Authorization", oldSecret)
					req.Header.Set("Content-Type", "application/json")
					resp, err := http.DefaultClient.Do(req)
					if err != nil {
						return err
					}
					_ = resp.Body.Close()
					if resp.StatusCode != http.StatusUnauthorized {
						return fmt.Errorf("after the rotation the old secret got %d, want 401", resp.StatusCode)
					}
					inPort("a push after the rotation", "after", push("after"))
					if got := e.metric(`harborport_webhook_auth_failures_total{reason="mismatch"}`); got != "1" {
						return fmt.Errorf("mismatches after the rotation: %q, want 1", got)
					}
					if got := e.metric(`harborport_webhook_auth_matches_total{secret="previous"}`); got != "" {
						return fmt.Errorf("the listener still has a previous secret (%s matches)", got)
					}
					if n, _ := strconv.Atoi(e.metric(`harborport_webhook_auth_matches_total{secret="current"}`)); n != 1 {
						return fmt.Errorf("current matches after the restart: %d, want 1", n)
					}
					for _, s := range []string{"rotation-old-", "rotation-new-"} {
						if strings.Contains(e.log(), s) {
							return fmt.Errorf("a webhook secret is in the listener's log")
						}
					}
					return deliveriesOK()
				},
			},
		},
	})
}
