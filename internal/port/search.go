package port

import (
	"context"
	"fmt"
	"net/http"
)

// SearchQuery filters a blueprint search (internal/port/API-NOTES.md "Search").
// Rules use Port's rule objects ({property, operator, value} or nested groups).
type SearchQuery struct {
	Rules      []map[string]any
	Combinator string   // "and" (default) or "or"
	Include    []string // e.g. "$identifier", "$title", "properties.x"; empty = everything
}

const searchPageSize = 1000 // the route's maximum limit

// SearchEntities pages through POST /v1/blueprints/{bp}/entities/search with
// limit 1000, feeding each page to page in order and following next → from.
// An error from page stops the search and is returned unchanged.
func (c *Client) SearchEntities(ctx context.Context, bp string, q SearchQuery, page func([]Entity) error) error {
	body := map[string]any{"limit": searchPageSize}
	if len(q.Rules) > 0 {
		comb := q.Combinator
		if comb == "" {
			comb = "and"
		}
		body["query"] = map[string]any{"combinator": comb, "rules": q.Rules}
	}
	if len(q.Include) > 0 {
		body["include"] = q.Include
	}
	r := request{method: http.MethodPost, route: "/blueprints/{blueprint}/entities/search",
		path: "/blueprints/" + seg(bp) + "/entities/search"}
	seen := map[string]bool{}
	for {
		r.body = body
		resp, err := c.do(ctx, r)
		if err != nil {
			return err
		}
		var out struct {
			Entities []wireEntity `json:"entities"`
			Next     *string      `json:"next"`
		}
		if err := decode(r, resp, &out); err != nil {
			return err
		}
		ents := make([]Entity, len(out.Entities))
		for i := range out.Entities {
			if err := ents[i].fromWire(&out.Entities[i]); err != nil {
				return fmt.Errorf("Port API POST /v1%s: entity %d of the page: %w", r.path, i, err)
			}
			if ents[i].Blueprint == "" {
				ents[i].Blueprint = bp
			}
		}
		out.Entities = nil
		if err := page(ents); err != nil {
			return err
		}
		if out.Next == nil || *out.Next == "" {
			return nil
		}
		if seen[*out.Next] {
			return fmt.Errorf("Port API POST /v1%s: pagination cursor %q repeated; stopping to avoid an endless loop", r.path, *out.Next)
		}
		seen[*out.Next] = true
		next := make(map[string]any, len(body)+1)
		for k, v := range body {
			next[k] = v
		}
		next["from"] = *out.Next
		body = next
	}
}
