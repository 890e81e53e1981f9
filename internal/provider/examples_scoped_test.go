package provider

import (
	"encoding/json"
	"path/filepath"
	"testing"
)

// examples/scoped, which the "Scoped ownership" guide shows, is valid
// Terraform for this provider: init and validate with the real terraform
// pass without a warning. (Its scenario runs against the simulators in
// internal/serve/scoped_test.go.)
func TestAccExampleScoped(t *testing.T) {
	w := newTFWorkdir(t)
	copyTree(t, filepath.Join("..", "..", "examples", "scoped"), w.dir)
	w.run("init", "-input=false", "-no-color", "-backend=false")
	var valid struct {
		Valid        bool     `json:"valid"`
		WarningCount int      `json:"warning_count"`
		Diagnostics  []tfDiag `json:"diagnostics"`
	}
	must(t, json.Unmarshal(w.run("validate", "-json", "-no-color"), &valid))
	if !valid.Valid || valid.WarningCount != 0 {
		t.Fatalf("terraform validate: valid=%v diagnostics=%v", valid.Valid, valid.Diagnostics)
	}
}
