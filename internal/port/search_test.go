package port

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

func TestSearchPaginates(t *testing.T) {
	f := newFake(t)
	const total = 2500
	var bodies []map[string]any
	f.handle("POST /v1/blueprints/{blueprint}/entities/search", func(w http.ResponseWriter, r *http.Request) {
		var body map[string]any
		readJSON(t, r, &body)
		bodies = append(bodies, body)
		start := 0
		if from, ok := body["from"].(string); ok {
			start, _ = strconv.Atoi(strings.TrimPrefix(from, "cursor-"))
		}
		lim, ok := body["limit"].(float64)
		if !ok {
			t.Errorf("search body limit = %v (%T), want a number", body["limit"], body["limit"])
			http.Error(w, "no limit", http.StatusBadRequest)
			return
		}
		limit := int(lim)
		var page []any
		for i := start; i < min(start+limit, total); i++ {
			page = append(page, map[string]any{"identifier": fmt.Sprintf("e%d", i), "properties": map[string]any{}, "relations": map[string]any{}})
		}
		resp := map[string]any{"ok": true, "entities": page}
		if start+limit < total {
			resp["next"] = fmt.Sprintf("cursor-%d", start+limit)
		}
		writeJSON(w, 200, resp)
	})
	c := f.client(t)
	q := SearchQuery{Rules: []map[string]any{{"property": "$identifier", "operator": "contains", "value": "e"}}, Include: []string{"$identifier", "properties.digest"}}
	var got []string
	pages := 0
	err := c.SearchEntities(t.Context(), "artifact", q, func(es []Entity) error {
		pages++
		for _, e := range es {
			if e.Blueprint != "artifact" {
				t.Errorf("blueprint = %q", e.Blueprint)
			}
			got = append(got, e.Identifier)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if pages != 3 || len(got) != total || got[0] != "e0" || got[total-1] != fmt.Sprintf("e%d", total-1) {
		t.Errorf("pages=%d entities=%d", pages, len(got))
	}
	for i, b := range bodies {
		if b["limit"] != float64(1000) {
			t.Errorf("limit = %v", b["limit"])
		}
		if _, has := b["from"]; has != (i > 0) {
			t.Errorf("page %d: from present = %v", i, has)
		}
		query, _ := b["query"].(map[string]any)
		if rules, _ := query["rules"].([]any); query["combinator"] != "and" || len(rules) != 1 {
			t.Errorf("query = %v", b["query"])
		}
		if inc, _ := b["include"].([]any); len(inc) != 2 {
			t.Errorf("include = %v", b["include"])
		}
	}
}

func TestSearchWithoutRulesSendsNoQuery(t *testing.T) {
	f := newFake(t)
	f.handle("POST /v1/blueprints/{blueprint}/entities/search", func(w http.ResponseWriter, r *http.Request) {
		var body map[string]any
		readJSON(t, r, &body)
		if _, has := body["query"]; has {
			t.Errorf("query sent without rules: %v", body)
		}
		if _, has := body["include"]; has {
			t.Errorf("empty include sent: %v", body)
		}
		writeJSON(w, 200, map[string]any{"ok": true, "entities": []any{}})
	})
	c := f.client(t)
	calls := 0
	if err := c.SearchEntities(t.Context(), "bp", SearchQuery{}, func([]Entity) error { calls++; return nil }); err != nil || calls != 1 {
		t.Errorf("err=%v calls=%d", err, calls)
	}
}

func TestSearchStopsOnPageErrorAndRepeatedCursor(t *testing.T) {
	f := newFake(t)
	f.handle("POST /v1/blueprints/{blueprint}/entities/search", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, map[string]any{"ok": true, "entities": []any{}, "next": "same"})
	})
	c := f.client(t)
	stop := errors.New("stop")
	if err := c.SearchEntities(t.Context(), "bp", SearchQuery{}, func([]Entity) error { return stop }); err != stop {
		t.Errorf("err = %v, want the page error unchanged", err)
	}
	err := c.SearchEntities(t.Context(), "bp", SearchQuery{}, func([]Entity) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "repeated") {
		t.Errorf("err = %v, want a repeated-cursor error", err)
	}
}

// An entity whose identifier is neither a string nor a query stops the search
// with an error naming the page position, instead of yielding a blank entity.
func TestSearchRejectsAnEntityWithABadIdentifier(t *testing.T) {
	f := newFake(t)
	f.handle("POST /v1/blueprints/{blueprint}/entities/search", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, map[string]any{"ok": true, "entities": []any{
			map[string]any{"identifier": "ok", "title": "fine", "properties": map[string]any{"n": 1}, "relations": map[string]any{}},
			map[string]any{"identifier": 5, "properties": map[string]any{}, "relations": map[string]any{}},
		}})
	})
	err := f.client(t).SearchEntities(t.Context(), "artifact", SearchQuery{}, func([]Entity) error {
		t.Error("a page with a bad entity was handed on")
		return nil
	})
	if err == nil || !strings.Contains(err.Error(), "entity 1 of the page") || !strings.Contains(err.Error(), "unexpected JSON type float64") {
		t.Fatalf("err = %v", err)
	}
}

// decodeSearchPage gives what encoding/json into the wire struct gives.
func TestDecodeSearchPageMatchesEncodingJSON(t *testing.T) {
	for _, doc := range []string{
		`{"ok":true,"entities":[],"next":null}`,
		`{"ok":true,"entities":[{"identifier":"a","blueprint":"b","title":"T","icon":"Docker","team":["x"],"properties":{"n":1,"s":"v","o":{"k":[1,"2",null]}},"relations":{"r":"id","m":["a","b"]}},null,{"identifier":{"combinator":"and","rules":[]}}],"next":"cursor"}`,
		`{"entities":[{"identifier":"x","title":null,"properties":null}]}`,
		`{"entities":[{"identifier":"x","title":3}]}`,
		`{"entities":[{"identifier":"x","properties":[]}]}`,
		`{"entities":{}}`,
		`[]`,
	} {
		var want struct {
			Entities []wireEntity `json:"entities"`
			Next     *string      `json:"next"`
		}
		wantErr := json.Unmarshal([]byte(doc), &want)
		got, err := decodeSearchPage([]byte(doc))
		if (wantErr != nil) != (err != nil) {
			t.Fatalf("%s: encoding/json error %v, decodeSearchPage error %v", doc, wantErr, err)
		}
		if err == nil && (!reflect.DeepEqual(got.Entities, want.Entities) || !reflect.DeepEqual(got.Next, want.Next)) {
			t.Fatalf("%s:\n got %+v %v\nwant %+v %v", doc, got.Entities, got.Next, want.Entities, want.Next)
		}
	}
}
