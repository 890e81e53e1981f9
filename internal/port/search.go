package port

import (
	"context"
	"fmt"
	"net/http"

	"github.com/harborport/terraform-provider-harborport/internal/jsonvalue"
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
		out, err := decodeSearchPage(resp.body)
		if err != nil {
			return fmt.Errorf("Port API %s /v1%s: %d response is not the expected JSON (%v): %s",
				r.method, r.path, resp.status, err, snippet(resp.body))
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

type searchPage struct {
	Entities []wireEntity
	Next     *string
}

// decodeSearchPage decodes a search answer without reflection (jsonvalue):
// the same values as encoding/json into the wire struct gives, at about
// half the CPU; a no-op plan decodes one page per 1000 entities.
func decodeSearchPage(body []byte) (searchPage, error) {
	var out searchPage
	v, err := jsonvalue.Decode(body)
	if err != nil {
		return out, err
	}
	m, ok := v.(map[string]any)
	if !ok {
		return out, fmt.Errorf("expected a JSON object")
	}
	if out.Next, err = optString(m, "next"); err != nil {
		return out, err
	}
	switch ents := m["entities"].(type) {
	case nil:
	case []any:
		out.Entities = make([]wireEntity, len(ents))
		for i, e := range ents {
			em, ok := e.(map[string]any)
			if !ok {
				if e == nil {
					continue
				}
				return out, fmt.Errorf("entities[%d] is not an object", i)
			}
			w := &out.Entities[i]
			w.Identifier, w.Team = em["identifier"], em["team"]
			bp, err := optString(em, "blueprint")
			if err != nil {
				return out, fmt.Errorf("entities[%d]: %w", i, err)
			}
			if bp != nil {
				w.Blueprint = *bp
			}
			if w.Title, err = optString(em, "title"); err != nil {
				return out, fmt.Errorf("entities[%d]: %w", i, err)
			}
			if w.Icon, err = optString(em, "icon"); err != nil {
				return out, fmt.Errorf("entities[%d]: %w", i, err)
			}
			if w.Properties, err = optObject(em, "properties"); err != nil {
				return out, fmt.Errorf("entities[%d]: %w", i, err)
			}
			if w.Relations, err = optObject(em, "relations"); err != nil {
				return out, fmt.Errorf("entities[%d]: %w", i, err)
			}
		}
	default:
		return out, fmt.Errorf("entities is not an array")
	}
	return out, nil
}

func optString(m map[string]any, k string) (*string, error) {
	switch v := m[k].(type) {
	case nil:
		return nil, nil
	case string:
		return &v, nil
	}
	return nil, fmt.Errorf("%s is not a string", k)
}

func optObject(m map[string]any, k string) (map[string]any, error) {
	switch v := m[k].(type) {
	case nil:
		return nil, nil
	case map[string]any:
		return v, nil
	}
	return nil, fmt.Errorf("%s is not an object", k)
}
