package provider

import (
	"fmt"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/harborport/terraform-provider-harborport/internal/sandbox/portsim"
)

// testProviders runs the provider in-process, so acceptance tests need no
// registry and see the simulators' state directly.
var testProviders = map[string]func() (tfprotov6.ProviderServer, error){
	"harborport": providerserver.NewProtocol6WithError(New("test")()),
}

const (
	testClientID     = "acc-client"
	testClientSecret = "acc-secret-do-not-print"
)

// testPort starts a Port simulator for one test.
func testPort(t *testing.T) (*portsim.Server, string) {
	t.Helper()
	sim := portsim.New(portsim.Options{ClientID: testClientID, ClientSecret: testClientSecret, MigrationPolls: 1})
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	return sim, srv.URL
}

// providerBlock configures the provider for the simulator at url. Tests pass
// everything in HCL rather than the environment so they can run in parallel.
func providerBlock(url, secret string) string {
	return fmt.Sprintf(`
provider "harborport" {
  port_base_url      = %q
  port_client_id     = %q
  port_client_secret = %q
}
`, url, testClientID, secret)
}

func TestResolve(t *testing.T) {
	env := func(kv ...string) func(string) string {
		m := map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return func(k string) string { return m[k] }
	}
	full := providerModel{
		PortClientID: types.StringValue("id"), PortClientSecret: types.StringValue("secret"),
		HarborURL: types.StringNull(), HarborUsername: types.StringNull(), HarborPassword: types.StringNull(),
		HarborCACertificate: types.StringNull(), PortBaseURL: types.StringNull(),
		HarborInsecure: types.BoolNull(), MaxConcurrency: types.Int64Null(),
	}
	with := func(f func(*providerModel)) providerModel { m := full; f(&m); return m }

	cases := []struct {
		name     string
		model    providerModel
		env      func(string) string
		wantPath string // attribute of the single expected error, "" = no error
		wantText string
		check    func(t *testing.T, c Config, unknown []string)
	}{
		{name: "defaults", model: full, env: env(), check: func(t *testing.T, c Config, _ []string) {
			if c.PortBaseURL != DefaultPortBaseURL || c.MaxConcurrency != 8 || c.HarborInsecure {
				t.Errorf("defaults: %+v", c)
			}
		}},
		{name: "env fallback", env: env("PORT_CLIENT_ID", "eid", "PORT_CLIENT_SECRET", "esecret", "PORT_BASE_URL", "https://api.us.port.io",
			"HARBOR_URL", "https://h.example", "HARBOR_USERNAME", "robot$x", "HARBOR_PASSWORD", "p", "HARBOR_INSECURE", "true",
			"HARBORPORT_MAX_CONCURRENCY", "3"),
			model: with(func(m *providerModel) { m.PortClientID, m.PortClientSecret = types.StringNull(), types.StringNull() }),
			check: func(t *testing.T, c Config, _ []string) {
				if c.PortClientID != "eid" || c.PortClientSecret != "esecret" || c.PortBaseURL != "https://api.us.port.io" ||
					c.HarborUsername != "robot$x" || !c.HarborInsecure || c.MaxConcurrency != 3 {
					t.Errorf("env not applied: %+v", c)
				}
			}},
		{name: "config wins over env", model: full, env: env("PORT_CLIENT_ID", "eid"), check: func(t *testing.T, c Config, _ []string) {
			if c.PortClientID != "id" {
				t.Errorf("got %q", c.PortClientID)
			}
		}},
		{name: "no port credentials", env: env(),
			model:    with(func(m *providerModel) { m.PortClientID, m.PortClientSecret = types.StringNull(), types.StringNull() }),
			wantPath: "port_client_id", wantText: "PORT_CLIENT_ID and PORT_CLIENT_SECRET"},
		{name: "secret without id", env: env("PORT_CLIENT_SECRET", "s"),
			model:    with(func(m *providerModel) { m.PortClientID, m.PortClientSecret = types.StringNull(), types.StringNull() }),
			wantPath: "port_client_id", wantText: "port_client_secret (or PORT_CLIENT_SECRET) is set but port_client_id (or PORT_CLIENT_ID) is not"},
		{name: "harbor user without password", env: env(),
			model: with(func(m *providerModel) {
				m.HarborURL, m.HarborUsername = types.StringValue("https://h"), types.StringValue("admin")
			}),
			wantPath: "harbor_password", wantText: "set both"},
		{name: "harbor credentials without url", env: env("HARBOR_USERNAME", "admin", "HARBOR_PASSWORD", "x"), model: full,
			wantPath: "harbor_url", wantText: "Harbor credentials are set"},
		{name: "bad scheme", env: env(), model: with(func(m *providerModel) { m.PortBaseURL = types.StringValue("api.getport.io") }),
			wantPath: "port_base_url", wantText: "must start with https://"},
		{name: "userinfo redacted", env: env(), model: with(func(m *providerModel) {
			m.HarborURL, m.HarborUsername, m.HarborPassword = types.StringValue("https://admin:hunter2@h.example"), types.StringValue("a"), types.StringValue("b")
		}), wantPath: "harbor_url", wantText: "must not contain a user name or password"},
		{name: "query string", env: env(), model: with(func(m *providerModel) { m.PortBaseURL = types.StringValue("https://api.getport.io/?x=1") }),
			wantPath: "port_base_url", wantText: "query string"},
		{name: "bad bool env", env: env("HARBOR_INSECURE", "yes please"), model: full, wantPath: "harbor_insecure", wantText: "true or false"},
		{name: "bad concurrency env", env: env("HARBORPORT_MAX_CONCURRENCY", "0"), model: full, wantPath: "max_concurrency", wantText: "between 1 and 64"},
		{name: "unknown values defer", env: env(), model: with(func(m *providerModel) { m.PortBaseURL = types.StringUnknown() }),
			check: func(t *testing.T, _ Config, unknown []string) {
				if strings.Join(unknown, ",") != "port_base_url" {
					t.Errorf("unknown = %v", unknown)
				}
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg, unknown, diags := resolve(c.model, c.env)
			if c.wantPath == "" {
				if diags.HasError() {
					t.Fatalf("unexpected errors: %v", diags)
				}
				if c.check != nil {
					c.check(t, cfg, unknown)
				}
				return
			}
			if diags.ErrorsCount() != 1 {
				t.Fatalf("want one error at %s, got %v", c.wantPath, diags)
			}
			d := diags.Errors()[0]
			withPath, ok := d.(interface{ Path() path.Path })
			if !ok || !withPath.Path().Equal(path.Root(c.wantPath)) {
				t.Errorf("error not at attribute %s: %v", c.wantPath, d)
			}
			if !strings.Contains(d.Detail(), c.wantText) {
				t.Errorf("detail %q does not contain %q", d.Detail(), c.wantText)
			}
			if strings.Contains(d.Detail(), "hunter2") {
				t.Errorf("a password leaked into the diagnostic: %q", d.Detail())
			}
		})
	}
}

// Wrong Port credentials: one diagnostic naming the attributes and env vars,
// and nothing after the token request.
func TestAccProvider_wrongPortCredentials(t *testing.T) {
	sim, url := testPort(t)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{{
			Config:      providerBlock(url, "wrong-secret") + `resource "harborport_blueprints" "b" {}`,
			ExpectError: regexp.MustCompile(`(?s)Port Rejected the Credentials.*port_client_id \(or\s+PORT_CLIENT_ID\) with\s+port_client_secret\s+\(or\s+PORT_CLIENT_SECRET\)`),
		}},
	})
	for route, n := range sim.Requests() {
		if route != "POST /v1/auth/access_token" && n > 0 {
			t.Errorf("after a failed login the provider still called %s (%d times)", route, n)
		}
	}
}

// Provider values that come from other resources are unknown at plan time;
// the plan must still work and apply must use the values once known.
func TestAccProvider_unknownConfigAtPlan(t *testing.T) {
	sim, url := testPort(t)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{{
			Config: fmt.Sprintf(`
resource "terraform_data" "port" {
  input = %q
}
provider "harborport" {
  port_base_url      = terraform_data.port.output
  port_client_id     = %q
  port_client_secret = %q
}
resource "harborport_blueprints" "b" {}
`, url, testClientID, testClientSecret),
			Check: func(_ *terraform.State) error {
				if _, ok := sim.Blueprint("harborArtifact"); !ok {
					return fmt.Errorf("blueprints were not created once the provider configuration became known")
				}
				return nil
			},
		}},
	})
}
