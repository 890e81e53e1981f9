package port

import (
	"context"
	"fmt"
	"net/http"
)

// Blueprint routes: internal/port/API-NOTES.md "Blueprints".

type blueprintEnvelope struct {
	Blueprint *Blueprint `json:"blueprint"`
}

// ListBlueprints returns every blueprint of the organization.
func (c *Client) ListBlueprints(ctx context.Context) ([]Blueprint, error) {
	r := request{method: http.MethodGet, route: "/blueprints", path: "/blueprints"}
	resp, err := c.do(ctx, r)
	if err != nil {
		return nil, err
	}
	var out struct {
		Blueprints []Blueprint `json:"blueprints"`
	}
	if err := decode(r, resp, &out); err != nil {
		return nil, err
	}
	return out.Blueprints, nil
}

// GetBlueprint returns one blueprint; a missing one is an error for which
// IsNotFound is true.
func (c *Client) GetBlueprint(ctx context.Context, id string) (*Blueprint, error) {
	return c.blueprintCall(ctx, request{method: http.MethodGet, route: "/blueprints/{blueprint}", path: "/blueprints/" + seg(id)})
}

// CreateBlueprint creates bp (POST). Port's default create_catalog_page=true
// is kept. If the request had to be retried and then reports a conflict, the
// blueprint was most likely written by an attempt whose answer was lost
// (e.g. a 502 after the write), so the existing blueprint is returned.
func (c *Client) CreateBlueprint(ctx context.Context, bp Blueprint) (*Blueprint, error) {
	r := request{method: http.MethodPost, route: "/blueprints", path: "/blueprints", body: writable(bp)}
	resp, err := c.do(ctx, r)
	if err != nil {
		if IsConflict(err) && resp != nil && resp.attempts > 1 {
			return c.GetBlueprint(ctx, bp.Identifier)
		}
		return nil, err
	}
	return decodeBlueprint(r, resp)
}

// ReplaceBlueprint overwrites bp.Identifier with bp (PUT): fields absent from
// bp are removed from the blueprint.
func (c *Client) ReplaceBlueprint(ctx context.Context, bp Blueprint) (*Blueprint, error) {
	return c.blueprintCall(ctx, request{method: http.MethodPut, route: "/blueprints/{blueprint}",
		path: "/blueprints/" + seg(bp.Identifier), body: writable(bp)})
}

// PatchBlueprint updates only the given top-level fields of blueprint id.
func (c *Client) PatchBlueprint(ctx context.Context, id string, patch map[string]any) (*Blueprint, error) {
	if patch == nil {
		patch = map[string]any{}
	}
	return c.blueprintCall(ctx, request{method: http.MethodPatch, route: "/blueprints/{blueprint}",
		path: "/blueprints/" + seg(id), body: patch})
}

// DeleteBlueprint deletes blueprint id. Port refuses while entities remain:
// HasCode(err, "has_dependents"); use DeleteAllEntities first. A 404 after a
// retry means an earlier attempt succeeded and is not an error.
func (c *Client) DeleteBlueprint(ctx context.Context, id string) error {
	resp, err := c.do(ctx, request{method: http.MethodDelete, route: "/blueprints/{blueprint}", path: "/blueprints/" + seg(id)})
	if IsNotFound(err) && resp != nil && resp.attempts > 1 {
		return nil
	}
	return err
}

func (c *Client) blueprintCall(ctx context.Context, r request) (*Blueprint, error) {
	resp, err := c.do(ctx, r)
	if err != nil {
		return nil, err
	}
	return decodeBlueprint(r, resp)
}

func decodeBlueprint(r request, resp *response) (*Blueprint, error) {
	var out blueprintEnvelope
	if err := decode(r, resp, &out); err != nil {
		return nil, err
	}
	if out.Blueprint == nil {
		return nil, fmt.Errorf("Port API %s /v1%s: %d response has no \"blueprint\" object: %s", r.method, r.path, resp.status, snippet(resp.body))
	}
	return out.Blueprint, nil
}

// writable drops read-only metadata, which the write routes do not accept.
func writable(bp Blueprint) Blueprint {
	bp.CreatedAt, bp.UpdatedAt = "", ""
	return bp
}
