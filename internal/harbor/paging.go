package harbor

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
)

// maxPages guards against a server that ignores `page` and never sends a short page.
const maxPages = 100_000

// listAll fetches every page of a list endpoint (internal/harbor/API-NOTES.md "Paging"):
// page=1.. with page_size=100, stopping at a short page or once page*100 >= X-Total-Count. The
// Link header is not followed (internal/DESIGN.md "Harbor's Link header is not followed"): it
// carries an unescaped q (url.QueryUnescape in lib/link.go) that cannot be replayed safely.
// Items are de-duplicated by key, because default orders such as
// artifacts' -push_time shift under concurrent pushes so an item can reappear on the next page.
// Lists are eventually consistent: an item pushed mid-listing may be missed until the next sync.
func listAll[T any](ctx context.Context, c *Client, cl call, key func(T) (string, bool)) ([]T, error) {
	seen := map[string]bool{}
	var out []T
	for page := 1; ; page++ {
		if page > maxPages {
			return nil, fmt.Errorf("Harbor API GET %s%s: more than %d pages; giving up", apiPrefix, cl.path, maxPages)
		}
		q := url.Values{}
		for k, v := range cl.query {
			q[k] = v
		}
		q.Set("page", strconv.Itoa(page))
		q.Set("page_size", strconv.Itoa(pageSize))
		pc := cl
		pc.query = q
		var items []T
		res, err := c.getJSON(ctx, pc, &items)
		if err != nil {
			return nil, err
		}
		fresh := 0
		for _, it := range items {
			if k, ok := key(it); ok {
				if seen[k] {
					continue
				}
				seen[k] = true
			}
			fresh++
			out = append(out, it)
		}
		if len(items) < pageSize {
			return out, nil
		}
		if total, err := strconv.Atoi(res.header.Get("X-Total-Count")); err == nil && page*pageSize >= total {
			return out, nil
		}
		if fresh == 0 {
			return nil, fmt.Errorf("Harbor API GET %s%s: page %d repeated only items already seen; a proxy may be dropping the page parameter", apiPrefix, cl.path, page)
		}
	}
}

// idKey returns a key function reading a numeric id field of an Item.
func idKey(field string) func(Item) (string, bool) {
	return func(it Item) (string, bool) {
		switch v := it[field].(type) {
		case float64:
			return strconv.FormatFloat(v, 'f', -1, 64), true
		case string:
			return v, v != ""
		}
		return "", false
	}
}
