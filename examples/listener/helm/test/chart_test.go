package charttest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/runtime"
	kjson "k8s.io/apimachinery/pkg/runtime/serializer/json"
	kyaml "k8s.io/apimachinery/pkg/util/yaml"
)

const (
	chartDir  = ".."
	repoRoot  = "../../../.."
	release   = "harborport-listener"
	namespace = "harborport"
)

// helm is the helm binary: $HELM (make test-helm builds a pinned one).
func helm(t *testing.T) string {
	t.Helper()
	bin := os.Getenv("HELM")
	if bin == "" {
		t.Fatal("HELM is not set: run `make test-helm` from the repository root; it builds the pinned helm and passes it here")
	}
	return bin
}

func run(t *testing.T, name string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	cmd := exec.Command(name, args...)
	var so, se bytes.Buffer
	cmd.Stdout, cmd.Stderr = &so, &se
	err = cmd.Run()
	return so.String(), se.String(), err
}

// template renders the chart as `helm install <release> -n <namespace>`
// would, with the values files of testdata/ and --set pairs.
func template(t *testing.T, valueFiles []string, sets ...string) (string, error) {
	t.Helper()
	args := []string{"template", release, chartDir, "--namespace", namespace}
	for _, f := range valueFiles {
		args = append(args, "-f", filepath.Join("testdata", f))
	}
	for _, s := range sets {
		args = append(args, "--set", s)
	}
	out, errOut, err := run(t, helm(t), args...)
	if err != nil {
		return "", fmt.Errorf("helm %s: %v\n%s", strings.Join(args, " "), err, errOut)
	}
	return out, nil
}

// decoder is apimachinery's strict serializer over the API types the chart
// may render: an unknown field, a duplicate field, a wrong type, a malformed
// quantity or a kind these types do not have is an error. No network, no
// OpenAPI document: the Go types are the schema.
var decoder = sync.OnceValue(func() runtime.Decoder {
	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{corev1.AddToScheme, appsv1.AddToScheme, networkingv1.AddToScheme, monitoringv1.AddToScheme} {
		if err := add(scheme); err != nil {
			panic(err)
		}
	}
	return kjson.NewSerializerWithOptions(kjson.DefaultMetaFactory, scheme, scheme, kjson.SerializerOptions{Yaml: true, Strict: true})
})

// decodeAll splits a multi-document manifest and strictly decodes each document.
func decodeAll(manifest string) ([]runtime.Object, error) {
	r := kyaml.NewYAMLReader(bufio.NewReader(strings.NewReader(manifest)))
	var objs []runtime.Object
	var errs []error
	for i := 0; ; i++ {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		if len(bytes.TrimSpace(stripComments(doc))) == 0 {
			continue
		}
		obj, gvk, err := decoder().Decode(doc, nil, nil)
		if err != nil {
			errs = append(errs, fmt.Errorf("document %d (%v): %w\n%s", i, gvk, err, doc))
			continue
		}
		objs = append(objs, obj)
	}
	return objs, errors.Join(errs...)
}

func stripComments(doc []byte) []byte {
	var out [][]byte
	for _, l := range bytes.Split(doc, []byte("\n")) {
		if t := bytes.TrimSpace(l); len(t) > 0 && t[0] != '#' && !bytes.Equal(t, []byte("---")) {
			out = append(out, l)
		}
	}
	return bytes.Join(out, []byte("\n"))
}

// rendered is one render of the chart, decoded.
type rendered struct {
	manifest string
	objs     []runtime.Object
}

func render(t *testing.T, valueFiles []string) rendered {
	t.Helper()
	m, err := template(t, valueFiles)
	if err != nil {
		t.Fatal(err)
	}
	objs, err := decodeAll(m)
	if err != nil {
		t.Fatalf("strict decoding of the rendered manifests: %v", err)
	}
	return rendered{m, objs}
}

func find[T runtime.Object](r rendered, name string) (T, bool) {
	for _, o := range r.objs {
		if x, ok := o.(T); ok {
			if name == "" || metaName(o) == name {
				return x, true
			}
		}
	}
	var zero T
	return zero, false
}

func all[T runtime.Object](r rendered) []T {
	var out []T
	for _, o := range r.objs {
		if x, ok := o.(T); ok {
			out = append(out, x)
		}
	}
	return out
}

func metaName(o runtime.Object) string {
	type named interface{ GetName() string }
	if n, ok := o.(named); ok {
		return n.GetName()
	}
	return ""
}

func kinds(r rendered) []string {
	var out []string
	for _, o := range r.objs {
		out = append(out, fmt.Sprintf("%T/%s", o, metaName(o)))
	}
	slices.Sort(out)
	return out
}

// The strict decoding must be able to fail: each broken manifest is refused.
func TestStrictDecodingRefusesBrokenManifests(t *testing.T) {
	for name, doc := range map[string]string{
		"unknown field":     "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: x}\nspec:\n  replica: 2\n",
		"misspelled nested": "apiVersion: v1\nkind: Service\nmetadata: {name: x}\nspec:\n  ports:\n    - name: http\n      port: 80\n      targetport: http\n",
		"duplicate field":   "apiVersion: v1\nkind: Service\nmetadata: {name: x}\nspec:\n  type: ClusterIP\n  type: NodePort\n",
		"wrong type":        "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: x}\nspec:\n  replicas: \"two\"\n",
		"bad quantity":      "apiVersion: v1\nkind: Pod\nmetadata: {name: x}\nspec:\n  containers:\n    - name: c\n      resources: {requests: {memory: 12 gigs}}\n",
		"unknown kind":      "apiVersion: apps/v1\nkind: StatefulSets\nmetadata: {name: x}\n",
		"unknown version":   "apiVersion: monitoring.coreos.com/v2\nkind: ServiceMonitor\nmetadata: {name: x}\n",
		"bad CRD field":     "apiVersion: monitoring.coreos.com/v1\nkind: ServiceMonitor\nmetadata: {name: x}\nspec:\n  endpoints:\n    - port: http\n      scrapeEvery: 10s\n",
	} {
		if _, err := decodeAll(doc); err == nil {
			t.Errorf("%s: decoded without error", name)
		}
	}
	if objs, err := decodeAll("# only a comment\n---\napiVersion: v1\nkind: Service\nmetadata: {name: x}\n"); err != nil || len(objs) != 1 {
		t.Errorf("a valid manifest: %v %v", objs, err)
	}
}

func runIn(t *testing.T, dir, name string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	var so, se bytes.Buffer
	cmd.Stdout, cmd.Stderr = &so, &se
	err = cmd.Run()
	return so.String(), se.String(), err
}
