package provider

import (
	"encoding/pem"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"

	"github.com/harborport/terraform-provider-harborport/internal/sandbox/harborsim"
	"github.com/harborport/terraform-provider-harborport/internal/sandbox/portsim"
)

// The bad-input catalogue: every user mistake the troubleshooting guide
// (docs/guides/troubleshooting.md) lists, made for real against the
// simulators with the real terraform binary. Each row asserts the exact text
// the user sees — the summary and the "what to do" part — and where terraform
// points (the attribute or resource); where the fix is a configuration change,
// the documented fix is applied too and must succeed. TestTroubleshootingGuide
// checks that the guide quotes every asserted message, so the two cannot drift.

// badEnv is a fresh Port and Harbor per row; Harbor is reachable over plain
// HTTP and, the same simulator, over TLS with httptest's self-signed certificate
// (valid for 127.0.0.1 and example.com).
type badEnv struct {
	port      *portsim.Server
	portURL   string
	harbor    *harborsim.Server
	harborURL string // http://127.0.0.1:…
	tlsURL    string // https://127.0.0.1:…
	caPEM     string // the PEM of the TLS server's certificate (it is its own CA)
	closedURL string // an http URL where nothing listens
	// usersDown makes Harbor's GET /users answer 501, as a proxy in front of
	// Harbor might: a failure other than a refused permission.
	usersDown atomic.Bool
}

const (
	badRobotSecret = "Robot-secret-9f3k2"
	badSecrets     = "Harbor12345|" + badRobotSecret + "|" + testClientSecret
)

func newBadEnv(t *testing.T, opts harborsim.Options) *badEnv {
	t.Helper()
	e := &badEnv{}
	e.port, e.portURL = testPort(t)
	e.harbor = harborsim.New(opts)
	front := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if e.usersDown.Load() && r.URL.Path == "/api/v2.0/users" {
			http.Error(w, "users are not served here", http.StatusNotImplemented)
			return
		}
		e.harbor.ServeHTTP(w, r)
	})
	plain := httptest.NewServer(front)
	t.Cleanup(plain.Close)
	tls := httptest.NewTLSServer(front)
	t.Cleanup(tls.Close)
	e.harborURL, e.tlsURL = plain.URL, tls.URL
	e.caPEM = string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: tls.Certificate().Raw}))
	e.harbor.CreateProject("tfdemo", true)
	_, err := e.harbor.PushArtifact("tfdemo", "hello", []string{"latest"}, harborsim.PushOptions{})
	must(t, err)
	e.harbor.AddRobot("sync", badRobotSecret, false) // a system robot without user:list
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	e.closedURL = "http://" + ln.Addr().String()
	must(t, ln.Close())
	return e
}

// prov is a provider block; harbor is the lines after the Port settings.
func (e *badEnv) prov(harbor string) string {
	return fmt.Sprintf(`
provider "harborport" {
  port_base_url      = %q
  port_client_id     = %q
  port_client_secret = %q
%s
}
`, e.portURL, testClientID, testClientSecret, harbor)
}

// harbor is the Harbor part of a provider block.
func harborAttrs(url, user, password string, extra ...string) string {
	s := fmt.Sprintf("  harbor_url      = %q\n  harbor_username = %q\n  harbor_password = %q\n", url, user, password)
	for _, x := range extra {
		s += "  " + x + "\n"
	}
	return s
}

// withSync adds the blueprints and a sync with the given mapping (a YAML
// heredoc body; "" = the built-in mapping).
func withSync(mapping string) string {
	attr := ""
	if mapping != "" {
		attr = "mapping = <<-EOT\n" + mapping + "\n  EOT"
	}
	return `
resource "harborport_blueprints" "harbor" {
  delete_entities = true
}

resource "harborport_sync" "harbor" {
  depends_on = [harborport_blueprints.harbor]
  ` + attr + `
}
`
}

// syncOnly is a sync alone (the blueprints already exist in Port).
func syncOnly(mapping string) string {
	return "\nresource \"harborport_sync\" \"harbor\" {\n  mapping = <<-EOT\n" + mapping + "\n  EOT\n}\n"
}

const blueprintsOnly = `
resource "harborport_blueprints" "harbor" {}
`

func withWebhook(endpoint, secret, extra string) string {
	return fmt.Sprintf(`
resource "harborport_webhook" "listener" {
  endpoint = %q
  secret   = %q
  %s
}
`, endpoint, secret, extra)
}

// mappingNoUsers is the documented fix for a robot without user:list.
const mappingNoUsers = `    resources:
      - kind: project
      - kind: repository
      - kind: artifact`

type badInput struct {
	name string
	// opts configure the Harbor simulator (zero value: a normal Harbor).
	opts harborsim.Options
	// config is the mistaken configuration.
	config func(e *badEnv) string
	// want is what the user sees: the diagnostic's summary, then fragments of
	// its detail in order. Each is quoted verbatim in the troubleshooting guide.
	want []string
	// where must match terraform's pointer to the location (attribute line or
	// resource), for errors.
	where string
	// warning: the mistake shows as a warning; apply goes on.
	warning bool
	// also is a second warning (summary, fragments) the same mistake causes.
	also []string
	// setup prepares the simulators before terraform runs.
	setup func(t *testing.T, e *badEnv)
	// fix is the configuration the guide recommends; it must apply cleanly.
	fix func(e *badEnv) string
}

var badInputs = []badInput{
	// ---- Harbor credentials -------------------------------------------------
	{
		name: "wrong Harbor password",
		config: func(e *badEnv) string {
			return e.prov(harborAttrs(e.harborURL, "admin", "wrong-password")) + blueprintsOnly
		},
		want: []string{"Harbor Rejected the Credentials",
			"Harbor accepted the request as anonymous: the username/password (HARBOR_USERNAME/HARBOR_PASSWORD) are wrong, or the robot is disabled/expired",
			"/api/v2.0/systeminfo as \"admin\"). Check harbor_username (or HARBOR_USERNAME) and harbor_password (or HARBOR_PASSWORD); a robot account is written robot$name."},
		where: `harbor_username = "admin"`, // not the password line: terraform would quote the password
		fix: func(e *badEnv) string {
			return e.prov(harborAttrs(e.harborURL, "admin", "Harbor12345")) + blueprintsOnly
		},
	},
	{
		name: "robot account without the robot$ prefix",
		config: func(e *badEnv) string {
			return e.prov(harborAttrs(e.harborURL, "sync", badRobotSecret)) + blueprintsOnly
		},
		want: []string{"Harbor Rejected the Credentials",
			"Harbor accepted the request as anonymous",
			"as \"sync\")",
			"a robot account is written robot$name."},
		where: `harbor_username = "sync"`,
		fix: func(e *badEnv) string {
			return e.prov(harborAttrs(e.harborURL, "robot$sync", badRobotSecret)) + blueprintsOnly
		},
	},
	{
		// Not an error since issue 15: the other kinds sync (TestAccSync_robotWithoutUserList).
		name: "robot without user:list syncing the user kind",
		config: func(e *badEnv) string {
			return e.prov(harborAttrs(e.harborURL, "robot$sync", badRobotSecret)) + withSync("")
		},
		warning: true,
		want: []string{"Harbor Kind Skipped",
			"Harbor users are not synced: Harbor answered GET /api/v2.0/users with 403 FORBIDDEN (robot$sync), so the Harbor account lacks the system permission user:list.",
			"Entities of blueprint harborUser are neither written nor deleted until it can read them; every other kind syncs as usual.",
			"a system robot account can hold user:list from Harbor 2.12 on; Harbor 2.11 and older refuse it to robots, so use a system administrator there",
			"or remove the user kind from the mapping."},
	},
	{
		name: "Harbor not configured",
		config: func(e *badEnv) string {
			return e.prov("") + `resource "harborport_sync" "harbor" {}`
		},
		want: []string{"Harbor Not Configured",
			"This resource reads Harbor, but the provider has no harbor_url. Set harbor_url, harbor_username and harbor_password in the provider block, or HARBOR_URL, HARBOR_USERNAME and HARBOR_PASSWORD in the environment."},
		where: `with harborport_sync.harbor`,
	},
	// ---- Harbor URL and TLS -------------------------------------------------
	{
		name: "http:// for an https Harbor",
		config: func(e *badEnv) string {
			return e.prov(harborAttrs(strings.Replace(e.tlsURL, "https://", "http://", 1), "admin", "Harbor12345")) + blueprintsOnly
		},
		want: []string{"Unable to Reach Harbor",
			"/api/v2.0/systeminfo: 400: non-Harbor response \"Client sent an HTTP request to an HTTPS server.\"",
			"the server expects HTTPS: change harbor_url to https://.",
			"Check harbor_url (or HARBOR_URL), TLS (harbor_ca_certificate (or HARBOR_CA_CERTIFICATE), harbor_insecure (or HARBOR_INSECURE)) and the network path to Harbor."},
		where: `harbor_url\s+= "http://`,
		fix: func(e *badEnv) string {
			return e.prov(harborAttrs(e.tlsURL, "admin", "Harbor12345", fmt.Sprintf("harbor_ca_certificate = %q", e.caPEM))) + blueprintsOnly
		},
	},
	{
		name: "https:// for an http Harbor",
		config: func(e *badEnv) string {
			return e.prov(harborAttrs(strings.Replace(e.harborURL, "http://", "https://", 1), "admin", "Harbor12345")) + blueprintsOnly
		},
		want: []string{"Unable to Reach Harbor",
			"http: server gave HTTP response to HTTPS client.",
			"harbor_url uses https:// but the server speaks plain HTTP: change harbor_url to http:// (or enable TLS on Harbor)."},
		where: `harbor_url\s+= "https://`,
		fix: func(e *badEnv) string {
			return e.prov(harborAttrs(e.harborURL, "admin", "Harbor12345")) + blueprintsOnly
		},
	},
	{
		name:   "self-signed certificate",
		config: func(e *badEnv) string { return e.prov(harborAttrs(e.tlsURL, "admin", "Harbor12345")) + blueprintsOnly },
		want: []string{"Unable to Reach Harbor",
			"tls: failed to verify certificate: x509: certificate signed by unknown authority.",
			"Harbor's TLS certificate is signed by an unknown authority: set harbor_ca_certificate (HARBOR_CA_CERTIFICATE) to the PEM of the signing CA, or harbor_insecure = true (HARBOR_INSECURE) to skip verification (not recommended)."},
		where: `harbor_url`,
		fix: func(e *badEnv) string {
			return e.prov(harborAttrs(e.tlsURL, "admin", "Harbor12345", fmt.Sprintf("harbor_ca_certificate = %q", e.caPEM))) + blueprintsOnly
		},
	},
	{
		name: "certificate issued for another host name",
		config: func(e *badEnv) string {
			return e.prov(harborAttrs(strings.Replace(e.tlsURL, "127.0.0.1", "localhost", 1), "admin", "Harbor12345",
				fmt.Sprintf("harbor_ca_certificate = %q", e.caPEM))) + blueprintsOnly
		},
		want: []string{"Unable to Reach Harbor",
			"tls: failed to verify certificate: x509: certificate is valid for",
			`Harbor's TLS certificate is not valid for "localhost": use a harbor_url host the certificate names, or harbor_insecure = true (not recommended).`},
		where: `harbor_url\s+= "https://localhost`,
		fix: func(e *badEnv) string {
			return e.prov(harborAttrs(e.tlsURL, "admin", "Harbor12345", fmt.Sprintf("harbor_ca_certificate = %q", e.caPEM))) + blueprintsOnly
		},
	},
	{
		name: "harbor_ca_certificate is a file name, not PEM",
		config: func(e *badEnv) string {
			return e.prov(harborAttrs(e.tlsURL, "admin", "Harbor12345", `harbor_ca_certificate = "/etc/ssl/harbor-ca.crt"`)) + blueprintsOnly
		},
		want: []string{"Invalid Harbor Configuration",
			"harbor_ca_certificate (HARBOR_CA_CERTIFICATE) holds no valid PEM certificate: expected one or more -----BEGIN CERTIFICATE----- blocks"},
		where: `harbor_ca_certificate = "/etc/ssl/harbor-ca.crt"`,
		fix: func(e *badEnv) string {
			return e.prov(harborAttrs(e.tlsURL, "admin", "Harbor12345", fmt.Sprintf("harbor_ca_certificate = %q", e.caPEM))) + blueprintsOnly
		},
	},
	{
		name: "nothing listens at harbor_url",
		config: func(e *badEnv) string {
			return e.prov(harborAttrs(e.closedURL, "admin", "Harbor12345")) + blueprintsOnly
		},
		want: []string{"Unable to Reach Harbor",
			"connect: connection refused (after 5 attempts). nothing accepts connections at",
			"check harbor_url's host, port and scheme, and that Harbor is running."},
		where: `harbor_url`,
	},
	{
		name: "harbor_url is a Harbor UI page",
		config: func(e *badEnv) string {
			return e.prov(harborAttrs(e.harborURL+"/harbor/projects", "admin", "Harbor12345")) + blueprintsOnly
		},
		want: []string{"Unable to Reach Harbor",
			"/harbor/projects/api/v2.0/systeminfo: 404 NOT_FOUND: path /harbor/projects/api/v2.0/systeminfo was not found",
			"Harbor has no such API route: check that harbor_url is the Harbor base URL and Harbor is v2.x."},
		where: `harbor_url\s+= "http://127.0.0.1:\d+/harbor/projects"`,
		fix: func(e *badEnv) string {
			return e.prov(harborAttrs(e.harborURL, "admin", "Harbor12345")) + blueprintsOnly
		},
	},
	{
		name: "harbor_url without a scheme",
		config: func(e *badEnv) string {
			return e.prov(harborAttrs("harbor.example.com", "admin", "Harbor12345")) + blueprintsOnly
		},
		want: []string{"Invalid harbor_url",
			`harbor_url (or HARBOR_URL) is "harbor.example.com": it must start with https:// (or http://).`},
		where: `harbor_url\s+= "harbor.example.com"`,
	},
	{
		name: "password inside harbor_url",
		config: func(e *badEnv) string {
			return e.prov(harborAttrs("https://admin:Harbor12345@harbor.example.com", "admin", "Harbor12345")) + blueprintsOnly
		},
		want: []string{"Invalid harbor_url",
			`harbor_url (or HARBOR_URL) is "https://REDACTED@harbor.example.com": it must not contain a user name or password; use the credential attributes.`},
		where: `harbor_url\s+= "https://admin:`,
	},
	// ---- Port -------------------------------------------------------------------
	{
		name: "wrong Port client secret",
		config: func(e *badEnv) string {
			return strings.Replace(e.prov(""), testClientSecret, "wrong-secret", 1) + blueprintsOnly
		},
		want: []string{"Port Rejected the Credentials",
			"Port did not accept port_client_id (or PORT_CLIENT_ID) with port_client_secret (or PORT_CLIENT_SECRET) at",
			"Port API POST /v1/auth/access_token: 401",
			"Check both values (Port → Settings → Credentials) and that port_base_url names your region."},
		where: `port_client_id\s+= `, // not the secret line: terraform would quote the secret
		fix:   func(e *badEnv) string { return e.prov("") + blueprintsOnly },
	},
	{
		name: "Port credentials missing",
		config: func(e *badEnv) string {
			return fmt.Sprintf("provider \"harborport\" {\n  port_base_url = %q\n}\n", e.portURL) + blueprintsOnly
		},
		want: []string{"Missing Port Credentials",
			"Set port_client_id and port_client_secret in the provider block, or the PORT_CLIENT_ID and PORT_CLIENT_SECRET environment variables. Create them in Port under Settings → Credentials."},
		where: `provider "harborport"`,
	},
	{
		name: "port_base_url without a scheme",
		config: func(e *badEnv) string {
			return strings.Replace(e.prov(""), e.portURL, "api.getport.io", 1) + blueprintsOnly
		},
		want: []string{"Invalid port_base_url",
			`port_base_url (or PORT_BASE_URL) is "api.getport.io": it must start with https:// (or http://).`},
		where: `port_base_url\s+= "api.getport.io"`,
	},
	// ---- The mapping -----------------------------------------------------------
	{
		name: "YAML syntax error in the mapping",
		config: func(e *badEnv) string {
			return e.prov(harborAttrs(e.harborURL, "admin", "Harbor12345")) + withSync(`    resources:
      - kind: project
        selector:
          query: '.name == "tfdemo"`)
		},
		want: []string{"Invalid Mapping",
			"harborport_sync.mapping:4: invalid YAML: found unexpected end of stream",
			`(hint: check indentation, and quote jq that contains ': ', starts with a quote, or ends with ':' (e.g. '.a // "x"'))`},
		where: `mapping = <<-EOT`,
		fix: func(e *badEnv) string {
			return e.prov(harborAttrs(e.harborURL, "admin", "Harbor12345")) + withSync(`    resources:
      - kind: project
        selector:
          query: '.name == "tfdemo"'`)
		},
	},
	{
		name: "unknown kind in the mapping",
		config: func(e *badEnv) string {
			return e.prov(harborAttrs(e.harborURL, "admin", "Harbor12345")) + withSync(`    resources:
      - kind: project
      - kind: image`)
		},
		want: []string{"Invalid Mapping",
			`harborport_sync.mapping:3: resources[1].kind: unknown kind "image" (hint: valid kinds: project, user, repository, artifact)`},
		where: `mapping = <<-EOT`,
	},
	{
		name: "misspelled key in the mapping",
		config: func(e *badEnv) string {
			return e.prov(harborAttrs(e.harborURL, "admin", "Harbor12345")) + withSync(`    resources:
      - kind: project
        selecter:
          query: 'true'`)
		},
		want: []string{"Invalid Mapping",
			`harborport_sync.mapping:3: resources[0].selecter: unknown key "selecter" (hint: did you mean "selector"? valid keys: kind, selector, port)`},
		where: `mapping = <<-EOT`,
	},
	{
		name: "jq syntax error in a mapping",
		config: func(e *badEnv) string {
			return e.prov(harborAttrs(e.harborURL, "admin", "Harbor12345")) + withSync(`    resources:
      - kind: repository
        port:
          entity:
            mappings:
              identifier: .name
              title: .name
              blueprint: '"harborRepository"'
              properties:
                pullCount: .pull_count |`)
		},
		want: []string{"Invalid Mapping",
			"harborport_sync.mapping:10: resources[0].port.entity.mappings.properties.pullCount: jq syntax error: unexpected EOF (hint: the expression ends too early: look for a trailing |, and, or, or an unclosed ( [ {)"},
		where: `mapping = <<-EOT`,
	},
	{
		name: "selector that is not a boolean",
		setup: func(t *testing.T, e *badEnv) {
			setBlueprints(t, e.port, nil)
			must(t, e.port.SetEntity("harborProject", map[string]any{"identifier": "retired", "title": "retired"}))
		},
		config: func(e *badEnv) string {
			return e.prov(harborAttrs(e.harborURL, "admin", "Harbor12345")) + syncOnly(`    resources:
      - kind: project
        selector:
          query: .name`)
		},
		want: []string{"Selector Errors",
			"Harbor items failed a selector (a selector must yield true or false); they are not synced. First ones:",
			`project tfdemo: resources[0].selector.query (line 4): selector query ".name" must yield a boolean, got string ("tfdemo") (item tfdemo)`},
		also: []string{"Deletes Skipped",
			"owned entities are no longer in Harbor, but 2 selector errors make the desired state incomplete, so nothing is deleted (as Ocean does); fix the selector and plan again."},
		warning: true,
	},
	{
		name: "jq error while mapping an item",
		config: func(e *badEnv) string {
			return e.prov(harborAttrs(e.harborURL, "admin", "Harbor12345")) + withSync(`    resources:
      - kind: repository
        port:
          entity:
            mappings:
              identifier: .name
              title: .name
              blueprint: '"harborRepository"'
              properties:
                pullCount: .name | tonumber`)
		},
		want: []string{"Mapping Warnings",
			"mapping warnings (fields set to null or entities dropped, as Ocean does). First ones:",
			`resources[0].properties.pullCount (line 10): jq ".name | tonumber" failed: tonumber cannot be applied to "tfdemo/hello": invalid number; the field is null (item tfdemo/hello)`},
		warning: true,
	},
	{
		name: "unknown blueprint in a mapping",
		config: func(e *badEnv) string {
			return e.prov(harborAttrs(e.harborURL, "admin", "Harbor12345")) + withSync(`    resources:
      - kind: project
        port:
          entity:
            mappings:
              identifier: .name
              title: .name
              blueprint: '"harborImage"'`)
		},
		want: []string{"Unable to Compute the Catalog Changes",
			`reading Port blueprint "harborImage": it does not exist. Create it first (harborport_blueprints, with depends_on from harborport_sync) or fix the blueprint in the mapping`},
		where: `with harborport_sync.harbor`,
		fix: func(e *badEnv) string {
			return e.prov(harborAttrs(e.harborURL, "admin", "Harbor12345")) + withSync(`    resources:
      - kind: project
        port:
          entity:
            mappings:
              identifier: .name
              title: .name
              blueprint: '"harborProject"'`)
		},
	},
	{
		name: "property type mismatch",
		config: func(e *badEnv) string {
			return e.prov(harborAttrs(e.harborURL, "admin", "Harbor12345")) + withSync(`    resources:
      - kind: repository
        port:
          entity:
            mappings:
              identifier: .name
              title: .name
              blueprint: '"harborRepository"'
              properties:
                pullCount: .name`)
		},
		want: []string{"Catalog Sync Partially Failed",
			"Applied 0 of 1 changes (0 created, 0 updated, 0 deleted) before: some changes were not applied: 1 of 1 failed.",
			"create harborRepository/tfdemo/hello: Port API POST /v1/blueprints/harborRepository/entities/bulk: 422",
			"properties/pullCount must be number, got string",
			"The changes Port confirmed are kept; run terraform plan to see what remains, and apply again once the cause is fixed."},
		where: `with harborport_sync.harbor`,
		fix: func(e *badEnv) string {
			return e.prov(harborAttrs(e.harborURL, "admin", "Harbor12345")) + withSync(`    resources:
      - kind: repository
        port:
          entity:
            mappings:
              identifier: .name
              title: .name
              blueprint: '"harborRepository"'
              properties:
                pullCount: .pull_count`)
		},
	},
	// ---- Webhooks ----------------------------------------------------------------
	{
		name: "notifications disabled in Harbor",
		opts: harborsim.Options{NotificationEnable: new(bool)},
		config: func(e *badEnv) string {
			return e.prov(harborAttrs(e.harborURL, "admin", "Harbor12345")) + withWebhook(webhookEndpoint, webhookSecret, "")
		},
		want: []string{"Harbor Notifications Are Disabled",
			"Harbor reports notification_enable = false in /api/v2.0/systeminfo, so it delivers no webhook events at all: the listener will receive nothing from these policies.",
			"A Harbor system administrator can turn the configuration item notification_enable back on (PUT /api/v2.0/configurations); until then only the listener's --resync-interval keeps Port current."},
		warning: true,
	},
	{
		name: "webhook endpoint unreachable from Harbor (loopback)",
		config: func(e *badEnv) string {
			return e.prov(harborAttrs(e.harborURL, "admin", "Harbor12345")) + withWebhook("http://localhost:8000/integration/webhook", webhookSecret, "")
		},
		want: []string{"Webhook Endpoint Is a Loopback Address",
			`endpoint points at "localhost", a loopback address. Harbor's jobservice sends the webhooks, and a loopback address leads to the machine it runs on: ` +
				"a Harbor installed on the listener's host (jobservice as a host process, or in a container with host networking) reaches the listener there; " +
				"a containerised Harbor (the docker compose installer, the Helm chart) does not, because in the jobservice container that address is the container itself.",
			"To check, push an image and look at the policy's executions: in Harbor's UI, Projects → <project> → Webhooks; " +
				"in its API, GET /api/v2.0/projects/<project>/webhook/policies/<policy id>/executions, then …/executions/<id>/tasks.",
			"Tasks in Success reached the listener; tasks in Error did not (the task's log, …/tasks/<id>/log, gives the reason, e.g. connection refused): " +
				"then use an address of the listener that Harbor can reach (its DNS name, a Kubernetes Service name or the host's IP)."},
		warning: true,
	},
	{
		name: "webhook endpoint with credentials",
		config: func(e *badEnv) string {
			return e.prov(harborAttrs(e.harborURL, "admin", "Harbor12345")) +
				withWebhook("https://user:pw@listener.example.com/integration/webhook", webhookSecret, "")
		},
		want: []string{"Invalid Webhook Endpoint",
			"endpoint must not contain a user name or password: Harbor drops them. Put the credential in `secret`, which Harbor sends as the Authorization header."},
		where: `endpoint = "https://user:pw@`,
	},
	{
		name: "webhook endpoint with a token in the query string",
		config: func(e *badEnv) string {
			return e.prov(harborAttrs(e.harborURL, "admin", "Harbor12345")) +
				withWebhook("https://listener.example.com/integration/webhook?token=abc", webhookSecret, "")
		},
		want: []string{"Invalid Webhook Endpoint",
			"endpoint must not have a query string: Harbor drops it. Put a token in `secret`, which Harbor sends as the Authorization header."},
		where: `endpoint = "https://listener.example.com/integration/webhook\?token=abc"`,
	},
	{
		name: "webhook secret too short",
		config: func(e *badEnv) string {
			return e.prov(harborAttrs(e.harborURL, "admin", "Harbor12345")) + withWebhook(webhookEndpoint, "short", "")
		},
		want:  []string{"Invalid Attribute Value Length", "Attribute secret string length must be at least 16, got: 5"},
		where: `secret\s+= "short"`,
	},
	{
		name: "webhook for a project that does not exist",
		config: func(e *badEnv) string {
			return e.prov(harborAttrs(e.harborURL, "admin", "Harbor12345")) + withWebhook(webhookEndpoint, webhookSecret, `projects = ["tfdemo", "nosuch"]`)
		},
		want: []string{"Harbor Project Not Found",
			"Project \"nosuch\" does not exist in Harbor, or the Harbor user \"admin\" cannot see it, so it gets no webhook policy. Create it (or add the user to it), or remove it from `projects`."},
		warning: true,
	},
}

// wrappedText matches s across terraform's line wrapping.
func wrappedText(s string) string {
	parts := strings.Fields(s)
	for i, p := range parts {
		parts[i] = regexp.QuoteMeta(p)
	}
	return strings.Join(parts, `\s+`)
}

func TestAccBadInput(t *testing.T) {
	secrets := regexp.MustCompile(badSecrets)
	for _, c := range badInputs {
		t.Run(c.name, func(t *testing.T) {
			e := newBadEnv(t, c.opts)
			if c.setup != nil {
				c.setup(t, e)
			}
			if c.warning {
				diags := runTerraform(t, c.config(e))
				if os.Getenv("BADINPUT_SHOW") != "" {
					for _, d := range diags {
						t.Log(d)
					}
				}
				checkWarning(t, c.want, diags, secrets)
				if c.also != nil {
					checkWarning(t, c.also, diags, secrets)
				}
				return
			}
			parts := make([]string, len(c.want))
			for i, w := range c.want {
				parts[i] = wrappedText(w)
			}
			re := regexp.MustCompile(`(?s)Error: ` + strings.Join(parts, ".*"))
			// ErrorCheck sees the error text (ExpectError would only match it), so
			// the location and the absence of secrets can be checked as well.
			step, seen := 0, ""
			steps := []resource.TestStep{{PreConfig: func() { step = 1 }, Config: c.config(e)}}
			if c.fix != nil {
				steps = append(steps, resource.TestStep{PreConfig: func() { step = 2 }, Config: c.fix(e)})
			}
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: testProviders,
				ErrorCheck: func(err error) error {
					if step != 1 {
						return err // the documented fix must apply cleanly
					}
					seen = err.Error()
					if !re.MatchString(seen) {
						return fmt.Errorf("the error does not match %s: %w", re, err)
					}
					return nil
				},
				Steps: steps,
			})
			if t.Failed() {
				return
			}
			if seen == "" {
				t.Fatalf("the mistake was not reported: want an error matching %s", re)
			}
			if os.Getenv("BADINPUT_SHOW") != "" {
				t.Log(seen)
			}
			if c.where != "" && !regexp.MustCompile(c.where).MatchString(seen) {
				t.Errorf("terraform does not point at %s:\n%s", c.where, seen)
			}
			if m := secrets.FindString(stripSourceLines(seen)); m != "" {
				t.Errorf("a secret (%q) appears in the error output:\n%s", m, seen)
			}
		})
	}
}

// stripSourceLines drops the configuration lines terraform quotes ("  7:   harbor_url = …"):
// they are the user's own file, not something the provider printed.
func stripSourceLines(s string) string {
	return regexp.MustCompile(`(?m)^\s*\d+:.*$`).ReplaceAllString(s, "")
}

func checkWarning(t *testing.T, want []string, diags []tfDiag, secrets *regexp.Regexp) {
	t.Helper()
	found := false
	for _, d := range diags {
		if d.Severity == "error" {
			t.Errorf("unexpected error: %s", d)
		}
		if m := secrets.FindString(d.Summary + d.Detail); m != "" {
			t.Errorf("a secret (%q) appears in a diagnostic: %s", m, d)
		}
		if d.Severity != "warning" || d.Summary != want[0] {
			continue
		}
		found = true
		rest := strings.Join(strings.Fields(d.Detail), " ")
		for _, w := range want[1:] {
			i := strings.Index(rest, strings.Join(strings.Fields(w), " "))
			if i < 0 {
				t.Errorf("warning %q lacks %q; detail:\n%s", d.Summary, w, d.Detail)
				continue
			}
			rest = rest[i:]
		}
	}
	if !found {
		var all []string
		for _, d := range diags {
			all = append(all, d.String())
		}
		t.Errorf("no warning %q; diagnostics:\n%s", want[0], strings.Join(all, "\n"))
	}
}

// TestTroubleshootingGuide keeps the guide and the product in step: every
// message the catalogue asserts is quoted in docs/guides/troubleshooting.md.
func TestTroubleshootingGuide(t *testing.T) {
	raw, err := os.ReadFile("../../docs/guides/troubleshooting.md")
	if err != nil {
		t.Fatalf("the troubleshooting guide is missing (make docs renders templates/guides/troubleshooting.md.tmpl): %v", err)
	}
	doc := strings.Join(strings.Fields(string(raw)), " ")
	for _, c := range badInputs {
		for _, w := range append(append([]string{}, c.want...), c.also...) {
			if !strings.Contains(doc, strings.Join(strings.Fields(w), " ")) {
				t.Errorf("%s: docs/guides/troubleshooting.md does not quote %q", c.name, w)
			}
		}
	}
}

// A sync that already exists refreshes with the mapping in its state. When
// that mapping cannot be computed any more (Harbor fails the listing of a kind
// it reads with something other than a 403: here a proxy answering 501 on
// /users), the plan with the same mapping fails with the error, and the plan
// with a mapping without that kind goes through: refresh keeps the state and
// warns instead of failing.
func TestAccBadInput_fixMappingOfExistingSync(t *testing.T) {
	e := newBadEnv(t, harborsim.Options{})
	w := newTFWorkdir(t)
	admin := e.prov(harborAttrs(e.harborURL, "admin", "Harbor12345"))
	if errs := errorsOf(w.apply(admin + withSync(""))); len(errs) > 0 {
		t.Fatalf("first apply: %v", errs)
	}
	e.usersDown.Store(true)
	want := "Unable to Compute the Catalog Changes"
	errs := errorsOf(w.apply(admin + withSync("")))
	if len(errs) != 1 || errs[0].Summary != want || !strings.Contains(errs[0].Detail, "reading Harbor users") {
		t.Fatalf("the unchanged mapping: want one %q error reading users, got %v", want, errs)
	}
	diags := w.apply(admin + withSync(mappingNoUsers))
	if errs := errorsOf(diags); len(errs) > 0 {
		t.Fatalf("apply with the fixed mapping: %v", errs)
	}
	var warned bool
	for _, d := range diags {
		warned = warned || d.Severity == "warning" && d.Summary == "Catalog Changes Not Computed" && strings.Contains(d.Detail, "reading Harbor users")
	}
	if !warned {
		t.Errorf("refresh did not warn that the mapping in state failed: %v", diags)
	}
	if errs := errorsOf(w.apply(admin + withSync(mappingNoUsers))); len(errs) > 0 {
		t.Fatalf("the next apply: %v", errs)
	}
	if n := e.port.EntityCount("harborUser"); n != 1 {
		t.Errorf("Port has %d harborUser entities; the sync no longer owns them and must leave them (want 1)", n)
	}
}

// An unknown blueprint does not fail the plan: its preview tolerates missing
// blueprints (harborport_blueprints, or another provider's resource, may
// create them in the same apply) and counts creates in it, but it warns about
// a blueprint harborport_blueprints would not create. Apply then fails before
// writing anything. The guide says all three.
func TestAccBadInput_unknownBlueprintPlan(t *testing.T) {
	e := newBadEnv(t, harborsim.Options{})
	var row *badInput
	for i := range badInputs {
		if badInputs[i].name == "unknown blueprint in a mapping" {
			row = &badInputs[i]
		}
	}
	if row == nil {
		t.Fatal("the catalogue lost its unknown-blueprint row")
	}
	diags := newTFWorkdir(t).apply(row.config(e))
	var warnings []tfDiag
	for _, d := range diags {
		if d.Severity == "warning" {
			warnings = append(warnings, d)
		}
	}
	checkWarning(t, []string{"Catalog Sync Preview", "harborImage: 2 to create"}, warnings, regexp.MustCompile(badSecrets))
	checkWarning(t, []string{"Blueprint Not in Port", `The mapping writes to "harborImage", which Port does not have and harborport_blueprints does not create.`,
		"Apply will fail before writing anything unless another resource creates it first"}, warnings, regexp.MustCompile(badSecrets))
	if errs := errorsOf(diags); len(errs) != 1 || errs[0].Summary != row.want[0] {
		t.Errorf("want one %q error, got %v", row.want[0], errs)
	}
	for _, bp := range []string{"harborProject", "harborRepository", "harborArtifact", "harborUser"} {
		if n := e.port.EntityCount(bp); n != 0 {
			t.Errorf("%d %s entities were written", n, bp)
		}
	}
}
