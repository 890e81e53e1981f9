package listener

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/harborport/terraform-provider-harborport/internal/catalog"
	"github.com/harborport/terraform-provider-harborport/internal/harbor"
	"github.com/harborport/terraform-provider-harborport/internal/mapping"
)

// fuzzMaxBody is the listener's default body limit (Config.MaxBody): larger
// deliveries are refused with 413 before ParseEvent sees them.
const fuzzMaxBody = 1 << 20

// fuzzHeaders builds a delivery's headers: contentType, plus ce, which holds
// "Name: value" lines that become Ce-Name headers (binary-mode CloudEvents).
func fuzzHeaders(contentType, ce string) http.Header {
	h := http.Header{}
	h.Set("Content-Type", contentType)
	for _, line := range strings.Split(ce, "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok {
			h.Set("Ce-"+strings.TrimSpace(k), strings.TrimSpace(v))
		}
	}
	return h
}

// readDelivery is loadDelivery for a *testing.F: the headers and body of a
// capture in testdata/.
func readDelivery(name string) (http.Header, []byte, error) {
	raw, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		return nil, nil, err
	}
	h := http.Header{}
	if !strings.HasPrefix(name, "real-") {
		h.Set("Content-Type", "application/json")
		if strings.Contains(name, "cloudevents") {
			h.Set("Content-Type", "application/cloudevents+json")
		}
		return h, raw, nil
	}
	var c struct {
		Headers map[string]string `json:"headers"`
		BodyRaw string            `json:"body_raw"`
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", name, err)
	}
	for k, v := range c.Headers {
		h.Set(k, v)
	}
	return h, []byte(c.BodyRaw), nil
}

// FuzzParseEvent: webhook payload parsing, Default and CloudEvents
// (structured and binary mode), seeded with the real Harbor 2.15.2
// deliveries and the documented bodies in testdata/.
// Properties: an error is ErrMediaType or wraps ErrBadPayload (415/400,
// never a 500); parsing is deterministic; an accepted delivery either names
// targets or says why it is ignored, never both; every target is a key the
// spool accepts and round-trips, whose names follow Harbor's grammar and
// make valid Harbor API paths; targets are distinct, artifacts before
// repositories before exactly one project, and repositories lie inside that
// project.
func FuzzParseEvent(f *testing.F) {
	ents, err := os.ReadDir("testdata")
	if err != nil {
		f.Fatal(err)
	}
	for _, e := range ents {
		if !strings.HasSuffix(e.Name(), ".json") {
			continue
		}
		h, body, err := readDelivery(e.Name())
		if err != nil {
			f.Fatal(err)
		}
		f.Add(h.Get("Content-Type"), "", body)
		if strings.Contains(e.Name(), "cloudevents") {
			// The same event in binary mode: attributes in ce-* headers, data as the body.
			var ce struct {
				ID, Source, Type string
				Data             json.RawMessage
			}
			if json.Unmarshal(body, &ce) == nil && ce.Data != nil {
				f.Add("application/json", "Specversion: 1.0\nId: "+ce.ID+"\nSource: "+ce.Source+"\nType: "+ce.Type+"\nOperator: admin", []byte(ce.Data))
			}
		}
	}
	f.Add("application/json; charset=utf-8", "", []byte(`{"type":"DELETE_ARTIFACT","event_data":{"resources":[{"digest":"sha256:ab","tag":"v1"},{"digest":"sha256:ab"}],"repository":{"name":"a/b","namespace":"p","repo_full_name":"p/a/b"}}}`))
	f.Add("application/json", "", []byte(`{"type":"TAG_RETENTION","event_data":{"retention":{"project_name":"p","deleted_artifact":[{"name_tag":"a/b:v1"},{"name_tag":"../x:1"},{"name_tag":""}]}}}`))
	f.Add("application/json", "", []byte(`{"type":"REPLICATION","event_data":{"replication":{"src_resource":{"registry_name":"r"},"dest_resource":{"namespace":"p"}}}}`))
	f.Add("application/cloudevents+json", "", []byte(`{"specversion":"1.0","id":"1","source":"s","type":"harbor.scan.completed","data":{"scan":{"scan_type":"sbom"}}}`))
	f.Add("application/cloudevents+json", "", []byte(`{"specversion":"1.0","id":"1","source":"s","type":"x","data_base64":"e30="}`))
	f.Add("text/plain", "", []byte(`{}`))
	f.Add("application/json", "Specversion: 0.3", []byte(`{}`))
	f.Add("application/json", "", []byte(`{"type":"PUSH_ARTIFACT","event_data":{"resources":[{"digest":"sha256:ab"}],"repository":{"namespace":"p\u0000","repo_full_name":"p\u0000/x"}}}`))
	f.Add("application/json", "", []byte(` [1]`))
	f.Add("application/json", "", []byte(`{"type":"PUSH_ARTIFACT","event_data":null}`))
	f.Fuzz(func(t *testing.T, contentType, ce string, body []byte) {
		if len(body) > fuzzMaxBody {
			return
		}
		h := fuzzHeaders(contentType, ce)
		ev, err := ParseEvent(h, body)
		ev2, err2 := ParseEvent(h, body)
		if !reflect.DeepEqual(ev, ev2) || (err == nil) != (err2 == nil) || err != nil && err.Error() != err2.Error() {
			t.Fatalf("ParseEvent is not deterministic: %#v %v / %#v %v", ev, err, ev2, err2)
		}
		if err != nil {
			if !errors.Is(err, ErrBadPayload) && !errors.Is(err, ErrMediaType) {
				t.Fatalf("error %v is neither ErrBadPayload nor ErrMediaType: it would be answered 500", err)
			}
			return
		}
		if ev.Format != FormatDefault && ev.Format != FormatCloudEvents {
			t.Fatalf("format %q", ev.Format)
		}
		if h.Get("Ce-Specversion") != "" && ev.Format != FormatCloudEvents {
			t.Fatalf("binary-mode CloudEvent parsed as %q", ev.Format)
		}
		if (len(ev.Targets) == 0) == (ev.Ignored == "") {
			t.Fatalf("targets %v and ignored %q: want exactly one of them", ev.Targets, ev.Ignored)
		}
		if len(ev.Targets) == 0 {
			return
		}
		if !knownTypes[ev.Type] {
			t.Fatalf("type %q is not a Harbor webhook type but names targets", ev.Type)
		}
		checkTargets(t, ev.Targets)
	})
}

var kindOrder = map[mapping.Kind]int{mapping.KindArtifact: 0, mapping.KindRepository: 1, mapping.KindProject: 2}

func checkTargets(t *testing.T, keys []catalog.Key) {
	t.Helper()
	last := keys[len(keys)-1]
	if last.Kind != mapping.KindProject {
		t.Fatalf("targets %v do not end with their project", keys)
	}
	order := func(i int) int { return kindOrder[keys[i].Kind] }
	if !sort.SliceIsSorted(keys, func(i, j int) bool { return order(i) < order(j) }) {
		t.Fatalf("targets %v are not artifacts, then repositories, then the project", keys)
	}
	seen := map[string]bool{}
	for _, k := range keys {
		if k.Kind == mapping.KindProject && k != last {
			t.Fatalf("targets %v name more than one project", keys)
		}
		if k.Project != last.Project {
			t.Fatalf("target %v is outside project %q", k, last.Project)
		}
		if err := validSpoolKey(k); err != nil {
			t.Fatalf("target %v: %v", k, err)
		}
		sk := spoolKey(k)
		if seen[string(sk)] {
			t.Fatalf("targets %v repeat %v", keys, k)
		}
		seen[string(sk)] = true
		back, ok := parseSpoolKey(sk)
		k.CheckListed = false
		if !ok || back != k {
			t.Fatalf("spool key of %#v reads back as %#v, %v", k, back, ok)
		}
		if err := checkProject("project", k.Project); err != nil {
			t.Fatal(err)
		}
		if _, err := harbor.ProjectPathSegment(k.Project); err != nil {
			t.Fatalf("target %v: %v", k, err)
		}
		if k.Kind == mapping.KindProject {
			if k.Repository != "" || k.Digest != "" {
				t.Fatalf("project target %#v", k)
			}
			continue
		}
		if err := checkRepository("repository", k.Repository); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(k.Repository, k.Project+"/") {
			t.Fatalf("repository %q is not inside project %q", k.Repository, k.Project)
		}
		seg, err := harbor.RepoPathSegment(k.Project, k.Repository)
		if err != nil {
			t.Fatalf("target %v: %v", k, err)
		}
		if strings.ContainsAny(seg, "/?#") {
			t.Fatalf("target %v: repository path segment %q", k, seg)
		}
		if k.Kind == mapping.KindRepository {
			if k.Digest != "" {
				t.Fatalf("repository target %#v", k)
			}
			continue
		}
		if !isDigest(k.Digest) && !isTag(k.Digest) {
			t.Fatalf("artifact target %v: reference %q is neither digest nor tag", k, k.Digest)
		}
		if _, err := harbor.ReferencePathSegment(k.Digest); err != nil {
			t.Fatalf("target %v: %v", k, err)
		}
	}
}

// The real captures parse to targets that pass checkTargets (a regular test
// of the fuzz properties on known-good input, so they cannot be vacuous).
func TestRealDeliveriesPassFuzzProperties(t *testing.T) {
	names, _ := filepath.Glob("testdata/real-webhook-*.json")
	if len(names) < 6 {
		t.Fatalf("want the six real deliveries, found %v", names)
	}
	for _, n := range names {
		h, body := loadDelivery(t, filepath.Base(n))
		ev, err := ParseEvent(h, body)
		if err != nil || len(ev.Targets) < 3 {
			t.Fatalf("%s: %v %v", n, ev, err)
		}
		checkTargets(t, ev.Targets)
	}
}
