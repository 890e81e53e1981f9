package harborsim

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"slices"
)

// Harbor's write endpoints for tags, artifacts and repositories (handler/artifact.go,
// handler/repository.go @ v2.15.2). They matter to harborport because Harbor sends no webhook for
// a tag added or removed through the API or for a deleted repository: the audit log is the only
// trace (auditlog.go).

func init() {
	addRoute("POST", "/projects/{project_name}/repositories/{repository_name}/artifacts/{reference}/tags", handleCreateTag)
	addRoute("DELETE", "/projects/{project_name}/repositories/{repository_name}/artifacts/{reference}/tags/{tag_name}", handleDeleteTag)
	addRoute("DELETE", "/projects/{project_name}/repositories/{repository_name}/artifacts/{reference}", handleDeleteArtifact)
	addRoute("DELETE", "/projects/{project_name}/repositories/{repository_name}", handleDeleteRepository)
}

// decodeBody binds a required JSON body parameter like go-swagger, before the handler runs:
// missing → 422 "<name> in body is required", malformed → 400.
func decodeBody(r *http.Request, name string, v any) *apiError {
	raw, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return errBadRequest("reading %s body failed: %v", name, err)
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		return errValidation([]string{name + " in body is required"})
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return errBadRequest(`parsing %s body from "" failed, because %v`, name, err)
	}
	return nil
}

// requireProjectRoles is RequireProjectAccess for a write that src/common/rbac/project/
// rbac_role.go grants to the given roles; sysadmins and the simulator's all-project robots
// always pass, anonymous callers get 401 and other callers 403 "forbidden".
func (s *Server) requireProjectRoles(c secCtx, p *project, roles ...int) *apiError {
	if c.sysAdmin() || c.robot() {
		return nil
	}
	if p != nil && c.u != nil && slices.Contains(roles, p.members[c.u.id]) {
		return nil
	}
	if !c.authenticated() {
		return errUnauthorized()
	}
	return errForbidden("forbidden")
}

// POST …/artifacts/{reference}/tags {"name": …} → 201 without body or Location (developers,
// maintainers and project admins; tag:create).
func handleCreateTag(s *Server, r *http.Request, c secCtx, pp params) reply {
	var body struct {
		Name string `json:"name"`
	}
	if err := decodeBody(r, "tag", &body); err != nil {
		return fail(err)
	}
	if body.Name == "" { // NewTag: name required, x-nullable false
		return fail(errValidation([]string{"name in body is required"}))
	}
	p := s.projByName[pp["project_name"]]
	if err := s.requireProjectRoles(c, p, RoleProjectAdmin, RoleMaintainer, RoleDeveloper); err != nil {
		return fail(err)
	}
	if p == nil { // requireNonProxyCacheProject reads the project first
		return fail(errNotFound("project %s not found", pp["project_name"]))
	}
	a, err := s.resolveArtifact(c, pp, actRead)
	if err != nil {
		return fail(err)
	}
	if !tagRe.MatchString(body.Name) { // tag controller Create: the OCI tag grammar
		return fail(errBadRequest("bad request: invalid tag name: %s", body.Name))
	}
	if err := s.addTagLocked(a.repo, a, body.Name, c.name()); err != nil {
		return fail(err)
	}
	return reply{status: http.StatusCreated}
}

// DELETE …/artifacts/{reference}/tags/{tag_name} → 200 (maintainers and project admins).
func handleDeleteTag(s *Server, _ *http.Request, c secCtx, pp params) reply {
	p := s.projByName[pp["project_name"]]
	if err := s.requireProjectRoles(c, p, RoleProjectAdmin, RoleMaintainer); err != nil {
		return fail(err)
	}
	a, err := s.resolveArtifact(c, pp, actRead)
	if err != nil {
		return fail(err)
	}
	if err := s.deleteTagLocked(a.repo, a, pp["tag_name"], c.name()); err != nil {
		return fail(err)
	}
	return reply{status: http.StatusOK}
}

// DELETE …/artifacts/{reference} → 200; an index takes its untagged children along, one
// DELETE_ARTIFACT event for the root (maintainers and project admins).
func handleDeleteArtifact(s *Server, _ *http.Request, c secCtx, pp params) reply {
	p := s.projByName[pp["project_name"]]
	if err := s.requireProjectRoles(c, p, RoleProjectAdmin, RoleMaintainer); err != nil {
		return fail(err)
	}
	a, err := s.resolveArtifact(c, pp, actRead)
	if err != nil {
		return fail(err)
	}
	ev, err := s.deleteArtifactLocked(a.repo, a, c.name())
	if err != nil {
		return fail(err)
	}
	return reply{status: http.StatusOK, events: []Event{ev}}
}

// DELETE /projects/{project_name}/repositories/{repository_name} → 200 (maintainers and project
// admins; the name is double-encoded like every {repository_name}).
func handleDeleteRepository(s *Server, _ *http.Request, c secCtx, pp params) reply {
	p := s.projByName[pp["project_name"]]
	if err := s.requireProjectRoles(c, p, RoleProjectAdmin, RoleMaintainer); err != nil {
		return fail(err)
	}
	name, aerr := repoParam(pp)
	if aerr != nil {
		return fail(aerr)
	}
	var repo *repository
	if p != nil {
		repo, _ = s.findRepoLocked(p.name, name)
	}
	if repo == nil {
		return fail(errNotFound("repository %s/%s not found", pp["project_name"], name))
	}
	return reply{status: http.StatusOK, events: s.deleteRepositoryLocked(repo, c.name())}
}
