package harbor

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
)

// ProjectQuery filters GET /projects (internal/harbor/API-NOTES.md "Projects").
type ProjectQuery struct {
	Public *bool  // public=true|false
	Name   string // Harbor's `name` parameter: a fuzzy (contains) match
	Q      string // a q expression (see BuildQ), validated before sending
}

// ListProjects lists every project the caller can see (a robot sees its covered projects plus
// public ones). with_detail keeps Harbor's default (true): without it metadata.public and
// owner_name are missing.
func (c *Client) ListProjects(ctx context.Context, q ProjectQuery) ([]Item, error) {
	v := url.Values{}
	if q.Public != nil {
		v.Set("public", strconv.FormatBool(*q.Public))
	}
	if q.Name != "" {
		v.Set("name", q.Name)
	}
	if q.Q != "" {
		enc, err := prepareQ(q.Q)
		if err != nil {
			return nil, err
		}
		v.Set("q", enc)
	}
	return listAll(ctx, c, call{route: "/projects", path: "/projects", query: v}, idKey("project_id"))
}

// GetProject reads one project by name or numeric id. An all-digit value is taken as an id
// (Harbor's own reading); use GetProjectByName for a project whose name is all digits.
func (c *Client) GetProject(ctx context.Context, nameOrID string) (Item, error) {
	return c.getProject(ctx, nameOrID, isProjectName(nameOrID))
}

// GetProjectByName reads one project by name, whatever it looks like.
func (c *Client) GetProjectByName(ctx context.Context, name string) (Item, error) {
	return c.getProject(ctx, name, true)
}

func (c *Client) getProject(ctx context.Context, ref string, isName bool) (Item, error) {
	seg, err := ProjectPathSegment(ref)
	if err != nil {
		return nil, err
	}
	var out Item
	_, err = c.getJSON(ctx, call{route: "/projects/{project}", path: "/projects/" + seg, header: projectHeader(isName)}, &out)
	return out, err
}

// projectHeader sets X-Is-Resource-Name for names (swagger parameters.isResourceName).
func projectHeader(isName bool) http.Header {
	if !isName {
		return nil
	}
	return http.Header{"X-Is-Resource-Name": {"true"}}
}
