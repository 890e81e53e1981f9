package harbor

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
)

func TestPaging(t *testing.T) {
	tests := []struct {
		name      string
		n         int
		noTotal   bool
		wantPages []string
	}{
		{name: "empty", n: 0, wantPages: []string{"1"}},
		{name: "short first page", n: 42, wantPages: []string{"1"}},
		{name: "250 items", n: 250, wantPages: []string{"1", "2", "3"}},
		// page*100 >= X-Total-Count stops without asking for an empty page 3.
		{name: "exactly 200 with total", n: 200, wantPages: []string{"1", "2"}},
		{name: "exactly 200 without total", n: 200, noTotal: true, wantPages: []string{"1", "2", "3"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newStub(t)
			items := genItems(tc.n, "project_id")
			h := pageOf(items)
			s.handle("GET", "/api/v2.0/projects", func(w http.ResponseWriter, r *http.Request) {
				if tc.noTotal {
					w = noTotalWriter{w}
				}
				h(w, r)
			})
			c := newTestClient(t, fastConfig(s.srv.URL))
			got, err := c.ListProjects(ctxT(t), ProjectQuery{})
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != tc.n {
				t.Fatalf("got %d items, want %d", len(got), tc.n)
			}
			var pages []string
			for _, r := range s.requests() {
				q := parseURIQuery(t, r.URI)
				if q.Get("page_size") != "100" {
					t.Errorf("page_size = %q", q.Get("page_size"))
				}
				pages = append(pages, q.Get("page"))
			}
			if strings.Join(pages, ",") != strings.Join(tc.wantPages, ",") {
				t.Fatalf("pages requested %v, want %v", pages, tc.wantPages)
			}
		})
	}
}

type noTotalWriter struct{ http.ResponseWriter }

func (w noTotalWriter) WriteHeader(code int) {
	w.Header().Del("X-Total-Count")
	w.ResponseWriter.WriteHeader(code)
}

// Artifacts are ordered -push_time: a push between two page requests shifts the list, so the
// last item of page 1 shows up again on page 2 (internal/harbor/API-NOTES.md "Paging"). It
// must appear once.
func TestPagingDedupesShiftedItems(t *testing.T) {
	s := newStub(t)
	all := genItems(150, "id")
	s.handle("GET", "/api/v2.0/projects/p/repositories/r/artifacts", func(w http.ResponseWriter, r *http.Request) {
		page, _ := strconv.Atoi(r.URL.Query().Get("page"))
		w.Header().Set("X-Total-Count", "151")
		if page == 1 {
			writeJSON(w, all[:100])
			return
		}
		writeJSON(w, all[99:]) // item 100 again, then 101..150 (51 items: short page)
	})
	c := newTestClient(t, fastConfig(s.srv.URL))
	got, err := c.ListArtifacts(ctxT(t), "p", "r", ArtifactQuery{WithTag: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 150 {
		t.Fatalf("got %d artifacts, want 150 distinct", len(got))
	}
}

// A proxy that drops `page` would make a naive loop spin forever.
func TestPagingStopsWhenPagesRepeat(t *testing.T) {
	s := newStub(t)
	items := genItems(100, "project_id")
	s.handle("GET", "/api/v2.0/projects", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Total-Count", "1000")
		writeJSON(w, items)
	})
	_, err := newTestClient(t, fastConfig(s.srv.URL)).ListProjects(ctxT(t), ProjectQuery{})
	if err == nil || !strings.Contains(err.Error(), "page parameter") {
		t.Fatalf("err = %v", err)
	}
	if n := len(s.requests()); n != 2 {
		t.Fatalf("%d requests, want 2", n)
	}
}

// The Link header is never requested verbatim (its q is unescaped, lib/link.go): paging builds
// its own URLs, so the q filter survives on every page.
func TestPagingIgnoresLink(t *testing.T) {
	s := newStub(t)
	items := genItems(150, "project_id")
	s.handle("GET", "/api/v2.0/projects", func(w http.ResponseWriter, r *http.Request) {
		page, _ := strconv.Atoi(r.URL.Query().Get("page"))
		w.Header().Set("X-Total-Count", "150")
		w.Header().Set("Link", `</api/v2.0/trap?page=2&page_size=100&q=name=~a b>; rel="next"`)
		writeJSON(w, items[(page-1)*100:min(page*100, 150)])
	})
	s.handle("GET", "/api/v2.0/trap", func(w http.ResponseWriter, r *http.Request) {
		t.Error("the Link URL was followed")
		writeJSON(w, []any{})
	})
	c := newTestClient(t, fastConfig(s.srv.URL))
	got, err := c.ListProjects(ctxT(t), ProjectQuery{Q: "name=~a b"})
	if err != nil || len(got) != 150 {
		t.Fatalf("ListProjects = %d items, %v", len(got), err)
	}
	for _, r := range s.requests() {
		if q := parseURIQuery(t, r.URI).Get("q"); q != "name=~a b" {
			t.Errorf("%s: q = %q", r.URI, q)
		}
	}
}
