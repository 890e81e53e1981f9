package harbor

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestListProjects(t *testing.T) {
	s := newStub(t)
	s.handle("GET", "/api/v2.0/projects", pageOf(as[[]any](t, loadJSON(t, "real-api-projects-list.json"))))
	c := newTestClient(t, fastConfig(s.srv.URL))
	f := false
	got, err := c.ListProjects(ctxT(t), ProjectQuery{Public: &f, Name: "tf", Q: "owner_id=1"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0]["name"] != "tfdemo" || got[0]["project_id"] != float64(2) {
		t.Fatalf("got %v", got)
	}
	if md, _ := got[0]["metadata"].(map[string]any); md["public"] != "false" {
		t.Fatalf("metadata.public must stay Harbor's string: %v", got[0]["metadata"])
	}
	q := parseURIQuery(t, s.requests()[0].URI)
	want := url.Values{"public": {"false"}, "name": {"tf"}, "q": {"owner_id=1"}, "page": {"1"}, "page_size": {"100"}}
	if q.Encode() != want.Encode() {
		t.Fatalf("query %v, want %v (with_detail must keep Harbor's default)", q, want)
	}
}

// What Harbor finally parses (after its extra QueryUnescape) must be exactly our expression.
func TestQReachesHarborIntact(t *testing.T) {
	s := newStub(t)
	s.handle("GET", "/api/v2.0/projects", pageOf(nil))
	c := newTestClient(t, fastConfig(s.srv.URL))
	expr, err := BuildQ(QLike("name", "a+b%c d"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.ListProjects(ctxT(t), ProjectQuery{Q: expr}); err != nil {
		t.Fatal(err)
	}
	raw := parseURIQuery(t, s.requests()[0].URI).Get("q")
	harborSees, err := url.QueryUnescape(raw) // src/lib/q/builder.go parseKeywords
	if err != nil || harborSees != expr {
		t.Fatalf("Harbor would parse %q (err %v), want %q", harborSees, err, expr)
	}
}

func TestInvalidQFailsBeforeAnyRequest(t *testing.T) {
	s := newStub(t)
	c := newTestClient(t, fastConfig(s.srv.URL))
	ctx := ctxT(t)
	for _, run := range []func() error{
		func() error { _, err := c.ListProjects(ctx, ProjectQuery{Q: "name=a,b"}); return err },
		func() error { _, err := c.ListUsers(ctx, "username="); return err },
		func() error { _, err := c.ListRepositories(ctx, "p", RepoQuery{Q: "name={a"}); return err },
		func() error { _, err := c.ListArtifacts(ctx, "p", "r", ArtifactQuery{Q: "tags"}); return err },
	} {
		if err := run(); err == nil || !strings.Contains(err.Error(), "invalid Harbor q filter") {
			t.Errorf("err = %v", err)
		}
	}
	if n := len(s.requests()); n != 0 {
		t.Fatalf("%d requests sent", n)
	}
}

func TestGetProject(t *testing.T) {
	s := newStub(t)
	var headers []string
	h := func(w http.ResponseWriter, r *http.Request) {
		headers = append(headers, r.Header.Get("X-Is-Resource-Name"))
		writeJSON(w, loadJSON(t, "real-api-project-get.json"))
	}
	s.handle("GET", "/api/v2.0/projects/tfdemo", h)
	s.handle("GET", "/api/v2.0/projects/2", h)
	c := newTestClient(t, fastConfig(s.srv.URL))
	ctx := ctxT(t)
	for _, call := range []func() (Item, error){
		func() (Item, error) { return c.GetProject(ctx, "tfdemo") },
		func() (Item, error) { return c.GetProject(ctx, "2") },
		func() (Item, error) { return c.GetProjectByName(ctx, "2") },
	} {
		p, err := call()
		if err != nil || p["name"] != "tfdemo" {
			t.Fatalf("GetProject = %v, %v", p, err)
		}
	}
	if strings.Join(headers, ",") != "true,,true" {
		t.Fatalf("X-Is-Resource-Name per call = %q; want names flagged, ids not", headers)
	}
	_, err := c.GetProject(ctx, "nonexistent")
	if !IsRouteNotFound(err) { // the stub has no such route
		t.Fatalf("err = %v", err)
	}
	s.handle("GET", "/api/v2.0/projects/nonexistent", func(w http.ResponseWriter, r *http.Request) {
		harborError(w, 404, "NOT_FOUND", "project nonexistent not found")
	})
	if _, err = c.GetProject(ctx, "nonexistent"); !IsNotFound(err) {
		t.Fatalf("err = %v", err)
	}
}
