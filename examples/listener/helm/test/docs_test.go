package charttest

import (
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

// README.md's values table is values.yaml: every row names a value that
// exists, with its default; every value is covered by a row (itself or an
// object above it, like resources).
func TestReadmeValuesTable(t *testing.T) {
	raw, err := os.ReadFile(chartDir + "/values.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var vals map[string]any
	if err := yaml.UnmarshalStrict(raw, &vals); err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(chartDir + "/README.md")
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile("^\\| `([A-Za-z.]+)` \\| `([^`]*)` \\| (.*) \\|$")
	rows := map[string]string{}
	for _, line := range strings.Split(string(readme), "\n") {
		if m := row.FindStringSubmatch(line); m != nil {
			if _, dup := rows[m[1]]; dup {
				t.Errorf("README lists %s twice", m[1])
			}
			rows[m[1]] = m[2]
		}
	}
	if len(rows) < 50 {
		t.Fatalf("found %d rows in README.md's values table", len(rows))
	}
	lookup := func(key string) (any, bool) {
		var cur any = vals
		for _, k := range strings.Split(key, ".") {
			m, ok := cur.(map[string]any)
			if !ok {
				return nil, false
			}
			if cur, ok = m[k]; !ok {
				return nil, false
			}
		}
		return cur, true
	}
	for key, def := range rows {
		v, ok := lookup(key)
		if !ok {
			t.Errorf("README documents %s, which values.yaml does not have", key)
			continue
		}
		b, _ := json.Marshal(v) // sorted keys, like the table
		if string(b) != def {
			t.Errorf("README: %s defaults to `%s`, values.yaml says `%s`", key, def, b)
		}
	}
	var leaves []string
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		if _, documented := rows[prefix]; documented {
			return
		}
		m, ok := v.(map[string]any)
		if !ok || len(m) == 0 {
			leaves = append(leaves, prefix)
			return
		}
		for k, x := range m {
			walk(strings.TrimPrefix(prefix+"."+k, "."), x)
		}
	}
	walk("", vals)
	slices.Sort(leaves)
	if len(leaves) > 0 {
		t.Errorf("values.yaml has values README.md's table does not document: %v", leaves)
	}
}

// examples/listener/main.tf points harborport_webhook at the Service that
// `helm install harborport-listener … -n harborport` creates: its defaults
// must be that Service's name, namespace and port.
func TestTerraformWiringPointsAtTheService(t *testing.T) {
	raw, err := os.ReadFile(chartDir + "/../main.tf")
	if err != nil {
		t.Fatal(err)
	}
	tf := string(raw)
	def := func(variable string) string {
		m := regexp.MustCompile(`(?s)variable "` + variable + `" \{.*?default\s*=\s*"?([^"\n]*)"?\n`).FindStringSubmatch(tf)
		if m == nil {
			t.Fatalf("main.tf has no default for variable %s", variable)
		}
		return m[1]
	}
	if def("helm_release") != release || def("helm_namespace") != namespace {
		t.Errorf("main.tf's release %q / namespace %q are not the ones the chart README installs (%s, %s)", def("helm_release"), def("helm_namespace"), release, namespace)
	}
	r := render(t, []string{"minimal.yaml"})
	svc, ok := find[*corev1.Service](r, release)
	if !ok || len(svc.Spec.Ports) != 1 {
		t.Fatalf("no Service %s in the render: %v", release, kinds(r))
	}
	want := "http://${var.helm_release}.${var.helm_namespace}.svc:80/integration/webhook"
	if svc.Spec.Ports[0].Port != 80 || !strings.Contains(tf, want) {
		t.Errorf("main.tf must build the endpoint as %s (the Service listens on %d)", want, svc.Spec.Ports[0].Port)
	}
}
