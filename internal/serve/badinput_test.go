package serve

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/harborport/terraform-provider-harborport/internal/sandbox/harborsim"
	"github.com/harborport/terraform-provider-harborport/internal/sandbox/portsim"
)

// The `serve` part of the bad-input catalogue (docs/guides/troubleshooting.md
// quotes every want; TestTroubleshootingGuideServe checks it): configuration
// mistakes stop the listener at start with exit code 2 and a list of errors;
// unusable credentials or mapping stop it with exit code 1 and one logged error.

const badServeSecret = "Bearer serve-badinput-secret-1"

type serveEnv struct{ harborURL, portURL string }

func newServeEnv(t *testing.T) serveEnv {
	t.Helper()
	h := httptest.NewServer(harborsim.New(harborsim.Options{}))
	t.Cleanup(h.Close)
	p := httptest.NewServer(portsim.New(portsim.Options{ClientID: "serve-id", ClientSecret: "serve-port-secret"}))
	t.Cleanup(p.Close)
	return serveEnv{h.URL, p.URL}
}

func (e serveEnv) env(over map[string]string) func(string) string {
	m := map[string]string{
		"HARBOR_URL": e.harborURL, "HARBOR_USERNAME": "admin", "HARBOR_PASSWORD": "Harbor12345",
		"PORT_BASE_URL": e.portURL, "PORT_CLIENT_ID": "serve-id", "PORT_CLIENT_SECRET": "serve-port-secret",
		"HARBORPORT_WEBHOOK_SECRET": badServeSecret,
	}
	for k, v := range over {
		if v == "" {
			delete(m, k)
		} else {
			m[k] = v
		}
	}
	return func(k string) string { return m[k] }
}

var serveBadInputs = []struct {
	name string
	args []string
	env  map[string]string // overrides; "" removes
	// mappingFile, when set, is written to a file passed with --mapping.
	mappingFile string
	code        int
	want        []string // in stderr (exit 2) or in the logged "error" (exit 1)
}{
	{name: "no webhook secret", env: map[string]string{"HARBORPORT_WEBHOOK_SECRET": ""}, code: 2,
		want: []string{"harborport serve: configuration errors:",
			"--webhook-secret (or HARBORPORT_WEBHOOK_SECRET): no webhook secret: the listener would accept anyone's events. Set it to harborport_webhook's secret, or pass --insecure-no-auth for a local experiment"}},
	{name: "previous webhook secret equal to the current one", env: map[string]string{"HARBORPORT_WEBHOOK_SECRET_PREVIOUS": badServeSecret}, code: 2,
		want: []string{"--webhook-secret-previous (or HARBORPORT_WEBHOOK_SECRET_PREVIOUS): equals --webhook-secret (or HARBORPORT_WEBHOOK_SECRET): " +
			"during a rotation the new value goes in --webhook-secret (or HARBORPORT_WEBHOOK_SECRET) and the old one here; after it, unset this"}},
	{name: "previous webhook secret without a current one", env: map[string]string{"HARBORPORT_WEBHOOK_SECRET": "", "HARBORPORT_WEBHOOK_SECRET_PREVIOUS": badServeSecret + "-old"}, code: 2,
		want: []string{"--webhook-secret-previous (or HARBORPORT_WEBHOOK_SECRET_PREVIOUS): is set without a current webhook secret: " +
			"during a rotation set --webhook-secret (or HARBORPORT_WEBHOOK_SECRET) to the new value and this to the old one"}},
	{name: "Harbor password not in the environment", env: map[string]string{"HARBOR_PASSWORD": ""}, code: 2,
		want: []string{"HARBOR_PASSWORD is not set; the listener reads Harbor and writes Port with the same variables as the provider"}},
	{name: "resync interval in days", args: []string{"--resync-interval", "1d"}, code: 2,
		want: []string{`--resync-interval (or HARBORPORT_RESYNC_INTERVAL): "1d" is not a duration; write e.g. 30m or 6h, or 0 to turn it off`}},
	{name: "audit poll interval without a unit", args: []string{"--audit-poll-interval", "10"}, code: 2,
		want: []string{`--audit-poll-interval (or HARBORPORT_AUDIT_POLL_INTERVAL): "10" is not a duration; write e.g. 10s or 1m, or 0 to turn the audit-log feed off`}},
	{name: "HARBOR_URL without a scheme", env: map[string]string{"HARBOR_URL": "harbor.example.com"}, code: 2,
		want: []string{"HARBOR_URL is not an http(s) URL like https://harbor.example.com"}},
	{name: "wrong Harbor password", env: map[string]string{"HARBOR_PASSWORD": "wrong-password"}, code: 1,
		want: []string{"checking Harbor at",
			"Harbor accepted the request as anonymous: the username/password (HARBOR_USERNAME/HARBOR_PASSWORD) are wrong, or the robot is disabled/expired"}},
	{name: "wrong Port secret", env: map[string]string{"PORT_CLIENT_SECRET": "wrong-secret"}, code: 1,
		want: []string{"checking Port credentials (PORT_CLIENT_ID/PORT_CLIENT_SECRET) at", "401"}},
	{name: "mapping file with an unknown kind", code: 1,
		mappingFile: "resources:\n  - kind: project\n  - kind: image\n",
		want:        []string{"--mapping: ", `port-app-config.yaml:3: resources[1].kind: unknown kind "image" (hint: valid kinds: project, user, repository, artifact)`}},
}

func TestServeBadInput(t *testing.T) {
	for _, c := range serveBadInputs {
		t.Run(c.name, func(t *testing.T) {
			e := newServeEnv(t)
			args := append([]string{"--listen", "127.0.0.1:0", "--data-dir", t.TempDir()}, c.args...)
			if c.mappingFile != "" {
				f := filepath.Join(t.TempDir(), "port-app-config.yaml")
				if err := os.WriteFile(f, []byte(c.mappingFile), 0o600); err != nil {
					t.Fatal(err)
				}
				args = append(args, "--mapping", f)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			var stderr bytes.Buffer
			code := Main(ctx, args, e.env(c.env), &stderr)
			if code != c.code {
				t.Fatalf("exit code %d, want %d; stderr:\n%s", code, c.code, stderr.String())
			}
			got := stderr.String()
			if c.code == 1 {
				got = loggedError(t, got)
			}
			rest := strings.Join(strings.Fields(got), " ")
			for _, w := range c.want {
				i := strings.Index(rest, strings.Join(strings.Fields(w), " "))
				if i < 0 {
					t.Fatalf("missing %q in:\n%s", w, got)
				}
				rest = rest[i:]
			}
			for _, secret := range []string{"Harbor12345", "serve-port-secret", "serve-badinput-secret"} {
				if strings.Contains(stderr.String(), secret) {
					t.Errorf("stderr holds a secret (%q):\n%s", secret, stderr.String())
				}
			}
		})
	}
}

// loggedError is the "error" of the JSON log line that stopped serve.
func loggedError(t *testing.T, logs string) string {
	t.Helper()
	for _, line := range strings.Split(logs, "\n") {
		var rec struct{ Msg, Error string }
		if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "serve stopped" {
			return rec.Error
		}
	}
	t.Fatalf("no \"serve stopped\" log line in:\n%s", logs)
	return ""
}

func TestTroubleshootingGuideServe(t *testing.T) {
	raw, err := os.ReadFile("../../docs/guides/troubleshooting.md")
	if err != nil {
		t.Fatalf("the troubleshooting guide is missing (make docs renders templates/guides/troubleshooting.md.tmpl): %v", err)
	}
	doc := strings.Join(strings.Fields(string(raw)), " ")
	for _, c := range serveBadInputs {
		for _, w := range c.want {
			if !strings.Contains(doc, strings.Join(strings.Fields(w), " ")) {
				t.Errorf("%s: docs/guides/troubleshooting.md does not quote %q", c.name, w)
			}
		}
	}
}
