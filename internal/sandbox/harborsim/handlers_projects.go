package harborsim

import (
	"net/http"
	"sort"
)

func projectCol(p *project, key string) (field, bool) {
	switch key {
	case "name":
		return sf(p.name), true
	case "project_id":
		return inf(p.id), true
	case "creation_time":
		return tf(p.created), true
	case "update_time":
		return tf(p.updated), true
	case "public":
		return bf(p.public()), true
	}
	return field{}, false
}

// GET /projects (internal/harbor/API-NOTES.md "Projects"; handler/project.go ListProjects).
func handleListProjects(s *Server, r *http.Request, c secCtx, _ params) reply {
	lp, err := parseListParams(r.URL.Query())
	if err != nil {
		return fail(err)
	}
	v := r.URL.Query()
	name := v.Get("name")
	owner := v.Get("owner")
	var public *bool
	if raw := v.Get("public"); raw != "" {
		b := boolParam(v, "public", false)
		public = &b
	}
	withDetail := boolParam(v, "with_detail", true)
	empty := paged([]projectJSON{}, 0, nil) // total 0: X-Total-Count 0 and no Link
	if !c.authenticated() {
		if public != nil && !*public {
			return empty // anonymous asking for private projects
		}
		t := true
		public = &t
	}
	var ownerUser *user
	if owner != "" {
		if ownerUser = s.usersByName[owner]; ownerUser == nil {
			return empty
		}
	}
	var rows []*project
	for _, p := range s.projOrder {
		if public != nil && p.public() != *public {
			// An authenticated non-admin filtering public=true still sees only public ones;
			// public=false shows the private projects they are a member of.
			continue
		}
		if !c.sysAdmin() && !c.robot() && c.authenticated() {
			if !p.public() && p.members[c.u.id] == 0 {
				continue
			}
		}
		if name != "" && !sf(p.name).match(fuzzy{name}) {
			continue
		}
		if ownerUser != nil && p.ownerID != ownerUser.id {
			continue
		}
		if !matchAll(lp.q, p, projectCol) {
			continue
		}
		rows = append(rows, p)
	}
	if len(rows) == 0 {
		return empty
	}
	if len(lp.sort) > 0 {
		keys := append(lp.sort, sortKey{key: "name"})
		sort.SliceStable(rows, func(i, j int) bool { return compareBy(keys, projectCol, rows[i], rows[j]) < 0 })
	}
	start, end := lp.window(len(rows))
	out := make([]projectJSON, 0, end-start)
	for _, p := range rows[start:end] {
		out = append(out, s.projectJSON(p, c, withDetail))
	}
	rep := paged(out, int64(len(rows)), lp)
	return rep
}

// matchAll applies every q term whose key is a known column; unknown keys are ignored like the
// ORM ignores non-filterable fields.
func matchAll[T any](q *query, row T, col func(T, string) (field, bool)) bool {
	for _, k := range q.keys {
		f, ok := col(row, k)
		if !ok {
			continue
		}
		if !f.match(q.terms[k]) {
			return false
		}
	}
	return true
}

// projectJSON renders a project. Roles are filled only for local users (populateProperties);
// robots and anonymous callers get current_user_role_ids null. with_detail=false skips
// metadata, owner name and the allowlist contents (controller assembleProjects).
func (s *Server) projectJSON(p *project, c secCtx, detail bool) projectJSON {
	out := projectJSON{CreationTime: dt(p.created), UpdateTime: dt(p.updated), Name: p.name, OwnerID: int32(p.ownerID),
		ProjectID: int32(p.id), RepoCount: int64(len(p.repos)), CVEAllowlist: &cveAllowlistJSON{}, Version: p.ver}
	if c.u != nil && !c.u.isRobot {
		if role := p.members[c.u.id]; role != 0 {
			out.CurrentUserRoleIDs = []int32{int32(role)}
			out.CurrentUserRoleID = int64(role)
		}
	}
	if detail {
		out.Metadata = make(map[string]string, len(p.metadata))
		for k, v := range p.metadata {
			out.Metadata[k] = v
		}
		if o := s.users[p.ownerID]; o != nil {
			out.OwnerName = o.username
		}
		out.CVEAllowlist = &cveAllowlistJSON{ID: p.id, ProjectID: p.id, Items: []any{}}
	}
	return out
}

// GET /projects/{project_name_or_id}.
func handleGetProject(s *Server, r *http.Request, c secCtx, pp params) reply {
	p, key := s.lookupProject(r, pp["project_name_or_id"])
	if err := s.requireProjectAccess(c, p, actRead, resProject); err != nil {
		return fail(err)
	}
	if p == nil {
		return fail(errNotFound("project %s not found", key))
	}
	return ok(s.projectJSON(p, c, true))
}
