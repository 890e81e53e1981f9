package harborsim

import (
	"encoding/json"
	"strings"
	"sync"
	"testing"
)

// eventLog collects the events the simulator raises (webhook delivery's input).
type eventLog struct {
	mu  sync.Mutex
	evs []string
}

func (l *eventLog) add(ev Event) {
	l.mu.Lock()
	l.evs = append(l.evs, ev.Type+" "+ev.RepoName+"@"+ev.Digest)
	l.mu.Unlock()
}

func (l *eventLog) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.evs
	l.evs = nil
	return out
}

func TestTagEndpoints(t *testing.T) {
	c := newTC(t, Options{Delivery: DeliveryOptions{Disabled: true}})
	var evs eventLog
	c.s.Subscribe(evs.add)
	c.s.CreateProject("p", false)
	c.s.AddUser("dev", "Passw0rd1", false)
	c.s.AddUser("guest", "Passw0rd1", false)
	for u, role := range map[string]int{"dev": RoleDeveloper, "guest": RoleGuest} {
		if err := c.s.AddMember("p", u, role); err != nil {
			t.Fatal(err)
		}
	}
	d := mustPush(t, c.s, "p", "team/app", []string{"v1"}, PushOptions{})
	evs.take()
	tags := "/api/v2.0/projects/p/repositories/team%252Fapp/artifacts/v1/tags"
	steps := []struct {
		method, path, auth, body string
		status                   int
		resp                     string
	}{
		{"POST", tags, "dev:Passw0rd1", `{"name":"prod"}`, 201, ""},
		{"POST", tags, admin, `{"name":"prod"}`, 409, errBody("CONFLICT", "tag prod already exists under the repository 1")},
		{"POST", tags, admin, `{"name":"-bad"}`, 400, errBody("BAD_REQUEST", "bad request: invalid tag name: -bad")},
		{"POST", tags, admin, ``, 422, errBody("UNPROCESSABLE_ENTITY", "validation failure list:\ntag in body is required")},
		{"POST", tags, admin, `{}`, 422, errBody("UNPROCESSABLE_ENTITY", "validation failure list:\nname in body is required")},
		{"POST", tags, "guest:Passw0rd1", `{"name":"x"}`, 403, errBody("FORBIDDEN", "forbidden")},
		{"POST", tags, "", `{"name":"x"}`, 401, errBody("UNAUTHORIZED", "unauthorized")},
		{"POST", "/api/v2.0/projects/p/repositories/team%252Fapp/artifacts/nosuch/tags", admin, `{"name":"x"}`, 404, errBody("NOT_FOUND", "artifact p/team/app:nosuch not found")},
		{"POST", "/api/v2.0/projects/nosuch/repositories/app/artifacts/v1/tags", admin, `{"name":"x"}`, 404, errBody("NOT_FOUND", "project nosuch not found")},
		{"DELETE", tags + "/prod", "dev:Passw0rd1", "", 403, errBody("FORBIDDEN", "forbidden")},
		{"DELETE", tags + "/nosuch", admin, "", 404, errBody("NOT_FOUND", "tag nosuch attached to artifact 1 not found")},
		{"DELETE", tags + "/prod", admin, "", 200, ""},
	}
	for _, st := range steps {
		r := c.req(st.method, st.path, st.auth, st.body)
		if r.status != st.status || (st.resp != "" && r.body != st.resp) {
			t.Errorf("%s %s as %q %s: %d %q, want %d %q", st.method, st.path, st.auth, st.body, r.status, r.body, st.status, st.resp)
		}
	}
	// Tag changes reach no webhook; only the audit log has them.
	if got := evs.take(); len(got) != 0 {
		t.Fatalf("events for tag changes: %v", got)
	}
	want := []string{"create tag: p/team/app:prod|dev", "delete tag: p/team/app:prod|admin"}
	var got []string
	for _, r := range c.s.AuditLog() {
		if r.ResourceType == "tag" {
			got = append(got, r.Description+"|"+r.Username)
		}
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("tag records %q, want %q", got, want)
	}
	var listed []map[string]any
	c.req("GET", tags, admin, "").json(t, &listed)
	if len(listed) != 1 || listed[0]["name"] != "v1" {
		t.Fatalf("tags after the API calls: %v (digest %s)", listed, d)
	}
}

func TestArtifactAndRepositoryDeleteEndpoints(t *testing.T) {
	c := newTC(t, Options{Delivery: DeliveryOptions{Disabled: true}})
	var evs eventLog
	c.s.Subscribe(evs.add)
	c.s.CreateProject("p", false)
	c.s.AddUser("maint", "Passw0rd1", false)
	c.s.AddUser("dev", "Passw0rd1", false)
	_ = c.s.AddMember("p", "maint", RoleMaintainer)
	_ = c.s.AddMember("p", "dev", RoleDeveloper)
	idx := mustPush(t, c.s, "p", "app", []string{"1.0"}, PushOptions{Children: 2})
	single := mustPush(t, c.s, "p", "app", []string{"2.0"}, PushOptions{})
	mustPush(t, c.s, "p", "other", []string{"x"}, PushOptions{})
	evs.take()
	arts := "/api/v2.0/projects/p/repositories/app/artifacts/"
	child := fakeDigest(idx + "/child/0")
	for _, st := range []struct {
		method, path, auth string
		status             int
		resp               string
	}{
		{"DELETE", arts + child, admin, 412, errBody("VIOLATE_FOREIGN_KEY_CONSTRAINT", "the deleting artifact is referenced by others")},
		{"DELETE", arts + "2.0", "dev:Passw0rd1", 403, errBody("FORBIDDEN", "forbidden")},
		{"DELETE", arts + "2.0", "maint:Passw0rd1", 200, ""},
		{"DELETE", arts + single, admin, 404, errBody("NOT_FOUND", "artifact p/app@"+single+" not found")},
		{"DELETE", "/api/v2.0/projects/p/repositories/app", "dev:Passw0rd1", 403, errBody("FORBIDDEN", "forbidden")},
		{"DELETE", "/api/v2.0/projects/p/repositories/nosuch", admin, 404, errBody("NOT_FOUND", "repository p/nosuch not found")},
		{"DELETE", "/api/v2.0/projects/p/repositories/app", "maint:Passw0rd1", 200, ""},
		{"GET", "/api/v2.0/projects/p/repositories/app", admin, 404, ""},
	} {
		r := c.req(st.method, st.path, st.auth, "")
		if r.status != st.status || (st.resp != "" && r.body != st.resp) {
			t.Errorf("%s %s as %q: %d %q, want %d %q", st.method, st.path, st.auth, r.status, r.body, st.status, st.resp)
		}
	}
	// One DELETE_ARTIFACT per root artifact (webhooks fire for them), none for the children.
	want := []string{"DELETE_ARTIFACT p/app@" + single, "DELETE_ARTIFACT p/app@" + idx}
	if got := evs.take(); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("events %v, want %v", got, want)
	}
	var repos []map[string]any
	c.req("GET", "/api/v2.0/projects/p/repositories", admin, "").json(t, &repos)
	if len(repos) != 1 || repos[0]["name"] != "p/other" {
		t.Fatalf("repositories left: %v", repos)
	}
	var last []string
	for _, r := range c.s.AuditLog()[len(c.s.AuditLog())-2:] {
		last = append(last, r.Description+"|"+r.Username)
	}
	if want := []string{"delete repository: p/app|maint", "delete artifact: p/app@" + idx + "|maint"}; strings.Join(last, ",") != strings.Join(want, ",") {
		t.Fatalf("last records in id order %q, want %q", last, want)
	}
}

func TestUserWriteEndpoints(t *testing.T) {
	c := newTC(t, Options{})
	c.s.AddUser("bob", "Passw0rd1", false)
	if err := c.s.AddRobotE("sync", "Robot-Secret1", RobotPermissions{UserList: true}); err != nil {
		t.Fatal(err)
	}
	before := len(c.s.AuditLog())
	create := `{"username":"carol","password":"Passw0rd1","email":"carol@example.com","realname":"Carol"}`
	r := c.req("POST", "/api/v2.0/users", admin, create)
	if r.status != 201 || r.header.Get("Location") != "/api/v2.0/users/4" {
		t.Fatalf("create: %d %q %s", r.status, r.header.Get("Location"), r.body)
	}
	for _, st := range []struct {
		method, path, auth, body string
		status                   int
		resp                     string
	}{
		{"POST", "/api/v2.0/users", admin, create, 409, errBody("CONFLICT", "user carol or email carol@example.com already exists")},
		{"POST", "/api/v2.0/users", admin, strings.Replace(create, "Passw0rd1", "weak", 1), 400, errBody("BAD_REQUEST", "the password or secret must be 8-128, inclusively, characters long with at least 1 uppercase letter, 1 lowercase letter and 1 number")},
		{"POST", "/api/v2.0/users", admin, `{"username":"d","password":"Passw0rd1","realname":"D"}`, 400, errBody("BAD_REQUEST", "email can't be empty")},
		{"POST", "/api/v2.0/users", "", create, 401, errBody("UNAUTHORIZED", "unauthorized")},
		{"POST", "/api/v2.0/users", "robot$sync:Robot-Secret1", create, 403, errBody("FORBIDDEN", "robot$sync")},
		{"PUT", "/api/v2.0/users/4", "bob:Passw0rd1", `{"email":"c@example.com","realname":"C"}`, 403, errBody("FORBIDDEN", "bob")},
		{"PUT", "/api/v2.0/users/4", "carol:Passw0rd1", `{"email":"c2@example.com","realname":"Carol Two"}`, 200, ""},
		{"PUT", "/api/v2.0/users/99", admin, `{"email":"x@example.com","realname":"X"}`, 404, errBody("NOT_FOUND", "user with id 99 not found")},
		{"PUT", "/api/v2.0/users/4/password", "carol:Passw0rd1", `{"old_password":"wrong","new_password":"Passw0rd2"}`, 403, errBody("FORBIDDEN", "Current password is incorrect")},
		{"PUT", "/api/v2.0/users/4/password", admin, `{"new_password":"Passw0rd1"}`, 400, errBody("BAD_REQUEST", "New password is identical to old password")},
		{"PUT", "/api/v2.0/users/4/password", "carol:Passw0rd1", `{"old_password":"Passw0rd1","new_password":"Passw0rd2"}`, 200, ""},
		{"PUT", "/api/v2.0/users/4/sysadmin", admin, `{"sysadmin_flag":true}`, 200, ""},
		{"DELETE", "/api/v2.0/users/1", admin, "", 403, errBody("FORBIDDEN", "User with ID 1 cannot be deleted")},
		{"DELETE", "/api/v2.0/users/4", "bob:Passw0rd1", "", 403, errBody("FORBIDDEN", "bob")},
		{"DELETE", "/api/v2.0/users/4", admin, "", 200, ""},
		{"DELETE", "/api/v2.0/users/4", admin, "", 404, errBody("NOT_FOUND", "user 4 not found")},
		{"DELETE", "/api/v2.0/users/abc", admin, "", 422, errBody("UNPROCESSABLE_ENTITY", "validation failure list:\nuser_id in path must be of type int64: \"abc\"")},
		{"DELETE", "/api/v2.0/users/4?x=1", "", "", 401, ""},
	} {
		r := c.req(st.method, st.path, st.auth, st.body)
		if r.status != st.status || (st.resp != "" && r.body != st.resp) {
			t.Errorf("%s %s as %q: %d %q, want %d %q", st.method, st.path, st.auth, r.status, r.body, st.status, st.resp)
		}
	}
	// The deleted user no longer authenticates and its name is free again.
	if r := c.req("POST", "/api/v2.0/users", admin, create); r.status != 201 || r.header.Get("Location") != "/api/v2.0/users/5" {
		t.Fatalf("re-create: %d %q", r.status, r.header.Get("Location"))
	}
	var users []map[string]any
	c.req("GET", "/api/v2.0/users", admin, "").json(t, &users)
	if len(users) != 3 {
		t.Fatalf("users %v", users)
	}

	want := []string{
		"create user with name: carol|carol|admin|true",
		"create user with name: ||admin|false", // a failed create names nobody
		"create user with name: ||admin|false",
		"create user with name: ||admin|false",
		"create user with name: ||unknown|false", // no credentials: no security context yet
		"create user with name: ||robot$sync|false",
		"update user with name: carol|carol|bob|false",
		"update user with name: carol|carol|carol|true",
		"update user with name: 99|99|admin|false", // unresolvable: the id from the URL
		"update user with name: carol, change user password|carol|carol|false",
		"update user with name: carol, change user password|carol|admin|false",
		"update user with name: carol, change user password|carol|carol|true",
		"update user with name: carol, add/remove user as system administrator|carol|admin|true",
		"delete user with name: admin|admin|admin|false",
		"delete user with name: carol|carol|bob|false",
		"delete user with name: carol|carol|admin|true",
		"delete user with name: 4|4|admin|false",
		// DELETE /users/abc and a URL with a query string do not match the middleware's pattern.
		"create user with name: carol|carol|admin|true",
	}
	var got []string
	for _, r := range c.s.AuditLog()[before:] {
		b, _ := json.Marshal(r.Successful)
		got = append(got, r.Description+"|"+r.Resource+"|"+r.Username+"|"+string(b))
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("records:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// A failed create has no resource: go-swagger omits the empty field.
	r = c.req("GET", "/api/v2.0/auditlog-exts?q=op_result%3Dfalse&page_size=1&sort=op_time", admin, "")
	if !strings.Contains(r.body, `"operation_description":"create user with name: ","operation_result":false,"resource_type":"user"`) {
		t.Fatalf("failed record: %s", r.body)
	}
	rows, _ := c.audit(admin, "q=username%3Dunknown")
	if len(rows) != 1 || strings.Contains(c.req("GET", "/api/v2.0/auditlog-exts?q=username%3Dunknown", admin, "").body, `"resource"`) {
		t.Fatalf("unknown-operator record: %+v", rows)
	}
}

func TestAdminHTTPAuditOperations(t *testing.T) {
	c := newTC(t, Options{})
	post := func(path, body string, want int) string {
		t.Helper()
		r := c.req("POST", path, "", body)
		if r.status != want {
			t.Fatalf("POST %s %s: %d %s, want %d", path, body, r.status, r.body, want)
		}
		return r.body
	}
	post("/_sim/projects", `{"name":"p"}`, 200)
	post("/_sim/push", `{"project":"p","repo":"app","tags":["v1"]}`, 200)
	post("/_sim/users", `{"username":"u","password":"Passw0rd1"}`, 200)
	post("/_sim/users/update", `{"username":"u","realname":"You","sysadmin":true}`, 200)
	post("/_sim/users/update", `{"username":"nosuch","realname":"X"}`, 404)
	post("/_sim/users/update", `{"username":"u","email":"bad"}`, 400)
	post("/_sim/users/delete", `{"username":"u"}`, 200)
	post("/_sim/users/delete", `{"username":"admin"}`, 400)
	post("/_sim/robots", `{"name":"feed","secret":"Robot-Secret1","audit_log_list":true}`, 200)
	post("/_sim/robots", `{"name":"feed","secret":"Robot-Secret1"}`, 409)
	post("/_sim/repositories/delete", `{"project":"p","repo":"app"}`, 200)
	post("/_sim/repositories/delete", `{"project":"p","repo":"app"}`, 404)
	post("/_sim/auditlog/config", `{"skip_database":true}`, 400)
	post("/_sim/auditlog/config", `{"disabled_event_types":["pull_artifact"],"nosuch":1}`, 400)
	post("/_sim/auditlog/config", `{"disabled_event_types":["pull_artifact"]}`, 200)
	if r := c.req("GET", "/_sim/auditlog/config", "", ""); r.body != `{"skip_database":false,"forward_endpoint":"","disabled_event_types":["pull_artifact"],"pull_audit_log_disable":false}`+"\n" {
		t.Fatalf("config: %s", r.body)
	}
	var recs []auditRecordJSON
	c.req("GET", "/_sim/auditlog", "", "").json(t, &recs)
	var got []string
	for _, r := range recs {
		got = append(got, r.OperationDescription)
	}
	want := []string{"create project: p", "push artifact: p/app@", "create user with name: u",
		"update user with name: u", "update user with name: u, add/remove user as system administrator",
		"delete user with name: u", "create robot: robot$feed", "delete repository: p/app",
		"delete artifact: p/app@", "update configuration"} // id order: one request's ids run backwards
	if len(got) != len(want) {
		t.Fatalf("records %q", got)
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Fatalf("records %q, want %q", got, want)
		}
	}
	// The robot created over HTTP holds audit-log:list.
	if r := c.req("GET", "/api/v2.0/auditlog-exts/events", "robot$feed:Robot-Secret1", ""); r.status != 200 {
		t.Fatalf("robot events: %d", r.status)
	}
	if body := post("/_sim/auditlog/purge", `{"before":"2099-01-01T00:00:00Z","event_types":["other"],"dry_run":true}`, 200); body != `{"purged":8}`+"\n" {
		t.Fatalf("purge dry run: %s", body)
	}
	if body := post("/_sim/auditlog/purge", `{"retention_hours":0,"event_types":["create_artifact","delete_artifact"]}`, 200); body != `{"purged":2}`+"\n" {
		t.Fatalf("purge: %s", body)
	}
	if r := c.req("PUT", "/_sim/auditlog/config", "", "{}"); r.status != 405 {
		t.Fatalf("PUT config: %d", r.status)
	}
}
