package harborsim

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// listParams are the common list parameters: q, sort, page, page_size (swagger parameters.*).
type listParams struct {
	q        *query
	sort     []sortKey
	page     int64
	pageSize int64
}

// parseListParams validates like go-swagger (422 for type/maximum violations) and then parses q
// like q.Build (400 for syntax errors). Empty values fall back to the defaults, as go-swagger's
// generated binders do.
func parseListParams(v url.Values) (*listParams, *apiError) {
	lp := &listParams{page: 1, pageSize: 10}
	var msgs []string
	if raw := v.Get("page"); raw != "" {
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil {
			msgs = append(msgs, fmt.Sprintf("page in query must be of type int64: %q", raw))
		} else {
			lp.page = n
		}
	}
	if raw := v.Get("page_size"); raw != "" {
		n, err := strconv.ParseInt(raw, 10, 64)
		switch {
		case err != nil:
			msgs = append(msgs, fmt.Sprintf("page_size in query must be of type int64: %q", raw))
		case n > 100:
			// Swagger `maximum: 100`; page_size=0 passes and means "no LIMIT"
			// (internal/harbor/API-NOTES.md "Paging").
			msgs = append(msgs, "page_size in query should be less than or equal to 100")
		default:
			lp.pageSize = n
		}
	}
	if len(msgs) > 0 {
		return nil, errValidation(msgs)
	}
	q, err := parseQuery(v.Get("q"))
	if err != nil {
		return nil, err
	}
	lp.q = q
	lp.sort = parseSort(v.Get("sort"))
	return lp, nil
}

// window returns the [start,end) slice bounds for n items, like the ORM: LIMIT/OFFSET only when
// page_size > 0 (src/lib/orm/query.go), a page <= 0 behaves as the first page.
func (lp *listParams) window(n int) (int, int) {
	if lp.pageSize <= 0 {
		return 0, n
	}
	start := int64(0)
	if lp.page > 0 {
		start = lp.pageSize * (lp.page - 1)
	}
	if start >= int64(n) || start < 0 {
		return n, n
	}
	end := start + lp.pageSize
	if end > int64(n) {
		end = int64(n)
	}
	return int(start), int(end)
}

// truthy is go-openapi swag.ConvertBool's accepted "true" set; anything else is false.
var truthy = map[string]bool{"true": true, "1": true, "yes": true, "ok": true, "y": true, "on": true,
	"selected": true, "checked": true, "t": true, "enabled": true}

func boolParam(v url.Values, name string, def bool) bool {
	raw := v.Get(name)
	if raw == "" {
		return def
	}
	return truthy[strings.ToLower(raw)]
}

// setPagingHeaders writes X-Total-Count and Link exactly like BaseAPI.Links + lib.Links.String:
// relative URL (request path + query with page/page_size set), query URL-unescaped, entries
// `<URL>; rel="prev"` and `<URL>; rel="next"` joined by " , " (internal/harbor/API-NOTES.md
// "Paging").
func setPagingHeaders(w http.ResponseWriter, r *http.Request, total int64, lp *listParams) {
	w.Header().Set("X-Total-Count", strconv.FormatInt(total, 10))
	if lp == nil || lp.pageSize == 0 {
		return
	}
	var links []string
	mk := func(page int64, rel string) {
		u := *r.URL
		u.Scheme, u.Host, u.User = "", "", nil
		q := u.Query()
		q.Set("page", strconv.FormatInt(page, 10))
		q.Set("page_size", strconv.FormatInt(lp.pageSize, 10))
		u.RawQuery = q.Encode()
		if unesc, err := url.QueryUnescape(u.RawQuery); err == nil {
			u.RawQuery = unesc
		}
		links = append(links, fmt.Sprintf(`<%s>; rel="%s"`, u.String(), rel))
	}
	if lp.page > 1 && (lp.page-1)*lp.pageSize < total {
		mk(lp.page-1, "prev")
	}
	if lp.pageSize*lp.page < total {
		mk(lp.page+1, "next")
	}
	if len(links) > 0 {
		w.Header().Set("Link", strings.Join(links, " , "))
	}
}
