package port

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"
)

// Port's identifier patterns (internal/port/API-NOTES.md "Blueprints",
// "Entity identifiers"), written out here so the fuzz target states the rule
// independently of the mapping package.
var (
	fuzzEntityIDRe    = regexp.MustCompile(`^[\p{L}0-9@_.+:\\/=-]+$`)
	fuzzBlueprintIDRe = regexp.MustCompile(`^[\p{L}0-9@_.+:\\/-]+$`)
)

func fuzzPortAccepts(re *regexp.Regexp, id string, maxLen int) bool {
	return utf8.ValidString(id) && id != "." && id != ".." && utf8.RuneCountInString(id) <= maxLen && re.MatchString(id)
}

// FuzzEntityRequest: identifier encoding on the way to Port. The real client
// (GetEntity) runs against a transport that answers the token request and
// echoes the entity, and the request line is read back as a server does.
// Properties, for every blueprint and entity identifier Port accepts: the
// path has exactly the route's segments (an identifier's '/' never splits
// it); each segment decodes back to the identifier both as a path
// (%XX only) and the way Ocean's quote_plus is read ('+' as space), so '+'
// is never taken for a space; and the identifier Port returns comes back
// unchanged. For any input, the encoded segment has no raw '/', '?', '#' or
// space, and decodes back to the input.
func FuzzEntityRequest(f *testing.F) {
	for _, s := range [][2]string{
		{"harborArtifact", "tfdemo/hello@sha256:6cb0ba24593f"},
		{"harborRepository", "tfdemo/team/app"},
		{"harborProject", "a+b"}, {"harborUser", "robot$ci"}, {"b", `a\b`}, {"b", "a b"}, {"b", "100%"},
		{"b", "ü漢"}, {"b", "x?y#z"}, {"b", "."}, {"b", ".."}, {"b", ""}, {"a/b", "c"}, {"b", "k=v:w"},
		{"b", "%2F"}, {"b", "\xff"}, {"b", strings.Repeat("x", 1000)},
	} {
		f.Add(s[0], s[1])
	}
	var mu sync.Mutex
	var lastURL *url.URL
	hc := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		body := `{"accessToken":"tok","expiresIn":86400,"tokenType":"Bearer"}`
		if !strings.HasSuffix(r.URL.Path, "/auth/access_token") {
			mu.Lock()
			lastURL = r.URL
			mu.Unlock()
			// Echo the entity the way Port stores it: the server decodes the segments.
			segs := strings.Split(r.URL.EscapedPath(), "/")
			id, _ := url.PathUnescape(segs[len(segs)-1])
			b, _ := json.Marshal(map[string]any{"ok": true, "entity": map[string]any{"identifier": id, "properties": map[string]any{}, "relations": map[string]any{}}})
			body = string(b)
		}
		return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}},
			Body: io.NopCloser(strings.NewReader(body)), Request: r}, nil
	})}
	c, err := New(Config{BaseURL: "https://api.getport.io", ClientID: "id", ClientSecret: "secret", HTTPClient: hc, MaxRetries: -1})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, bp, id string) {
		for _, s := range []string{bp, id} {
			e := seg(s)
			if strings.ContainsAny(e, "/?# ") {
				t.Fatalf("seg(%q) = %q has a raw path, query, fragment or space character", s, e)
			}
			if d, err := url.PathUnescape(e); err != nil || d != s {
				t.Fatalf("seg(%q) = %q decodes to %q, %v", s, e, d, err)
			}
			if d, err := url.QueryUnescape(e); err != nil || d != s {
				t.Fatalf("seg(%q) = %q decodes to %q with '+' as space, %v", s, e, d, err)
			}
		}
		if !fuzzPortAccepts(fuzzBlueprintIDRe, bp, 100) || !fuzzPortAccepts(fuzzEntityIDRe, id, 1000) {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		mu.Lock()
		lastURL = nil
		mu.Unlock()
		e, err := c.GetEntity(ctx, bp, id)
		if err != nil {
			t.Fatalf("GetEntity(%q, %q): %v", bp, id, err)
		}
		mu.Lock()
		u := lastURL
		mu.Unlock()
		wire, err := url.ParseRequestURI(u.RequestURI())
		if err != nil {
			t.Fatalf("request line %q: %v", u.RequestURI(), err)
		}
		segs := strings.Split(wire.EscapedPath(), "/")
		if len(segs) != 6 || segs[1] != "v1" || segs[2] != "blueprints" || segs[4] != "entities" {
			t.Fatalf("path %q is not /v1/blueprints/{bp}/entities/{id}", wire.EscapedPath())
		}
		for i, want := range map[int]string{3: bp, 5: id} {
			if got, err := url.PathUnescape(segs[i]); err != nil || got != want {
				t.Fatalf("segment %q decodes to %q (%v), want %q", segs[i], got, err, want)
			}
		}
		if e.Identifier != id || e.Blueprint != bp {
			t.Fatalf("entity came back as %q/%q, want %q/%q", e.Blueprint, e.Identifier, bp, id)
		}
	})
}
