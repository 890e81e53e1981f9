package harbor

import (
	"errors"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/harborport/terraform-provider-harborport/internal/sandbox/harborsim"
)

// Integration tests against the strict simulator (internal/sandbox/harborsim).

func newSim(t *testing.T, opts harborsim.Options) (*harborsim.Server, *Client) {
	t.Helper()
	sim := harborsim.New(opts)
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	return sim, newTestClient(t, fastConfig(srv.URL))
}

func simClientAs(t *testing.T, c *Client, user, pass string) *Client {
	t.Helper()
	cfg := fastConfig(strings.TrimSuffix(c.BaseURL(), "/api/v2.0"))
	cfg.Username, cfg.Password = user, pass
	return newTestClient(t, cfg)
}

func TestSimVerify(t *testing.T) {
	off := false
	sim, c := newSim(t, harborsim.Options{NotificationEnable: &off})
	ctx := ctxT(t)
	info, err := c.Verify(ctx)
	if err != nil || info.Version != "v2.15.2-080b0220" || info.NotificationEnable {
		t.Fatalf("Verify() = %+v, %v", info, err)
	}
	sim.AddRobot("sync", "Robot-Secret1", false)
	robot := simClientAs(t, c, "robot$sync", "Robot-Secret1")
	if _, err := robot.Verify(ctx); err != nil {
		t.Fatalf("robot: %v", err)
	}
	sim.RevokeUser("robot$sync")
	if _, err := robot.Verify(ctx); !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("revoked robot: err = %v", err)
	}
	if _, err := simClientAs(t, c, testUser, "Wrong-Pass1").Verify(ctx); !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("wrong password: err = %v", err)
	}
}

// A seeded Harbor read end to end: >100 artifacts per repo forces paging.
func TestSimFullRead(t *testing.T) {
	sim, c := newSim(t, harborsim.Options{})
	sim.Seed(harborsim.SeedConfig{Projects: 3, ReposPerProject: 4, ArtifactsPerRepo: 130, Users: 5, Seed: 7})
	ctx := ctxT(t)

	projects, err := c.ListProjects(ctx, ProjectQuery{})
	if err != nil {
		t.Fatal(err)
	}
	var repos []Item
	for _, p := range projects {
		rs, err := c.ListRepositories(ctx, as[string](t, p["name"]), RepoQuery{})
		if err != nil {
			t.Fatal(err)
		}
		repos = append(repos, rs...)
	}
	if len(repos) != 12 {
		t.Fatalf("%d repositories across %d projects, want 12", len(repos), len(projects))
	}
	// Index children count in the seed but are hidden from default lists
	// (internal/harbor/API-NOTES.md "Artifacts"): the default listing must match Harbor's
	// artifact_count; q=base=* must return all 130.
	wantVisible := 0
	for _, r := range repos {
		wantVisible += int(as[float64](t, r["artifact_count"]))
	}
	for _, tc := range []struct {
		q        string
		want     int
		wantReqs int // -1: not checked
	}{
		{q: "", want: wantVisible, wantReqs: -1},
		{q: mustQ(t, QEq("base", "*")), want: 12 * 130, wantReqs: 24}, // 130 = 2 pages per repository
	} {
		sim.ResetRequests()
		total := 0
		err = c.ForEachRepositoryArtifacts(ctx, repos, ArtifactQuery{Q: tc.q, WithTag: true, WithScanOverview: true}, func(repo Item, arts []Item) error {
			seen := map[string]bool{}
			for _, a := range arts {
				d, ok := a["digest"].(string)
				if !ok {
					return fmt.Errorf("%s: artifact without a string digest: %v", repo["name"], a["digest"])
				}
				if seen[d] {
					return fmt.Errorf("%s: duplicate %s", repo["name"], d)
				}
				seen[d] = true
				if a["repositoryName"] != repo["name"] || a["projectName"] != repo["projectName"] {
					return fmt.Errorf("enrichment %v/%v vs %v", a["projectName"], a["repositoryName"], repo["name"])
				}
			}
			total += len(arts)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if total != tc.want {
			t.Fatalf("q=%q: %d artifacts, want %d", tc.q, total, tc.want)
		}
		got := sim.Requests()["GET /api/v2.0/projects/{project_name}/repositories/{repository_name}/artifacts"]
		if tc.wantReqs >= 0 && got != tc.wantReqs {
			t.Fatalf("q=%q: artifact list requests = %d, want %d (%v)", tc.q, got, tc.wantReqs, sim.Requests())
		}
		if c.Stats()["GET /projects/{project}/repositories/{repository}/artifacts"] == 0 {
			t.Fatalf("client Stats = %v", c.Stats())
		}
	}
	users, err := c.ListUsers(ctx, "")
	if err != nil || len(users) < 5 {
		t.Fatalf("users = %d, %v", len(users), err)
	}
}

func TestSimNestedRepositoryAndArtifacts(t *testing.T) {
	sim, c := newSim(t, harborsim.Options{})
	sim.CreateProject("tfdemo", false)
	digest, err := sim.PushArtifact("tfdemo", "team/hello", []string{"v1", "latest"}, harborsim.PushOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := sim.ScanArtifact("tfdemo", "team/hello", digest, map[string]int{"High": 2}); err != nil {
		t.Fatal(err)
	}
	ctx := ctxT(t)
	repo, err := c.GetRepository(ctx, "tfdemo", "tfdemo/team/hello")
	if err != nil || repo["name"] != "tfdemo/team/hello" {
		t.Fatalf("GetRepository = %v, %v", repo, err)
	}
	arts, err := c.ListArtifacts(ctx, "tfdemo", "team/hello", ArtifactQuery{WithTag: true, WithScanOverview: true})
	if err != nil || len(arts) != 1 {
		t.Fatalf("ListArtifacts = %v, %v", arts, err)
	}
	so, _ := arts[0]["scan_overview"].(map[string]any)
	if _, ok := so[harborsim.MimeTypeGenericVulnerabilityReport]; !ok {
		t.Fatalf("scan_overview = %v", arts[0]["scan_overview"])
	}
	for _, ref := range []string{"v1", digest} {
		a, err := c.GetArtifact(ctx, "tfdemo", "team/hello", ref, ArtifactQuery{WithTag: true})
		if err != nil || a["digest"] != digest {
			t.Fatalf("GetArtifact(%s) = %v, %v", ref, a, err)
		}
	}
	tagged, err := c.ListArtifacts(ctx, "tfdemo", "team/hello", ArtifactQuery{Q: mustQ(t, QEq("tags", "v1"))})
	if err != nil || len(tagged) != 1 {
		t.Fatalf("q tags=v1: %v, %v", tagged, err)
	}
	if err := sim.DeleteArtifact("tfdemo", "team/hello", digest); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetArtifact(ctx, "tfdemo", "team/hello", digest, ArtifactQuery{}); !IsNotFound(err) {
		t.Fatalf("deleted artifact: err = %v", err)
	}
}

func mustQ(t *testing.T, terms ...QTerm) string {
	t.Helper()
	q, err := BuildQ(terms...)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

func TestSimUsersPermission(t *testing.T) {
	sim, c := newSim(t, harborsim.Options{})
	sim.AddUser("alice", "Alice-Pass1", false)
	sim.AddRobot("lister", "Robot-Secret1", true)
	sim.AddRobot("plain", "Robot-Secret2", false)
	ctx := ctxT(t)
	if _, err := simClientAs(t, c, "alice", "Alice-Pass1").ListUsers(ctx, ""); !IsForbidden(err) || !strings.Contains(err.Error(), "drop the `user` kind") {
		t.Fatalf("non-admin: err = %v", err)
	}
	if _, err := simClientAs(t, c, "robot$plain", "Robot-Secret2").ListUsers(ctx, ""); !IsForbidden(err) {
		t.Fatalf("robot without user:list: err = %v", err)
	}
	if users, err := simClientAs(t, c, "robot$lister", "Robot-Secret1").ListUsers(ctx, ""); err != nil || len(users) == 0 {
		t.Fatalf("robot with user:list: %v, %v", users, err)
	}
}

func TestSimFaults(t *testing.T) {
	sim, c := newSim(t, harborsim.Options{})
	sim.CreateProject("tfdemo", false)
	ctx := ctxT(t)

	sim.SetFaults(harborsim.Faults{FailNext: 2, FailStatus: 503})
	if _, err := c.GetProject(ctx, "tfdemo"); err != nil {
		t.Fatalf("GET after 2×503: %v", err)
	}

	sim.ResetRequests()
	sim.SetFaults(harborsim.Faults{FailNext: 1, FailStatus: 500})
	_, err := c.CreateWebhookPolicy(ctx, "tfdemo", testPolicy("p1"))
	if err == nil || len(sim.RequestLog()) != 1 {
		t.Fatalf("POST after 500: err = %v, %d requests (writes must not be retried)", err, len(sim.RequestLog()))
	}

	sim.SetFaults(harborsim.Faults{FailNext: 5, Hang: time.Minute})
	cfg := fastConfig(strings.TrimSuffix(c.BaseURL(), "/api/v2.0"))
	cfg.Timeout, cfg.MaxRetries = 30*time.Millisecond, 1
	start := time.Now()
	if _, err := newTestClient(t, cfg).GetProject(ctx, "tfdemo"); err == nil || !strings.Contains(err.Error(), "timeout") {
		t.Fatalf("hanging Harbor: err = %v", err)
	}
	if time.Since(start) > 2*time.Second {
		t.Fatalf("hang took %v", time.Since(start))
	}
}

func testPolicy(name string) WebhookPolicy {
	return WebhookPolicy{Name: name, Enabled: true, EventTypes: []string{"PUSH_ARTIFACT", "DELETE_ARTIFACT"},
		Targets: []WebhookTarget{{Type: "http", Address: "https://listener.example.com/integration/webhook/", AuthHeader: "Bearer s3cret", PayloadFormat: "Default"}}}
}

func TestSimWebhookPolicies(t *testing.T) {
	sim, c := newSim(t, harborsim.Options{})
	pid := sim.CreateProject("tfdemo", false)
	ctx := ctxT(t)
	id, err := c.CreateWebhookPolicy(ctx, "tfdemo", testPolicy("harborport"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateWebhookPolicy(ctx, fmt.Sprint(pid), testPolicy("harborport")); !IsConflict(err) {
		t.Fatalf("duplicate: err = %v", err)
	}
	got, err := c.GetWebhookPolicy(ctx, "tfdemo", id)
	if err != nil || !got.Enabled || got.Targets[0].Address != "https://listener.example.com/integration/webhook" || got.ProjectID != int64(pid) {
		t.Fatalf("GetWebhookPolicy = %+v, %v (address normalised, trailing / dropped)", got, err)
	}
	upd := testPolicy("harborport")
	upd.ID, upd.Enabled = id, false
	upd.EventTypes = []string{"PUSH_ARTIFACT"}
	if err := c.UpdateWebhookPolicy(ctx, "tfdemo", upd); err != nil {
		t.Fatal(err)
	}
	list, err := c.ListWebhookPolicies(ctx, "tfdemo")
	if err != nil || len(list) != 1 || list[0].Enabled || len(list[0].EventTypes) != 1 {
		t.Fatalf("list = %+v, %v", list, err)
	}
	if err := c.DeleteWebhookPolicy(ctx, "tfdemo", id); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetWebhookPolicy(ctx, "tfdemo", id); !IsNotFound(err) {
		t.Fatalf("deleted: err = %v", err)
	}
}

// Seeded project "9003" is all digits: without X-Is-Resource-Name Harbor reads it as id 9003.
func TestSimAllDigitProjectName(t *testing.T) {
	sim, c := newSim(t, harborsim.Options{})
	sim.Seed(harborsim.SeedConfig{Projects: 4, ReposPerProject: 2, ArtifactsPerRepo: 2, Seed: 1})
	ctx := ctxT(t)
	p, err := c.GetProjectByName(ctx, "9003")
	if err != nil || p["name"] != "9003" {
		t.Fatalf("GetProjectByName(9003) = %v, %v", p, err)
	}
	if _, err := c.GetProject(ctx, "9003"); err == nil {
		t.Fatal("GetProject(\"9003\") must read an id (documented), and id 9003 does not exist")
	}
	byID, err := c.GetProject(ctx, fmt.Sprint(p["project_id"]))
	if err != nil || byID["name"] != "9003" {
		t.Fatalf("GetProject(id) = %v, %v", byID, err)
	}
	repos, err := c.ListRepositories(ctx, "9003", RepoQuery{Q: mustQ(t, QLike("name", "svc"))})
	if err != nil || len(repos) != 1 || repos[0]["name"] != "9003/team/svc-001" {
		t.Fatalf("ListRepositories(9003, name=~svc) = %v, %v", repos, err)
	}
	pub := true
	public, err := c.ListProjects(ctx, ProjectQuery{Public: &pub})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range public {
		if md, _ := p["metadata"].(map[string]any); md["public"] != "true" {
			t.Fatalf("public=true returned %v", p["name"])
		}
	}
}
