package harborsim

import (
	"crypto/subtle"
	"net/http"
	"strings"
)

// secCtx is the security context of one request. u == nil means anonymous.
type secCtx struct{ u *user }

func (c secCtx) authenticated() bool { return c.u != nil }
func (c secCtx) sysAdmin() bool      { return c.u != nil && c.u.admin && !c.u.isRobot }
func (c secCtx) robot() bool         { return c.u != nil && c.u.isRobot }
func (c secCtx) name() string {
	if c.u == nil {
		return ""
	}
	return c.u.username
}

// authenticate resolves Basic credentials. Unknown users, wrong passwords and revoked accounts
// all fall through to anonymous instead of failing (internal/harbor/API-NOTES.md
// "Authentication and CSRF": every generator returns nil and the request continues as
// anonymous). Must be called with s.mu held (read).
func (s *Server) authenticate(r *http.Request) secCtx {
	name, pass, ok := r.BasicAuth()
	if !ok {
		return secCtx{}
	}
	u := s.usersByName[name]
	if u == nil || u.revoked {
		return secCtx{}
	}
	if subtle.ConstantTimeCompare([]byte(u.password), []byte(pass)) != 1 {
		return secCtx{}
	}
	return secCtx{u: u}
}

// Actions and resources of the simulated RBAC (src/common/rbac/const.go).
const (
	actRead   = "read"
	actList   = "list"
	actCreate = "create"
	actUpdate = "update"
	actDelete = "delete"

	resProject  = "project"
	resRepo     = "repository"
	resArtifact = "artifact"
	resTag      = "tag"
	resPolicy   = "notification-policy"
)

// can reports whether c may do action on resource inside project p.
//   - sysadmin: everything; system robots here cover all projects ("*" namespace) with full
//     project permissions, the setup harborport documents for its sync account;
//   - project admins: everything; maintainers: read anything, list/read webhook policies;
//     developers, guests and authenticated non-members of public projects: read repositories,
//     artifacts and tags;
//   - anonymous: read public projects only (internal/harbor/API-NOTES.md "Projects").
func (s *Server) can(c secCtx, p *project, action, resource string) bool {
	if c.sysAdmin() || c.robot() {
		return true
	}
	readOnly := action == actRead || action == actList
	if resource == resPolicy {
		if c.u == nil {
			return false
		}
		switch p.members[c.u.id] {
		case RoleProjectAdmin:
			return true
		case RoleMaintainer:
			return readOnly
		}
		return false
	}
	if !readOnly {
		return c.u != nil && p.members[c.u.id] == RoleProjectAdmin
	}
	if p.public() {
		return true
	}
	return c.u != nil && p.members[c.u.id] != 0
}

// requireProjectAccess mirrors BaseAPI.RequireProjectAccess: permitted → nil; otherwise 401 for
// anonymous and 403 "forbidden" for authenticated callers. An unknown project counts as project
// id 0, which only sysadmins (and all-project robots) may touch, so they get the later 404 while
// everyone else gets 401/403 (internal/harbor/API-NOTES.md "Errors").
func (s *Server) requireProjectAccess(c secCtx, p *project, action, resource string) *apiError {
	if p == nil {
		if c.sysAdmin() || c.robot() {
			return nil
		}
	} else if s.can(c, p, action, resource) {
		return nil
	}
	if !c.authenticated() {
		return errUnauthorized()
	}
	return errForbidden("forbidden")
}

// lookupProject resolves {project_name_or_id}: an integer is an id unless X-Is-Resource-Name is
// true (handler/util.go parseProjectNameOrID, internal/harbor/API-NOTES.md "Projects").
func (s *Server) lookupProject(r *http.Request, nameOrID string) (*project, string) {
	if !strings.EqualFold(r.Header.Get("X-Is-Resource-Name"), "true") {
		if id, ok := parseID(nameOrID); ok {
			return s.projects[id], itoa(id)
		}
	}
	return s.projByName[nameOrID], nameOrID
}
