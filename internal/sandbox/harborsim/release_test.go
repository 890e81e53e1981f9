package harborsim

import (
	"encoding/json"
	"errors"
	"net/url"
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"
)

// Harbor 2.11 driven with the operations of testdata/real-api-211-audit-logs.json lists the same
// records from GET /audit-logs (fields, values, the repository delete's tie out of id order), and
// nothing for the user it created and deleted; the audit-log-ext API is a route miss.
func TestLegacyAuditLogMatchesReal211Capture(t *testing.T) {
	raw, err := os.ReadFile("testdata/real-api-211-audit-logs.json")
	if err != nil {
		t.Fatal(err)
	}
	var capt auditCapture
	if err := json.Unmarshal(raw, &capt); err != nil {
		t.Fatal(err)
	}
	c := newTC(t, Options{Version: Version211})
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
	start := s.peekNow().Truncate(time.Second)
	art := "/api/v2.0/projects/audit211/repositories/team%252Fapp/artifacts/"
	_, err = s.CreateProjectE("audit211", false)
	must(err)
	_, err = s.PushArtifact("audit211", "team/app", []string{"v1"}, PushOptions{Digest: captureV1})
	must(err)
	rest("POST", art+"v1/tags", `{"name":"prod"}`, 201)
	rest("DELETE", art+"v1/tags/prod", "", 200)
	loc := rest("POST", "/api/v2.0/users", `{"username":"cap211","password":"Cap211user","email":"cap211@example.com","realname":"Cap"}`, 201).header.Get("Location")
	rest("DELETE", loc, "", 200)
	rest("DELETE", "/api/v2.0/projects/audit211/repositories/team%252Fapp", "", 200)
	must(s.DeleteProject("audit211"))

	u, err := url.Parse(strings.TrimPrefix(capt.Request, "GET "))
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("q", "op_time=["+start.Format("2006-01-02T15:04:05")+"~2099-01-01T00:00:00]")
	u.RawQuery = q.Encode()
	r := rest("GET", u.String(), "", 200)
	if got, want := r.header.Get("X-Total-Count"), capt.Headers["X-Total-Count"]; got != want {
		t.Fatalf("X-Total-Count %s, want %s: %s", got, want, r.body)
	}
	var got []map[string]any
	r.json(t, &got)
	want := capt.Records
	id := func(m map[string]any) int64 { return int64(as[float64](t, m["id"])) }
	for i := range want {
		g, w := got[i], want[i]
		if gk, wk := sortedKeys(g), sortedKeys(w); !reflect.DeepEqual(gk, wk) {
			t.Fatalf("record %d: fields %v, want %v", i, gk, wk)
		}
		for _, k := range []string{"operation", "resource", "resource_type", "username"} {
			if g[k] != w[k] {
				t.Errorf("record %d: %s = %v, want %v", i, k, g[k], w[k])
			}
		}
		if gd, wd := id(g)-id(got[0]), id(w)-id(want[0]); gd != wd {
			t.Errorf("record %d: id offset %d, want %d", i, gd, wd)
		}
	}
	for _, p := range []string{"/api/v2.0/auditlog-exts", "/api/v2.0/auditlog-exts/events"} {
		if r := c.req("GET", p, admin, ""); r.status != 404 || r.body != errBody("NOT_FOUND", "path "+p+" was not found") {
			t.Errorf("%s on 2.11: %d %s", p, r.status, r.body)
		}
	}
}

// /audit-logs on 2.11: the default order is newest first; a robot without audit-log:list gets
// 200 and nothing (it is narrowed to project -1), one with it everything, anonymous callers 401;
// GET /users/current/permissions tells the two robots apart. On 2.15 /audit-logs lists nothing.
func TestLegacyAuditLogPermissions(t *testing.T) {
	c := newTC(t, Options{Version: Version211})
	c.s.CreateProject("apps", false)
	mustPush(t, c.s, "apps", "web", []string{"v1"}, PushOptions{})
	if err := c.s.AddRobotE("plain", "Robot12345", RobotPermissions{}); err != nil {
		t.Fatal(err)
	}
	if err := c.s.AddRobotE("auditor", "Robot12345", RobotPermissions{AuditLogList: true}); err != nil {
		t.Fatal(err)
	}
	list := func(auth string) (int, []map[string]any) {
		r := c.req("GET", "/api/v2.0/audit-logs", auth, "")
		var out []map[string]any
		if r.status == 200 {
			r.json(t, &out)
		}
		return r.status, out
	}
	if st, recs := list(admin); st != 200 || len(recs) != 2 || recs[0]["resource_type"] != "artifact" || recs[1]["resource_type"] != "project" {
		t.Errorf("admin: %d %v", st, recs)
	}
	if st, recs := list("robot$plain:Robot12345"); st != 200 || len(recs) != 0 {
		t.Errorf("robot without audit-log:list: %d %v", st, recs)
	}
	if st, recs := list("robot$auditor:Robot12345"); st != 200 || len(recs) != 2 {
		t.Errorf("robot with audit-log:list: %d %v", st, recs)
	}
	if r := c.req("GET", "/api/v2.0/audit-logs", "", ""); r.status != 401 || r.body != errBody("UNAUTHORIZED", "") {
		t.Errorf("anonymous: %d %s", r.status, r.body)
	}
	perms := func(auth string) []permissionJSON {
		r := c.req("GET", "/api/v2.0/users/current/permissions?scope=/system&relative=true", auth, "")
		var out []permissionJSON
		r.json(t, &out)
		return out
	}
	has := func(ps []permissionJSON, res, act string) bool {
		for _, p := range ps {
			if p.Resource == res && p.Action == act {
				return true
			}
		}
		return false
	}
	if ps := perms("robot$plain:Robot12345"); has(ps, "audit-log", "list") || !has(ps, "project", "list") {
		t.Errorf("plain robot's system permissions: %v", ps)
	}
	if ps := perms("robot$auditor:Robot12345"); !has(ps, "audit-log", "list") {
		t.Errorf("auditor robot's system permissions: %v", ps)
	}
	if ps := perms(admin); !has(ps, "audit-log", "list") || !has(ps, "user", "list") {
		t.Errorf("admin's system permissions: %v", ps)
	}
	if r := c.req("GET", "/api/v2.0/users/current/permissions?scope=/system", "", ""); r.status != 401 {
		t.Errorf("anonymous permissions: %d %s", r.status, r.body)
	}

	c15 := newTC(t, Options{Version: Version215})
	c15.s.CreateProject("apps", false)
	mustPush(t, c15.s, "apps", "web", []string{"v1"}, PushOptions{})
	if r := c15.req("GET", "/api/v2.0/audit-logs", admin, ""); r.status != 200 || r.body != "[]\n" {
		t.Errorf("2.15 /audit-logs: %d %s", r.status, r.body)
	}
}

// Robots get user:list from Harbor 2.12 on: 2.11 refuses it with Harbor's message, and a robot
// without it is refused GET /users with its name; systeminfo says which release it is.
func TestRobotUserListByRelease(t *testing.T) {
	for _, v := range Profiles {
		t.Run(ProfileName(v), func(t *testing.T) {
			c := newTC(t, Options{Version: v})
			err := c.s.AddRobotE("sync", "Robot12345", RobotPermissions{UserList: true})
			if v == Version211 {
				if !errors.Is(err, ErrRobotUserList) || err.Error() != "bad request permission: user:list" {
					t.Fatalf("2.11 robot with user:list: %v", err)
				}
				r := c.req("POST", "/_sim/robots", "", `{"name":"sync","secret":"Robot12345","system_user_list":true}`)
				if r.status != 400 || !strings.Contains(r.body, "bad request permission: user:list") {
					t.Fatalf("POST /_sim/robots: %d %s", r.status, r.body)
				}
				if err := c.s.AddRobotE("sync", "Robot12345", RobotPermissions{}); err != nil {
					t.Fatal(err)
				}
				if r := c.req("GET", "/api/v2.0/users", "robot$sync:Robot12345", ""); r.status != 403 || r.body != errBody("FORBIDDEN", "robot$sync") {
					t.Fatalf("GET /users: %d %s", r.status, r.body)
				}
			} else {
				if err != nil {
					t.Fatal(err)
				}
				if r := c.req("GET", "/api/v2.0/users", "robot$sync:Robot12345", ""); r.status != 200 {
					t.Fatalf("GET /users: %d %s", r.status, r.body)
				}
			}
			var info map[string]any
			c.req("GET", "/api/v2.0/systeminfo", admin, "").json(t, &info)
			if info["harbor_version"] != v {
				t.Errorf("harbor_version %v, want %s", info["harbor_version"], v)
			}
		})
	}
}

// Every scannable artifact carries addition_links.sboms, whose href has an empty digest, on both
// releases; without a scanner neither link.
func TestSBOMAdditionLink(t *testing.T) {
	for _, v := range Profiles {
		t.Run(ProfileName(v), func(t *testing.T) {
			c := newTC(t, Options{Version: v})
			c.s.CreateProject("apps", false)
			d := mustPush(t, c.s, "apps", "team/web", []string{"v1"}, PushOptions{})
			if err := c.s.ScanArtifact("apps", "team/web", d, map[string]int{"High": 1}); err != nil {
				t.Fatal(err)
			}
			for _, p := range []string{"/api/v2.0/projects/apps/repositories/team%252Fweb/artifacts?with_scan_overview=true",
				"/api/v2.0/projects/apps/repositories/team%252Fweb/artifacts/" + d} {
				r := c.req("GET", p, admin, "")
				var arts []artifactJSON
				if strings.HasSuffix(p, d) {
					var one artifactJSON
					r.json(t, &one)
					arts = append(arts, one)
				} else {
					r.json(t, &arts)
				}
				want := "/api/v2.0/projects/apps/repositories/team%252Fweb/artifacts//additions/sbom"
				if got := arts[0].AdditionLinks["sboms"]; got.Href != want || got.Absolute {
					t.Errorf("%s: sboms %+v, want href %s", p, got, want)
				}
			}
			n := newTC(t, Options{Version: v, NoScanner: true})
			n.s.CreateProject("apps", false)
			mustPush(t, n.s, "apps", "web", []string{"v1"}, PushOptions{})
			var arts []artifactJSON
			n.req("GET", "/api/v2.0/projects/apps/repositories/web/artifacts", admin, "").json(t, &arts)
			if _, ok := arts[0].AdditionLinks["sboms"]; ok {
				t.Error("sboms link without a scanner")
			}
		})
	}
}

// After a delivery the policy's execution stays non-final for ExecutionSettle: DELETE answers
// the captured 412 (code UNKNOWN) meanwhile, and 200 afterwards; PUT is never refused.
func TestPolicyDeleteWaitsForExecutions(t *testing.T) {
	rcv := newReceiver(t, false, nil)
	c := newDeliverySim(t, Options{Delivery: DeliveryOptions{ExecutionSettle: 400 * time.Millisecond}})
	c.s.CreateProject("apps", false)
	id := addPolicy(t, c, "apps", "hp", true, []string{"PUSH_ARTIFACT"}, rcv.ts.URL, "", "Default", false)
	path := "/api/v2.0/projects/apps/webhook/policies/" + itoa(id)
	if c.s.PolicyExecutionBusy(id) {
		t.Fatal("busy before any delivery")
	}
	mustPush(t, c.s, "apps", "web", []string{"v1"}, PushOptions{})
	waitIdle(t, c.s)
	r := c.req("DELETE", path, admin, "")
	want := errBody("UNKNOWN", "failed to delete executions for webhook of policy "+itoa(id)+
		": contains executions that aren't in final status, stop the execution first")
	if r.status != 412 || r.body != want {
		t.Fatalf("DELETE right after the delivery: %d %s, want 412 %s", r.status, r.body, want)
	}
	capt, err := os.ReadFile("../../harbor/testdata/real-api-webhook-policy-delete-412.txt")
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`policy \d+`)
	if !strings.Contains(re.ReplaceAllString(string(capt), "policy N"), strings.TrimSpace(re.ReplaceAllString(r.body, "policy N"))) {
		t.Fatalf("the 412 differs from the capture:\n%s", r.body)
	}
	body := `{"name":"hp","enabled":false,"event_types":["PUSH_ARTIFACT"],"targets":[{"type":"http","address":"` + rcv.ts.URL + `"}]}`
	if r := c.req("PUT", path, admin, body); r.status != 200 {
		t.Fatalf("PUT while the execution runs: %d %s", r.status, r.body)
	}
	time.Sleep(450 * time.Millisecond)
	if r := c.req("DELETE", path, admin, ""); r.status != 200 {
		t.Fatalf("DELETE after ExecutionSettle: %d %s", r.status, r.body)
	}
}
