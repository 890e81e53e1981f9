package provider

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/harborport/terraform-provider-harborport/internal/sandbox/harborsim"
)

// examples/complete is the layout README.md sends newcomers to; it must keep
// working. This copies it as it is (its terraform.tfvars.example becomes
// terraform.tfvars, credentials come from the environment as its
// providers.tf says) and runs the real terraform against the simulators:
// validate, plan, apply, the outputs, a second plan with no changes, and a
// push in Harbor showing as exactly one planned artifact create.
func TestAccExamplesComplete(t *testing.T) {
	hsim, harborURL, _ := testHarbor(t)
	psim, portURL := testPort(t)
	// The provider runs in this process (reattached), so the environment
	// that providers.tf relies on is this process's.
	for k, v := range map[string]string{
		"HARBOR_URL": harborURL, "HARBOR_USERNAME": "admin", "HARBOR_PASSWORD": "Harbor12345",
		"PORT_BASE_URL": portURL, "PORT_CLIENT_ID": testClientID, "PORT_CLIENT_SECRET": testClientSecret,
		"HARBORPORT_MAX_CONCURRENCY": "", "HARBOR_INSECURE": "", "HARBOR_CA_CERTIFICATE": "",
	} {
		t.Setenv(k, v)
	}
	w := newTFWorkdir(t)
	src := filepath.Join("..", "..", "examples", "complete")
	copyTree(t, src, w.dir)
	tfvars, err := os.ReadFile(filepath.Join(src, "terraform.tfvars.example"))
	must(t, err)
	must(t, os.WriteFile(filepath.Join(w.dir, "terraform.tfvars"), tfvars, 0o600))

	w.run("init", "-input=false", "-no-color", "-backend=false")
	var valid struct {
		Valid        bool     `json:"valid"`
		ErrorCount   int      `json:"error_count"`
		WarningCount int      `json:"warning_count"`
		Diagnostics  []tfDiag `json:"diagnostics"`
	}
	must(t, json.Unmarshal(w.run("validate", "-json", "-no-color"), &valid))
	if !valid.Valid || valid.WarningCount != 0 {
		t.Fatalf("terraform validate: valid=%v diagnostics=%v", valid.Valid, valid.Diagnostics)
	}

	diags := jsonDiags(t, w.run("apply", "-auto-approve", "-input=false", "-json"))
	for _, d := range diags {
		// The first apply previews the new sync and webhooks as warnings; anything else is a problem.
		if d.Severity == "error" || (d.Summary != "Catalog Sync Preview" && d.Summary != "Webhook Policy Preview") {
			t.Fatalf("apply: %v", diags)
		}
	}

	// Port holds every Harbor object, with the example's extra artifact properties.
	for bp, want := range map[string]int{"harborProject": 3, "harborUser": 1, "harborRepository": 3, "harborArtifact": 14} {
		if got := psim.EntityCount(bp); got != want {
			t.Errorf("Port has %d %s entities, want %d", got, bp, want)
		}
	}
	var scanned map[string]any
	for _, ent := range psim.Entities("harborArtifact") {
		if id, _ := ent["identifier"].(string); strings.HasPrefix(id, "tfdemo/hello@") {
			scanned = ent
		}
	}
	props, _ := scanned["properties"].(map[string]any)
	if props["vulnerabilityCount"] != 7.0 || props["highCount"] != 2.0 || props["criticalCount"] != 0.0 || props["scanStatus"] != "Success" {
		t.Errorf("the scanned artifact's properties: %v", props)
	}
	for _, ent := range psim.Entities("harborArtifact") {
		if id, _ := ent["identifier"].(string); strings.HasPrefix(id, "tfdemo/bulk@") {
			if p, _ := ent["properties"].(map[string]any); p["scanStatus"] != "Not scanned" || p["vulnerabilityCount"] != nil {
				t.Errorf("an unscanned artifact's properties: %v", p)
			}
			break
		}
	}
	// Every project got the webhook policy pointing at the listener.
	hc := adminHarbor(t, harborURL)
	for _, project := range []string{"library", "tfdemo", "team"} {
		ps := named(t, hc, project, "harborport")
		if len(ps) != 1 || len(ps[0].Targets) != 1 ||
			ps[0].Targets[0].Address != "https://harborport.internal.example.com/integration/webhook" ||
			ps[0].Targets[0].AuthHeader != "Bearer change-me-to-32-random-characters" {
			t.Errorf("project %s: webhook policies %+v", project, ps)
		}
	}

	var outputs map[string]struct {
		Value     json.RawMessage `json:"value"`
		Sensitive bool            `json:"sensitive"`
	}
	must(t, json.Unmarshal(w.run("output", "-json"), &outputs))
	wantOut := map[string]string{
		"blueprints":       `{"artifact":"harborArtifact","project":"harborProject","repository":"harborRepository","user":"harborUser"}`,
		"webhook_endpoint": `"https://harborport.internal.example.com/integration/webhook"`,
	}
	for name, want := range wantOut {
		var got bytes.Buffer
		if err := json.Compact(&got, outputs[name].Value); err != nil || got.String() != want {
			t.Errorf("output %s = %s, want %s", name, outputs[name].Value, want)
		}
	}
	var policies map[string]int64
	must(t, json.Unmarshal(outputs["webhook_projects"].Value, &policies))
	if len(policies) != 3 {
		t.Errorf("output webhook_projects = %s", outputs["webhook_projects"].Value)
	}

	// A second plan has nothing to do.
	if code, out := planExitCode(t, w); code != 0 {
		t.Fatalf("plan after apply: exit %d, want 0 (no changes)\n%s", code, out)
	}

	// A push shows as exactly the planned catalog change.
	digest, err := hsim.PushArtifact("team", "nested/api", []string{"2.0"}, harborsim.PushOptions{})
	must(t, err)
	code, out := planExitCode(t, w)
	if code != 2 || !strings.Contains(out, `"harborArtifact/team/nested/api@`+digest+`" = "create"`) {
		t.Fatalf("plan after a push: exit %d, want 2 with the artifact's create\n%s", code, out)
	}
}

// planExitCode runs terraform plan -detailed-exitcode: 0 no changes, 2 changes.
func planExitCode(t *testing.T, w *tfWorkdir) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, w.bin, "plan", "-input=false", "-no-color", "-detailed-exitcode")
	cmd.Dir, cmd.Env = w.dir, w.env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0, out.String()
	case errors.As(err, &exit):
		return exit.ExitCode(), out.String()
	}
	t.Fatalf("terraform plan: %v\n%s", err, out.String())
	return -1, ""
}

// copyTree copies the regular files below src into dst.
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	must(t, filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o600)
	}))
}
