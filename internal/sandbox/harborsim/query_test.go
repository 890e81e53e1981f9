package harborsim

import (
	"net/url"
	"reflect"
	"testing"
)

func TestParseQuery(t *testing.T) {
	cases := []struct {
		raw    string
		want   map[string]any
		errMsg string
	}{
		{"name=foo", map[string]any{"name": "foo"}, ""},
		{"name=~foo", map[string]any{"name": fuzzy{"foo"}}, ""},
		{"name%3D~foo", map[string]any{"name": fuzzy{"foo"}}, ""}, // whole value is unescaped first
		{"id=[1~5]", map[string]any{"id": valRange{int64(1), int64(5)}}, ""},
		{"id=[~5]", map[string]any{"id": valRange{nil, int64(5)}}, ""},
		{"name={a b}", map[string]any{"name": orList{[]any{"a", "b"}}}, ""},
		{"labels=(1 2)", map[string]any{"labels": andList{[]any{int64(1), int64(2)}}}, ""},
		{`name=\~x`, map[string]any{"name": "~x"}, ""},
		{"a=1,b=~x", map[string]any{"a": "1", "b": fuzzy{"x"}}, ""},
		{"name=", nil, errQueryMsg},
		{"=foo", nil, errQueryMsg},
		{"name", nil, errQueryMsg},
		{"a=1,,b=2", nil, errQueryMsg},
		{"id=[1~2~3]", nil, `invalid query string value: [1~2~3]: range must start with "[", end with "]" and contains only one "~"`},
		{"id=[~]", nil, `invalid query string value: [~]: min and max at least one should be set in range'`},
		{"name=~", nil, `invalid query string value: ~: fuzzy match value must start with "~" and contain at least 1 other characters`},
		{"name={a b", nil, `invalid query string value: {a b: or list must start with "{" and end with "}"`},
	}
	for _, tt := range cases {
		t.Run(tt.raw, func(t *testing.T) {
			q, err := parseQuery(tt.raw)
			if tt.errMsg != "" {
				if err == nil || err.message != tt.errMsg || err.status != 400 || err.code != "BAD_REQUEST" {
					t.Fatalf("got %v, want 400 %q", err, tt.errMsg)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(q.terms, tt.want) {
				t.Fatalf("terms %#v, want %#v", q.terms, tt.want)
			}
		})
	}
}

func TestQueryOverHTTP(t *testing.T) {
	c := newTC(t, Options{NoLibraryProject: true})
	for _, n := range []string{"alpha", "alphabet", "beta", "gamma"} {
		c.s.CreateProject(n, false)
	}
	cases := []struct {
		q      string
		status int
		names  []string
		body   string
	}{
		{"name=alpha", 200, []string{"alpha"}, ""},
		{"name=~ALPH", 200, []string{"alpha", "alphabet"}, ""}, // fuzzy is case-insensitive (icontains)
		{"name={beta gamma}", 200, []string{"beta", "gamma"}, ""},
		{"project_id=[2~3]", 200, []string{"alphabet", "beta"}, ""},
		{"unknown=1", 200, []string{"alpha", "alphabet", "beta", "gamma"}, ""}, // non-filterable keys are ignored
		{"name=", 400, nil, errBody("BAD_REQUEST", errQueryMsg)},
	}
	for _, tt := range cases {
		t.Run(tt.q, func(t *testing.T) {
			r := c.req("GET", "/api/v2.0/projects?q="+url.QueryEscape(tt.q), admin, "")
			if r.status != tt.status {
				t.Fatalf("status %d: %s", r.status, r.body)
			}
			if tt.body != "" {
				if r.body != tt.body {
					t.Fatalf("body %q, want %q", r.body, tt.body)
				}
				return
			}
			var got []projectJSON
			r.json(t, &got)
			var names []string
			for _, p := range got {
				names = append(names, p.Name)
			}
			if !reflect.DeepEqual(names, tt.names) {
				t.Fatalf("names %v, want %v", names, tt.names)
			}
		})
	}
}
