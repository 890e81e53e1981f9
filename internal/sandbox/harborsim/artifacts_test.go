package harborsim

import (
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestRepositoryNameEncoding(t *testing.T) {
	c := newTC(t, Options{})
	c.s.CreateProject("tfdemo", false)
	mustPush(t, c.s, "tfdemo", "team/hello", []string{"v1"}, PushOptions{})
	cases := []struct {
		name, path string
		status     int
		body       string
	}{
		{"double-encoded repo", "/api/v2.0/projects/tfdemo/repositories/team%252Fhello", 200, ""},
		{"double-encoded artifacts", "/api/v2.0/projects/tfdemo/repositories/team%252Fhello/artifacts", 200, ""},
		{"single-encoded misses every route", "/api/v2.0/projects/tfdemo/repositories/team%2Fhello", 404,
			errBody("NOT_FOUND", "path /api/v2.0/projects/tfdemo/repositories/team/hello was not found")},
		{"single-encoded artifacts", "/api/v2.0/projects/tfdemo/repositories/team%2Fhello/artifacts", 404,
			errBody("NOT_FOUND", "path /api/v2.0/projects/tfdemo/repositories/team/hello/artifacts was not found")},
		{"unencoded", "/api/v2.0/projects/tfdemo/repositories/team/hello", 404,
			errBody("NOT_FOUND", "path /api/v2.0/projects/tfdemo/repositories/team/hello was not found")},
		{"missing repository", "/api/v2.0/projects/tfdemo/repositories/nope", 404,
			errBody("NOT_FOUND", "repository tfdemo/nope not found")},
		{"artifacts of a missing repository are an empty list", "/api/v2.0/projects/tfdemo/repositories/nope/artifacts", 200, "[]\n"},
		{"missing tag", "/api/v2.0/projects/tfdemo/repositories/team%252Fhello/artifacts/nope", 404,
			errBody("NOT_FOUND", "artifact tfdemo/team/hello:nope not found")},
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			r := c.req("GET", tt.path, admin, "")
			if r.status != tt.status || (tt.body != "" && r.body != tt.body) {
				t.Fatalf("got %d %q, want %d %q", r.status, r.body, tt.status, tt.body)
			}
		})
	}
	// addition links carry %252F and can be followed verbatim
	// (internal/harbor/API-NOTES.md "Repository names in paths")
	var arts []artifactJSON
	c.req("GET", "/api/v2.0/projects/tfdemo/repositories/team%252Fhello/artifacts", admin, "").json(t, &arts)
	if h := arts[0].AdditionLinks["build_history"].Href; !strings.Contains(h, "/repositories/team%252Fhello/artifacts/sha256:") {
		t.Fatalf("href %q", h)
	}
}

func artifactsFixture(t *testing.T) (*tc, map[string]string) {
	c := newTC(t, Options{})
	c.s.CreateProject("p", false)
	d := map[string]string{}
	d["old"] = mustPush(t, c.s, "p", "r", []string{"v1", "stable"}, PushOptions{Size: 800})
	d["untagged"] = mustPush(t, c.s, "p", "r", nil, PushOptions{})
	d["index"] = mustPush(t, c.s, "p", "r", []string{"multi"}, PushOptions{Children: 2})
	d["clean"] = mustPush(t, c.s, "p", "r", []string{"v2"}, PushOptions{})
	if err := c.s.ScanArtifact("p", "r", d["old"], map[string]int{"High": 2, "Low": 51, "Medium": 1, "Critical": 0}); err != nil {
		t.Fatal(err)
	}
	if err := c.s.ScanArtifact("p", "r", d["clean"], nil); err != nil {
		t.Fatal(err)
	}
	if err := c.s.PullArtifact("p", "r", "v1"); err != nil {
		t.Fatal(err)
	}
	return c, d
}

func listArts(t *testing.T, c *tc, query string, hdr ...string) ([]artifactJSON, resp) {
	t.Helper()
	r := c.req("GET", "/api/v2.0/projects/p/repositories/r/artifacts"+query, admin, "", hdr...)
	if r.status != 200 {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	var arts []artifactJSON
	r.json(t, &arts)
	return arts, r
}

func digests(arts []artifactJSON) []string {
	var out []string
	for _, a := range arts {
		out = append(out, a.Digest)
	}
	return out
}

func TestArtifactListFilters(t *testing.T) {
	c, d := artifactsFixture(t)
	cases := []struct {
		name, q string
		want    []string
		total   string
	}{
		{"default hides index children, newest first", "", []string{d["clean"], d["index"], d["untagged"], d["old"]}, "4"},
		{"base=* includes children", "?q=base%3D*", nil, "6"},
		{"tags=* tagged only", "?q=" + url.QueryEscape("tags=*"), []string{d["clean"], d["index"], d["old"]}, "3"},
		{"tags=nil untagged roots only", "?q=tags%3Dnil", []string{d["untagged"]}, "1"},
		{"tags=~v fuzzy", "?q=tags%3D~v", []string{d["clean"], d["old"]}, "2"},
		{"tags=stable exact", "?q=tags%3Dstable", []string{d["old"]}, "1"},
		{"sort by size asc", "?sort=size&q=tags%3D~v", []string{d["old"], d["clean"]}, "2"},
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			arts, r := listArts(t, c, tt.q)
			if r.header.Get("X-Total-Count") != tt.total {
				t.Fatalf("total %s, want %s", r.header.Get("X-Total-Count"), tt.total)
			}
			if tt.want != nil && strings.Join(digests(arts), ",") != strings.Join(tt.want, ",") {
				t.Fatalf("digests %v, want %v", digests(arts), tt.want)
			}
		})
	}
	bad := []struct{ q, msg string }{
		{"?q=base%3D~x", `the value of "base" query can only be exact match value with "*"`},
		{"?q=tags%3D%5B1~2%5D", `the value of "tags" query can only be fuzzy match value or exact match value with "*" and "nil"`},
		{"?q=labels%3D%7Ba%7D", `the value of "labels" query can only be integer list with intersetion relationship`},
	}
	for _, b := range bad {
		r := c.req("GET", "/api/v2.0/projects/p/repositories/r/artifacts"+b.q, admin, "")
		if r.status != 400 || r.body != errBody("BAD_REQUEST", b.msg) {
			t.Fatalf("%s: %d %q", b.q, r.status, r.body)
		}
	}
	// children stay reachable by digest and the index lists them as references
	var idx artifactJSON
	c.req("GET", "/api/v2.0/projects/p/repositories/r/artifacts/"+d["index"], admin, "").json(t, &idx)
	if len(idx.References) != 2 || idx.References[0].Platform == nil || idx.ExtraAttrs != nil {
		t.Fatalf("index references %+v extra %v", idx.References, idx.ExtraAttrs)
	}
	r := c.req("GET", "/api/v2.0/projects/p/repositories/r/artifacts/"+idx.References[0].ChildDigest, admin, "")
	if r.status != 200 {
		t.Fatalf("child by digest: %d", r.status)
	}
	// artifact_count excludes children
	var repo repositoryJSON
	c.req("GET", "/api/v2.0/projects/p/repositories/r", admin, "").json(t, &repo)
	if repo.ArtifactCount != 4 || repo.PullCount != 1 {
		t.Fatalf("repo counts %+v", repo)
	}
}

func TestScanOverview(t *testing.T) {
	c, d := artifactsFixture(t)
	byDigest := func(arts []artifactJSON, dg string) artifactJSON {
		for _, a := range arts {
			if a.Digest == dg {
				return a
			}
		}
		t.Fatalf("digest %s missing", dg)
		return artifactJSON{}
	}
	arts, r := listArts(t, c, "?with_scan_overview=true")
	old := byDigest(arts, d["old"]).ScanOverview[MimeTypeGenericVulnerabilityReport]
	if old == nil || old.Severity != "High" || old.ScanStatus != "Success" || old.Summary.Total != 54 {
		t.Fatalf("old overview %+v", old)
	}
	if len(old.Summary.Summary) != 3 || old.Summary.Summary["Critical"] != 0 {
		t.Fatalf("only present severities expected, got %v", old.Summary.Summary)
	}
	clean := byDigest(arts, d["clean"]).ScanOverview[MimeTypeGenericVulnerabilityReport]
	if clean.Severity != "None" || clean.Summary == nil || len(clean.Summary.Summary) != 0 {
		t.Fatalf("clean overview %+v", clean)
	}
	if !strings.Contains(r.body, `"summary":{"fixable":0,"summary":{},"total":0}`) {
		t.Fatal("a clean scan must render summary {} (not null, not omitted)")
	}
	if byDigest(arts, d["untagged"]).ScanOverview != nil {
		t.Fatal("never scanned artifact must have no scan_overview key")
	}
	if strings.Count(r.body, `"scan_overview"`) != 2 {
		t.Fatalf("scan_overview keys: %d", strings.Count(r.body, `"scan_overview"`))
	}
	arts, _ = listArts(t, c, "")
	if byDigest(arts, d["old"]).ScanOverview != nil {
		t.Fatal("scan_overview only with with_scan_overview=true")
	}
	arts, _ = listArts(t, c, "?with_scan_overview=true", "X-Accept-Vulnerabilities", MimeTypeNativeReport)
	if byDigest(arts, d["old"]).ScanOverview != nil {
		t.Fatal("a v1.1 report must not answer a request for the native 1.0 type only")
	}
	arts, _ = listArts(t, c, "?with_scan_overview=true", "X-Accept-Vulnerabilities", MimeTypeNativeReport+", "+MimeTypeGenericVulnerabilityReport)
	if byDigest(arts, d["old"]).ScanOverview[MimeTypeGenericVulnerabilityReport] == nil {
		t.Fatal("the first requested type that has a report must answer")
	}
	if !strings.Contains(byDigest(arts, d["old"]).AdditionLinks["vulnerabilities"].Href, "/additions/vulnerabilities") {
		t.Fatal("missing vulnerabilities addition link")
	}
}

var millisRe = regexp.MustCompile(`"(push_time|pull_time|creation_time|update_time|start_time|end_time)":"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)"`)

func TestTimestampsAndTags(t *testing.T) {
	c, d := artifactsFixture(t)
	r := c.req("GET", "/api/v2.0/projects/p/repositories/r/artifacts/"+d["old"]+"?with_scan_overview=true", admin, "")
	if strings.Count(r.body, `_time":"`) != len(millisRe.FindAllString(r.body, -1)) {
		t.Fatalf("every timestamp must be RFC3339 with exactly 3 fractional digits and Z: %s", r.body)
	}
	var a artifactJSON
	r.json(t, &a)
	if len(a.Tags) != 2 || a.Tags[0].Name != "stable" {
		t.Fatalf("tags newest first: %+v", a.Tags)
	}
	r = c.req("GET", "/api/v2.0/projects/p/repositories/r/artifacts/"+d["untagged"], admin, "")
	for _, want := range []string{`"pull_time":"0001-01-01T00:00:00.000Z"`, `"tags":null`, `"labels":null`, `"references":null`, `"accessories":null`} {
		if !strings.Contains(r.body, want) {
			t.Fatalf("missing %s in %s", want, r.body)
		}
	}
	// pull by tag updates the tag's pull_time, the other tag stays never-pulled
	r = c.req("GET", "/api/v2.0/projects/p/repositories/r/artifacts/v1/tags", admin, "")
	var tags []tagJSON
	r.json(t, &tags)
	if r.header.Get("X-Total-Count") != "2" || len(tags) != 2 {
		t.Fatalf("tags list %s", r.body)
	}
	for _, tg := range tags {
		pulled := !time.Time(tg.PullTime).IsZero()
		if pulled != (tg.Name == "v1") {
			t.Fatalf("tag %s pulled=%v; only v1 was pulled", tg.Name, pulled)
		}
	}
	if !strings.Contains(r.body, `"pull_time":"0001-01-01T00:00:00.000Z"`) {
		t.Fatal("never-pulled tag must render the zero time with milliseconds")
	}
	// with_tag=false renders tags null
	r = c.req("GET", "/api/v2.0/projects/p/repositories/r/artifacts/v1?with_tag=false", admin, "")
	if !strings.Contains(r.body, `"tags":null`) {
		t.Fatalf("with_tag=false: %s", r.body)
	}
}
