package harborsim

import (
	"strings"
	"sync"
	"testing"
	"time"
)

// In an auto_scan project a push gets a Running report at once and a finished one later, with
// SCANNING_COMPLETED carrying the pushed tag; other projects are not scanned, and without
// ScanOnPush nothing is.
func TestScanOnPush(t *testing.T) {
	c := newTC(t, Options{Clock: time.Now, ScanOnPush: true, ScanOnPushDelay: 200 * time.Millisecond, NoLibraryProject: true})
	var mu sync.Mutex
	var evs []Event
	c.s.Subscribe(func(ev Event) { mu.Lock(); evs = append(evs, ev); mu.Unlock() })
	c.s.CreateProject("scanned", false)
	c.s.CreateProject("plain", false)
	if err := c.s.SetProjectMetadata("scanned", "auto_scan", "true"); err != nil {
		t.Fatal(err)
	}
	d := mustPush(t, c.s, "scanned", "app", []string{"v1"}, PushOptions{})
	mustPush(t, c.s, "plain", "app", []string{"v1"}, PushOptions{})
	overview := func(project string) string {
		t.Helper()
		r := c.req("GET", "/api/v2.0/projects/"+project+"/repositories/app/artifacts/v1?with_scan_overview=true", admin, "")
		return r.body
	}
	if got := overview("scanned"); !strings.Contains(got, `"scan_status":"Running"`) || !strings.Contains(got, `"end_time":"0001-01-01T00:00:00.000Z"`) ||
		strings.Contains(got, `"summary":{`) || strings.Contains(got, `"severity"`) {
		t.Fatalf("right after the push: %s", got)
	}
	if c.s.ScansRunning() != 1 {
		t.Fatalf("%d scans running, want 1", c.s.ScansRunning())
	}
	deadline := time.Now().Add(5 * time.Second)
	for c.s.ScansRunning() > 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if got := overview("scanned"); !strings.Contains(got, `"scan_status":"Success"`) || !strings.Contains(got, `"complete_percent":100`) {
		t.Fatalf("after the scan: %s", got)
	}
	if got := overview("plain"); strings.Contains(got, "scan_overview") {
		t.Fatalf("a project without auto_scan was scanned: %s", got)
	}
	mu.Lock()
	defer mu.Unlock()
	var scans []Event
	for _, ev := range evs {
		if ev.Type == "SCANNING_COMPLETED" {
			scans = append(scans, ev)
		}
	}
	if len(scans) != 1 || scans[0].Digest != d || scans[0].Tag != "v1" || scans[0].ProjectName != "scanned" {
		t.Fatalf("SCANNING_COMPLETED events: %+v", scans)
	}

	off := newTC(t, Options{Clock: time.Now, NoLibraryProject: true})
	off.s.CreateProject("scanned", false)
	if err := off.s.SetProjectMetadata("scanned", "auto_scan", "true"); err != nil {
		t.Fatal(err)
	}
	mustPush(t, off.s, "scanned", "app", []string{"v1"}, PushOptions{})
	if off.s.ScansRunning() != 0 {
		t.Fatal("scanned on push without Options.ScanOnPush")
	}
}

// Close cancels the scans still running: no event after it.
func TestScanOnPushCloseCancels(t *testing.T) {
	s := New(Options{Clock: time.Now, ScanOnPush: true, ScanOnPushDelay: 100 * time.Millisecond, NoLibraryProject: true})
	s.CreateProject("scanned", false)
	if err := s.SetProjectMetadata("scanned", "auto_scan", "true"); err != nil {
		t.Fatal(err)
	}
	fired := make(chan Event, 4)
	s.Subscribe(func(ev Event) {
		if ev.Type == "SCANNING_COMPLETED" {
			fired <- ev
		}
	})
	mustPush(t, s, "scanned", "app", []string{"v1"}, PushOptions{})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case ev := <-fired:
		t.Fatalf("a scan finished after Close: %+v", ev)
	case <-time.After(300 * time.Millisecond):
	}
}

// GET /configurations answers sysadmins only, with the audit-log switches as set.
func TestGetConfigurations(t *testing.T) {
	c := newTC(t, Options{})
	if err := c.s.AddRobotE("reader", "Robot12345", RobotPermissions{AuditLogList: true}); err != nil {
		t.Fatal(err)
	}
	if r := c.req("GET", "/api/v2.0/configurations", "", ""); r.status != 401 {
		t.Errorf("anonymous: %d %s", r.status, r.body)
	}
	if r := c.req("GET", "/api/v2.0/configurations", "robot$reader:Robot12345", ""); r.status != 403 || r.body != errBody("FORBIDDEN", "robot$reader") {
		t.Errorf("robot: %d %s", r.status, r.body)
	}
	if err := c.s.SetAuditLogConfig(AuditLogConfig{SkipDatabase: true, ForwardEndpoint: "syslog:514", DisabledEventTypes: []string{"create_user", "pull_artifact"}}); err != nil {
		t.Fatal(err)
	}
	var got map[string]struct {
		Value    any  `json:"value"`
		Editable bool `json:"editable"`
	}
	r := c.req("GET", "/api/v2.0/configurations", admin, "")
	r.json(t, &got)
	if r.status != 200 || got["skip_audit_log_database"].Value != true || got["disabled_audit_log_event_types"].Value != "create_user,pull_artifact" ||
		got["audit_log_forward_endpoint"].Value != "syslog:514" || got["notification_enable"].Value != true {
		t.Errorf("configurations: %d %s", r.status, r.body)
	}
}

// Harbor before 2.13 has no audit-log API: a route miss, like any unknown path.
func TestAuditLogRoutesNeed213(t *testing.T) {
	c := newTC(t, Options{Version: "v2.11.2-2e4e9a1c"})
	for _, p := range []string{"/api/v2.0/auditlog-exts", "/api/v2.0/auditlog-exts/events", "/api/v2.0/projects/library/auditlog-exts"} {
		r := c.req("GET", p, admin, "")
		if r.status != 404 || r.body != errBody("NOT_FOUND", "path "+p+" was not found") {
			t.Errorf("%s on 2.11: %d %s", p, r.status, r.body)
		}
	}
	if r := c.req("GET", "/api/v2.0/audit-logs", admin, ""); r.status != 200 {
		t.Errorf("/audit-logs on 2.11: %d %s", r.status, r.body)
	}
	before213 := func(v string) bool { return !releaseOf(v).auditExts() }
	if before213(Version215) || !before213("v2.12.0") || before213("garbage") || !before213("v1.10.0") || !before213(Version211) {
		t.Error("releaseOf(…).auditExts")
	}
}
