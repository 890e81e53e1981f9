package mapping

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/harborport/terraform-provider-harborport/internal/port"
)

// items returns fresh copies of realistic Harbor items, built from the real
// Harbor 2.15.2 captures in internal/harbor/testdata (real-api-*.json and
// api-artifact-with-scan-overview.json), enriched as the catalog enriches them.
func items(t testing.TB) map[string]map[string]any {
	t.Helper()
	b, err := os.ReadFile("testdata/items.json")
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func mustParse(t testing.TB, src string) *Config {
	t.Helper()
	c, err := Parse(src, "test.yaml")
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return c
}

// parseErr parses src, which must fail, and returns the error text.
func parseErr(t testing.TB, src string) string {
	t.Helper()
	_, err := Parse(src, "test.yaml")
	if err == nil {
		t.Fatalf("Parse succeeded, want an error for:\n%s", src)
	}
	return err.Error()
}

// entityJSON renders an entity with its blueprint, deterministically.
func entityJSON(t testing.TB, e port.Entity) string {
	t.Helper()
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	m["blueprint"] = e.Blueprint
	out, _ := json.Marshal(m)
	return string(out)
}

func jsonOf(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func warningsText(ws []Warning) string {
	var s []string
	for _, w := range ws {
		s = append(s, w.String())
	}
	return strings.Join(s, "\n")
}

// resource builds a one-resource config for kind with the given mappings
// block (indented under mappings:).
func resource(kind, selector, mappings string) string {
	return "resources:\n  - kind: " + kind + "\n    selector:\n" + indent(selector, 6) +
		"    port:\n      entity:\n        mappings:\n" + indent(mappings, 10)
}

func indent(s string, n int) string {
	pad := strings.Repeat(" ", n)
	var b strings.Builder
	for _, l := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		b.WriteString(pad + l + "\n")
	}
	return b.String()
}
