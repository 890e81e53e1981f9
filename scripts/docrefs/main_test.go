package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func problems(t *testing.T, root string) []string {
	t.Helper()
	probs, _, err := Check(root)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]string, len(probs))
	for i, p := range probs {
		out[i] = p.String()
	}
	return out
}

// testdata/good cites files and sections every way the check accepts:
// relative and root paths, several sections, a section on the next comment
// line, upstream documents, links with anchors, template links, tfplugindocs
// anchors, and a testdata directory (not checked).
func TestGoodReferencesPass(t *testing.T) {
	if got := problems(t, filepath.Join("testdata", "good")); len(got) != 0 {
		t.Fatalf("want no problems, got:\n%s", strings.Join(got, "\n"))
	}
}

// testdata/bad plants one broken reference of each kind; testdata/bad.want
// lists the problems the check must report (each line a prefix), no more.
func TestPlantedBadReferencesFail(t *testing.T) {
	got := problems(t, filepath.Join("testdata", "bad"))
	raw, err := os.ReadFile(filepath.Join("testdata", "bad.want"))
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Split(strings.TrimSpace(string(raw)), "\n")
	if len(got) != len(want) {
		t.Fatalf("got %d problems, want %d:\n%s", len(got), len(want), strings.Join(got, "\n"))
	}
	for _, w := range want {
		found := false
		for _, g := range got {
			found = found || strings.HasPrefix(g, w)
		}
		if !found {
			t.Errorf("missing problem %q in:\n%s", w, strings.Join(got, "\n"))
		}
	}
}

func TestSlug(t *testing.T) {
	for in, want := range map[string]string{
		"Conditional apply (two writers)":      "conditional-apply-two-writers",
		"Ownership and $datasource":            "ownership-and-datasource",
		"Ocean's port-app-config":              "oceans-port-app-config",
		"`harborport_sync` — Harbor → Port":    "harborport_sync--harbor--port",
		"The listener: `terraform-provider-x`": "the-listener-terraform-provider-x",
	} {
		if got := slug(in); got != want {
			t.Errorf("slug(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestRepositoryReferencesResolve runs the check on this repository, so
// `go test ./...` fails on a broken reference just as `make lint` does.
func TestRepositoryReferencesResolve(t *testing.T) {
	probs, st, err := Check(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range probs {
		t.Error(p)
	}
	if st.Sections == 0 || st.Refs == 0 || st.Links == 0 {
		t.Fatalf("checked nothing: %+v", st)
	}
}
