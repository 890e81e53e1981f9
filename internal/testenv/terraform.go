package testenv

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Terraform is one terraform working directory that runs the real terraform
// binary against the provider binary built from this module, through a
// dev_overrides CLI configuration: each terraform command starts the
// provider as its own plugin process, exactly as for a user (a saved plan is
// applied by a provider process that never saw the plan being made).
type Terraform struct {
	TB  testing.TB
	Dir string
	Bin string
	Env []string
}

// NewTerraform prepares a working directory for the provider binary bin
// (ProviderBinary) with the given extra environment.
func NewTerraform(tb testing.TB, bin string, env ...string) *Terraform {
	tb.Helper()
	dir := tb.TempDir()
	cli := filepath.Join(dir, "dev.tfrc")
	rc := fmt.Sprintf("provider_installation {\n  dev_overrides {\n    %q = %q\n  }\n  direct {}\n}\n",
		"registry.terraform.io/harborport/harborport", filepath.Dir(bin))
	if err := os.WriteFile(cli, []byte(rc), 0o600); err != nil {
		tb.Fatal(err)
	}
	base := append(os.Environ(), "TF_CLI_CONFIG_FILE="+cli, "CHECKPOINT_DISABLE=1", "TF_IN_AUTOMATION=1", "TF_LOG=")
	return &Terraform{TB: tb, Dir: filepath.Join(dir, "work"), Bin: TerraformBinary(tb), Env: append(base, env...)}
}

// WriteConfig writes main.tf (with the required_providers block).
func (w *Terraform) WriteConfig(config string) {
	w.TB.Helper()
	if err := os.MkdirAll(w.Dir, 0o700); err != nil {
		w.TB.Fatal(err)
	}
	src := "terraform {\n  required_providers {\n    harborport = { source = \"harborport/harborport\" }\n  }\n}\n" + config
	if err := os.WriteFile(filepath.Join(w.Dir, "main.tf"), []byte(src), 0o600); err != nil {
		w.TB.Fatal(err)
	}
}

// TFResult is one terraform command's outcome.
type TFResult struct {
	Args     []string
	ExitCode int
	Stdout   string
	Stderr   string
	Took     time.Duration
	Diags    []TFDiag // from -json output, when the command had -json
}

// TFDiag is one diagnostic of terraform's machine-readable UI
// (https://developer.hashicorp.com/terraform/internals/machine-readable-ui).
type TFDiag struct {
	Severity string `json:"severity"`
	Summary  string `json:"summary"`
	Detail   string `json:"detail"`
	Address  string `json:"address"`
}

func (d TFDiag) String() string {
	return fmt.Sprintf("%s: %s: %s [%s]", d.Severity, d.Summary, d.Detail, d.Address)
}

// Find returns the diagnostics whose summary is summary.
func (r TFResult) Find(summary string) []TFDiag {
	var out []TFDiag
	for _, d := range r.Diags {
		if d.Summary == summary {
			out = append(out, d)
		}
	}
	return out
}

// Errors are the error diagnostics, one per line, for messages.
func (r TFResult) Errors() string {
	var b strings.Builder
	for _, d := range r.Diags {
		if d.Severity == "error" {
			b.WriteString(d.String() + "\n")
		}
	}
	if b.Len() == 0 {
		return r.Stderr
	}
	return b.String()
}

// Run runs terraform with args in the working directory; it never fails
// the test itself (RunOK does).
func (w *Terraform) Run(ctx context.Context, args ...string) TFResult {
	w.TB.Helper()
	start := time.Now()
	cmd := exec.CommandContext(ctx, w.Bin, args...)
	cmd.Dir, cmd.Env = w.Dir, w.Env
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	res := TFResult{Args: args, Stdout: out.String(), Stderr: errOut.String(), Took: time.Since(start)}
	if err != nil {
		res.ExitCode = -1
		if ee, ok := err.(*exec.ExitError); ok {
			res.ExitCode = ee.ExitCode()
		}
	}
	for _, a := range args {
		if a == "-json" {
			res.Diags = parseDiags(out.Bytes())
		}
	}
	return res
}

// RunOK is Run, failing the test on a non-zero exit (allowed lists the
// exit codes also accepted, e.g. 2 for plan -detailed-exitcode).
func (w *Terraform) RunOK(ctx context.Context, allowed []int, args ...string) TFResult {
	w.TB.Helper()
	res := w.Run(ctx, args...)
	if res.ExitCode != 0 {
		for _, c := range allowed {
			if res.ExitCode == c {
				return res
			}
		}
		w.TB.Fatalf("terraform %s: exit %d\n%s\n%s", strings.Join(args, " "), res.ExitCode, res.Errors(), lastLines(res.Stdout, 30))
	}
	return res
}

// ShowJSON returns `terraform show -json [file]` decoded.
func (w *Terraform) ShowJSON(ctx context.Context, file string) map[string]any {
	w.TB.Helper()
	args := []string{"show", "-json"}
	if file != "" {
		args = append(args, file)
	}
	res := w.RunOK(ctx, nil, args...)
	var out map[string]any
	if err := json.Unmarshal([]byte(res.Stdout), &out); err != nil {
		w.TB.Fatalf("terraform show -json: %v", err)
	}
	return out
}

// PlannedAfter returns the planned "after" object of the resource at addr in
// a `terraform show -json <plan>` document.
func PlannedAfter(plan map[string]any, addr string) map[string]any {
	rcs, _ := plan["resource_changes"].([]any)
	for _, rc := range rcs {
		m, _ := rc.(map[string]any)
		if m["address"] != addr {
			continue
		}
		ch, _ := m["change"].(map[string]any)
		after, _ := ch["after"].(map[string]any)
		return after
	}
	return nil
}

// StateValues returns the attribute values of the resource at addr in a
// `terraform show -json` state document.
func StateValues(state map[string]any, addr string) map[string]any {
	vals, _ := state["values"].(map[string]any)
	root, _ := vals["root_module"].(map[string]any)
	rs, _ := root["resources"].([]any)
	for _, r := range rs {
		m, _ := r.(map[string]any)
		if m["address"] == addr {
			v, _ := m["values"].(map[string]any)
			return v
		}
	}
	return nil
}

func parseDiags(out []byte) []TFDiag {
	var diags []TFDiag
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		var line struct {
			Type       string  `json:"type"`
			Diagnostic *TFDiag `json:"diagnostic"`
		}
		if json.Unmarshal(sc.Bytes(), &line) == nil && line.Type == "diagnostic" && line.Diagnostic != nil {
			diags = append(diags, *line.Diagnostic)
		}
	}
	return diags
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
