package provider

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/harborport/terraform-provider-harborport/internal/harbor"
	"github.com/harborport/terraform-provider-harborport/internal/testenv"
)

const (
	woSecret1 = "Bearer wo-secret-one-7f3a9c2d1e5b"
	woSecret2 = "Bearer wo-secret-two-4c8e1a6f0d2b"
)

func webhookWOConfig(portURL, harborURL, secret string, version int) string {
	return providerBlockHarbor(portURL, harborURL) + fmt.Sprintf(`
resource "harborport_webhook" "listener" {
  endpoint          = %q
  secret_wo         = %q
  secret_wo_version = %d
}
`, webhookEndpoint, secret, version)
}

// authHeaders is project → the auth_header of its harborport policy.
func authHeaders(t *testing.T, hc *harbor.Client, projects ...string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, p := range projects {
		for _, pol := range named(t, hc, p, "harborport") {
			if len(pol.Targets) == 1 {
				out[p] = pol.Targets[0].AuthHeader
			}
		}
	}
	return out
}

func secretsAre(t *testing.T, hc *harbor.Client, want string, projects ...string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		got := authHeaders(t, hc, projects...)
		for _, p := range projects {
			if got[p] != want {
				return fmt.Errorf("project %s: the policy's secret is not the configured one (%d policies found)", p, len(got))
			}
		}
		return nil
	}
}

// secret_wo: written to Harbor, never in state; a secret changed in Harbor
// is not detected (nothing to compare); secret_wo_version rewrites it; other
// repairs keep the configured secret; switching to `secret` stores it.
func TestAccWebhook_writeOnlySecret(t *testing.T) {
	_, portURL := testPort(t)
	hsim, harborURL, _ := testHarbor(t)
	hc := adminHarbor(t, harborURL)
	ctx := context.Background()
	projects := []string{"library", "tfdemo", "team"}
	v1 := webhookWOConfig(portURL, harborURL, woSecret1, 1)
	noSecretInState := statecheck.ExpectKnownValue(webhookAddr, tfjsonpath.New("secret_wo"), knownvalue.Null())
	edit := func(project string, f func(*harbor.WebhookPolicy)) {
		p := named(t, hc, project, "harborport")[0]
		f(&p)
		must(t, hc.UpdateWebhookPolicy(ctx, project, p))
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{
			{
				Config: v1,
				Check: resource.ComposeAggregateTestCheckFunc(
					secretsAre(t, hc, woSecret1, projects...),
					resource.TestCheckNoResourceAttr(webhookAddr, "secret_wo"),
					resource.TestCheckNoResourceAttr(webhookAddr, "secret"),
					resource.TestCheckResourceAttr(webhookAddr, "secret_wo_version", "1"),
				),
				ConfigStateChecks: []statecheck.StateCheck{noSecretInState},
			},
			{Config: v1, ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}}},
			{ // the secret changed in Harbor: not detected, there is nothing to compare it with
				PreConfig: func() {
					edit("team", func(p *harbor.WebhookPolicy) { p.Targets[0].AuthHeader = "Bearer rotated-by-hand-000" })
				},
				Config:           v1,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
			},
			{ // a new value without a new version: Terraform cannot see it, nothing happens
				Config:           webhookWOConfig(portURL, harborURL, woSecret2, 1),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
				Check:            secretsAre(t, hc, woSecret1, "library", "tfdemo"),
			},
			{ // the version changes: apply compares the value with every policy and rewrites them
				Config: webhookWOConfig(portURL, harborURL, woSecret2, 2),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(webhookAddr, plancheck.ResourceActionUpdate),
					plancheck.ExpectUnknownValue(webhookAddr, tfjsonpath.New("pending")),
					plancheck.ExpectKnownValue(webhookAddr, tfjsonpath.New("secret_wo"), knownvalue.Null()),
				}},
				Check: resource.ComposeAggregateTestCheckFunc(
					secretsAre(t, hc, woSecret2, projects...),
					resource.TestCheckResourceAttr(webhookAddr, "pending.team", "update: secret"),
					resource.TestCheckResourceAttr(webhookAddr, "pending.library", "update: secret"),
					resource.TestCheckNoResourceAttr(webhookAddr, "secret_wo"),
				),
				ConfigStateChecks: []statecheck.StateCheck{noSecretInState},
			},
			{ // other drift is repaired from the refresh's plan, and the write keeps the configured secret
				PreConfig: func() { edit("tfdemo", func(p *harbor.WebhookPolicy) { p.Enabled = false }) },
				Config:    webhookWOConfig(portURL, harborURL, woSecret2, 2),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					expectPending{"tfdemo": "update: enabled"},
				}},
				Check: secretsAre(t, hc, woSecret2, projects...),
			},
			{ // a same-named policy found by refresh is adopted with the configured secret
				PreConfig: func() {
					hsim.CreateProject("adoptme", false)
					_, err := hc.CreateWebhookPolicy(ctx, "adoptme", harbor.WebhookPolicy{Name: "harborport", Enabled: true,
						EventTypes: defaultEventTypes, Targets: []harbor.WebhookTarget{{Type: "http", Address: webhookEndpoint,
							AuthHeader: "Bearer someone-elses-secret", PayloadFormat: "CloudEvents"}}})
					must(t, err)
				},
				Config: webhookWOConfig(portURL, harborURL, woSecret2, 2),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					expectPending{"adoptme": "adopt, update: secret"},
				}},
				Check: secretsAre(t, hc, woSecret2, "adoptme"),
			},
			{ // back to `secret`: stored (sensitive) and compared again
				Config: webhookConfig(portURL, harborURL, ""),
				Check: resource.ComposeAggregateTestCheckFunc(
					secretsAre(t, hc, webhookSecret, append(projects, "adoptme")...),
					resource.TestCheckResourceAttr(webhookAddr, "secret", webhookSecret),
					resource.TestCheckNoResourceAttr(webhookAddr, "secret_wo_version"),
				),
			},
		},
	})
}

func TestAccWebhook_writeOnlyInvalidConfig(t *testing.T) {
	_, portURL := testPort(t)
	_, harborURL, _ := testHarbor(t)
	ep := fmt.Sprintf("endpoint = %q", webhookEndpoint)
	for _, c := range []struct{ name, body, want string }{
		{"both", ep + "\n  secret = \"Bearer 0123456789abcdef\"\n  secret_wo = \"Bearer 0123456789abcdef\"\n  secret_wo_version = 1",
			`Conflicting Webhook Secrets.*secret and secret_wo are both set; keep one`},
		{"neither", ep, `Missing Webhook Secret.*Set secret_wo \(with secret_wo_version`},
		{"no version", ep + "\n  secret_wo = \"Bearer 0123456789abcdef\"", `secret_wo_version.*must be specified when.*secret_wo`},
		{"version alone", ep + "\n  secret = \"Bearer 0123456789abcdef\"\n  secret_wo_version = 1", `secret_wo.*must be specified when.*secret_wo_version`},
		{"short", ep + "\n  secret_wo = \"short\"\n  secret_wo_version = 1", `secret_wo string length must be at least 16`},
		{"line break", ep + "\n  secret_wo = \"Bearer abcdefghijklmnop\\nX-Injected: 1\"\n  secret_wo_version = 1", `Invalid Webhook Secret.*secret_wo must be one line`},
	} {
		t.Run(c.name, func(t *testing.T) {
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: testProviders,
				Steps: []resource.TestStep{{
					Config:      providerBlockHarbor(portURL, harborURL) + "resource \"harborport_webhook\" \"listener\" {\n  " + c.body + "\n}\n",
					ExpectError: wrapped(c.want),
				}},
			})
		})
	}
}

// A client without write-only support (Terraform < 1.11, or any client that
// does not announce the capability) gets the framework's early error rather
// than a confusing inconsistency later. This speaks the protocol directly:
// such a client cannot run here.
func TestWebhookWriteOnly_clientWithoutSupport(t *testing.T) {
	srv := providerserver.NewProtocol6(New("test")())()
	ctx := context.Background()
	sch, err := srv.GetProviderSchema(ctx, &tfprotov6.GetProviderSchemaRequest{})
	must(t, err)
	typ := sch.ResourceSchemas["harborport_webhook"].ValueType()
	vals := map[string]tftypes.Value{}
	obj, ok := typ.(tftypes.Object)
	if !ok {
		t.Fatalf("harborport_webhook's schema type is %T", typ)
	}
	for name, at := range obj.AttributeTypes {
		vals[name] = tftypes.NewValue(at, nil)
	}
	vals["endpoint"] = tftypes.NewValue(tftypes.String, webhookEndpoint)
	vals["secret_wo"] = tftypes.NewValue(tftypes.String, woSecret1)
	vals["secret_wo_version"] = tftypes.NewValue(tftypes.Number, 1)
	cfg, err := tfprotov6.NewDynamicValue(typ, tftypes.NewValue(typ, vals))
	must(t, err)
	for _, allowed := range []bool{false, true} {
		resp, err := srv.ValidateResourceConfig(ctx, &tfprotov6.ValidateResourceConfigRequest{TypeName: "harborport_webhook", Config: &cfg,
			ClientCapabilities: &tfprotov6.ValidateResourceConfigClientCapabilities{WriteOnlyAttributesAllowed: allowed}})
		must(t, err)
		var got []string
		for _, d := range resp.Diagnostics {
			got = append(got, d.Summary+": "+d.Detail)
		}
		refused := strings.Contains(strings.Join(got, "\n"), "WriteOnly Attribute Not Allowed") &&
			strings.Contains(strings.Join(got, "\n"), "only supported in Terraform 1.11 and later")
		if refused == allowed {
			t.Errorf("WriteOnlyAttributesAllowed=%v: diagnostics %q", allowed, got)
		}
	}
}

// secretNeedles are the forms a secret could be written in: raw (which is
// also its JSON form: the values have no characters JSON escapes), hex, and
// base64 at the three byte alignments.
func secretNeedles(v string) []string {
	out := []string{v, hex.EncodeToString([]byte(v))}
	for k := range 3 {
		b := base64.StdEncoding.EncodeToString(append(make([]byte, k), v...))
		g0, g1 := (k+2)/3, (k+len(v))/3
		out = append(out, b[g0*4:g1*4])
	}
	return out
}

func leaks(data []byte, secrets ...string) []string {
	var out []string
	for _, s := range secrets {
		for _, n := range secretNeedles(s) {
			if i := bytes.Index(data, []byte(n)); i >= 0 {
				out = append(out, fmt.Sprintf("%q at byte %d", n, i))
			}
		}
	}
	return out
}

// With the real terraform and the provider binary: examples/listener/main.tf
// (secret_wo from an ephemeral variable) is applied, the secret rotated
// through a saved plan, and then the state, its backup, the saved plan (every
// file in it), `terraform show -json` of the plan and of the state, every
// command's output and the TF_LOG=TRACE logs of terraform and the provider
// hold neither secret, in any form; Harbor holds the current one.
func TestAccWebhook_writeOnlyNeverStored(t *testing.T) {
	if os.Getenv("TF_ACC") == "" {
		t.Skip("acceptance test: set TF_ACC=1 (make test does)")
	}
	tfBin := testenv.TerraformBinary(t)
	bin := testenv.ProviderBinary(t)
	_, portURL := testPort(t)
	_, harborURL, _ := testHarbor(t)
	hc := adminHarbor(t, harborURL)
	work := t.TempDir()
	dir, logDir := filepath.Join(work, "tf"), filepath.Join(work, "logs")
	mirror := filepath.Join(work, "mirror", "registry.terraform.io", "harborport", "harborport", "0.0.1", runtime.GOOS+"_"+runtime.GOARCH)
	for _, d := range []string{dir, logDir, mirror} {
		must(t, os.MkdirAll(d, 0o755))
	}
	b, err := os.ReadFile(bin)
	must(t, err)
	must(t, os.WriteFile(filepath.Join(mirror, "terraform-provider-harborport_v0.0.1"), b, 0o755))
	rc := filepath.Join(work, "terraformrc")
	must(t, os.WriteFile(rc, []byte(fmt.Sprintf("provider_installation {\n  filesystem_mirror {\n    path = %q\n  }\n}\n", filepath.Join(work, "mirror"))), 0o644))
	example, err := os.ReadFile(filepath.Join("..", "..", "examples", "listener", "main.tf"))
	must(t, err)
	must(t, os.WriteFile(filepath.Join(dir, "main.tf"), example, 0o644))
	must(t, os.WriteFile(filepath.Join(dir, "providers.tf"), []byte(`terraform {
  required_providers {
    harborport = { source = "harborport/harborport" }
  }
}

provider "harborport" {}
`), 0o644))

	var env []string
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); !strings.HasPrefix(k, "TF_") && !strings.HasPrefix(k, "HARBOR") && !strings.HasPrefix(k, "PORT_") {
			env = append(env, kv)
		}
	}
	env = append(env, "TF_CLI_CONFIG_FILE="+rc, "TF_IN_AUTOMATION=1", "CHECKPOINT_DISABLE=1", "TF_LOG=TRACE", "TF_LOG_PROVIDER=TRACE",
		"HARBOR_URL="+harborURL, "HARBOR_USERNAME=admin", "HARBOR_PASSWORD=Harbor12345",
		"PORT_BASE_URL="+portURL, "PORT_CLIENT_ID="+testClientID, "PORT_CLIENT_SECRET="+testClientSecret)
	var outputs bytes.Buffer // every stdout and stderr
	n := 0
	tf := func(secret string, version int, args ...string) []byte {
		t.Helper()
		n++
		ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, tfBin, args...)
		cmd.Dir = dir
		cmd.Env = append(append([]string{}, env...), fmt.Sprintf("TF_LOG_PATH=%s/%02d-%s.log", logDir, n, args[0]),
			"TF_VAR_webhook_secret="+secret, fmt.Sprintf("TF_VAR_webhook_secret_version=%d", version))
		var so, se bytes.Buffer
		cmd.Stdout, cmd.Stderr = &so, &se
		err := cmd.Run()
		outputs.Write(so.Bytes())
		outputs.Write(se.Bytes())
		if detailed := args[0] == "plan" && slices.Contains(args, "-detailed-exitcode"); err != nil && !detailed {
			t.Fatalf("terraform %s: %v\n%s\n%s", strings.Join(args, " "), err, so.String(), se.String())
		}
		return so.Bytes()
	}
	projects := []string{"library", "tfdemo", "team"}
	service := "http://harborport-listener.harborport.svc:80/integration/webhook"
	policiesHave := func(secret string) {
		t.Helper()
		for _, p := range projects {
			pol := named(t, hc, p, "harborport")
			if len(pol) != 1 || pol[0].Targets[0].AuthHeader != secret || pol[0].Targets[0].Address != service {
				t.Fatalf("project %s: the policy is not the example's (endpoint, secret): %d policies", p, len(pol))
			}
		}
	}

	tf(woSecret1, 1, "init", "-input=false", "-no-color")
	tf(woSecret1, 1, "apply", "-input=false", "-no-color", "-auto-approve")
	policiesHave(woSecret1)
	// The rotation through a saved plan (the ephemeral variable is given again at apply).
	tf(woSecret2, 2, "plan", "-input=false", "-no-color", "-out=rotate.tfplan")
	planJSON := tf(woSecret2, 2, "show", "-json", "rotate.tfplan")
	tf(woSecret2, 2, "apply", "-input=false", "-no-color", "rotate.tfplan")
	policiesHave(woSecret2)
	if out := tf(woSecret2, 2, "plan", "-input=false", "-no-color", "-detailed-exitcode"); !bytes.Contains(out, []byte("No changes.")) {
		t.Errorf("the plan after the rotation is not empty:\n%s", out)
	}
	stateJSON := tf(woSecret2, 2, "show", "-json")

	// The plan really is the rotation, and shows secret_wo as null.
	var plan struct {
		ResourceChanges []struct {
			Address string `json:"address"`
			Change  struct {
				Actions []string       `json:"actions"`
				Before  map[string]any `json:"before"`
				After   map[string]any `json:"after"`
			} `json:"change"`
		} `json:"resource_changes"`
	}
	must(t, json.Unmarshal(planJSON, &plan))
	found := false
	for _, rc := range plan.ResourceChanges {
		if rc.Address == webhookAddr {
			found = true
			if strings.Join(rc.Change.Actions, ",") != "update" || rc.Change.Before["secret_wo_version"] != 1.0 ||
				rc.Change.After["secret_wo_version"] != 2.0 || rc.Change.After["secret_wo"] != nil {
				t.Errorf("the saved plan's change: actions %v, before %v, after %v", rc.Change.Actions, rc.Change.Before, rc.Change.After)
			}
		}
	}
	if !found {
		t.Fatalf("the saved plan has no change of %s", webhookAddr)
	}

	scanned := map[string]int{}
	scan := func(where string, data []byte) {
		t.Helper()
		scanned[where] = len(data)
		if l := leaks(data, woSecret1, woSecret2); len(l) > 0 {
			t.Errorf("LEAK in %s: %v", where, l)
		}
	}
	scan("terraform show -json rotate.tfplan", planJSON)
	scan("terraform show -json (state)", stateJSON)
	scan("terraform stdout and stderr", outputs.Bytes())
	zr, err := zip.OpenReader(filepath.Join(dir, "rotate.tfplan"))
	must(t, err)
	for _, f := range zr.File {
		r, err := f.Open()
		must(t, err)
		b, err := io.ReadAll(r)
		must(t, err)
		_ = r.Close()
		scan("rotate.tfplan: "+f.Name, b)
	}
	_ = zr.Close()
	must(t, filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if d.IsDir() && rel == filepath.Join(".terraform", "providers") {
			return filepath.SkipDir
		}
		if !d.IsDir() && rel != "rotate.tfplan" {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			scan(rel, b)
		}
		return nil
	}))
	var trace []byte
	logs, err := os.ReadDir(logDir)
	must(t, err)
	for _, l := range logs {
		b, err := os.ReadFile(filepath.Join(logDir, l.Name()))
		must(t, err)
		scan("TF_LOG=TRACE "+l.Name(), b)
		trace = append(trace, b...)
	}
	// The scans are meaningful: the state and logs are the ones expected,
	// and the logs hold the provider's own TRACE lines.
	for _, want := range []string{"[TRACE]", "sdk.framework", "harborport_webhook", `"secret_wo_version"`} {
		if !bytes.Contains(trace, []byte(want)) && !bytes.Contains(stateJSON, []byte(want)) {
			t.Errorf("neither the TRACE logs nor the state show %q", want)
		}
	}
	if _, ok := scanned["terraform.tfstate"]; !ok {
		t.Error("no terraform.tfstate was scanned")
	}
	if _, ok := scanned["terraform.tfstate.backup"]; !ok {
		t.Error("no terraform.tfstate.backup was scanned")
	}
	if l := leaks(example, "secret_wo"); len(l) == 0 {
		t.Error("the scanner cannot find a planted value")
	}
	var st struct {
		Values struct {
			RootModule struct {
				Resources []struct {
					Address string         `json:"address"`
					Values  map[string]any `json:"values"`
				} `json:"resources"`
			} `json:"root_module"`
		} `json:"values"`
	}
	must(t, json.Unmarshal(stateJSON, &st))
	for _, r := range st.Values.RootModule.Resources {
		if r.Address == webhookAddr {
			if r.Values["secret_wo"] != nil || r.Values["secret"] != nil || r.Values["secret_wo_version"] != 2.0 {
				t.Errorf("state of %s: secret_wo=%v secret=%v secret_wo_version=%v", webhookAddr, r.Values["secret_wo"], r.Values["secret"], r.Values["secret_wo_version"])
			}
			t.Logf("terraform show -json: %s secret=%v secret_wo=%v secret_wo_version=%v endpoint=%v", webhookAddr,
				r.Values["secret"], r.Values["secret_wo"], r.Values["secret_wo_version"], r.Values["endpoint"])
		}
	}
	if !bytes.Contains(outputs.Bytes(), []byte("(write-only attribute)")) {
		t.Error("terraform's plan output does not show secret_wo as (write-only attribute)")
	}
	total := 0
	for _, n := range scanned {
		total += n
	}
	t.Logf("secret_wo: %d sources, %d bytes scanned (%d KiB of TRACE logs); neither secret found; Harbor holds the current one", len(scanned), total, len(trace)>>10)
}
