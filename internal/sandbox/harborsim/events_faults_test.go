package harborsim

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestEventsHookPoint(t *testing.T) {
	c := newTC(t, Options{})
	c.s.CreateProject("p", true)
	var mu sync.Mutex
	var got []string
	c.s.Subscribe(func(ev Event) {
		mu.Lock()
		got = append(got, ev.Type+" "+ev.Tag)
		mu.Unlock()
	})
	idx := mustPush(t, c.s, "p", "r", []string{"multi", "latest"}, PushOptions{Children: 2})
	if len(got) != 3 || !strings.HasPrefix(got[0], "PUSH_ARTIFACT sha256:") || got[2] != "PUSH_ARTIFACT multi" {
		t.Fatalf("index push must fire child events first (tag = digest), got %v", got)
	}
	_ = c.s.PullArtifact("p", "r", "latest")
	_ = c.s.ScanArtifact("p", "r", idx, map[string]int{"Low": 1})
	_ = c.s.AddTag("p", "r", idx, "extra") // CREATE_TAG is not deliverable
	_ = c.s.DeleteArtifact("p", "r", idx)
	// scan by digest → no tag; delete → first (newest) tag of the artifact
	want := []string{"PULL_ARTIFACT latest", "SCANNING_COMPLETED ", "DELETE_ARTIFACT extra"}
	if strings.Join(got[3:], "|") != strings.Join(want, "|") {
		t.Fatalf("events %v, want %v", got[3:], want)
	}
	body := `{"name":"a","enabled":true,"event_types":["PULL_ARTIFACT"],"targets":[{"type":"http","address":"http://h"}]}`
	c.req("POST", "/api/v2.0/projects/p/webhook/policies", admin, body)
	c.req("POST", "/api/v2.0/projects/p/webhook/policies", admin, strings.Replace(strings.Replace(body, `"a"`, `"b"`, 1), "true", "false", 1))
	pols := c.s.MatchingPolicies(Event{Type: "PULL_ARTIFACT", ProjectID: 2})
	if len(pols) != 1 || pols[0].Name != "a" || pols[0].Targets[0].PayloadFormat != "Default" {
		t.Fatalf("matching policies %+v", pols)
	}
	off := false
	c2 := New(Options{NotificationEnable: &off})
	if c2.MatchingPolicies(Event{Type: "PULL_ARTIFACT", ProjectID: 1}) != nil {
		t.Fatal("notification disabled must match nothing")
	}
}

func TestFaults(t *testing.T) {
	c := newTC(t, Options{})
	c.s.SetFaults(Faults{FailNext: 2, FailStatus: 503})
	for i := 0; i < 2; i++ {
		r := c.req("GET", "/api/v2.0/projects", admin, "")
		if r.status != 503 || r.body != errBody("SERVICE_UNAVAILABLE", "internal server error") {
			t.Fatalf("fault %d: %d %q", i, r.status, r.body)
		}
	}
	if r := c.req("GET", "/api/v2.0/projects", admin, ""); r.status != 200 {
		t.Fatalf("after faults: %d", r.status)
	}
	c.s.SetFaults(Faults{FailNext: 1, Hang: time.Minute})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	rq, _ := http.NewRequestWithContext(ctx, "GET", c.ts.URL+"/api/v2.0/projects", nil)
	start := time.Now()
	if _, err := c.ts.Client().Do(rq); err == nil || time.Since(start) > 5*time.Second {
		t.Fatalf("hang must time the client out promptly, err=%v", err)
	}
	c.s.SetFaults(Faults{})
	counts := c.s.Requests()
	if counts["GET /api/v2.0/projects"] < 4 {
		t.Fatalf("request counts %v", counts)
	}
	log := c.s.RequestLog()
	if len(log) == 0 || log[0].Route != "GET /api/v2.0/projects" || log[0].Status != 503 || log[2].User != "admin" {
		t.Fatalf("request log %+v", log)
	}
	c.s.ResetRequests()
	if len(c.s.RequestLog()) != 0 || len(c.s.Requests()) != 0 {
		t.Fatal("reset did not clear")
	}
}

func TestAdminHTTP(t *testing.T) {
	c := newTC(t, Options{})
	steps := []struct {
		path, body string
		status     int
		contains   string
	}{
		{"/_sim/projects", `{"name":"demo","public":true}`, 200, `"project_id":2`},
		{"/_sim/projects", `{"name":"demo"}`, 409, "already exists"},
		{"/_sim/projects", `{"name":"Bad Name"}`, 400, "invalid project name"},
		{"/_sim/push", `{"project":"demo","repo":"team/app","tags":["v1"],"children":2}`, 200, `"digest":"sha256:`},
		{"/_sim/push", `{"project":"nope","repo":"app"}`, 404, "not found"},
		{"/_sim/pull", `{"project":"demo","repo":"team/app","reference":"v1"}`, 200, "ok"},
		{"/_sim/push", `{"project":"demo","repo":"app","bogus":1}`, 400, "unknown field"},
		{"/_sim/seed", `{"projects":2,"repos_per_project":1,"artifacts_per_repo":3,"seed":1}`, 200, "ok"},
	}
	for _, s := range steps {
		r := c.req("POST", s.path, "", s.body)
		if r.status != s.status || !strings.Contains(r.body, s.contains) {
			t.Fatalf("%s %s: %d %s", s.path, s.body, r.status, r.body)
		}
	}
	r := c.req("GET", "/api/v2.0/projects/demo/repositories/team%252Fapp/artifacts", "", "")
	if r.header.Get("X-Total-Count") != "1" {
		t.Fatalf("artifacts via admin push: %s", r.body)
	}
}

func TestConcurrentAccess(t *testing.T) {
	c := newTC(t, Options{})
	c.s.Seed(SeedConfig{Projects: 4, ReposPerProject: 3, ArtifactsPerRepo: 10, Users: 2, Seed: 3})
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				if g%2 == 0 {
					_, _ = c.s.PushArtifact("acme-0000", "app-000", []string{"c" + string(rune('a'+g))}, PushOptions{})
				} else {
					c.req("GET", "/api/v2.0/projects/acme-0000/repositories/app-000/artifacts?with_scan_overview=true", admin, "")
				}
			}
		}(g)
	}
	wg.Wait()
}
