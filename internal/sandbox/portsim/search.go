package portsim

import (
	"encoding/base64"
	"encoding/json"
	"math"
	"net/http"
	"sort"
	"strings"
)

// Search routes and field selection (internal/port/API-NOTES.md "Search").

// selection is an include/exclude list of entity fields: "identifier",
// "title", "$updatedAt", "properties", "properties.x", "relations.y", or a
// bare property/relation identifier. The identifier is always returned.
type selection struct{ include, exclude []string }

// selection reads repeated include/exclude query parameters (the form Ocean
// sends; comma-joined values are one field name, internal/port/API-NOTES.md
// "Search").
func (c *call) selection() (selection, error) {
	q := c.r.URL.Query()
	if _, err := c.boolParam("exclude_calculated_properties", false, false); err != nil {
		return selection{}, err
	}
	if _, err := c.boolParam("attach_title_to_relation", false, false); err != nil {
		return selection{}, err
	}
	if _, err := c.boolParam("allow_partial_results", false, false); err != nil {
		return selection{}, err
	}
	return selection{include: q["include"], exclude: q["exclude"]}, nil
}

var metaFields = map[string]bool{"identifier": true, "title": true, "icon": true, "team": true, "blueprint": true,
	"createdAt": true, "updatedAt": true, "createdBy": true, "updatedBy": true, "properties": true, "relations": true}

// fieldPath normalizes a selector to (top-level field, sub-key).
func fieldPath(sel string, e *entity) (string, string) {
	sel = strings.TrimPrefix(sel, "$")
	if top, sub, found := strings.Cut(sel, "."); found && (top == "properties" || top == "relations") {
		return top, sub
	}
	if metaFields[sel] {
		return sel, ""
	}
	if _, isProp := e.props[sel]; isProp {
		return "properties", sel
	}
	if _, isRel := e.rels[sel]; isRel {
		return "relations", sel
	}
	return "", ""
}

func (sl selection) project(e *entity, bp string) map[string]any {
	full := e.json(bp)
	if len(sl.include) == 0 && len(sl.exclude) == 0 {
		return full
	}
	out := full
	if len(sl.include) > 0 {
		out = map[string]any{"identifier": e.id}
		for _, f := range sl.include {
			top, sub := fieldPath(f, e)
			switch {
			case top == "":
			case sub == "":
				if v, has := full[top]; has {
					out[top] = v
				}
			default:
				m, _ := out[top].(map[string]any)
				if m == nil {
					m = map[string]any{}
					out[top] = m
				}
				if v, has := full[top].(map[string]any)[sub]; has {
					m[sub] = v
				}
			}
		}
	}
	for _, f := range sl.exclude {
		top, sub := fieldPath(f, e)
		switch {
		case top == "" || top == "identifier":
		case sub == "":
			delete(out, top)
		default:
			if m, isMap := out[top].(map[string]any); isMap {
				delete(m, sub)
			}
		}
	}
	return out
}

type cursor struct {
	Blueprint string `json:"b"`
	After     string `json:"a"`
}

func encodeCursor(bp, after string) string {
	b, _ := json.Marshal(cursor{bp, after})
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(bp, s string) (string, error) {
	raw, err := base64.RawURLEncoding.DecodeString(s)
	var c cursor
	if err == nil {
		err = json.Unmarshal(raw, &c)
	}
	if err != nil || c.Blueprint != bp || c.After == "" {
		return "", invalid("body/from is not a cursor returned by a search of blueprint %q; pass the previous response's \"next\" unchanged", bp)
	}
	return c.After, nil
}

// searchBlueprint: POST /v1/blueprints/{bp}/entities/search.
// Body {query?, include?, exclude?, limit 1..1000 (default 200), from?},
// additionalProperties false. Results in identifier order; next is the
// cursor for the following page, absent on the last page.
func (s *Server) searchBlueprint(c *call) (int, any, error) {
	body, err := c.object()
	if err != nil {
		return 0, nil, err
	}
	if err := onlyKeys("body", body, "query", "include", "exclude", "limit", "from"); err != nil {
		return 0, nil, err
	}
	var q *group
	if qv, present, err := optObject("body", body, "query"); err != nil {
		return 0, nil, err
	} else if present {
		if q, err = compileQueryAt("body/query", qv, searchQuery, c.now); err != nil {
			return 0, nil, err
		}
	}
	var sel selection
	for _, f := range []struct {
		key string
		dst *[]string
	}{{"include", &sel.include}, {"exclude", &sel.exclude}} {
		v, present := body[f.key]
		if !present {
			continue
		}
		arr, isArr := v.([]any)
		if !isArr {
			return 0, nil, invalid("body/%s must be array, got %s", f.key, jsonType(v))
		}
		for i, x := range arr {
			str, isStr := x.(string)
			if !isStr {
				return 0, nil, invalid("body/%s/%d must be string, got %s", f.key, i, jsonType(x))
			}
			*f.dst = append(*f.dst, str)
		}
	}
	limit := 200
	if v, present := body["limit"]; present {
		n, isNum := v.(float64)
		if !isNum {
			return 0, nil, invalid("body/limit must be number, got %s", jsonType(v))
		}
		if n < 1 || n > 1000 || n != math.Trunc(n) {
			return 0, nil, invalid("body/limit must be an integer from 1 to 1000, got %v", n)
		}
		limit = int(n)
	}
	from, hasFrom, err := optString("body", body, "from")
	if err != nil {
		return 0, nil, err
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	bp, err := s.blueprintOf(c)
	if err != nil {
		return 0, nil, err
	}
	if q != nil {
		if err := q.check(bp); err != nil {
			return 0, nil, err
		}
	}
	after := ""
	if hasFrom {
		if after, err = decodeCursor(bp.spec.id, from); err != nil {
			return 0, nil, err
		}
	}
	ids, direct := q.identifierCandidates()
	if !direct {
		ids = bp.idx.ids(bp.ents)
	}
	start := 0
	if after != "" {
		start = sort.SearchStrings(ids, after)
		for start < len(ids) && ids[start] <= after {
			start++
		}
	}
	out := []any{}
	x := &evalCtx{st: s.st, bp: bp}
	last, more := "", false
	for _, id := range ids[start:] {
		e := bp.ents[id]
		if e == nil || id == last {
			continue
		}
		x.e = e
		if q != nil && !q.match(x) {
			continue
		}
		if len(out) == limit {
			more = true
			break
		}
		out = append(out, sel.project(e, bp.spec.id))
		last = id
	}
	resp := okBody("entities", out)
	if more {
		resp["next"] = encodeCursor(bp.spec.id, last)
	}
	return http.StatusOK, resp, nil
}

// searchGlobal: POST /v1/entities/search. Body {combinator, rules}
// (additionalProperties false); no paging; include/exclude as query params.
//
// The query is bound to each candidate blueprint in turn. A blueprint it does
// not fit (a property it lacks, an operator its type does not take) is listed
// in failedBlueprints and contributes no entities; when it fits none of them
// the answer is that blueprint's 422. Both are INFERRED from the response
// schema, which lists matchingBlueprints and failedBlueprints without
// describing them (internal/port/API-NOTES.md "Search").
func (s *Server) searchGlobal(c *call) (int, any, error) {
	sel, err := c.selection()
	if err != nil {
		return 0, nil, err
	}
	body, err := c.object()
	if err != nil {
		return 0, nil, err
	}
	q, err := compileQueryAt("body", body, searchQuery, c.now)
	if err != nil {
		return 0, nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	bps, limited := q.blueprintCandidates()
	if !limited {
		bps = sortedKeys(s.st.bps)
	}
	sort.Strings(bps)
	matching, failed, out := []any{}, []any{}, []any{}
	var firstErr error
	for _, bid := range bps {
		bp := s.st.bps[bid]
		if bp == nil {
			continue
		}
		if err := q.check(bp); err != nil {
			failed = append(failed, bid)
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		matching = append(matching, bid)
		for _, id := range s.matchIn(bp, q, 0) {
			out = append(out, sel.project(bp.ents[id], bid))
		}
	}
	if len(matching) == 0 && firstErr != nil {
		return 0, nil, firstErr
	}
	return http.StatusOK, okBody("matchingBlueprints", matching, "failedBlueprints", failed, "entities", out), nil
}
