package harbor

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"unicode"
)

// Path encoding for Harbor's path parameters (internal/harbor/API-NOTES.md
// "Repository names in paths"; swagger parameters.repositoryName): a repository name is given
// WITHOUT its project prefix and, because it may contain '/', is URL-encoded twice (a/b → a%2Fb →
// a%252Fb); Harbor undoes the second layer with url.PathUnescape (handler/util.go
// unescapePathParams). Project names and references are single path segments.

// RepoPathSegment returns the escaped path segment for repository repo of project. repo may be
// Harbor's full name ("proj/team/app") or the name without the project ("team/app"); the
// "project/" prefix is stripped once. Ambiguity: a short name that itself starts with
// "<project>/" (repo "lib/x" in project "lib", full name "lib/lib/x") must be passed in full.
func RepoPathSegment(project, repo string) (string, error) {
	short := ShortRepoName(project, repo)
	if short == "" {
		return "", fmt.Errorf("repository name %q (project %q) is empty after removing the project prefix", repo, project)
	}
	for _, seg := range strings.Split(short, "/") {
		if err := checkSegment("repository name", repo, seg); err != nil {
			return "", err
		}
	}
	return url.PathEscape(url.PathEscape(short)), nil
}

// ShortRepoName strips the "project/" prefix from a repository name once.
func ShortRepoName(project, repo string) string {
	if project != "" {
		if rest, ok := strings.CutPrefix(repo, project+"/"); ok {
			return rest
		}
	}
	return repo
}

// FullRepoName returns "project/short" for a repository given with or without its prefix.
func FullRepoName(project, repo string) string {
	return project + "/" + ShortRepoName(project, repo)
}

// ProjectPathSegment escapes a project name or numeric id for the path.
func ProjectPathSegment(nameOrID string) (string, error) {
	if err := checkSegment("project", nameOrID, nameOrID); err != nil {
		return "", err
	}
	return url.PathEscape(nameOrID), nil
}

// ReferencePathSegment escapes an artifact reference (a tag or a "sha256:…" digest; ':' stays
// literal, as in Harbor's own addition_links hrefs).
func ReferencePathSegment(ref string) (string, error) {
	if err := checkSegment("artifact reference", ref, ref); err != nil {
		return "", err
	}
	return url.PathEscape(ref), nil
}

// checkSegment rejects segments a proxy or Harbor's router would reinterpret: empty (a//b),
// dot segments (path traversal after decoding), '/' where a single segment is required, and
// whitespace/control characters (never valid in Harbor names).
func checkSegment(what, whole, seg string) error {
	switch {
	case seg == "":
		return fmt.Errorf("%s %q has an empty path segment", what, whole)
	case seg == "." || seg == "..":
		return fmt.Errorf("%s %q has a %q segment", what, whole, seg)
	case what != "repository name" && strings.Contains(seg, "/"):
		return fmt.Errorf("%s %q must not contain '/'", what, whole)
	case strings.IndexFunc(seg, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0:
		return fmt.Errorf("%s %q contains whitespace or control characters", what, whole)
	}
	return nil
}

// isProjectName decides how a {project_name_or_id} value is sent. Harbor reads a value that parses
// as an integer as an id unless X-Is-Resource-Name is true (handler/util.go parseProjectNameOrID);
// we keep that reading for integers and send the header for everything else. A project whose name
// is all digits (valid in Harbor) needs the *ByName methods.
func isProjectName(nameOrID string) bool {
	_, err := strconv.ParseInt(nameOrID, 10, 64)
	return err != nil
}
