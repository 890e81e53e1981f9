package harborsim

import (
	"net/http"
	"sort"
	"strings"
	"time"
)

func artifactCol(a *artifact, key string) (field, bool) {
	switch key {
	case "id":
		return inf(a.id), true
	case "digest":
		return sf(a.digest), true
	case "type":
		return sf(a.kind), true
	case "media_type":
		return sf(a.mediaType), true
	case "manifest_media_type":
		return sf(a.manifestType), true
	case "artifact_type":
		return sf(a.artifactType), true
	case "size":
		return inf(a.size), true
	case "push_time":
		return tf(a.pushTime), true
	case "pull_time":
		return tf(a.pullTime), true
	case "repository_id":
		return inf(a.repo.id), true
	}
	return field{}, false
}

// Default artifact order: -push_time,-id (src/pkg/artifact/dao/model.go).
var artifactDefaultSort = []sortKey{{"push_time", true}, {"id", true}}

// artifactView carries the per-request rendering options.
type artifactView struct {
	withTag   bool
	withScan  bool
	mimeTypes []string
	scanner   bool
}

// parseAcceptVulnerabilities keeps only the two honoured MIME types, in the caller's order, and
// falls back to the swagger default (v1.1 first) when none is given (handler/util.go
// parseScanReportMimeTypes, internal/harbor/API-NOTES.md "Scan overview").
func parseAcceptVulnerabilities(h string) []string {
	var out []string
	for _, m := range strings.Split(h, ",") {
		m = strings.TrimSpace(m)
		if (m == MimeTypeGenericVulnerabilityReport || m == MimeTypeNativeReport) && !contains(out, m) {
			out = append(out, m)
		}
	}
	if len(out) == 0 {
		out = []string{MimeTypeGenericVulnerabilityReport, MimeTypeNativeReport}
	}
	return out
}

func (s *Server) artifactViewFor(r *http.Request) artifactView {
	v := r.URL.Query()
	return artifactView{withTag: boolParam(v, "with_tag", true), withScan: boolParam(v, "with_scan_overview", false),
		mimeTypes: parseAcceptVulnerabilities(r.Header.Get("X-Accept-Vulnerabilities")), scanner: !s.opts.NoScanner}
}

// artifactJSON renders one artifact like model.Artifact.ToSwagger plus the assemblers.
func (a *artifact) json(v artifactView) artifactJSON {
	r := a.repo
	rel := strings.TrimPrefix(r.name, r.project.name+"/")
	// Harbor encodes "/" as %252F in addition-link hrefs (src/controller/artifact/model.go).
	base := apiPrefix + "/projects/" + r.project.name + "/repositories/" + strings.ReplaceAll(rel, "/", "%252F") +
		"/artifacts/" + a.digest + "/additions/"
	out := artifactJSON{Digest: a.digest, ID: a.id, Icon: dockerIconDigest, ManifestMediaType: a.manifestType,
		MediaType: a.mediaType, ArtifactType: a.artifactType, ProjectID: r.project.id, RepositoryID: r.id,
		RepositoryName: r.name, PullTime: dt(a.pullTime), PushTime: dt(a.pushTime), Size: a.size, Type: a.kind,
		AdditionLinks: map[string]additionLink{}, Version: a.ver}
	if len(a.references) == 0 {
		out.AdditionLinks["build_history"] = additionLink{Href: base + "build_history"}
		out.ExtraAttrs = map[string]any{"architecture": a.arch, "author": "", "config": map[string]any{},
			"created": a.created.Format(time.RFC3339Nano), "os": a.os}
	}
	if v.scanner {
		// Set for every scannable artifact, scanned or not, on 2.11 and 2.15 alike
		// (src/server/v2.0/handler/assembler/report.go Assemble): "vulnerabilities", and "sboms"
		// built with an EMPTY digest ("…/artifacts//additions/sbom"; SetSBOMAdditionLink("",
		// version) in src/controller/artifact/model.go). Only with_sbom_overview and a finished
		// SBOM scan put the SBOM's digest there, which the simulator does not model.
		out.AdditionLinks["vulnerabilities"] = additionLink{Href: base + "vulnerabilities"}
		out.AdditionLinks["sboms"] = additionLink{Href: strings.TrimSuffix(base, a.digest+"/additions/") + "/additions/sbom"}
	}
	for _, ref := range a.references {
		out.References = append(out.References, referenceJSON{ChildDigest: ref.child.digest, ChildID: ref.child.id,
			ParentID: a.id, Platform: &platformJSON{Architecture: ref.architecture, OS: ref.os}})
	}
	if v.withTag {
		for _, t := range a.sortedTags() {
			out.Tags = append(out.Tags, t.json())
		}
	}
	if v.withScan && a.scan != nil {
		// The first requested MIME type that has a report wins; none → no scan_overview key.
		for _, m := range v.mimeTypes {
			if m == a.scan.mimeType {
				out.ScanOverview = map[string]*reportSummary{m: a.scan.summaryJSON()}
				break
			}
		}
	}
	return out
}

func (t *tag) json() tagJSON {
	return tagJSON{ArtifactID: t.art.id, ID: t.id, Name: t.name, PullTime: dt(t.pullTime), PushTime: dt(t.pushTime),
		RepositoryID: t.art.repo.id}
}

func (sr *scanReport) summaryJSON() *reportSummary {
	if sr.status != "Success" {
		// Error/Stopped/Running reports carry no summary, severity or scanner and 0 % complete
		// (internal/listener/testdata/webhook-default-scanning-{failed,stopped}.json).
		// A Running report has no end yet: end_time is the zero time, duration 0.
		return &reportSummary{Duration: max(sr.end.Unix()-sr.start.Unix(), 0), EndTime: dt(sr.end),
			ReportID: sr.reportID, ScanStatus: sr.status, StartTime: dt(sr.start)}
	}
	sum := map[string]int{}
	total := 0
	severity := "None"
	for _, sev := range severityOrder {
		if n := sr.counts[sev]; n > 0 {
			sum[sev] = n
			total += n
			if severity == "None" {
				severity = sev
			}
		}
	}
	return &reportSummary{CompletePercent: 100, Duration: int64(sr.end.Sub(sr.start).Seconds()), EndTime: dt(sr.end),
		ReportID: sr.reportID, ScanStatus: sr.status, Severity: severity, StartTime: dt(sr.start),
		Scanner: &scannerJSON{Name: "Trivy", Vendor: "Aqua Security", Version: "v0.64.1"},
		Summary: &vulnSummary{Fixable: int64(sr.fixable), Summary: sum, Total: int64(total)}}
}

// artifactFilter is the compiled artifact-specific part of q (src/pkg/artifact/dao/dao.go).
type artifactFilter struct {
	all    bool // base=*
	tagged int  // 0 any, 1 tagged only, -1 untagged only
	fuzzy  string
	exact  string
	labels bool // labels=(…) given: no labels exist in the simulator, so nothing matches
}

func compileArtifactFilter(q *query) (*artifactFilter, *apiError) {
	f := &artifactFilter{}
	if b, ok := q.terms["base"]; ok {
		if s, isStr := b.(string); !isStr || s != "*" {
			return nil, errBadRequest(`the value of "base" query can only be exact match value with "*"`)
		}
		f.all = true
	}
	if t, ok := q.terms["tags"]; ok {
		switch v := t.(type) {
		case fuzzy:
			f.fuzzy = v.v
		case string:
			switch v {
			case "*":
				f.tagged = 1
			case "nil":
				f.tagged = -1
			default:
				f.exact = v
			}
		default:
			return nil, errBadRequest(`the value of "tags" query can only be fuzzy match value or exact match value with "*" and "nil"`)
		}
	}
	if l, ok := q.terms["labels"]; ok {
		al, isAnd := l.(andList)
		if !isAnd {
			return nil, errBadRequest(`the value of "labels" query can only be integer list with intersetion relationship`)
		}
		for _, x := range al.vals {
			if _, isInt := x.(int64); !isInt {
				return nil, errBadRequest(`the value of "labels" query can only be integer list with intersetion relationship`)
			}
		}
		f.labels = true
	}
	return f, nil
}

func (f *artifactFilter) keep(a *artifact, q *query) bool {
	// Default base collection: tagged artifacts plus untagged ones nobody references, i.e. index
	// children are hidden unless base=* (setBaseQuery, internal/harbor/API-NOTES.md
	// "Artifacts").
	if !f.all && a.parents > 0 && len(a.tags) == 0 {
		return false
	}
	switch {
	case f.tagged == 1 && len(a.tags) == 0:
		return false
	case f.tagged == -1 && (len(a.tags) > 0 || a.parents > 0):
		return false
	case f.labels:
		return false
	}
	if f.fuzzy != "" || f.exact != "" {
		found := false
		for _, t := range a.tags {
			if (f.fuzzy != "" && strings.Contains(t.name, f.fuzzy)) || (f.exact != "" && t.name == f.exact) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return matchAll(q, a, artifactCol)
}

// GET …/repositories/{repository_name}/artifacts.
func handleListArtifacts(s *Server, r *http.Request, c secCtx, pp params) reply {
	p := s.projByName[pp["project_name"]]
	if err := s.requireProjectAccess(c, p, actList, resArtifact); err != nil {
		return fail(err)
	}
	name, aerr := repoParam(pp)
	if aerr != nil {
		return fail(aerr)
	}
	lp, aerr := parseListParams(r.URL.Query())
	if aerr != nil {
		return fail(aerr)
	}
	f, aerr := compileArtifactFilter(lp.q)
	if aerr != nil {
		return fail(aerr)
	}
	view := s.artifactViewFor(r)
	var repo *repository
	if p != nil {
		repo, _ = s.findRepoLocked(p.name, name)
	}
	if repo == nil {
		// ListArtifacts never checks that the repository exists (internal/harbor/API-NOTES.md
		// "Errors").
		return paged([]artifactJSON{}, 0, lp)
	}
	// Fast path: default filters and order need no sort, only a walk over this repository.
	if len(lp.q.keys) == 0 && len(lp.sort) == 0 {
		total := int(repo.visibleCount())
		start, end := lp.window(total)
		out := make([]artifactJSON, 0, end-start)
		idx := 0
		for i := len(repo.arts) - 1; i >= 0 && idx < end; i-- {
			a := repo.arts[i]
			if a.parents > 0 && len(a.tags) == 0 {
				continue
			}
			if idx >= start {
				out = append(out, a.json(view))
			}
			idx++
		}
		return paged(out, int64(total), lp)
	}
	var rows []*artifact
	for i := len(repo.arts) - 1; i >= 0; i-- {
		if a := repo.arts[i]; f.keep(a, lp.q) {
			rows = append(rows, a)
		}
	}
	if len(lp.sort) > 0 {
		keys := append(append([]sortKey{}, lp.sort...), artifactDefaultSort...)
		sort.SliceStable(rows, func(i, j int) bool { return compareBy(keys, artifactCol, rows[i], rows[j]) < 0 })
	}
	start, end := lp.window(len(rows))
	out := make([]artifactJSON, 0, end-start)
	for _, a := range rows[start:end] {
		out = append(out, a.json(view))
	}
	return paged(out, int64(len(rows)), lp)
}

// resolveArtifact finds {reference} (digest or tag) for the GET-one endpoints.
func (s *Server) resolveArtifact(c secCtx, pp params, action string) (*artifact, *apiError) {
	p := s.projByName[pp["project_name"]]
	if err := s.requireProjectAccess(c, p, action, resArtifact); err != nil {
		return nil, err
	}
	name, err := repoParam(pp)
	if err != nil {
		return nil, err
	}
	ref := pp["reference"]
	if p == nil {
		return nil, errNotFound("project %s not found", pp["project_name"])
	}
	repo, _ := s.findRepoLocked(p.name, name)
	if repo == nil {
		return nil, errNotFound("repository %s/%s not found", p.name, name)
	}
	if strings.HasPrefix(ref, "sha256:") {
		if a := repo.byDigest[ref]; a != nil {
			return a, nil
		}
		return nil, errNotFound("artifact %s@%s not found", repo.name, ref)
	}
	if t := repo.byTag[ref]; t != nil {
		return t.art, nil
	}
	return nil, errNotFound("artifact %s:%s not found", repo.name, ref) // real-api-errors-misc.txt
}

// GET …/artifacts/{reference}: children are reachable by digest here.
func handleGetArtifact(s *Server, r *http.Request, c secCtx, pp params) reply {
	a, err := s.resolveArtifact(c, pp, actRead)
	if err != nil {
		return fail(err)
	}
	return ok(a.json(s.artifactViewFor(r)))
}

func tagCol(t *tag, key string) (field, bool) {
	switch key {
	case "name":
		return sf(t.name), true
	case "id":
		return inf(t.id), true
	case "push_time":
		return tf(t.pushTime), true
	case "pull_time":
		return tf(t.pullTime), true
	}
	return field{}, false
}

// GET …/artifacts/{reference}/tags.
func handleListTags(s *Server, r *http.Request, c secCtx, pp params) reply {
	a, err := s.resolveArtifact(c, pp, actList)
	if err != nil {
		return fail(err)
	}
	lp, err := parseListParams(r.URL.Query())
	if err != nil {
		return fail(err)
	}
	var rows []*tag
	for _, t := range a.sortedTags() {
		if matchAll(lp.q, t, tagCol) {
			rows = append(rows, t)
		}
	}
	if len(lp.sort) > 0 {
		keys := append(append([]sortKey{}, lp.sort...), sortKey{"push_time", true}, sortKey{"id", true})
		sort.SliceStable(rows, func(i, j int) bool { return compareBy(keys, tagCol, rows[i], rows[j]) < 0 })
	}
	start, end := lp.window(len(rows))
	out := make([]tagJSON, 0, end-start)
	for _, t := range rows[start:end] {
		out = append(out, t.json())
	}
	return paged(out, int64(len(rows)), lp)
}
