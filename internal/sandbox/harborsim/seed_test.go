package harborsim

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestSeedDeterministic(t *testing.T) {
	cfg := SeedConfig{Projects: 12, ReposPerProject: 4, ArtifactsPerRepo: 15, Users: 6, Seed: 42}
	a, b := newTC(t, Options{}), newTC(t, Options{})
	a.s.Seed(cfg)
	b.s.Seed(cfg)
	paths := []string{
		"/api/v2.0/projects?page_size=0",
		"/api/v2.0/repositories?page_size=100",
		"/api/v2.0/users?page_size=0",
		"/api/v2.0/projects/acme-0000/repositories/team%252Fsvc-001/artifacts?with_scan_overview=true&page_size=0&q=base%3D*",
	}
	for _, p := range paths {
		ra, rb := a.req("GET", p, admin, ""), b.req("GET", p, admin, "")
		if ra.status != 200 || ra.body != rb.body || ra.header.Get("Link") != rb.header.Get("Link") {
			t.Fatalf("%s differs or failed (%d)", p, ra.status)
		}
	}
	other := newTC(t, Options{})
	other.s.Seed(SeedConfig{Projects: 12, ReposPerProject: 4, ArtifactsPerRepo: 15, Users: 6, Seed: 43})
	if other.req("GET", paths[3], admin, "").body == a.req("GET", paths[3], admin, "").body {
		t.Fatal("a different seed must change the data")
	}
}

func TestSeedContents(t *testing.T) {
	c := newTC(t, Options{NoLibraryProject: true})
	c.s.Seed(SeedConfig{Projects: 12, ReposPerProject: 4, ArtifactsPerRepo: 23, Users: 6, Seed: 1})
	var total, children, untagged, multi, indexes, never, clean, vuln, pulled, empty, public int
	nested := map[int]bool{}
	for _, p := range c.s.projOrder {
		if len(p.repos) == 0 {
			empty++
		}
		if p.public() {
			public++
		}
		for _, r := range p.repos {
			nested[strings.Count(r.name, "/")] = true
			for _, a := range r.arts {
				total++
				switch {
				case a.parents > 0:
					children++
				case len(a.tags) == 0:
					untagged++
				case len(a.tags) > 1:
					multi++
				}
				if len(a.references) > 0 {
					indexes++
				}
				switch {
				case a.scan == nil:
					never++
				case len(a.scan.counts) == 0:
					clean++
				default:
					vuln++
				}
				if !a.pullTime.IsZero() {
					pulled++
				}
			}
		}
	}
	if want := 10 * 4 * 23; total != want { // 2 of 12 projects are empty
		t.Fatalf("total artifacts %d, want %d", total, want)
	}
	for name, n := range map[string]int{"children": children, "untagged": untagged, "multi-tag": multi, "indexes": indexes,
		"never scanned": never, "clean": clean, "vulnerable": vuln, "pulled": pulled, "empty projects": empty, "public": public} {
		if n == 0 {
			t.Errorf("seed produced no %s", name)
		}
	}
	if !nested[1] || !nested[2] || !nested[3] {
		t.Errorf("want repository depths 1..3, got %v", nested)
	}
	if c.s.projByName["9003"] == nil {
		t.Error("want an all-digit project name")
	}
	if c.s.usersByName["jürgen-0001"] == nil {
		t.Error("want a unicode username")
	}
}

// TestSeedScale: 100k artifacts over 2,000 repositories must seed in a few seconds and pages
// must be served without touching every artifact.
func TestSeedScale(t *testing.T) {
	if testing.Short() {
		t.Skip("scale test")
	}
	c := newTC(t, Options{})
	start := time.Now()
	c.s.Seed(SeedConfig{Projects: 48, ReposPerProject: 50, ArtifactsPerRepo: 50, Users: 50, Seed: 7}) // 40 non-empty × 50 × 50
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("seeding took %v", d)
	}
	r := c.req("GET", "/api/v2.0/repositories?page_size=1", admin, "")
	if r.header.Get("X-Total-Count") != "2000" {
		t.Fatalf("repositories total %s", r.header.Get("X-Total-Count"))
	}
	start = time.Now()
	for i := 0; i < 200; i++ {
		r = c.req("GET", fmt.Sprintf("/api/v2.0/projects/acme-0000/repositories/app-000/artifacts?page=%d&page_size=10&with_scan_overview=true", 1+i%5), admin, "")
		if r.status != 200 {
			t.Fatal(r.body)
		}
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("200 artifact pages took %v", d)
	}
}

func BenchmarkListArtifactsPage(b *testing.B) {
	s := New(Options{})
	s.Seed(SeedConfig{Projects: 48, ReposPerProject: 50, ArtifactsPerRepo: 50, Seed: 7})
	rq := newBenchRequest("/api/v2.0/projects/acme-0000/repositories/team%252Fsvc-001/artifacts?page=3&page_size=10&with_scan_overview=true")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		w := newDiscardWriter()
		s.ServeHTTP(w, rq)
		if w.status != 200 {
			b.Fatal(w.status)
		}
	}
}
