package faults

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/harborport/terraform-provider-harborport/internal/sandbox/portsim"
	"github.com/harborport/terraform-provider-harborport/internal/testenv"
)

// terraform runs the real terraform binary against the provider built from
// source (dev_overrides, as scripts/demo.sh does) in dir.
type terraform struct {
	t   *testing.T
	bin string
	dir string
	env []string
}

func newTerraform(t *testing.T, w *world, config string) *terraform {
	t.Helper()
	bin := testenv.TerraformBinary(t) // the scenario runs the real binary
	provider := testenv.ProviderBinary(t)
	dir := t.TempDir()
	rc := filepath.Join(dir, "terraformrc")
	rcText := fmt.Sprintf("provider_installation {\n  dev_overrides {\n    \"registry.terraform.io/harborport/harborport\" = %q\n  }\n  direct {}\n}\n", filepath.Dir(provider))
	if err := os.WriteFile(rc, []byte(rcText), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), "TF_CLI_CONFIG_FILE="+rc, "TF_IN_AUTOMATION=1", "CHECKPOINT_DISABLE=1", "TF_INPUT=0",
		"HARBOR_URL="+w.harborURL, "HARBOR_USERNAME="+harborAdmin, "HARBOR_PASSWORD="+harborPassword,
		"PORT_BASE_URL="+w.portURL, "PORT_CLIENT_ID="+portClientID, "PORT_CLIENT_SECRET="+portClientSecret)
	return &terraform{t: t, bin: bin, dir: dir, env: env}
}

// command prepares `terraform args...` in its own process group, as a
// terminal runs it (so Ctrl-C reaches terraform and the provider plugin).
func (tf *terraform) command(out *testenv.LockedBuffer, args ...string) *exec.Cmd {
	cmd := exec.Command(tf.bin, append(args, "-no-color")...)
	cmd.Dir, cmd.Env = tf.dir, tf.env
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	return cmd
}

// run runs terraform to the end and returns its output and exit code.
func (tf *terraform) run(timeout time.Duration, args ...string) (string, int) {
	tf.t.Helper()
	var out testenv.LockedBuffer
	cmd := tf.command(&out, args...)
	if err := cmd.Start(); err != nil {
		tf.t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return out.String(), ee.ExitCode()
		}
		if err != nil {
			tf.t.Fatal(err)
		}
		return out.String(), 0
	case <-time.After(timeout):
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		werr := <-done // "signal: killed", unless it exited on its own meanwhile
		tf.t.Fatalf("terraform %s did not finish in %s (then: %v):\n%s", strings.Join(args, " "), timeout, werr, out.String())
		return "", -1
	}
}

const tfConfig = `
terraform {
  required_providers {
    harborport = { source = "harborport/harborport" }
  }
}

provider "harborport" {}

resource "harborport_blueprints" "harbor" {}

resource "harborport_sync" "harbor" {
  blueprints = harborport_blueprints.harbor.identifiers
}
`

// terraform apply of the blueprints and the first sync is interrupted with
// SIGINT (Ctrl-C) while the sync writes to a slowed-down Port. Terraform
// stops gracefully; the entities Port confirmed stay. Running apply again
// converges, and the next plan says "No changes".
func terraformInterrupted(t *testing.T, rep *report) {
	skipUnlessFaults(t)
	w := newWorld(t, rep, worldOpts{seed: syncSeed, noSync: true})
	tf := newTerraform(t, w, tfConfig)
	w.ps.SetFaults(portsim.Faults{Latency: 100 * time.Millisecond})

	var out testenv.LockedBuffer
	cmd := tf.command(&out, "apply", "-auto-approve", "-input=false")
	var bulks atomic.Int32
	var cancelled atomic.Bool
	interrupted := make(chan struct{})
	w.setPortHook(func(r *http.Request) {
		// Ctrl-C while Port serves the second bulk write of the sync; Port
		// answers it only once the provider gave up on it (terraform told
		// the provider to stop, which cancels its requests), so the
		// interrupt lands mid-way however loaded the machine is.
		if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/entities/bulk") && bulks.Add(1) == 2 {
			// Read the body first: only then does net/http watch the
			// connection and cancel r.Context() when the client hangs up.
			body, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(body))
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGINT)
			close(interrupted)
			select {
			case <-r.Context().Done():
				cancelled.Store(true)
			case <-time.After(time.Minute):
			}
		}
	})
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var exitErr error
	select {
	case exitErr = <-done:
	case <-time.After(3 * time.Minute):
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		t.Fatalf("interrupted terraform apply did not exit:\n%s", out.String())
	}
	w.setPortHook(nil)
	select {
	case <-interrupted:
	default:
		t.Fatalf("the apply finished before it could be interrupted (exit %v):\n%s", exitErr, out.String())
	}
	if !cancelled.Load() {
		t.Fatalf("the provider did not cancel its in-flight Port request after the interrupt:\n%s", out.String())
	}
	if exitErr == nil {
		t.Fatalf("terraform apply exited 0 after SIGINT:\n%s", out.String())
	}
	if !strings.Contains(out.String(), "Interrupt received") || !strings.Contains(out.String(), "Catalog Sync Failed") {
		t.Fatalf("terraform did not stop the sync on the interrupt:\n%s", out.String())
	}
	applied := ""
	if m := regexp.MustCompile(`Applied \d+ of \d+ changes`).FindString(out.String()); m != "" {
		applied = m
	}
	wrote := 0
	for _, bp := range w.ps.BlueprintIDs() {
		wrote += w.ps.EntityCount(bp)
	}
	if ok, _ := w.inSync(); ok || wrote == 0 {
		t.Fatalf("the interrupt did not land mid-way: %d entities in Port, in sync %v:\n%s", wrote, ok, out.String())
	}
	left := w.plan().Counts()

	w.ps.SetFaults(portsim.Faults{})
	if text, code := tf.run(3*time.Minute, "apply", "-auto-approve", "-input=false"); code != 0 {
		t.Fatalf("terraform apply after the interrupt failed (exit %d):\n%s", code, text)
	}
	w.rep.freeze()
	text, code := tf.run(2*time.Minute, "plan", "-input=false", "-detailed-exitcode")
	if code != 0 || !strings.Contains(text, "No changes.") {
		t.Fatalf("the plan after the re-run is not empty (exit %d):\n%s", code, text)
	}
	rep.note("SIGINT during the 2nd bulk write, which the provider cancelled: terraform said %q; %d creates left; the re-run applied them; next plan: No changes", applied, left.Create)
	w.invariant(30 * time.Second)
}
