package harborsim

import (
	"fmt"
	"testing"
)

func TestPagingHeadersAndLimits(t *testing.T) {
	c := newTC(t, Options{NoLibraryProject: true})
	for i := 0; i < 25; i++ {
		c.s.CreateProject(fmt.Sprintf("p%02d", i), true)
	}
	cases := []struct {
		name, path  string
		status      int
		total, link string
		count       int
		body        string
	}{
		{"default page size 10, next only", "/api/v2.0/projects", 200, "25",
			`</api/v2.0/projects?page=2&page_size=10>; rel="next"`, 10, ""},
		{"middle page has prev and next joined by ' , '", "/api/v2.0/projects?page=2&page_size=10", 200, "25",
			`</api/v2.0/projects?page=1&page_size=10>; rel="prev" , </api/v2.0/projects?page=3&page_size=10>; rel="next"`, 10, ""},
		{"last page prev only", "/api/v2.0/projects?page=3&page_size=10", 200, "25",
			`</api/v2.0/projects?page=2&page_size=10>; rel="prev"`, 5, ""},
		{"query is unescaped in Link", "/api/v2.0/projects?q=name%3D~p&page_size=5&page=2", 200, "25",
			`</api/v2.0/projects?page=1&page_size=5&q=name=~p>; rel="prev" , </api/v2.0/projects?page=3&page_size=5&q=name=~p>; rel="next"`, 5, ""},
		{"page_size=0 returns all without Link", "/api/v2.0/projects?page_size=0", 200, "25", "", 25, ""},
		{"page_size 100 allowed", "/api/v2.0/projects?page_size=100", 200, "25", "", 25, ""},
		{"page_size > 100 is 422", "/api/v2.0/projects?page_size=101", 422, "", "", 0,
			errBody("UNPROCESSABLE_ENTITY", "validation failure list:\npage_size in query should be less than or equal to 100")},
		{"non-integer page is 422", "/api/v2.0/projects?page=x", 422, "", "", 0,
			errBody("UNPROCESSABLE_ENTITY", "validation failure list:\npage in query must be of type int64: \"x\"")},
		{"no match: total 0 and no Link", "/api/v2.0/projects?name=nomatch", 200, "0", "", 0, "[]\n"},
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			r := c.req("GET", tt.path, admin, "")
			if r.status != tt.status {
				t.Fatalf("status %d, body %s", r.status, r.body)
			}
			if tt.body != "" && r.body != tt.body {
				t.Fatalf("body %q, want %q", r.body, tt.body)
			}
			if tt.status != 200 {
				if ct := r.header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
					t.Fatalf("error Content-Type %q", ct)
				}
				return
			}
			if got := r.header.Get("X-Total-Count"); got != tt.total {
				t.Fatalf("X-Total-Count %q, want %q", got, tt.total)
			}
			if got := r.header.Get("Link"); got != tt.link {
				t.Fatalf("Link %q, want %q", got, tt.link)
			}
			var items []map[string]any
			r.json(t, &items)
			if len(items) != tt.count {
				t.Fatalf("%d items, want %d", len(items), tt.count)
			}
		})
	}
}

func TestCommonHeaders(t *testing.T) {
	c := newTC(t, Options{})
	r := c.req("GET", "/api/v2.0/ping", "", "")
	if r.status != 200 || r.body != "Pong" || r.header.Get("Content-Type") != "text/plain" {
		t.Fatalf("ping: %d %q %q", r.status, r.body, r.header.Get("Content-Type"))
	}
	if r.header.Get("X-Request-Id") == "" {
		t.Fatal("missing X-Request-Id")
	}
	r = c.req("GET", "/api/v2.0/projects", admin, "", "X-Request-Id", "mine-123")
	if got := r.header.Get("X-Request-Id"); got != "mine-123" {
		t.Fatalf("X-Request-Id not echoed: %q", got)
	}
	if got := r.header.Get("Set-Cookie"); len(got) < 10 || got[:4] != "sid=" {
		t.Fatalf("Set-Cookie %q", got)
	}
	if got := r.header.Get("Content-Type"); got != "application/json" {
		t.Fatalf("Content-Type %q", got)
	}
	if r.body[len(r.body)-1] != '\n' {
		t.Fatal("JSON body must end with a newline (go-openapi producer)")
	}
}
