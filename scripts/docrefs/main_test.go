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

// The planted broken references are built here rather than committed as
// files: a dangling document name in the repository would itself be what
// the check (and any other scan of the repository's citations) reports.
// missingDoc names a document that exists nowhere.
func missingDoc(name string) string { return name + ".md" }

// writeTree writes files (path → content) under dir.
func writeTree(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// copyTree copies the directory src into dst.
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		writeTree(t, dst, map[string]string{filepath.ToSlash(rel): string(b)})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// testdata/good cites files and sections every way the check accepts:
// relative and root paths, several sections, a section on the next comment
// line, upstream documents, links with anchors, template links, tfplugindocs
// anchors; and a testdata directory, which is not checked even when it
// holds a broken reference.
func TestGoodReferencesPass(t *testing.T) {
	root := t.TempDir()
	copyTree(t, filepath.Join("testdata", "good"), root)
	writeTree(t, root, map[string]string{
		"internal/pkg/testdata/bad.go": "package p\n\n// A testdata directory is not checked: " + missingDoc("missing") + "\n",
	})
	if got := problems(t, root); len(got) != 0 {
		t.Fatalf("want no problems, got:\n%s", strings.Join(got, "\n"))
	}
}

// One broken reference of each kind; the check must report exactly the
// problems listed (each a prefix), no more.
func TestPlantedBadReferencesFail(t *testing.T) {
	root := t.TempDir()
	harborAPI, portAPI, missing := missingDoc("harbor-api"), missingDoc("port-api"), missingDoc("docs/missing")
	outside := ".." + "/shared/"        // a directory beside the repository
	design := "internal/DESIGN" + ".md" // split: the repository's own check reads this file
	writeTree(t, root, map[string]string{
		"README.md": "[x](internal/DESIGN.md#no-such-anchor) [y](" + missing + ") [z](#nowhere)\n",
		"internal/DESIGN.md": "# Design\n\n## Plan and apply\n\n### Conditional apply (two writers)\n\n" +
			"## Ownership and $datasource\n\n```\n## Not a heading (in a code block)\n```\n",
		"internal/catalog/apply.go": "package catalog\n\n" +
			"// a (" + harborAPI + " §2)\n" +
			"// b (" + design + " \"No Such Section\")\n" +
			"// c (" + design + " §3)\n" +
			"// d (" + outside + "reference/" + portAPI + ")\n" +
			"// e (" + design + " \"Plan and apply\",\n" +
			"// \"Neither This\")\n" +
			"// f not a heading: " + design + " \"Not a heading (in a code block)\"\n",
	})
	want := []string{
		"README.md:1: link internal/DESIGN.md#no-such-anchor: no heading with anchor #no-such-anchor",
		"README.md:1: link target " + missing + " does not exist",
		"README.md:1: link #nowhere: no heading with anchor #nowhere",
		"internal/catalog/apply.go:3: " + harborAPI + " does not exist in the repository",
		"internal/catalog/apply.go:4: internal/DESIGN.md has no section \"No Such Section\"",
		"internal/catalog/apply.go:5: internal/DESIGN.md is cited by a section number",
		"internal/catalog/apply.go:6: \"" + outside + "\" points outside the repository",
		"internal/catalog/apply.go:6: " + outside + "reference/" + portAPI + " does not exist in the repository",
		"internal/catalog/apply.go:7: internal/DESIGN.md has no section \"Neither This\"",
		"internal/catalog/apply.go:9: internal/DESIGN.md has no section \"Not a heading (in a code block)\"",
	}
	got := problems(t, root)
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
