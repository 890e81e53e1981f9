package harbor

import (
	"net/url"
	"strings"
	"testing"
)

func TestRepoPathSegment(t *testing.T) {
	tests := []struct {
		project, repo, want, wantErr string
	}{
		{"tfdemo", "hello", "hello", ""},
		{"tfdemo", "tfdemo/hello", "hello", ""},
		// internal/harbor/API-NOTES.md "Repository names in paths": a/b → a%2Fb →
		// a%252Fb, project prefix stripped.
		{"tfdemo", "tfdemo/team/hello", "team%252Fhello", ""},
		{"tfdemo", "team/hello", "team%252Fhello", ""},
		{"library", "library/chilcano/relayer", "chilcano%252Frelayer", ""},
		// Only one prefix is stripped: full name "lib/lib/x" → "lib/x".
		{"lib", "lib/lib/x", "lib%252Fx", ""},
		{"p", "p/", "", "empty"},
		{"p", "a//b", "", "empty path segment"},
		{"p", "../users", "", `".." segment`},
		{"p", "a/./b", "", `"." segment`},
		{"p", "a b", "", "whitespace"},
		{"p", "a?b", "a%253Fb", ""},
	}
	for _, tc := range tests {
		got, err := RepoPathSegment(tc.project, tc.repo)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("RepoPathSegment(%q, %q) = %q, %v; want error %q", tc.project, tc.repo, got, err, tc.wantErr)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("RepoPathSegment(%q, %q) = %q, %v; want %q", tc.project, tc.repo, got, err, tc.want)
		}
	}
}

func TestProjectAndReferenceSegments(t *testing.T) {
	if got, err := ReferencePathSegment("sha256:6cb0ba24"); err != nil || got != "sha256:6cb0ba24" {
		t.Errorf("digest: %q, %v (':' must stay literal like Harbor's own hrefs)", got, err)
	}
	for _, bad := range []string{"", "..", "a/b", "a b"} {
		if _, err := ReferencePathSegment(bad); err == nil {
			t.Errorf("ReferencePathSegment(%q) accepted", bad)
		}
		if _, err := ProjectPathSegment(bad); err == nil {
			t.Errorf("ProjectPathSegment(%q) accepted", bad)
		}
	}
	if !isProjectName("tfdemo") || isProjectName("42") {
		t.Error("isProjectName: names get X-Is-Resource-Name, integers are ids")
	}
	if FullRepoName("p", "x/y") != "p/x/y" || FullRepoName("p", "p/x") != "p/x" {
		t.Error("FullRepoName")
	}
}

func FuzzRepoPathSegment(f *testing.F) {
	f.Add("tfdemo", "tfdemo/team/hello")
	f.Add("p", "a%2Fb")
	f.Add("p", "../x")
	f.Fuzz(func(t *testing.T, project, repo string) {
		seg, err := RepoPathSegment(project, repo)
		if err != nil {
			return
		}
		if strings.ContainsAny(seg, "/?# ") {
			t.Fatalf("segment %q for %q has a raw path/query character", seg, repo)
		}
		// Harbor's router decodes once, then unescapePathParams decodes again
		// (internal/harbor/API-NOTES.md "Repository names in paths").
		once, err := url.PathUnescape(seg)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(once, "/") {
			t.Fatalf("segment %q decodes to %q after one pass: the router would split it", seg, once)
		}
		twice, err := url.PathUnescape(once)
		if err != nil || twice != ShortRepoName(project, repo) {
			t.Fatalf("segment %q decodes to %q, want %q", seg, twice, ShortRepoName(project, repo))
		}
	})
}
