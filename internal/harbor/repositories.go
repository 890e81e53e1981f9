package harbor

import (
	"context"
	"net/url"
	"strings"
)

// RepoQuery filters a project's repositories.
type RepoQuery struct {
	Q string // a q expression, e.g. BuildQ(QLike("name", "api"))
}

// ListRepositories lists a project's repositories (internal/harbor/API-NOTES.md "Repositories";
// the path takes a project name, never an id). Each item gets "projectName" for the mapping.
func (c *Client) ListRepositories(ctx context.Context, project string, q RepoQuery) ([]Item, error) {
	seg, err := ProjectPathSegment(project)
	if err != nil {
		return nil, err
	}
	v := url.Values{}
	if q.Q != "" {
		enc, err := prepareQ(q.Q)
		if err != nil {
			return nil, err
		}
		v.Set("q", enc)
	}
	items, err := listAll(ctx, c, call{route: "/projects/{project}/repositories", path: "/projects/" + seg + "/repositories", query: v}, idKey("id"))
	if err != nil {
		return nil, err
	}
	for _, it := range items {
		it["projectName"] = project
	}
	return items, nil
}

// ListAllRepositories lists every repository the caller can see with GET /repositories (one
// paginated listing instead of one per project; for non-admins Harbor restricts it to their
// projects, handler/repository.go ListAllRepositories). "projectName" is the name's first element.
func (c *Client) ListAllRepositories(ctx context.Context, q RepoQuery) ([]Item, error) {
	v := url.Values{}
	if q.Q != "" {
		enc, err := prepareQ(q.Q)
		if err != nil {
			return nil, err
		}
		v.Set("q", enc)
	}
	items, err := listAll(ctx, c, call{route: "/repositories", path: "/repositories", query: v}, idKey("id"))
	if err != nil {
		return nil, err
	}
	for _, it := range items {
		name, _ := it["name"].(string)
		project, _, _ := strings.Cut(name, "/")
		it["projectName"] = project
	}
	return items, nil
}

// GetRepository reads one repository; repo may carry the "project/" prefix or not.
func (c *Client) GetRepository(ctx context.Context, project, repo string) (Item, error) {
	pseg, err := ProjectPathSegment(project)
	if err != nil {
		return nil, err
	}
	rseg, err := RepoPathSegment(project, repo)
	if err != nil {
		return nil, err
	}
	var out Item
	if _, err := c.getJSON(ctx, call{route: "/projects/{project}/repositories/{repository}", path: "/projects/" + pseg + "/repositories/" + rseg}, &out); err != nil {
		return nil, err
	}
	if out != nil {
		out["projectName"] = project
	}
	return out, nil
}
