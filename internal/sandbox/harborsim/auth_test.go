package harborsim

import (
	"net/http"
	"strings"
	"testing"
)

func authFixture(t *testing.T) *tc {
	c := newTC(t, Options{NoLibraryProject: true})
	c.s.CreateProject("pub", true)
	c.s.CreateProject("priv", false)
	c.s.CreateProject("mine", false)
	mustPush(t, c.s, "pub", "app", []string{"v1"}, PushOptions{})
	mustPush(t, c.s, "priv", "app", []string{"v1"}, PushOptions{})
	c.s.AddUser("alice", "Alice12345", false)
	c.s.AddUser("root2", "Root12345", true)
	if err := c.s.AddMember("mine", "alice", RoleDeveloper); err != nil {
		t.Fatal(err)
	}
	c.s.AddRobot("sync", "robotsecret", false)
	c.s.AddRobot("sync-users", "robotsecret", true)
	return c
}

func projectNames(t *testing.T, r resp) string {
	t.Helper()
	var ps []projectJSON
	r.json(t, &ps)
	var n []string
	for _, p := range ps {
		n = append(n, p.Name)
	}
	return strings.Join(n, ",")
}

func TestVisibilityAndAnonymousFallback(t *testing.T) {
	c := authFixture(t)
	cases := []struct{ name, auth, want string }{
		{"admin sees all", admin, "mine,priv,pub"},
		{"member sees public plus memberships", "alice:Alice12345", "mine,pub"},
		{"wrong password silently becomes anonymous", "admin:wrong", "pub"},
		{"unknown user becomes anonymous", "nobody:x", "pub"},
		{"anonymous sees public only", "", "pub"},
		{"robot covers all projects", "robot$sync:robotsecret", "mine,priv,pub"},
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			r := c.req("GET", "/api/v2.0/projects", tt.auth, "")
			if r.status != 200 {
				t.Fatalf("status %d", r.status)
			}
			if got := projectNames(t, r); got != tt.want {
				t.Fatalf("projects %q, want %q", got, tt.want)
			}
		})
	}
	// anonymous asking for private projects gets [] with total 0
	r := c.req("GET", "/api/v2.0/projects?public=false", "", "")
	if r.body != "[]\n" || r.header.Get("X-Total-Count") != "0" {
		t.Fatalf("anonymous public=false: %q %q", r.body, r.header.Get("X-Total-Count"))
	}
	// revoked credentials fall back to anonymous too
	c.s.RevokeUser("alice")
	if got := projectNames(t, c.req("GET", "/api/v2.0/projects", "alice:Alice12345", "")); got != "pub" {
		t.Fatalf("revoked user sees %q", got)
	}
}

func TestProtectedEndpoints(t *testing.T) {
	c := authFixture(t)
	unauthorized := errBody("UNAUTHORIZED", "unauthorized")
	cases := []struct {
		name, method, path, auth string
		status                   int
		body                     string
	}{
		{"users anonymous 401", "GET", "/api/v2.0/users", "", 401, unauthorized},
		{"users bad password 401", "GET", "/api/v2.0/users", "admin:nope", 401, unauthorized},
		{"users non-admin 403 with username", "GET", "/api/v2.0/users", "alice:Alice12345", 403, errBody("FORBIDDEN", "alice")},
		{"users robot without user:list 403", "GET", "/api/v2.0/users", "robot$sync:robotsecret", 403, errBody("FORBIDDEN", "robot$sync")},
		{"users robot with user:list", "GET", "/api/v2.0/users", "robot$sync-users:robotsecret", 200, ""},
		{"users second sysadmin", "GET", "/api/v2.0/users", "root2:Root12345", 200, ""},
		{"private repos anonymous 401", "GET", "/api/v2.0/projects/priv/repositories", "", 401, unauthorized},
		{"private repos non-member 403", "GET", "/api/v2.0/projects/priv/repositories", "alice:Alice12345", 403, errBody("FORBIDDEN", "forbidden")},
		{"public repos anonymous ok", "GET", "/api/v2.0/projects/pub/repositories", "", 200, ""},
		{"unknown project non-admin 403", "GET", "/api/v2.0/projects/nope/repositories", "alice:Alice12345", 403, errBody("FORBIDDEN", "forbidden")},
		{"unknown project admin 404", "GET", "/api/v2.0/projects/nope/repositories", admin, 404, errBody("NOT_FOUND", "project nope not found")},
		{"get project 404 like real capture", "GET", "/api/v2.0/projects/nonexistent", admin, 404, errBody("NOT_FOUND", "project nonexistent not found")},
		{"webhook policies need project admin", "GET", "/api/v2.0/projects/mine/webhook/policies", "alice:Alice12345", 403, errBody("FORBIDDEN", "forbidden")},
		{"unknown route", "GET", "/api/v2.0/nope", admin, 404, errBody("NOT_FOUND", "path /api/v2.0/nope was not found")},
		{"method not allowed", "PATCH", "/api/v2.0/projects", admin, 405, errBody("METHOD_NOT_ALLOWED", "method PATCH is not allowed, but [GET] are")},
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			r := c.req(tt.method, tt.path, tt.auth, "")
			if r.status != tt.status || (tt.body != "" && r.body != tt.body) {
				t.Fatalf("got %d %q, want %d %q", r.status, r.body, tt.status, tt.body)
			}
		})
	}
}

func TestProjectByIDAndResourceNameHeader(t *testing.T) {
	c := newTC(t, Options{NoLibraryProject: true})
	c.s.CreateProject("first", true) // id 1
	c.s.CreateProject("1", true)     // id 2, named "1"
	cases := []struct {
		hdr  []string
		want string
	}{
		{nil, "first"}, // "1" parses as an id
		{[]string{"X-Is-Resource-Name", "true"}, "1"},
	}
	for _, tt := range cases {
		var p projectJSON
		r := c.req("GET", "/api/v2.0/projects/1", admin, "", tt.hdr...)
		r.json(t, &p)
		if p.Name != tt.want {
			t.Fatalf("headers %v: got %q, want %q", tt.hdr, p.Name, tt.want)
		}
	}
}

func TestCSRFWithSessionCookie(t *testing.T) {
	c := authFixture(t)
	body := `{"name":"x","enabled":true,"event_types":["PUSH_ARTIFACT"],"targets":[{"type":"http","address":"http://h/x"}]}`
	cases := []struct {
		name   string
		cookie bool
		status int
	}{
		{"no cookie: write allowed", false, 201},
		{"cookie jar sends sid: CSRF 403", true, 403},
	}
	for i, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			b := strings.Replace(body, `"x"`, `"x`+string(rune('a'+i))+`"`, 1)
			rq, _ := http.NewRequest("POST", c.ts.URL+"/api/v2.0/projects/pub/webhook/policies", strings.NewReader(b))
			rq.SetBasicAuth("admin", "Harbor12345")
			if tt.cookie {
				rq.AddCookie(&http.Cookie{Name: "sid", Value: "c82a1d15defd31ba5ee4fa2eb55ee402"})
			}
			res, err := c.ts.Client().Do(rq)
			if err != nil {
				t.Fatal(err)
			}
			_ = res.Body.Close()
			if res.StatusCode != tt.status {
				t.Fatalf("status %d, want %d", res.StatusCode, tt.status)
			}
		})
	}
	// A client with a cookie jar picks up sid from any response and then fails on writes.
	jarClient := c.ts.Client()
	jar := newJar()
	jarClient.Jar = jar
	rq, _ := http.NewRequest("GET", c.ts.URL+"/api/v2.0/ping", nil)
	res, err := jarClient.Do(rq)
	if err != nil {
		t.Fatal(err)
	}
	_ = res.Body.Close()
	rq, _ = http.NewRequest("DELETE", c.ts.URL+"/api/v2.0/projects/pub/webhook/policies/1", nil)
	rq.SetBasicAuth("admin", "Harbor12345")
	res, err = jarClient.Do(rq)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = res.Body.Close() }()
	buf := new(strings.Builder)
	_, _ = bufCopy(buf, res)
	if res.StatusCode != 403 || buf.String() != errBody("FORBIDDEN", "CSRF token invalid") {
		t.Fatalf("jar client: %d %q", res.StatusCode, buf.String())
	}
}
