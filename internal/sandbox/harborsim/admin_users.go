package harborsim

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// ErrRobotUserList is Harbor 2.11's answer (400 BAD_REQUEST) to creating a robot with the system
// permission user:list: its robot handler checks every access against rbac.PoliciesMap["System"],
// which has no user resource before 2.12 (goharbor/harbor@v2.11.2
// src/server/v2.0/handler/robot.go validate; real-api-211-audit-logs.json notes).
var ErrRobotUserList = errors.New("bad request permission: user:list")

// RobotPermissions are the system permissions a simulated system robot holds besides full
// access to every project.
type RobotPermissions struct {
	UserList     bool // user:list (Harbor >= 2.12): GET /users
	AuditLogList bool // audit-log:list: GET /auditlog-exts returns every record
}

// AddRobotE creates the system robot "robot$<name>" (see AddRobot) with the given system
// permissions and records "create robot". Without AuditLogList the robot still gets 200 from
// GET /auditlog-exts, with no records (handlers_auditlog.go auditScope). Before Harbor 2.12 a
// robot cannot hold user:list: the error is Harbor's 400 message (ErrRobotPermission).
func (s *Server) AddRobotE(name, secret string, perms RobotPermissions) error {
	name = strings.TrimPrefix(name, "robot$")
	if name == "" || secret == "" {
		return errors.New("robot name and secret must not be empty")
	}
	if perms.UserList && !s.rel.robotUserList() {
		return ErrRobotUserList
	}
	full := "robot$" + name
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.usersByName[full] != nil {
		return fmt.Errorf("robot %s already exists", full)
	}
	now := s.now()
	s.usersByName[full] = &user{username: full, password: secret, isRobot: true, robotList: perms.UserList,
		auditList: perms.AuditLogList, created: now, updated: now}
	s.auditLocked(now, robotAuditRecord("create", full, s.opts.AdminUser))
	return nil
}

// UserUpdate changes a user; nil fields stay. The profile (email, realname, comment), the
// sysadmin flag and the password are three Harbor requests (PUT /users/{id}, …/sysadmin,
// …/password), so each part that is set is recorded as its own "update user" entry.
type UserUpdate struct {
	Email, Realname, Comment *string
	SysAdmin                 *bool
	Password                 *string
}

// UpdateUser applies u to the user as the admin would through the API, with the API's
// validation (handler/user.go validateUserProfile, requireValidSecret).
func (s *Server) UpdateUser(username string, u UserUpdate) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	usr := s.usersByName[username]
	if usr == nil || usr.isRobot {
		return fmt.Errorf("user %s: %w", username, ErrNotFound)
	}
	// Validate every part first so a bad one changes nothing.
	profile := u.Email != nil || u.Realname != nil || u.Comment != nil
	email, realname, comment := usr.email, usr.realname, usr.comment
	if u.Email != nil {
		email = *u.Email
	}
	if u.Realname != nil {
		realname = *u.Realname
	}
	if u.Comment != nil {
		comment = *u.Comment
	}
	if profile {
		if err := validateUserProfile("", email, realname, comment, false); err != nil {
			return errors.New(err.message)
		}
		if s.emailTakenLocked(email, usr) {
			return fmt.Errorf("email %s already exists", email)
		}
	}
	if u.Password != nil {
		if err := requireValidSecret(*u.Password); err != nil {
			return errors.New(err.message)
		}
		if *u.Password == usr.password {
			return errors.New("New password is identical to old password")
		}
	}
	if profile {
		usr.email, usr.realname, usr.comment = email, realname, comment
		usr.updated = s.now()
		s.auditLocked(usr.updated, userAuditRecord("update", usr.username, "", s.opts.AdminUser, true))
	}
	if u.SysAdmin != nil {
		usr.admin = *u.SysAdmin
		usr.updated = s.now()
		s.auditLocked(usr.updated, userAuditRecord("update", usr.username, auditSuffixSysadmin, s.opts.AdminUser, true))
	}
	if u.Password != nil {
		usr.password = *u.Password
		usr.updated = s.now()
		s.auditLocked(usr.updated, userAuditRecord("update", usr.username, auditSuffixPassword, s.opts.AdminUser, true))
	}
	return nil
}

// DeleteUser deletes a local user as the admin's DELETE /users/{id} does: the built-in admin
// (user_id 1) cannot be deleted.
func (s *Server) DeleteUser(username string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.usersByName[username]
	if u == nil || u.isRobot {
		return fmt.Errorf("user %s: %w", username, ErrNotFound)
	}
	if u.id == 1 {
		return fmt.Errorf("User with ID %d cannot be deleted", u.id)
	}
	s.deleteUserLocked(u)
	s.auditLocked(s.now(), userAuditRecord("delete", username, "", s.opts.AdminUser, true))
	return nil
}

// deleteUserLocked is Harbor's soft delete (src/pkg/user/manager.go Delete): memberships go, the
// row stays marked deleted with "#<id>" appended to username and email, so the name can be
// used again and the user no longer authenticates or appears in GET /users.
func (s *Server) deleteUserLocked(u *user) {
	for _, p := range s.projects {
		delete(p.members, u.id)
	}
	delete(s.usersByName, u.username)
	s.userOrder = slices.DeleteFunc(s.userOrder, func(x *user) bool { return x == u })
	suffix := "#" + itoa(u.id)
	u.username = truncateWithSuffix(u.username, suffix, 255)
	u.email = truncateWithSuffix(u.email, suffix, 255)
	u.deleted = true
	u.updated = s.now()
}

// truncateWithSuffix is lib.Truncate: keep at most n bytes, the suffix included.
func truncateWithSuffix(s, suffix string, n int) string {
	if len(s)+len(suffix) > n {
		s = s[:max(0, n-len(suffix))]
	}
	return s + suffix
}

func (s *Server) emailTakenLocked(email string, except *user) bool {
	for _, u := range s.userOrder {
		if u != except && u.email == email {
			return true
		}
	}
	return false
}

// emailRE is validateUserProfile's e-mail pattern (handler/user.go).
var emailRE = regexp.MustCompile(`^(([^<>()[\]\\.,;:\s@\"]+(\.[^<>()[\]\\.,;:\s@\"]+)*)|(\".+\"))@((\[[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\])|(([a-zA-Z\-0-9]+\.)+[a-zA-Z]{2,}))$`)

// illegalUserChars is common.IllegalCharsInUsername.
const illegalUserChars = `,"~#%$`

// validateUserProfile is handler/user.go validateUserProfile (400 messages verbatim); the
// username is checked on create only.
func validateUserProfile(username, email, realname, comment string, create bool) *apiError {
	bad := func(msg string) *apiError { return errBadRequest("%s", msg) }
	switch {
	case email == "":
		return bad("email can't be empty")
	case !emailRE.MatchString(email):
		return bad("email with illegal format")
	case len(realname) < 1 || len(realname) > 255:
		return bad("realname with illegal length")
	case strings.ContainsAny(realname, illegalUserChars):
		return bad("realname contains illegal characters")
	case len(comment) > 30:
		return bad("comment with illegal length")
	case !create:
		return nil
	case len(username) < 1 || len(username) > 255:
		return bad("username with illegal length")
	case strings.ContainsAny(username, illegalUserChars):
		return bad("username contains illegal characters")
	}
	return nil
}

var (
	hasLowerRE = regexp.MustCompile(`[a-z]`)
	hasUpperRE = regexp.MustCompile(`[A-Z]`)
	hasDigitRE = regexp.MustCompile(`[0-9]`)
)

// requireValidSecret is handler/user.go requireValidSecret: 8-128 characters with a lowercase
// letter, an uppercase letter and a digit.
func requireValidSecret(in string) *apiError {
	if len(in) >= 8 && len(in) <= 128 && hasLowerRE.MatchString(in) && hasUpperRE.MatchString(in) && hasDigitRE.MatchString(in) {
		return nil
	}
	return errBadRequest("the password or secret must be 8-128, inclusively, characters long with at least 1 uppercase letter, 1 lowercase letter and 1 number")
}
