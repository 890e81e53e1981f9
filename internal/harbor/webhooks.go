package harbor

import (
	"context"
	"fmt"
	"net/http"
	"path"
	"strconv"
	"strings"
)

// WebhookPolicy is Harbor's WebhookPolicy (swagger definitions; internal/harbor/API-NOTES.md
// "Webhook policies").
type WebhookPolicy struct {
	ID          int64  `json:"id,omitempty"`
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	ProjectID   int64  `json:"project_id,omitempty"`
	// Enabled is always serialized: Harbor stores an omitted enabled as false (a disabled policy).
	Enabled    bool            `json:"enabled"`
	EventTypes []string        `json:"event_types"`
	Targets    []WebhookTarget `json:"targets"`
	// Creator is taken from the request body by Harbor, never set by it.
	Creator      string `json:"creator,omitempty"`
	CreationTime string `json:"creation_time,omitempty"`
	UpdateTime   string `json:"update_time,omitempty"`
}

// WebhookTarget is one delivery target. Harbor rewrites Address to scheme://host/path (query,
// fragment, userinfo and a trailing '/' dropped) and echoes AuthHeader in clear text.
type WebhookTarget struct {
	Type           string `json:"type"` // "http" or "slack"
	Address        string `json:"address"`
	AuthHeader     string `json:"auth_header,omitempty"`
	SkipCertVerify bool   `json:"skip_cert_verify"`
	// PayloadFormat "Default" or "CloudEvents" (Harbor ≥ 2.8); must be empty for slack (400).
	PayloadFormat string `json:"payload_format,omitempty"`
}

func policiesPath(project string) (string, http.Header, error) {
	seg, err := ProjectPathSegment(project)
	if err != nil {
		return "", nil, err
	}
	return "/projects/" + seg + "/webhook/policies", projectHeader(isProjectName(project)), nil
}

const policiesRoute = "/projects/{project}/webhook/policies"

// ListWebhookPolicies lists a project's policies (project: name or numeric id).
func (c *Client) ListWebhookPolicies(ctx context.Context, project string) ([]WebhookPolicy, error) {
	p, h, err := policiesPath(project)
	if err != nil {
		return nil, err
	}
	out, err := listAll(ctx, c, call{route: policiesRoute, path: p, header: h}, func(wp WebhookPolicy) (string, bool) {
		return strconv.FormatInt(wp.ID, 10), wp.ID != 0
	})
	if err != nil {
		return nil, err
	}
	if out == nil {
		out = []WebhookPolicy{}
	}
	return out, nil
}

// GetWebhookPolicy reads one policy; IsNotFound when it is gone or belongs to another project.
func (c *Client) GetWebhookPolicy(ctx context.Context, project string, id int64) (*WebhookPolicy, error) {
	p, h, err := policiesPath(project)
	if err != nil {
		return nil, err
	}
	var out WebhookPolicy
	if _, err := c.getJSON(ctx, call{route: policiesRoute + "/{id}", path: p + "/" + strconv.FormatInt(id, 10), header: h}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// CreateWebhookPolicy creates a policy and returns its id, parsed from the Location header of
// Harbor's empty 201. A name already used in the project is a 409 (IsConflict).
func (c *Client) CreateWebhookPolicy(ctx context.Context, project string, p WebhookPolicy) (int64, error) {
	pp, h, err := policiesPath(project)
	if err != nil {
		return 0, err
	}
	p.ID, p.CreationTime, p.UpdateTime = 0, "", ""
	res, err := c.do(ctx, call{method: http.MethodPost, route: policiesRoute, path: pp, header: h, body: p, ok: []int{http.StatusCreated}})
	if err != nil {
		return 0, err
	}
	loc := res.header.Get("Location")
	id, perr := strconv.ParseInt(path.Base(strings.TrimRight(loc, "/")), 10, 64)
	if loc == "" || perr != nil || id <= 0 {
		return 0, fmt.Errorf("Harbor API POST %s: created, but the Location header %q holds no policy id; find the policy by name %q", pp, loc, p.Name)
	}
	return id, nil
}

// UpdateWebhookPolicy replaces policy p.ID entirely (PUT is a full replace).
func (c *Client) UpdateWebhookPolicy(ctx context.Context, project string, p WebhookPolicy) error {
	if p.ID <= 0 {
		return fmt.Errorf("harbor: UpdateWebhookPolicy needs the policy id (got %d)", p.ID)
	}
	pp, h, err := policiesPath(project)
	if err != nil {
		return err
	}
	p.CreationTime, p.UpdateTime = "", ""
	_, err = c.do(ctx, call{method: http.MethodPut, route: policiesRoute + "/{id}", path: pp + "/" + strconv.FormatInt(p.ID, 10), header: h, body: p})
	return err
}

// DeleteWebhookPolicy deletes a policy (and Harbor deletes its executions).
func (c *Client) DeleteWebhookPolicy(ctx context.Context, project string, id int64) error {
	pp, h, err := policiesPath(project)
	if err != nil {
		return err
	}
	_, err = c.do(ctx, call{method: http.MethodDelete, route: policiesRoute + "/{id}", path: pp + "/" + strconv.FormatInt(id, 10), header: h})
	return err
}
