package harbor

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// Fuzz targets of the Harbor client (see internal/FUZZING.md); the older
// FuzzRepoPathSegment (paths_test.go) and FuzzBuildParseQ (query_test.go)
// live next to the unit tests they extend. There is no Link header target:
// the client does not read Link (paging.go explains why).

// Harbor's own name grammars (distribution/reference,
// internal/harbor/API-NOTES.md "Repository names in paths"), to check that real
// names are never refused.
var (
	fuzzProjectRe   = regexp.MustCompile(`^[a-z0-9]+(?:[._-][a-z0-9]+)*$`)
	fuzzComponentRe = regexp.MustCompile(`^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$`)
	fuzzTagRe       = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)
	fuzzDigestRe    = regexp.MustCompile(`^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$`)
)

func harborNames(project, short, ref string) bool {
	if !fuzzProjectRe.MatchString(project) || (!fuzzTagRe.MatchString(ref) && !fuzzDigestRe.MatchString(ref)) {
		return false
	}
	for _, c := range strings.Split(short, "/") {
		if !fuzzComponentRe.MatchString(c) {
			return false
		}
	}
	return true
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// FuzzArtifactRequest drives the real client (GetArtifact: project, nested
// repository, reference and q) into a transport that records the request
// line as it goes on the wire, and reads it back as Harbor does.
// Properties: a name the client refuses sends nothing; a name following
// Harbor's grammar is never refused; otherwise the path has exactly the
// route's segments; the project and reference decode once and the
// repository twice (double encoding) back to the caller's values, with no
// '/' left after the router's single decode; q survives query decoding plus
// Harbor's extra QueryUnescape and parses to the same terms; the item is
// enriched with the caller's project and full repository name.
func FuzzArtifactRequest(f *testing.F) {
	f.Add("tfdemo", "tfdemo/hello", "latest", "")
	f.Add("tfdemo", "team/sub/app", "sha256:6cb0ba24593f3e1e06da8b4bd0f9e5ab61a32c0f1c2b73d0c7af5dd2a8fe1cd3", "tags=*")
	f.Add("lib", "lib/lib/x", "v1.0", "digest=~sha256:ab,push_time=[2026-01-01T00:00:00~]")
	f.Add("p", "a%2Fb", "a+b", "name={a b}")
	f.Add("p", "../x", "..", "x=%25+")
	f.Add("42", "a b/c", "t?x#y", `tags=\~x`)
	f.Add("p;q", "x;y/z%", "sha256:=", "labels=(1 2)")
	f.Add("p", "é/ü", "漢", "")
	f.Fuzz(func(t *testing.T, project, repo, ref, q string) {
		var mu sync.Mutex
		var reqs []*http.Request
		hc := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
			mu.Lock()
			reqs = append(reqs, r)
			mu.Unlock()
			return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}},
				Body: io.NopCloser(strings.NewReader(`{"digest":"sha256:ab"}`)), Request: r}, nil
		})}
		c, err := New(Config{URL: "https://harbor.example.com/prefix", Username: "u", Password: "p", HTTPClient: hc, MaxRetries: -1})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		item, err := c.GetArtifact(ctx, project, repo, ref, ArtifactQuery{Q: q, WithTag: true})
		short := ShortRepoName(project, repo)
		if err != nil {
			if len(reqs) != 0 {
				t.Fatalf("refused (%v) but sent %d request(s)", err, len(reqs))
			}
			if _, qerr := ParseQ(q); qerr == nil && harborNames(project, short, ref) {
				t.Fatalf("GetArtifact(%q, %q, %q) refused valid Harbor names: %v", project, repo, ref, err)
			}
			return
		}
		if len(reqs) != 1 {
			t.Fatalf("%d requests", len(reqs))
		}
		if item["projectName"] != project || item["repositoryName"] != project+"/"+short {
			t.Fatalf("item enriched as %v/%v", item["projectName"], item["repositoryName"])
		}
		// The server side: the request line, split by the router.
		wire := reqs[0].URL.RequestURI()
		u, err := url.ParseRequestURI(wire)
		if err != nil {
			t.Fatalf("request line %q does not parse: %v", wire, err)
		}
		segs := strings.Split(u.EscapedPath(), "/")
		want := []string{"", "prefix", "api", "v2.0", "projects", "*", "repositories", "*", "artifacts", "*"}
		if len(segs) != len(want) {
			t.Fatalf("path %q has %d segments, want the route's %d", u.EscapedPath(), len(segs), len(want))
		}
		for i, w := range want {
			if w != "*" && segs[i] != w {
				t.Fatalf("path %q: segment %d is %q, want %q", u.EscapedPath(), i, segs[i], w)
			}
		}
		dec := func(s string) string {
			d, err := url.PathUnescape(s)
			if err != nil {
				t.Fatalf("segment %q does not decode: %v", s, err)
			}
			return d
		}
		if got := dec(segs[5]); got != project {
			t.Fatalf("project segment %q decodes to %q, want %q", segs[5], got, project)
		}
		once := dec(segs[7])
		if strings.Contains(once, "/") {
			t.Fatalf("repository segment %q is %q after the router's decode: it would split", segs[7], once)
		}
		if got := dec(once); got != short {
			t.Fatalf("repository segment %q decodes twice to %q, want %q", segs[7], got, short)
		}
		if got := dec(segs[9]); got != ref {
			t.Fatalf("reference segment %q decodes to %q, want %q", segs[9], got, ref)
		}
		vals, err := url.ParseQuery(u.RawQuery)
		if err != nil {
			t.Fatalf("query %q: %v", u.RawQuery, err)
		}
		if q == "" {
			if vals.Has("q") {
				t.Fatalf("q sent although empty: %q", u.RawQuery)
			}
			return
		}
		got, err := url.QueryUnescape(vals.Get("q")) // Harbor's extra unescape (query.go)
		if err != nil || got != q {
			t.Fatalf("q %q reaches Harbor as %q (%v)", q, got, err)
		}
	})
}

// FuzzQExpr: q expressions as a user writes them (harborport_sync selectors
// and Query fields). Properties: the client refuses exactly what ParseQ
// refuses; what it accepts reaches Harbor unchanged through query encoding
// and Harbor's extra QueryUnescape; BuildQ of the parsed terms is canonical
// (parses back to the same terms, and is a fixed point).
func FuzzQExpr(f *testing.F) {
	for _, s := range []string{
		"", "tags=*", "name=~prod", "name=prod-api", "id=[1~10]", "push_time=[2026-01-01T00:00:00~]", "k={a b  c}",
		"labels=(1 2)", `name=\~x`, `name=\\x`, "a=1,b=2", "a=1,a=2", "a=", "=b", "a", ",", "a=[~]", "a=[1~2~3]",
		"a={}", "a={ }", `a={"x" 'y'}`, "a=%2F", "a=+", "a=%", "a=%zz", "a.b_c=v", "1a=v", "a=(x", "a=[ 1 ~ 2 ]",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, expr string) {
		terms, perr := ParseQ(expr)
		enc, err := prepareQ(expr)
		if (perr == nil) != (err == nil) {
			t.Fatalf("ParseQ error %v but prepareQ error %v", perr, err)
		}
		if err != nil {
			return
		}
		v, _, err := ArtifactQuery{Q: expr}.params()
		if err != nil || v.Get("q") != enc {
			t.Fatalf("params() q = %q, %v; prepareQ gave %q", v.Get("q"), err, enc)
		}
		back, err := url.ParseQuery(v.Encode())
		if err != nil {
			t.Fatal(err)
		}
		if got, err := url.QueryUnescape(back.Get("q")); err != nil || got != expr {
			t.Fatalf("q %q reaches Harbor as %q (%v)", expr, got, err)
		}
		canon, err := BuildQ(terms...)
		if err != nil {
			// ParseQ is as lenient as Harbor (e.g. it trims list values);
			// BuildQ refuses values Harbor would alter. Nothing to compare.
			return
		}
		again, err := ParseQ(canon)
		if err != nil || !reflect.DeepEqual(again, terms) {
			t.Fatalf("ParseQ(%q) = %#v; BuildQ gives %q, which parses to %#v (%v)", expr, terms, canon, again, err)
		}
		if c2, err := BuildQ(again...); err != nil || c2 != canon {
			t.Fatalf("BuildQ is not a fixed point: %q then %q (%v)", canon, c2, err)
		}
	})
}
