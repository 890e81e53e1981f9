package harborsim

import (
	"net/http"
	"sort"
)

func repoCol(r *repository, key string) (field, bool) {
	switch key {
	case "name":
		return sf(r.name), true
	case "id", "repository_id":
		return inf(r.id), true
	case "project_id":
		return inf(r.project.id), true
	case "creation_time":
		return tf(r.created), true
	case "update_time":
		return tf(r.updated), true
	case "pull_count":
		return inf(r.pullCount), true
	}
	return field{}, false
}

// Default repository order: -creation_time,-repository_id (src/pkg/repository/model/model.go).
var repoDefaultSort = []sortKey{{"creation_time", true}, {"id", true}}

func repoJSON(r *repository) repositoryJSON {
	return repositoryJSON{ArtifactCount: r.visibleCount(), CreationTime: dtp(r.created), Description: r.description,
		ID: r.id, Name: r.name, ProjectID: r.project.id, PullCount: r.pullCount, UpdateTime: dt(r.updated), Version: r.ver}
}

// listRepos filters, sorts and pages. src is in ascending id order, i.e. ascending creation
// time, so the default order is simply the reverse.
func listRepos(src []*repository, lp *listParams, keep func(*repository) bool) ([]repositoryJSON, int64) {
	var rows []*repository
	for i := len(src) - 1; i >= 0; i-- {
		r := src[i]
		if keep != nil && !keep(r) {
			continue
		}
		if !matchAll(lp.q, r, repoCol) {
			continue
		}
		rows = append(rows, r)
	}
	if len(lp.sort) > 0 {
		keys := append(append([]sortKey{}, lp.sort...), repoDefaultSort...)
		sort.SliceStable(rows, func(i, j int) bool { return compareBy(keys, repoCol, rows[i], rows[j]) < 0 })
	}
	start, end := lp.window(len(rows))
	out := make([]repositoryJSON, 0, end-start)
	for _, r := range rows[start:end] {
		out = append(out, repoJSON(r))
	}
	return out, int64(len(rows))
}

// GET /projects/{project_name}/repositories: the path takes a name only
// (internal/harbor/API-NOTES.md "Repositories").
func handleListRepositories(s *Server, r *http.Request, c secCtx, pp params) reply {
	p := s.projByName[pp["project_name"]]
	if err := s.requireProjectAccess(c, p, actList, resRepo); err != nil {
		return fail(err)
	}
	lp, err := parseListParams(r.URL.Query())
	if err != nil {
		return fail(err)
	}
	if p == nil {
		return fail(errNotFound("project %s not found", pp["project_name"]))
	}
	out, total := listRepos(p.repos, lp, nil)
	return paged(out, total, lp)
}

// GET /repositories: non-admins only see repositories of projects they may read (public ones and
// their memberships); with none the answer is [] (handler/repository.go ListAllRepositories).
func handleListAllRepositories(s *Server, r *http.Request, c secCtx, _ params) reply {
	lp, err := parseListParams(r.URL.Query())
	if err != nil {
		return fail(err)
	}
	var keep func(*repository) bool
	if !c.sysAdmin() && !c.robot() {
		keep = func(rp *repository) bool { return s.can(c, rp.project, actList, resRepo) }
	}
	out, total := listRepos(s.repos, lp, keep)
	return paged(out, total, lp)
}

// GET /projects/{project_name}/repositories/{repository_name} (name double-encoded,
// internal/harbor/API-NOTES.md "Repository names in paths").
func handleGetRepository(s *Server, r *http.Request, c secCtx, pp params) reply {
	p := s.projByName[pp["project_name"]]
	if err := s.requireProjectAccess(c, p, actRead, resRepo); err != nil {
		return fail(err)
	}
	name, err := repoParam(pp)
	if err != nil {
		return fail(err)
	}
	if p == nil {
		return fail(errNotFound("project %s not found", pp["project_name"]))
	}
	repo, _ := s.findRepoLocked(p.name, name)
	if repo == nil {
		return fail(errNotFound("repository %s/%s not found", p.name, name))
	}
	return ok(repoJSON(repo))
}
