package harborsim

import (
	"net/http"
	"strings"
)

func init() {
	addRoute("GET", "/users/current/permissions", handleCurrentPermissions)
}

type permissionJSON struct {
	Resource string `json:"resource,omitempty"`
	Action   string `json:"action,omitempty"`
}

// systemPolicies are the system-scope policies the simulator models, in the order of
// src/common/rbac/system/policies.go (the same on v2.11.2 and v2.15.2): a subset of Harbor's 53,
// the ones harborport's account could need. GET /users/current/permissions lists those the caller
// may do.
var systemPolicies = []permissionJSON{
	{"audit-log", "list"},
	{"project", "create"}, {"project", "read"}, {"project", "update"}, {"project", "delete"}, {"project", "list"},
	{"user", "create"}, {"user", "read"}, {"user", "update"}, {"user", "delete"}, {"user", "list"},
	{"configuration", "read"}, {"configuration", "update"},
}

// GET /users/current/permissions (getCurrentUserPermissions, src/server/v2.0/handler/user.go
// GetCurrentUserPermissions): 401 for anonymous callers; for scope=/system, the system policies
// the caller may do (relative=true names the resource without the "/system/" prefix). It works
// for robots too, so it is how a client without a 403 to go by (Harbor < 2.13's audit log lists
// nothing rather than refusing) finds out whether it holds audit-log:list
// (internal/harbor/API-NOTES.md "Audit log"). A sysadmin may do everything; a simulated system
// robot lists project and its granted user:list and audit-log:list; other users nothing at
// system scope (INFERRED: the simulator models no system role for them). Project scopes
// (/project/<id>) are not simulated and answer [].
func handleCurrentPermissions(_ *Server, r *http.Request, c secCtx, _ params) reply {
	if !c.authenticated() {
		return fail(errUnauthorized())
	}
	scope := r.URL.Query().Get("scope")
	relative := r.URL.Query().Get("relative") == "true"
	out := []permissionJSON{}
	if strings.TrimSuffix(scope, "/") != "/system" {
		return ok(out)
	}
	for _, p := range systemPolicies {
		if !c.systemCan(p) {
			continue
		}
		if !relative {
			p.Resource = "/system/" + p.Resource
		}
		out = append(out, p)
	}
	return ok(out)
}

// systemCan: sysadmins may do everything; the simulator's system robots list and read projects
// (they cover every project) and hold user:list and audit-log:list when granted.
func (c secCtx) systemCan(p permissionJSON) bool {
	switch {
	case c.sysAdmin():
		return true
	case !c.robot():
		return false
	case p.Resource == "project":
		return p.Action == "list" || p.Action == "read"
	case p == permissionJSON{"user", "list"}:
		return c.u.robotList
	case p == permissionJSON{"audit-log", "list"}:
		return c.u.auditList
	}
	return false
}
