package harbor

import (
	"net/http"
	"strings"
	"testing"
)

func TestRepositories(t *testing.T) {
	s := newStub(t)
	s.handle("GET", "/api/v2.0/projects/tfdemo/repositories", pageOf(as[[]any](t, loadJSON(t, "real-api-repositories-list.json"))))
	s.handle("GET", "/api/v2.0/projects/tfdemo/repositories/team%252Fhello", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, map[string]any{"id": 4, "name": "tfdemo/team/hello", "project_id": 2})
	})
	c := newTestClient(t, fastConfig(s.srv.URL))
	ctx := ctxT(t)
	repos, err := c.ListRepositories(ctx, "tfdemo", RepoQuery{Q: "name=~hello"})
	if err != nil {
		t.Fatal(err)
	}
	if len(repos) != 2 || repos[1]["name"] != "tfdemo/hello" || repos[1]["projectName"] != "tfdemo" || repos[0]["projectName"] != "tfdemo" {
		t.Fatalf("repos = %v", repos)
	}
	for _, name := range []string{"tfdemo/team/hello", "team/hello"} {
		r, err := c.GetRepository(ctx, "tfdemo", name)
		if err != nil || r["name"] != "tfdemo/team/hello" || r["projectName"] != "tfdemo" {
			t.Fatalf("GetRepository(%q) = %v, %v", name, r, err)
		}
	}
	for _, r := range s.requests()[1:] {
		// Single encoding (team%2Fhello) is a route miss on real Harbor
		// (internal/harbor/API-NOTES.md "Repository names in paths").
		if !strings.HasPrefix(r.URI, "/api/v2.0/projects/tfdemo/repositories/team%252Fhello") {
			t.Errorf("request URI %q is not double-encoded", r.URI)
		}
	}
}

func TestListAllRepositories(t *testing.T) {
	s := newStub(t)
	s.handle("GET", "/api/v2.0/repositories", pageOf([]any{
		map[string]any{"id": 1, "name": "tfdemo/hello"},
		map[string]any{"id": 9, "name": "library/chilcano/relayer"},
	}))
	repos, err := newTestClient(t, fastConfig(s.srv.URL)).ListAllRepositories(ctxT(t), RepoQuery{})
	if err != nil || len(repos) != 2 || repos[0]["projectName"] != "tfdemo" || repos[1]["projectName"] != "library" {
		t.Fatalf("repos = %v, %v", repos, err)
	}
}
