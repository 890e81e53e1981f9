package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sync"
	"testing"
)

// ModulePath is the import path of this module's main package, the
// terraform-provider-harborport binary.
const ModulePath = "github.com/harborport/terraform-provider-harborport"

type built struct {
	once sync.Once
	bin  string
	err  error
}

var (
	buildsMu sync.Mutex
	builds   = map[string]*built{}
)

// Build builds the main package pkg (an import path) once per test process
// into a directory of its own under the system temp directory, and returns
// the binary's path; the binary is named after the package's last element.
// A failed build fails tb, with go build's output.
func Build(tb testing.TB, pkg string) string {
	tb.Helper()
	buildsMu.Lock()
	b, ok := builds[pkg]
	if !ok {
		b = &built{}
		builds[pkg] = b
	}
	buildsMu.Unlock()
	b.once.Do(func() {
		dir, err := os.MkdirTemp("", "harborport-testenv")
		if err != nil {
			b.err = err
			return
		}
		bin := filepath.Join(dir, path.Base(pkg))
		out, err := exec.Command("go", "build", "-o", bin, pkg).CombinedOutput()
		if err != nil {
			b.err = fmt.Errorf("go build %s: %v\n%s", pkg, err, out)
			return
		}
		b.bin = bin
	})
	if b.err != nil {
		tb.Fatal(b.err)
	}
	return b.bin
}

// ProviderBinary builds terraform-provider-harborport once per test process
// and returns its path. The binary is alone in its directory, so that
// directory can serve as terraform's dev_overrides directory.
func ProviderBinary(tb testing.TB) string {
	tb.Helper()
	return Build(tb, ModulePath)
}

// TerraformBinary is the terraform binary the acceptance tests run:
// TF_ACC_TERRAFORM_PATH when set (as terraform-plugin-testing honours it),
// else terraform from PATH. Without one it fails tb.
func TerraformBinary(tb testing.TB) string {
	tb.Helper()
	if bin := os.Getenv("TF_ACC_TERRAFORM_PATH"); bin != "" {
		return bin
	}
	bin, err := exec.LookPath("terraform")
	if err != nil {
		tb.Fatalf("terraform is not on PATH: %v", err)
	}
	return bin
}
