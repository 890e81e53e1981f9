package harborsim

import (
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
)

// User writes (src/server/v2.0/handler/user.go @ v2.15.2) with the audit records the log
// middleware writes for them (src/server/middleware/log/log.go, src/pkg/auditext/event/user/
// user.go): one record per request, failed ones included (operation_result false).

func init() {
	addRoute("POST", "/users", handleCreateUser)
	addRoute("PUT", "/users/{user_id}", handleUpdateUserProfile)
	addRoute("DELETE", "/users/{user_id}", handleDeleteUser)
	addRoute("PUT", "/users/{user_id}/sysadmin", handleSetUserSysAdmin)
	addRoute("PUT", "/users/{user_id}/password", handleUpdateUserPassword)
}

// userAuditURL is the pattern user.go registers; it is matched against the request URL with
// its query string (r.URL.String()), so a request with a query is not recorded.
var userAuditURL = regexp.MustCompile(`^/api/v2.0/users/(\d+)(/password|/sysadmin)?$`)

// auditUserRequest records one /users write. name is the resolved user name ("" when it could
// not be resolved: the middleware then falls back to the id from the URL, or leaves the
// resource empty for a failed create). The operator is the caller; a request without a security
// context at that point (anonymous, wrong credentials) is recorded as "unknown".
func (s *Server) auditUserRequest(r *http.Request, c secCtx, op, name string, out reply) {
	u := r.URL.String()
	if strings.HasPrefix(u, apiPrefix+"/users/") {
		m := userAuditURL.FindStringSubmatch(u)
		if m == nil {
			return
		}
		if name == "" {
			name = m[1]
		}
	} else if u != apiPrefix+"/users" {
		return
	}
	suffix := ""
	switch {
	case op == "update" && strings.HasSuffix(u, "/sysadmin"):
		suffix = auditSuffixSysadmin
	case op == "update" && strings.HasSuffix(u, "/password"):
		suffix = auditSuffixPassword
	}
	operator := "unknown"
	if c.authenticated() {
		operator = c.name()
	}
	okStatus := out.err == nil && (out.status == http.StatusOK || out.status == http.StatusCreated)
	s.auditLocked(s.now(), userAuditRecord(op, name, suffix, operator, okStatus))
}

// liveUserByID is pkg/user Manager.Get: deleted users are not found.
func (s *Server) liveUserByID(id int64) *user {
	if u := s.users[id]; u != nil && !u.deleted {
		return u
	}
	return nil
}

// userIDParam binds {user_id} (swagger integer): not a number → 422.
func userIDParam(pp params) (int64, *apiError) {
	id, err := strconv.ParseInt(pp["user_id"], 10, 64)
	if err != nil {
		return 0, errValidation([]string{fmt.Sprintf("user_id in path must be of type int64: %q", pp["user_id"])})
	}
	return id, nil
}

// requireSystemUserAccess is RequireSystemAccess(create|update|delete, user): only sysadmins
// (the simulator's robots never hold these), 401 for anonymous, 403 with the username.
func requireSystemUserAccess(c secCtx) *apiError {
	if !c.authenticated() {
		return errUnauthorized()
	}
	if !c.sysAdmin() {
		return errForbidden(c.name())
	}
	return nil
}

// requireModifiable: in DB auth mode a user may change their own profile and password, the
// sysadmin anyone's.
func requireModifiable(c secCtx, id int64) *apiError {
	if c.u != nil && !c.u.isRobot && c.u.id == id {
		return nil
	}
	return requireSystemUserAccess(c)
}

type userCreationReq struct {
	Email    string `json:"email"`
	Realname string `json:"realname"`
	Comment  string `json:"comment"`
	Password string `json:"password"`
	Username string `json:"username"`
}

// POST /users → 201 with Location /api/v2.0/users/<id>. Self-registration is off, so only
// sysadmins may create users (requireCreatable).
func handleCreateUser(s *Server, r *http.Request, c secCtx, _ params) reply {
	out, name := s.createUser(r, c)
	s.auditUserRequest(r, c, "create", name, out)
	return out
}

func (s *Server) createUser(r *http.Request, c secCtx) (reply, string) {
	var b userCreationReq
	if err := decodeBody(r, "userReq", &b); err != nil {
		return fail(err), ""
	}
	if err := requireSystemUserAccess(c); err != nil {
		return fail(err), ""
	}
	if err := requireValidSecret(b.Password); err != nil {
		return fail(err), ""
	}
	if err := validateUserProfile(b.Username, b.Email, b.Realname, b.Comment, true); err != nil {
		return fail(err), ""
	}
	if s.usersByName[b.Username] != nil || s.emailTakenLocked(b.Email, nil) {
		return fail(errConflict("user %s or email %s already exists", b.Username, b.Email)), ""
	}
	now := s.now()
	u := &user{id: s.nextUserID, username: b.Username, password: b.Password, email: b.Email, realname: b.Realname,
		comment: b.Comment, created: now, updated: now}
	s.nextUserID++
	s.addUserLocked(u)
	return reply{status: http.StatusCreated, location: strings.TrimSuffix(r.URL.Path, "/") + "/" + itoa(u.id)}, u.username
}

// auditedUserUpdate records an update of /users/{user_id}… whose answer is
// out, naming the user as resolved after the request.
func (s *Server) auditedUserUpdate(r *http.Request, c secCtx, pp params, out reply) reply {
	name := ""
	if id, err := userIDParam(pp); err == nil {
		if u := s.liveUserByID(id); u != nil {
			name = u.username
		}
	}
	s.auditUserRequest(r, c, "update", name, out)
	return out
}

// PUT /users/{user_id} {"email","realname","comment"} → 200. The e-mail is required.
func handleUpdateUserProfile(s *Server, r *http.Request, c secCtx, pp params) reply {
	return s.auditedUserUpdate(r, c, pp, s.updateUserProfile(r, c, pp))
}

func (s *Server) updateUserProfile(r *http.Request, c secCtx, pp params) reply {
	id, err := userIDParam(pp)
	if err != nil {
		return fail(err)
	}
	var b struct {
		Email    string `json:"email"`
		Realname string `json:"realname"`
		Comment  string `json:"comment"`
	}
	if err := decodeBody(r, "profile", &b); err != nil {
		return fail(err)
	}
	if err := requireModifiable(c, id); err != nil {
		return fail(err)
	}
	if err := validateUserProfile("", b.Email, b.Realname, b.Comment, false); err != nil {
		return fail(err)
	}
	u := s.users[id] // an UPDATE by id: a deleted user's row is updated too
	if u == nil {
		return fail(errNotFound("user with id %d not found", id))
	}
	if s.emailTakenLocked(b.Email, u) {
		return fail(errInternal()) // the unique e-mail constraint, not translated by the DAO
	}
	u.email, u.realname, u.comment = b.Email, b.Realname, b.Comment
	u.updated = s.now()
	return reply{status: http.StatusOK}
}

// DELETE /users/{user_id} → 200: sysadmins only, never oneself or user 1.
func handleDeleteUser(s *Server, r *http.Request, c secCtx, pp params) reply {
	name := ""
	id, idErr := userIDParam(pp)
	if idErr == nil {
		if u := s.liveUserByID(id); u != nil {
			name = u.username // resolved before the request (Resolver.PreCheck)
		}
	}
	out := s.deleteUser(c, id, idErr)
	s.auditUserRequest(r, c, "delete", name, out)
	return out
}

func (s *Server) deleteUser(c secCtx, id int64, idErr *apiError) reply {
	if idErr != nil {
		return fail(idErr)
	}
	if err := requireSystemUserAccess(c); err != nil {
		return fail(err)
	}
	if c.u.id == id || id == 1 {
		return fail(errForbidden(fmt.Sprintf("User with ID %d cannot be deleted", id)))
	}
	u := s.liveUserByID(id)
	if u == nil {
		return fail(errNotFound("user %d not found", id))
	}
	s.deleteUserLocked(u)
	return reply{status: http.StatusOK}
}

// PUT /users/{user_id}/sysadmin {"sysadmin_flag": bool} → 200.
func handleSetUserSysAdmin(s *Server, r *http.Request, c secCtx, pp params) reply {
	return s.auditedUserUpdate(r, c, pp, s.setUserSysAdmin(r, c, pp))
}

func (s *Server) setUserSysAdmin(r *http.Request, c secCtx, pp params) reply {
	id, err := userIDParam(pp)
	if err != nil {
		return fail(err)
	}
	var b struct {
		SysadminFlag bool `json:"sysadmin_flag"`
	}
	if err := decodeBody(r, "sysadmin_flag", &b); err != nil {
		return fail(err)
	}
	if err := requireSystemUserAccess(c); err != nil {
		return fail(err)
	}
	u := s.users[id]
	if u == nil {
		return fail(errNotFound("user with id %d not found", id))
	}
	u.admin = b.SysadminFlag
	u.updated = s.now()
	return reply{status: http.StatusOK}
}

// PUT /users/{user_id}/password {"old_password","new_password"} → 200; users changing their
// own password must give the old one.
func handleUpdateUserPassword(s *Server, r *http.Request, c secCtx, pp params) reply {
	return s.auditedUserUpdate(r, c, pp, s.updateUserPassword(r, c, pp))
}

func (s *Server) updateUserPassword(r *http.Request, c secCtx, pp params) reply {
	id, err := userIDParam(pp)
	if err != nil {
		return fail(err)
	}
	var b struct {
		OldPassword string `json:"old_password"`
		NewPassword string `json:"new_password"`
	}
	if err := decodeBody(r, "password", &b); err != nil {
		return fail(err)
	}
	if err := requireModifiable(c, id); err != nil {
		return fail(err)
	}
	if c.u.id == id && !c.u.isRobot && c.u.password != b.OldPassword {
		return fail(errForbidden("Current password is incorrect"))
	}
	if err := requireValidSecret(b.NewPassword); err != nil {
		return fail(err)
	}
	u := s.liveUserByID(id)
	if u == nil {
		return fail(errNotFound("user %d not found", id))
	}
	if u.password == b.NewPassword {
		return fail(errBadRequest("New password is identical to old password"))
	}
	u.password = b.NewPassword
	u.updated = s.now()
	return reply{status: http.StatusOK}
}
