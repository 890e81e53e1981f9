package harborsim

import (
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

type auditRow struct {
	ID          int64  `json:"id"`
	OpTime      string `json:"op_time"`
	Operation   string `json:"operation"`
	Description string `json:"operation_description"`
	Result      bool   `json:"operation_result"`
	Resource    string `json:"resource"`
	Type        string `json:"resource_type"`
	Username    string `json:"username"`
}

func (c *tc) audit(auth, rawQuery string) ([]auditRow, resp) {
	c.t.Helper()
	r := c.req("GET", "/api/v2.0/auditlog-exts?"+rawQuery, auth, "")
	if r.status != 200 {
		c.t.Fatalf("GET auditlog-exts?%s: %d %s", rawQuery, r.status, r.body)
	}
	var rows []auditRow
	r.json(c.t, &rows)
	return rows, r
}

func descs(rows []auditRow) []string {
	out := make([]string, 0, len(rows))
	for _, r := range rows {
		out = append(out, r.Description)
	}
	return out
}

func qOpTime(lo, hi string) string { return "q=" + url.QueryEscape("op_time=["+lo+"~"+hi+"]") }

// fixedClock is a clock tests move by hand.
type fixedClock struct {
	mu sync.Mutex
	t  time.Time
}

func (f *fixedClock) now() time.Time  { f.mu.Lock(); defer f.mu.Unlock(); return f.t }
func (f *fixedClock) set(t time.Time) { f.mu.Lock(); f.t = t; f.mu.Unlock() }

func TestAuditLogQuery(t *testing.T) {
	clk := &fixedClock{}
	c := newTC(t, Options{Clock: clk.now})
	at := func(s string) time.Time {
		tm, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	clk.set(at("2026-12-06T07:50:16.210456Z"))
	c.s.CreateProject("p1", false)
	clk.set(at("2026-12-06T07:50:17.000000Z"))
	c.s.CreateProject("p2", false)
	clk.set(at("2026-12-06T07:50:17.999000Z"))
	mustPush(t, c.s, "p1", "app", []string{"v1", "v2"}, PushOptions{}) // one record per tag, one request
	clk.set(at("2026-12-06T07:50:19.500000Z"))
	if err := c.s.DeleteProject("p2"); err != nil {
		t.Fatal(err)
	}
	all := []string{"create project: p1", "create project: p2", "push artifact", "push artifact", "delete project: p2"}

	cases := []struct {
		name, query string
		want        []string // description prefixes, in order
	}{
		{"default order is -op_time", "", []string{"delete project: p2", "push artifact", "push artifact", "create project: p2", "create project: p1"}},
		{"sort=op_time", "sort=op_time", all},
		{"unknown sort key falls back to the default", "sort=nosuch", []string{"delete project: p2", "push artifact", "push artifact", "create project: p2", "create project: p1"}},
		{"range bounds are inclusive, whole seconds", "sort=op_time&" + qOpTime("2026-12-06T07:50:17", "2026-12-06T07:50:17"), []string{"create project: p2"}},
		{"fractional seconds in the range", "sort=op_time&" + qOpTime("2026-12-06T07:50:17.999", ""), []string{"push artifact", "push artifact", "delete project: p2"}},
		{"microsecond precision: .210 < .210456", "sort=op_time&" + qOpTime("", "2026-12-06T07:50:16.210"), nil},
		{"a PostgreSQL literal with a space works", "sort=op_time&" + qOpTime("2026-12-06 07:50:19", ""), []string{"delete project: p2"}},
		{"exact op_time (string) at microseconds", "q=" + url.QueryEscape("op_time=2026-12-06 07:50:17"), []string{"create project: p2"}},
		{"key__op operator", "sort=op_time&q=" + url.QueryEscape("op_time__gt=2026-12-06T07:50:17"), []string{"push artifact", "push artifact", "delete project: p2"}},
		{"resource_type exact", "sort=op_time&q=resource_type%3Dproject", []string{"create project: p1", "create project: p2", "delete project: p2"}},
		{"Go field name as key", "sort=op_time&q=ResourceType%3Dartifact", []string{"push artifact", "push artifact"}},
		{"snake_cased key", "sort=op_time&q=resourceType%3Dartifact", []string{"push artifact", "push artifact"}},
		{"fuzzy, case-insensitive", "sort=op_time&q=operation%3D~DEL", []string{"delete project: p2"}},
		{"fuzzy on op_time matches PostgreSQL's text form", "q=" + url.QueryEscape("op_time=~07:50:19.5"), []string{"delete project: p2"}},
		{"or list", "sort=op_time&q=" + url.QueryEscape("resource={p1 p2}"), []string{"create project: p1", "create project: p2", "delete project: p2"}},
		{"unknown key is ignored", "sort=op_time&q=nosuch%3Dx", all},
		{"operation_description is not a key (the column is op_desc)", "sort=op_time&q=operation_description%3Dnothing", all},
		{"op_desc", "sort=op_time&q=op_desc%3D~p2", []string{"create project: p2", "delete project: p2"}},
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			rows, _ := c.audit(admin, tt.query)
			got := descs(rows)
			if len(got) != len(tt.want) {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
			for i := range got {
				if !strings.HasPrefix(got[i], tt.want[i]) {
					t.Fatalf("got %q, want %q", got, tt.want)
				}
			}
		})
	}

	// The two pushes of one request share op_time and come out of id order.
	rows, _ := c.audit(admin, "sort=op_time&q=resource_type%3Dartifact")
	if rows[0].OpTime != rows[1].OpTime || rows[0].OpTime != "2026-12-06T07:50:17.999Z" || rows[0].ID < rows[1].ID {
		t.Fatalf("one request's records: %+v", rows)
	}
	if rows[0].Resource != "p1/app:v1" || rows[1].Resource != "p1/app:v2" {
		t.Fatalf("resources %q %q", rows[0].Resource, rows[1].Resource)
	}

	// Errors: 422 before 401, 401 before a bad q, an unreadable time in the database → 500.
	for _, tt := range []struct {
		path, auth string
		status     int
		body       string
	}{
		{"/api/v2.0/auditlog-exts?page_size=101", "", 422, errBody("UNPROCESSABLE_ENTITY", "validation failure list:\npage_size in query should be less than or equal to 100")},
		{"/api/v2.0/auditlog-exts?q=op_time", "", 401, errBody("UNAUTHORIZED", "")},
		{"/api/v2.0/auditlog-exts?q=op_time", admin, 400, errBody("BAD_REQUEST", `the query string must contain "=" and the key/value cannot be empty`)},
		{"/api/v2.0/auditlog-exts?" + qOpTime("yesterday", ""), admin, 500, errBody("UNKNOWN", "internal server error")},
		{"/api/v2.0/auditlog-exts?q=" + url.QueryEscape("op_time=[1~2]"), admin, 500, errBody("UNKNOWN", "internal server error")},
	} {
		r := c.req("GET", tt.path, tt.auth, "")
		if r.status != tt.status || r.body != tt.body {
			t.Errorf("GET %s: %d %q, want %d %q", tt.path, r.status, r.body, tt.status, tt.body)
		}
	}
}

func TestAuditLogPaging(t *testing.T) {
	c := newTC(t, Options{})
	for i := 0; i < 25; i++ {
		c.s.CreateProject(fmt.Sprintf("p%02d", i), false)
	}
	rows, r := c.audit(admin, "sort=op_time&page=2&page_size=10")
	if len(rows) != 10 || rows[0].Resource != "p10" || r.header.Get("X-Total-Count") != "25" {
		t.Fatalf("page 2: %d rows from %q, total %s", len(rows), rows[0].Resource, r.header.Get("X-Total-Count"))
	}
	want := `</api/v2.0/auditlog-exts?page=1&page_size=10&sort=op_time>; rel="prev" , </api/v2.0/auditlog-exts?page=3&page_size=10&sort=op_time>; rel="next"`
	if got := r.header.Get("Link"); got != want {
		t.Fatalf("Link %q, want %q", got, want)
	}
	rows, r = c.audit(admin, "page_size=0")
	if len(rows) != 25 || r.header.Get("Link") != "" {
		t.Fatalf("page_size=0: %d rows, Link %q", len(rows), r.header.Get("Link"))
	}
}

func TestAuditLogPermissions(t *testing.T) {
	c := newTC(t, Options{})
	c.s.CreateProject("mine", false)
	c.s.CreateProject("other", false)
	c.s.AddUser("pa", "Passw0rd1", false)
	c.s.AddUser("dev", "Passw0rd1", false)
	if err := c.s.AddMember("mine", "pa", RoleProjectAdmin); err != nil {
		t.Fatal(err)
	}
	if err := c.s.AddMember("mine", "dev", RoleDeveloper); err != nil {
		t.Fatal(err)
	}
	mustPush(t, c.s, "mine", "app", []string{"v1"}, PushOptions{})
	mustPush(t, c.s, "other", "app", []string{"v1"}, PushOptions{})
	if err := c.s.AddRobotE("feed", "Robot-Secret1", RobotPermissions{AuditLogList: true}); err != nil {
		t.Fatal(err)
	}
	if err := c.s.AddRobotE("sync", "Robot-Secret1", RobotPermissions{UserList: true}); err != nil {
		t.Fatal(err)
	}
	total := len(c.s.AuditLog())

	count := func(auth string) int {
		rows, r := c.audit(auth, "page_size=100")
		if r.header.Get("X-Total-Count") != fmt.Sprint(len(rows)) {
			t.Fatalf("%s: X-Total-Count %s for %d rows", auth, r.header.Get("X-Total-Count"), len(rows))
		}
		return len(rows)
	}
	if n := count(admin); n != total {
		t.Fatalf("admin sees %d of %d", n, total)
	}
	if n := count("robot$feed:Robot-Secret1"); n != total {
		t.Fatalf("robot with audit-log:list sees %d of %d", n, total)
	}
	// Not refused: a robot without the permission gets 200 and nothing.
	if rows, r := c.audit("robot$sync:Robot-Secret1", ""); len(rows) != 0 || r.body != "[]\n" || r.header.Get("X-Total-Count") != "0" {
		t.Fatalf("robot without audit-log:list: %q total %s", r.body, r.header.Get("X-Total-Count"))
	}
	// A project admin sees the records of their projects; a developer sees none.
	rows, _ := c.audit("pa:Passw0rd1", "sort=op_time")
	if got := descs(rows); len(got) != 2 || got[0] != "create project: mine" || !strings.HasPrefix(got[1], "push artifact: mine/app@") {
		t.Fatalf("project admin sees %q", got)
	}
	if n := count("dev:Passw0rd1"); n != 0 {
		t.Fatalf("developer sees %d", n)
	}

	// /auditlog-exts/events refuses what the list silently empties: the permission probe.
	for _, tt := range []struct {
		auth   string
		status int
		body   string
	}{
		{"", 401, errBody("UNAUTHORIZED", "unauthorized")},
		{"robot$sync:Robot-Secret1", 403, errBody("FORBIDDEN", "robot$sync")},
		{"pa:Passw0rd1", 403, errBody("FORBIDDEN", "pa")},
		{"robot$feed:Robot-Secret1", 200, ""},
		{admin, 200, ""},
	} {
		r := c.req("GET", "/api/v2.0/auditlog-exts/events", tt.auth, "")
		if r.status != tt.status || (tt.body != "" && r.body != tt.body) {
			t.Errorf("events as %q: %d %s", tt.auth, r.status, r.body)
		}
		if r.status == 200 && !strings.HasPrefix(r.body, `[{"event_type":"create_artifact"},{"event_type":"delete_artifact"},{"event_type":"pull_artifact"},`) {
			t.Errorf("events body %s", r.body)
		}
	}

	// The project-scoped list: project log:list (project admins), then the project must exist.
	for _, tt := range []struct {
		path, auth string
		status     int
		n          int
	}{
		{"/api/v2.0/projects/mine/auditlog-exts", "pa:Passw0rd1", 200, 2},
		{"/api/v2.0/projects/mine/auditlog-exts", "dev:Passw0rd1", 403, 0},
		{"/api/v2.0/projects/mine/auditlog-exts", "", 401, 0},
		{"/api/v2.0/projects/other/auditlog-exts", admin, 200, 2},
		{"/api/v2.0/projects/nosuch/auditlog-exts", admin, 404, 0},
		{"/api/v2.0/projects/nosuch/auditlog-exts", "pa:Passw0rd1", 403, 0},
	} {
		r := c.req("GET", tt.path, tt.auth, "")
		if r.status != tt.status {
			t.Errorf("GET %s as %q: %d %s", tt.path, tt.auth, r.status, r.body)
			continue
		}
		if r.status == 200 {
			var rows []auditRow
			r.json(t, &rows)
			if len(rows) != tt.n {
				t.Errorf("GET %s as %q: %d rows, want %d", tt.path, tt.auth, len(rows), tt.n)
			}
		}
	}
	// The deprecated /audit-logs holds nothing on 2.15.
	if r := c.req("GET", "/api/v2.0/audit-logs", admin, ""); r.status != 200 || r.body != "[]\n" || r.header.Get("X-Total-Count") != "0" {
		t.Fatalf("audit-logs: %d %q", r.status, r.body)
	}
	if r := c.req("GET", "/api/v2.0/audit-logs", "", ""); r.status != 401 {
		t.Fatalf("audit-logs anonymous: %d", r.status)
	}
}

func TestAuditLogConfigSwitches(t *testing.T) {
	c := newTC(t, Options{})
	s := c.s
	if err := s.SetAuditLogConfig(AuditLogConfig{SkipDatabase: true}); err == nil ||
		err.Error() != "bad request: audit log forward endpoint should be configured before enable skip audit log in database" {
		t.Fatalf("skip without endpoint: %v", err)
	}
	if err := s.SetAuditLogConfig(AuditLogConfig{DisabledEventTypes: []string{" CREATE_artifact", "delete_user", "create_tag"}, PullAuditLogDisable: true}); err != nil {
		t.Fatal(err)
	}
	s.CreateProject("p", false)
	d := mustPush(t, s, "p", "app", []string{"v1"}, PushOptions{})
	if err := s.PullArtifact("p", "app", "v1"); err != nil {
		t.Fatal(err)
	}
	if err := s.AddTag("p", "app", d, "prod"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteTag("p", "app", d, "prod"); err != nil {
		t.Fatal(err)
	}
	s.AddUser("u1", "Passw0rd1", false)
	if err := s.DeleteUser("u1"); err != nil {
		t.Fatal(err)
	}
	want := []string{"update configuration", "create project: p", "delete tag: p/app:prod", "create user with name: u1"}
	if got := descs(recordsOf(s)); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("recorded %q, want %q", got, want)
	}

	// skip_audit_log_database: nothing at all, not even the configuration change itself.
	before := len(s.AuditLog())
	if err := s.SetAuditLogConfig(AuditLogConfig{SkipDatabase: true, ForwardEndpoint: "harbor-log:10514"}); err != nil {
		t.Fatal(err)
	}
	s.CreateProject("q", false)
	if n := len(s.AuditLog()); n != before {
		t.Fatalf("%d records after skip_audit_log_database, want %d", n, before)
	}
	if rows, _ := c.audit(admin, "q=resource%3Dq"); len(rows) != 0 {
		t.Fatalf("listed %v", rows)
	}
	// Disabling update_configuration hides the change that disables it (PreCheck runs first).
	if err := s.SetAuditLogConfig(AuditLogConfig{DisabledEventTypes: []string{"update_configuration"}}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetAuditLogConfig(AuditLogConfig{}); err != nil {
		t.Fatal(err)
	}
	if n := len(s.AuditLog()); n != before {
		t.Fatalf("%d records, want %d: a configuration change with update_configuration disabled before it is not recorded", n, before)
	}
	if err := s.SetAuditLogConfig(AuditLogConfig{}); err != nil {
		t.Fatal(err)
	}
	if got := recordsOf(s); got[len(got)-1].Description != "update configuration" {
		t.Fatalf("last record %+v", got[len(got)-1])
	}
}

func recordsOf(s *Server) []auditRow {
	var out []auditRow
	for _, r := range s.AuditLog() {
		out = append(out, auditRow{ID: r.ID, Description: r.Description, Resource: r.Resource, Type: r.ResourceType,
			Operation: r.Operation, Result: r.Successful, Username: r.Username})
	}
	return out
}

func TestAuditLogPurge(t *testing.T) {
	clk := &fixedClock{}
	c := newTC(t, Options{Clock: clk.now})
	s := c.s
	t0 := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	clk.set(t0)
	s.CreateProject("old", false)
	d := mustPush(t, s, "old", "app", []string{"v1"}, PushOptions{})
	if err := s.AddTag("old", "app", d, "prod"); err != nil {
		t.Fatal(err)
	}
	s.AddUser("olduser", "Passw0rd1", false)
	clk.set(t0.Add(48 * time.Hour))
	s.CreateProject("new", false)
	purge := func(p AuditPurge) int64 {
		t.Helper()
		n, err := s.PurgeAuditLog(p)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := purge(AuditPurge{RetentionHours: 24}); n != 0 {
		t.Fatalf("no event types purged %d", n)
	}
	if n := purge(AuditPurge{RetentionHours: 24, EventTypes: []string{"CREATE_ARTIFACT"}}); n != 0 {
		t.Fatalf("upper-case types match nothing in Harbor's SQL; purged %d", n)
	}
	if n := purge(AuditPurge{RetentionHours: 24, EventTypes: []string{"create_artifact", "other"}, DryRun: true}); n != 3 || len(s.AuditLog()) != 5 {
		t.Fatalf("dry run: %d, %d left", n, len(s.AuditLog()))
	}
	if n := purge(AuditPurge{RetentionHours: 72, EventTypes: []string{"create_artifact", "other"}}); n != 0 {
		t.Fatalf("nothing is older than 72h; purged %d", n)
	}
	if n := purge(AuditPurge{RetentionHours: 24, EventTypes: []string{"create_artifact", "other"}}); n != 3 {
		t.Fatalf("purged %d, want 3", n)
	}
	// Tag records survive every purge: create_tag is not one of Harbor's purgeable types.
	want := []string{"create tag: old/app:prod", "create project: new"}
	if got := descs(recordsOf(s)); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("left %q, want %q", got, want)
	}
	if n := purge(AuditPurge{Before: t0.Add(49 * time.Hour), EventTypes: []string{"create_tag", "create_project"}}); n != 1 {
		t.Fatalf("Before cutoff purged %d, want 1 (create_tag is ignored)", n)
	}
	if _, err := s.PurgeAuditLog(AuditPurge{RetentionHours: -1}); err == nil {
		t.Fatal("negative retention accepted")
	}
}

func TestAuditLogRecordsOfEveryOperation(t *testing.T) {
	c := newTC(t, Options{})
	s := c.s
	s.CreateProject("p", true)
	idx := mustPush(t, s, "p", "multi", []string{"1.0"}, PushOptions{Children: 2})
	mustPush(t, s, "p", "multi", nil, PushOptions{})
	if err := s.PullArtifact("p", "multi", idx); err != nil {
		t.Fatal(err)
	}
	if err := s.AddRobotE("r", "Robot-Secret1", RobotPermissions{}); err != nil {
		t.Fatal(err)
	}
	s.AddUser("u", "Passw0rd1", false)
	email := "u2@example.org"
	admin := true
	pw := "Passw0rd2"
	if err := s.UpdateUser("u", UserUpdate{Email: &email, SysAdmin: &admin, Password: &pw}); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteRepository("p", "multi"); err != nil {
		t.Fatal(err)
	}
	child0 := fakeDigest(idx + "/child/0")
	child1 := fakeDigest(idx + "/child/1")
	want := []auditRow{
		{Description: "create project: p", Resource: "p", Type: "project", Operation: "create"},
		{Description: "push artifact: p/multi@" + child0, Resource: "p/multi@" + child0, Type: "artifact", Operation: "create"},
		{Description: "push artifact: p/multi@" + child1, Resource: "p/multi@" + child1, Type: "artifact", Operation: "create"},
		{Description: "push artifact: p/multi@" + idx, Resource: "p/multi:1.0", Type: "artifact", Operation: "create"},
		{Description: "push artifact: p/multi@", Resource: "p/multi@", Type: "artifact", Operation: "create"},
		{Description: "pull artifact: p/multi@" + idx, Resource: "p/multi@" + idx, Type: "artifact", Operation: "pull"},
		{Description: "create robot: robot$r", Resource: "robot$r", Type: "robot", Operation: "create"},
		{Description: "create user with name: u", Resource: "u", Type: "user", Operation: "create"},
		{Description: "update user with name: u", Resource: "u", Type: "user", Operation: "update"},
		{Description: "update user with name: u, add/remove user as system administrator", Resource: "u", Type: "user", Operation: "update"},
		{Description: "update user with name: u, change user password", Resource: "u", Type: "user", Operation: "update"},
		{Description: "delete artifact: p/multi@", Resource: "p/multi@", Type: "artifact", Operation: "delete"},
		{Description: "delete artifact: p/multi@" + idx, Resource: "p/multi@" + idx, Type: "artifact", Operation: "delete"},
		{Description: "delete repository: p/multi", Resource: "p/multi", Type: "repository", Operation: "delete"},
	}
	rows, _ := c.audit("admin:Harbor12345", "sort=op_time&page_size=100")
	if len(rows) != len(want) {
		t.Fatalf("%d records:\n%s", len(rows), strings.Join(descs(rows), "\n"))
	}
	for i, w := range want {
		g := rows[i]
		// The three pushes of the index are one push; the untagged push's digest is generated.
		if !strings.HasPrefix(g.Description, w.Description) || !strings.HasPrefix(g.Resource, w.Resource) ||
			g.Type != w.Type || g.Operation != w.Operation || !g.Result || g.Username != "admin" {
			t.Errorf("record %d: %+v, want %+v", i, g, w)
		}
	}
	// The repository delete is one request: one millisecond, ids in reverse.
	last := rows[len(rows)-3:]
	if last[0].OpTime != last[2].OpTime || last[0].ID <= last[1].ID || last[1].ID <= last[2].ID {
		t.Fatalf("repository delete records: %+v", last)
	}
	if r := c.req("GET", "/api/v2.0/projects/p/repositories/multi", "admin:Harbor12345", ""); r.status != 404 {
		t.Fatalf("deleted repository: %d", r.status)
	}
}

func TestAuditLogSeedWritesNothing(t *testing.T) {
	c := newTC(t, Options{})
	c.s.Seed(SeedConfig{Projects: 3, ReposPerProject: 2, ArtifactsPerRepo: 3, Users: 2, Seed: 1})
	if n := len(c.s.AuditLog()); n != 0 {
		t.Fatalf("seeding wrote %d records", n)
	}
	c.s.CreateProject("after", false)
	if rows, r := c.audit(admin, ""); len(rows) != 1 || r.header.Get("X-Total-Count") != "1" {
		t.Fatalf("after seeding: %v", rows)
	}
}
