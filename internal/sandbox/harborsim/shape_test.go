package harborsim

import (
	"encoding/json"
	"reflect"
	"sort"
	"strings"
	"testing"
)

// captureDirs hold the captures from a real Harbor v2.15.2 (internal/harbor/API-NOTES.md
// "Captured responses"): API answers beside the client, webhook deliveries beside the listener.
var captureDirs = []string{"../../harbor/testdata/", "../../listener/testdata/"}

// dynamicKeys are maps keyed by data, not schema; their key sets are not compared.
var dynamicKeys = map[string]bool{"metadata": true, "addition_links": true, "config": true, "scan_overview": true, "summary": true}

// fieldSets compares the key sets of objects recursively (first element of arrays).
func fieldSets(t *testing.T, path string, got, want any) {
	t.Helper()
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			t.Fatalf("%s: got %T, want object", path, got)
		}
		if !dynamicKeys[lastSeg(path)] {
			if gk, wk := keys(g), keys(w); !reflect.DeepEqual(gk, wk) {
				t.Fatalf("%s: fields %v, want %v", path, gk, wk)
			}
		}
		for k, wv := range w {
			if gv, ok := g[k]; ok {
				fieldSets(t, path+"."+k, gv, wv)
			}
		}
	case []any:
		g, ok := got.([]any)
		if !ok {
			t.Fatalf("%s: got %T (%v), want array", path, got, got)
		}
		if len(w) > 0 && len(g) > 0 {
			fieldSets(t, path+"[0]", g[0], w[0])
		}
	case nil:
		if got != nil {
			t.Fatalf("%s: got %v, want null", path, got)
		}
	default:
		if reflect.TypeOf(got) != reflect.TypeOf(want) {
			t.Fatalf("%s: type %T, want %T", path, got, want)
		}
	}
}

func lastSeg(p string) string { return p[strings.LastIndex(p, ".")+1:] }

func keys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func assertSameJSON(t *testing.T, got, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal([]byte(got), &g); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Fatalf("got %s\nwant %s", got, want)
	}
}

// TestShapesMatchRealCaptures builds the state of the capture session (project tfdemo with
// repositories hello and ocihello, one artifact tagged v1 then latest, pulled by v1) and compares
// field sets, value types and null-vs-[] with the real v2.15.2 responses.
func TestShapesMatchRealCaptures(t *testing.T) {
	c := newTC(t, Options{NoScanner: true}) // the capture instance had no scanner
	c.s.CreateProject("tfdemo", false)
	c.s.AddUser("alice", "Alice12345", false)
	c.s.usersByName["alice"].comment = "test" // as in the capture; AddUser sets no comment
	d := mustPush(t, c.s, "tfdemo", "hello", []string{"v1"}, PushOptions{Size: 800})
	mustPush(t, c.s, "tfdemo", "hello", []string{"latest"}, PushOptions{Digest: d})
	if err := c.s.PullArtifact("tfdemo", "hello", "v1"); err != nil {
		t.Fatal(err)
	}
	od := mustPush(t, c.s, "tfdemo", "ocihello", []string{"1.0"}, PushOptions{})
	if err := c.s.DeleteArtifact("tfdemo", "ocihello", od); err != nil {
		t.Fatal(err)
	}
	pol := `{"name":"wh-cloudevents","description":"cloudevents payload","enabled":true,"event_types":["PUSH_ARTIFACT","PULL_ARTIFACT","DELETE_ARTIFACT"],"targets":[{"type":"http","address":"http://127.0.0.1:18090/cloudevents","auth_header":"Bearer secret-ce","skip_cert_verify":true,"payload_format":"CloudEvents"}]}`
	if r := c.req("POST", "/api/v2.0/projects/tfdemo/webhook/policies", admin, pol); r.status != 201 {
		t.Fatal(r.body)
	}
	cases := []struct{ capture, path string }{
		{"real-api-projects-list.json", "/api/v2.0/projects?name=tfdemo"},
		{"real-api-project-get.json", "/api/v2.0/projects/tfdemo"},
		{"real-api-repositories-list.json", "/api/v2.0/projects/tfdemo/repositories"},
		{"real-api-artifacts-list.json", "/api/v2.0/projects/tfdemo/repositories/hello/artifacts"},
		{"real-api-artifact-tags-list.json", "/api/v2.0/projects/tfdemo/repositories/hello/artifacts/v1/tags"},
		{"real-api-systeminfo.json", "/api/v2.0/systeminfo"},
		{"real-api-users-search.json", "/api/v2.0/users?username=alice"},
		{"real-api-webhook-policies-list.json", "/api/v2.0/projects/tfdemo/webhook/policies"},
		{"real-api-webhook-policy-get.json", "/api/v2.0/projects/tfdemo/webhook/policies/1"},
	}
	for _, tt := range cases {
		t.Run(tt.capture, func(t *testing.T) {
			raw := readCapture(t, tt.capture)
			r := c.req("GET", tt.path, admin, "")
			if r.status != 200 {
				t.Fatalf("%d %s", r.status, r.body)
			}
			var got, want any
			_ = json.Unmarshal([]byte(r.body), &got)
			if err := json.Unmarshal(raw, &want); err != nil {
				t.Fatal(err)
			}
			fieldSets(t, "$", got, want)
			if ts := millisRe.FindAllString(string(raw), -1); len(ts) > 0 && len(millisRe.FindAllString(r.body, -1)) == 0 {
				t.Fatal("timestamps must use the .000Z millisecond format")
			}
		})
	}
	// anonymous systeminfo is the auth subset only
	var info map[string]any
	c.req("GET", "/api/v2.0/systeminfo", "", "").json(t, &info)
	if _, leak := info["harbor_version"]; leak || len(info) != 5 {
		t.Fatalf("anonymous systeminfo: %v", info)
	}
}
