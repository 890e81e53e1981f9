package harborsim

import (
	"encoding/json"
	"net/url"
	"os"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"
)

// testdata/real-api-auditlog-exts.json is GET /api/v2.0/auditlog-exts from a real Harbor v2.15.2
// after the operations listed in its _actions_performed_in_order.
type auditCapture struct {
	Request string            `json:"_request"`
	Headers map[string]string `json:"_response_headers"`
	Records []map[string]any  `json:"records"`
}

func loadAuditCapture(t *testing.T) auditCapture {
	t.Helper()
	raw, err := os.ReadFile("testdata/real-api-auditlog-exts.json")
	if err != nil {
		t.Fatal(err)
	}
	var c auditCapture
	if err := json.Unmarshal(raw, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

const (
	captureV1 = "sha256:e529f34540ae61212e88a6a6d81ff7427f1ca8650237113432eeffd844715523"
	captureV2 = "sha256:31ba7dd7004ccf3f560f781f27e81c99b50f9819dc94fb83882062c46df5e9c9"
)

// replayAuditCapture performs the capture's operations in order: registry traffic (crane) and
// the project calls through the admin API, every REST call the capture made through the API.
func replayAuditCapture(t *testing.T, c *tc) {
	t.Helper()
	s := c.s
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	rest := func(method, path, body string, want int) resp {
		t.Helper()
		r := c.req(method, path, admin, body)
		if r.status != want {
			t.Fatalf("%s %s: %d %s, want %d", method, path, r.status, r.body, want)
		}
		return r
	}
	art := "/api/v2.0/projects/auditcap/repositories/team%252Fapp/artifacts/"

	_, err := s.CreateProjectE("auditcap", false) // POST /projects auditcap
	must(err)
	_, err = s.PushArtifact("auditcap", "team/app", []string{"v1"}, PushOptions{Digest: captureV1}) // crane push :v1
	must(err)
	_, err = s.PushArtifact("auditcap", "team/app", []string{"v2"}, PushOptions{Digest: captureV2}) // crane push :v2
	must(err)
	must(s.PullArtifact("auditcap", "team/app", "v2"))                                                  // crane tag v2 latest: GET manifest …
	_, err = s.PushArtifact("auditcap", "team/app", []string{"latest"}, PushOptions{Digest: captureV2}) // … PUT :latest
	must(err)
	rest("POST", art+"v1/tags", `{"name":"prod"}`, 201)
	rest("DELETE", art+"v1/tags/prod", "", 200)
	rest("DELETE", art+captureV1, "", 200)
	must(s.SetProjectMetadata("auditcap", "public", "true")) // PUT /projects/auditcap: not logged
	loc := rest("POST", "/api/v2.0/users", `{"username":"capuser","password":"Capuser123","email":"capuser@example.com","realname":"Cap User"}`, 201).header.Get("Location")
	if !regexp.MustCompile(`^/api/v2\.0/users/\d+$`).MatchString(loc) {
		t.Fatalf("Location %q", loc)
	}
	rest("PUT", loc, `{"email":"capuser@example.org","realname":"Cap User 2"}`, 200)
	rest("DELETE", loc, "", 200)
	rest("DELETE", "/api/v2.0/projects/auditcap/repositories/team%252Fapp", "", 200)
	must(s.DeleteProject("auditcap")) // DELETE /projects/auditcap
}

// The simulator, driven with the capture's operations, lists the same records: every field equal
// except id and op_time, whose relations are compared instead (id offsets, so the two records of
// the repository delete come out of id order; op_time order with the same tie).
func TestAuditLogMatchesRealCapture(t *testing.T) {
	capt := loadAuditCapture(t)
	c := newTC(t, Options{})
	start := c.s.peekNow().Truncate(time.Second)
	replayAuditCapture(t, c)

	// The capture's own request, with the start second of this run.
	u, err := url.Parse(strings.TrimPrefix(capt.Request, "GET "))
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("q", "op_time=["+start.Format("2006-01-02T15:04:05")+"~2099-01-01T00:00:00]")
	u.RawQuery = q.Encode()
	r := c.req("GET", u.String(), admin, "")
	if r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	if got, want := r.header.Get("X-Total-Count"), capt.Headers["X-Total-Count"]; got != want {
		t.Fatalf("X-Total-Count %s, want %s", got, want)
	}
	var got []map[string]any
	r.json(t, &got)
	want := capt.Records
	if len(got) != len(want) {
		t.Fatalf("%d records, want %d:\n%s", len(got), len(want), r.body)
	}
	millis := regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`)
	id := func(m map[string]any) int64 { return int64(as[float64](t, m["id"])) }
	opTime := func(m map[string]any) time.Time {
		s := as[string](t, m["op_time"])
		if !millis.MatchString(s) {
			t.Fatalf("op_time %q is not strfmt.DateTime's millisecond form", s)
		}
		tm, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	for i := range want {
		g, w := got[i], want[i]
		if gk, wk := sortedKeys(g), sortedKeys(w); !reflect.DeepEqual(gk, wk) {
			t.Fatalf("record %d: fields %v, want %v", i, gk, wk)
		}
		for k, wv := range w {
			if k == "id" || k == "op_time" {
				continue
			}
			if !reflect.DeepEqual(g[k], wv) {
				t.Errorf("record %d (%v): %s = %#v, want %#v", i, w["operation_description"], k, g[k], wv)
			}
		}
		if gd, wd := id(g)-id(got[0]), id(w)-id(want[0]); gd != wd {
			t.Errorf("record %d: id offset %d, want %d", i, gd, wd)
		}
		if i > 0 {
			gc := opTime(g).Compare(opTime(got[i-1]))
			wc := opTime(w).Compare(opTime(want[i-1]))
			if gc != wc {
				t.Errorf("record %d: op_time compares %d with the previous one, want %d (%s vs %s)", i, gc, wc, g["op_time"], got[i-1]["op_time"])
			}
		}
	}
	// The body is what go-swagger writes: fields in name order, a newline at the end.
	if !strings.HasPrefix(r.body, `[{"id":`) || !strings.Contains(r.body, `"op_time":"`) || !strings.HasSuffix(r.body, "]\n") {
		t.Fatalf("body form: %.200s", r.body)
	}
	first := r.body[:strings.Index(r.body, "}")+1]
	order := regexp.MustCompile(`"([a-z_]+)":`).FindAllStringSubmatch(first, -1)
	var names []string
	for _, m := range order {
		names = append(names, m[1])
	}
	if !sort.StringsAreSorted(names) {
		t.Fatalf("field order %v, want go-swagger's (sorted)", names)
	}
}

func sortedKeys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
