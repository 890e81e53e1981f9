package harborsim

import (
	"net/http"
	"sort"
)

func userCol(u *user, key string) (field, bool) {
	switch key {
	case "username":
		return sf(u.username), true
	case "email":
		return sf(u.email), true
	case "user_id":
		return inf(u.id), true
	case "realname":
		return sf(u.realname), true
	case "creation_time":
		return tf(u.created), true
	case "update_time":
		return tf(u.updated), true
	}
	return field{}, false
}

// GET /users needs system user:list: a sysadmin, or a robot granted it (Harbor >= 2.12).
// Anonymous → 401; anyone else → 403 whose message is the caller's username (RequireSystemAccess
// in handler/base.go, internal/harbor/API-NOTES.md "Users").
func handleListUsers(s *Server, r *http.Request, c secCtx, _ params) reply {
	if !c.authenticated() {
		return fail(errUnauthorized())
	}
	if !c.sysAdmin() && (!c.robot() || !c.u.robotList) {
		return fail(errForbidden(c.name()))
	}
	lp, err := parseListParams(r.URL.Query())
	if err != nil {
		return fail(err)
	}
	v := r.URL.Query()
	var rows []*user
	for _, u := range s.userOrder {
		// username= and email= are undocumented fuzzy filters read by handler/user.go ListUsers.
		if n := v.Get("username"); n != "" && !sf(u.username).match(fuzzy{n}) {
			continue
		}
		if e := v.Get("email"); e != "" && !sf(u.email).match(fuzzy{e}) {
			continue
		}
		if !matchAll(lp.q, u, userCol) {
			continue
		}
		rows = append(rows, u)
	}
	keys := append(append([]sortKey{}, lp.sort...), sortKey{key: "username"})
	sort.SliceStable(rows, func(i, j int) bool { return compareBy(keys, userCol, rows[i], rows[j]) < 0 })
	start, end := lp.window(len(rows))
	out := make([]userJSON, 0, end-start)
	for _, u := range rows[start:end] {
		out = append(out, userJSONOf(u))
	}
	return paged(out, int64(len(rows)), lp)
}

// userJSONOf renders a user as GET /users lists it (UserResp).
func userJSONOf(u *user) userJSON {
	return userJSON{CreationTime: dt(u.created), UpdateTime: dt(u.updated), Email: u.email,
		Realname: u.realname, Comment: u.comment, SysadminFlag: u.admin, UserID: u.id, Username: u.username, Version: u.ver}
}
