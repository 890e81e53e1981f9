package harbor

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
)

// ArtifactQuery selects artifacts and what Harbor embeds in them
// (internal/harbor/API-NOTES.md "Artifacts").
type ArtifactQuery struct {
	Q                string // e.g. "tags=*" (tagged only); see BuildQ
	WithTag          bool   // always sent, since Harbor's default is true
	WithScanOverview bool   // also sends X-Accept-Vulnerabilities
	WithLabel        bool
	// Keep, when set, lists the only top-level keys of each listed artifact
	// to decode (what the mapping reads, mapping.Config.ItemKeys); the rest
	// of the JSON is checked and skipped. It changes no request.
	Keep []string
}

func (q ArtifactQuery) params() (url.Values, http.Header, error) {
	v := url.Values{"with_tag": {strconv.FormatBool(q.WithTag)}}
	var h http.Header
	if q.WithScanOverview {
		v.Set("with_scan_overview", "true")
		h = http.Header{"X-Accept-Vulnerabilities": {acceptVulnerabilities}}
	}
	if q.WithLabel {
		v.Set("with_label", "true")
	}
	if q.Q != "" {
		enc, err := prepareQ(q.Q)
		if err != nil {
			return nil, nil, err
		}
		v.Set("q", enc)
	}
	return v, h, nil
}

func artifactsPath(project, repo string) (string, error) {
	pseg, err := ProjectPathSegment(project)
	if err != nil {
		return "", err
	}
	rseg, err := RepoPathSegment(project, repo)
	if err != nil {
		return "", err
	}
	return "/projects/" + pseg + "/repositories/" + rseg + "/artifacts", nil
}

// ListArtifacts lists a repository's artifacts (by default Harbor hides index children and
// accessories). repo may carry the "project/" prefix or not. Each item gets "projectName" and
// "repositoryName" (the full "project/repo", as Harbor's repository.name).
func (c *Client) ListArtifacts(ctx context.Context, project, repo string, q ArtifactQuery) ([]Item, error) {
	p, err := artifactsPath(project, repo)
	if err != nil {
		return nil, err
	}
	v, h, err := q.params()
	if err != nil {
		return nil, err
	}
	cl := call{route: "/projects/{project}/repositories/{repository}/artifacts", path: p, query: v, header: h}
	if len(q.Keep) > 0 {
		keep := make(map[string]bool, len(q.Keep)+1)
		for _, k := range q.Keep {
			keep[k] = true
		}
		keep["id"] = true // listAll de-duplicates by id
		cl.keep = func(k string) bool { return keep[k] }
	}
	items, err := listAll(ctx, c, cl, idKey("id"))
	if err != nil {
		return nil, err
	}
	full := FullRepoName(project, repo)
	for _, it := range items {
		enrichArtifact(it, project, full)
	}
	return items, nil
}

// GetArtifact reads one artifact by tag or digest.
func (c *Client) GetArtifact(ctx context.Context, project, repo, reference string, q ArtifactQuery) (Item, error) {
	p, err := artifactsPath(project, repo)
	if err != nil {
		return nil, err
	}
	ref, err := ReferencePathSegment(reference)
	if err != nil {
		return nil, err
	}
	v, h, err := q.params()
	if err != nil {
		return nil, err
	}
	var out Item
	if _, err := c.getJSON(ctx, call{route: "/projects/{project}/repositories/{repository}/artifacts/{reference}", path: p + "/" + ref, query: v, header: h}, &out); err != nil {
		return nil, err
	}
	if out != nil {
		enrichArtifact(out, project, FullRepoName(project, repo))
	}
	return out, nil
}

func enrichArtifact(it Item, project, fullRepo string) {
	it["projectName"] = project
	it["repositoryName"] = fullRepo
}
