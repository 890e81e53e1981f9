package provider

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6/tf6server"

	"github.com/harborport/terraform-provider-harborport/internal/testenv"
)

// tfDiag is one diagnostic of `terraform … -json` output (machine-readable UI,
// https://developer.hashicorp.com/terraform/internals/machine-readable-ui):
// the text exactly as the provider wrote it, without terraform's line wrapping.
type tfDiag struct {
	Severity string `json:"severity"`
	Summary  string `json:"summary"`
	Detail   string `json:"detail"`
	Address  string `json:"address"`
	Range    *struct {
		Filename string `json:"filename"`
		Start    struct {
			Line int `json:"line"`
		} `json:"start"`
	} `json:"range"`
}

func (d tfDiag) String() string {
	where := d.Address
	if d.Range != nil {
		where += fmt.Sprintf(" (%s:%d)", d.Range.Filename, d.Range.Start.Line)
	}
	return fmt.Sprintf("%s: %s: %s [%s]", d.Severity, d.Summary, d.Detail, where)
}

// runTerraform applies config with the real terraform binary against the
// provider served in-process (the same reattach mechanism the
// terraform-plugin-testing harness uses) and returns every diagnostic, warnings
// included — the harness exposes errors only. It skips without TF_ACC, like
// resource.Test.
func runTerraform(t *testing.T, config string) []tfDiag {
	t.Helper()
	return newTFWorkdir(t).apply(config)
}

// tfWorkdir is one terraform working directory (state kept between applies)
// with the provider served in-process for its lifetime.
type tfWorkdir struct {
	t        *testing.T
	dir, bin string
	env      []string
}

func newTFWorkdir(t *testing.T) *tfWorkdir {
	t.Helper()
	if os.Getenv("TF_ACC") == "" {
		t.Skip("acceptance test: set TF_ACC=1 (make test does)")
	}
	bin := testenv.TerraformBinary(t)
	ctx, cancel := context.WithCancel(context.Background())
	reattach := make(chan *plugin.ReattachConfig, 1)
	closed := make(chan struct{})
	go func() {
		err := tf6server.Serve("registry.terraform.io/harborport/harborport", providerserver.NewProtocol6(New("test")()),
			tf6server.WithDebug(ctx, reattach, closed),
			tf6server.WithGoPluginLogger(hclog.New(&hclog.LoggerOptions{Output: io.Discard})),
			tf6server.WithoutLogStderrOverride(), tf6server.WithLoggingSink(t))
		if err != nil {
			t.Errorf("serving the provider: %v", err)
		}
	}()
	var rc *plugin.ReattachConfig
	select {
	case rc = <-reattach:
	case <-time.After(2 * time.Minute):
		cancel()
		t.Fatal("the provider did not start serving")
	}
	t.Cleanup(func() {
		cancel()
		select {
		case <-closed:
		case <-time.After(time.Minute):
			t.Error("the provider did not stop")
		}
	})
	info, err := json.Marshal(map[string]any{"registry.terraform.io/harborport/harborport": map[string]any{
		"Protocol": string(rc.Protocol), "ProtocolVersion": rc.ProtocolVersion, "Pid": rc.Pid, "Test": rc.Test,
		"Addr": map[string]string{"Network": rc.Addr.Network(), "String": rc.Addr.String()},
	}})
	must(t, err)
	env := append(os.Environ(), "TF_REATTACH_PROVIDERS="+string(info), "CHECKPOINT_DISABLE=1", "TF_IN_AUTOMATION=1", "TF_LOG=")
	return &tfWorkdir{t: t, dir: t.TempDir(), bin: bin, env: env}
}

func (w *tfWorkdir) run(args ...string) []byte {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, w.bin, args...)
	cmd.Dir, cmd.Env = w.dir, w.env
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil && out.Len() == 0 {
		w.t.Fatalf("terraform %s: %v\n%s", strings.Join(args, " "), err, errOut.String())
	}
	return out.Bytes()
}

// apply writes config and runs terraform apply -auto-approve -json,
// returning its diagnostics.
func (w *tfWorkdir) apply(config string) []tfDiag {
	w.t.Helper()
	must(w.t, os.WriteFile(filepath.Join(w.dir, "main.tf"), []byte(`terraform {
  required_providers {
    harborport = { source = "harborport/harborport" }
  }
}
`+config), 0o600))
	w.run("init", "-input=false", "-no-color", "-backend=false")
	return jsonDiags(w.t, w.run("apply", "-auto-approve", "-input=false", "-json"))
}

// destroy runs terraform destroy -auto-approve -json on the configuration of
// the last apply and returns its diagnostics.
func (w *tfWorkdir) destroy() []tfDiag {
	w.t.Helper()
	return jsonDiags(w.t, w.run("destroy", "-auto-approve", "-input=false", "-json"))
}

// plan runs terraform plan -detailed-exitcode -json on the configuration of
// the last apply and returns its diagnostics and exit code (0: no changes,
// 2: changes; 1 fails the test).
func (w *tfWorkdir) plan() ([]tfDiag, int) {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, w.bin, "plan", "-detailed-exitcode", "-input=false", "-json")
	cmd.Dir, cmd.Env = w.dir, w.env
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code := 0
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		code = exit.ExitCode()
	case err != nil:
		w.t.Fatalf("terraform plan: %v\n%s", err, errOut.String())
	}
	if code == 1 {
		w.t.Fatalf("terraform plan failed:\n%s%s", out.String(), errOut.String())
	}
	return jsonDiags(w.t, out.Bytes()), code
}

// jsonDiags extracts the diagnostics of terraform's -json output.
func jsonDiags(t *testing.T, out []byte) []tfDiag {
	t.Helper()
	var diags []tfDiag
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var line struct {
			Type       string  `json:"type"`
			Diagnostic *tfDiag `json:"diagnostic"`
		}
		if json.Unmarshal(sc.Bytes(), &line) == nil && line.Type == "diagnostic" && line.Diagnostic != nil {
			diags = append(diags, *line.Diagnostic)
		}
	}
	must(t, sc.Err())
	return diags
}

// errorsOf lists the error diagnostics.
func errorsOf(diags []tfDiag) []tfDiag {
	var out []tfDiag
	for _, d := range diags {
		if d.Severity == "error" {
			out = append(out, d)
		}
	}
	return out
}
