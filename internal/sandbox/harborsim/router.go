package harborsim

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

const apiPrefix = "/api/v2.0"

// reply is what a handler produces; it is written after the store lock is released.
type reply struct {
	status   int
	body     any
	text     string
	err      *apiError
	total    int64
	paged    *listParams
	counted  bool
	location string
	events   []Event // emitted after the store lock is released (webhooks)
}

func ok(body any) reply      { return reply{status: http.StatusOK, body: body} }
func fail(e *apiError) reply { return reply{err: e} }
func paged(body any, total int64, lp *listParams) reply {
	return reply{status: http.StatusOK, body: body, total: total, paged: lp, counted: true}
}

type handlerFunc func(s *Server, r *http.Request, c secCtx, p params) reply

// params are the path parameters of a matched route.
type params map[string]string

type route struct {
	method string
	tmpl   string // as in the swagger, e.g. /projects/{project_name}/repositories
	segs   []string
	write  bool
	h      handlerFunc
}

var routes []route

func addRoute(method, tmpl string, h handlerFunc) {
	routes = append(routes, route{method: method, tmpl: tmpl, segs: strings.Split(strings.Trim(tmpl, "/"), "/"),
		write: method != http.MethodGet && method != http.MethodHead, h: h})
}

func init() {
	addRoute("GET", "/ping", handlePing)
	addRoute("GET", "/health", handleHealth)
	addRoute("GET", "/systeminfo", handleSystemInfo)
	addRoute("GET", "/projects", handleListProjects)
	addRoute("GET", "/projects/{project_name_or_id}", handleGetProject)
	addRoute("GET", "/users", handleListUsers)
	addRoute("GET", "/repositories", handleListAllRepositories)
	addRoute("GET", "/projects/{project_name}/repositories", handleListRepositories)
	addRoute("GET", "/projects/{project_name}/repositories/{repository_name}", handleGetRepository)
	addRoute("GET", "/projects/{project_name}/repositories/{repository_name}/artifacts", handleListArtifacts)
	addRoute("GET", "/projects/{project_name}/repositories/{repository_name}/artifacts/{reference}", handleGetArtifact)
	addRoute("GET", "/projects/{project_name}/repositories/{repository_name}/artifacts/{reference}/tags", handleListTags)
	addRoute("GET", "/projects/{project_name_or_id}/webhook/policies", handleListPolicies)
	addRoute("POST", "/projects/{project_name_or_id}/webhook/policies", handleCreatePolicy)
	addRoute("GET", "/projects/{project_name_or_id}/webhook/policies/{webhook_policy_id}", handleGetPolicy)
	addRoute("PUT", "/projects/{project_name_or_id}/webhook/policies/{webhook_policy_id}", handleUpdatePolicy)
	addRoute("DELETE", "/projects/{project_name_or_id}/webhook/policies/{webhook_policy_id}", handleDeletePolicy)
	addRoute("GET", "/projects/{project_name_or_id}/webhook/events", handleWebhookEvents)
}

// match finds the route for a decoded path. Matching works on r.URL.Path, i.e. after one round
// of percent-decoding, so a single-encoded "a%2Fb" becomes two segments and misses every route,
// exactly as real Harbor behind nginx answers `path … was not found`
// (internal/harbor/API-NOTES.md "Errors").
func match(method, path string) (*route, params, []string) {
	rest := strings.TrimPrefix(path, apiPrefix)
	segs := strings.Split(strings.Trim(rest, "/"), "/")
	if rest == "" || rest == "/" || strings.HasSuffix(rest, "/") {
		return nil, nil, nil
	}
	var allowed []string
	for i := range routes {
		rt := &routes[i]
		if len(rt.segs) != len(segs) {
			continue
		}
		p := params{}
		okSeg := true
		for j, sg := range rt.segs {
			if strings.HasPrefix(sg, "{") {
				if segs[j] == "" {
					okSeg = false
					break
				}
				p[strings.Trim(sg, "{}")] = segs[j]
			} else if sg != segs[j] {
				okSeg = false
				break
			}
		}
		if !okSeg {
			continue
		}
		if rt.method == method {
			return rt, p, nil
		}
		allowed = append(allowed, rt.method)
	}
	return nil, nil, allowed
}

func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request) {
	rec := s.begin(w, r)
	defer rec.finish()
	w = rec

	if !strings.HasPrefix(r.URL.Path, apiPrefix+"/") {
		writeError(w, errNotFound("path %s was not found", r.URL.Path))
		return
	}
	rt, p, allowed := match(r.Method, r.URL.Path)
	if rt != nil && s.routeAbsent(rt) {
		rt, allowed = nil, nil
	}
	if rt != nil {
		rec.route = r.Method + " " + apiPrefix + rt.tmpl
	}
	s.count(rec.route)
	if s.injectFault(w, r) {
		return
	}
	// CSRF (src/server/middleware/csrf/csrf.go): skipped for API clients unless a session
	// cookie is present; a cookie jar therefore turns every write into a 403
	// (internal/harbor/API-NOTES.md "Authentication and CSRF").
	if isWrite(r.Method) {
		if _, err := r.Cookie("sid"); err == nil {
			writeError(w, errForbidden("CSRF token invalid"))
			return
		}
	}
	if rt == nil {
		if len(allowed) > 0 {
			writeError(w, &apiError{http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED",
				fmt.Sprintf("method %s is not allowed, but [%s] are", r.Method, strings.Join(allowed, ","))})
			return
		}
		writeError(w, errNotFound("path %s was not found", r.URL.Path))
		return
	}

	var out reply
	var c secCtx
	if rt.write {
		s.mu.Lock()
		c = s.authenticate(r)
		out = rt.h(s, r, c, p)
		s.mu.Unlock()
		s.emit(out.events)
	} else {
		s.mu.RLock()
		c = s.authenticate(r)
		out = rt.h(s, r, c, p)
		s.mu.RUnlock()
	}
	rec.user = c.name()
	s.writeReply(w, r, out)
}

// routeAbsent: a route the simulated release does not have yet answers like any unknown path.
// The audit-log API (/auditlog-exts…) came with Harbor 2.13 (internal/harbor/API-NOTES.md
// "Version differences"); older releases answer `path … was not found`.
func (s *Server) routeAbsent(rt *route) bool {
	return strings.Contains(rt.tmpl, "/auditlog-exts") && !s.rel.auditExts()
}

func isWrite(m string) bool {
	return m == http.MethodPost || m == http.MethodPut || m == http.MethodDelete || m == http.MethodPatch
}

func (s *Server) writeReply(w http.ResponseWriter, r *http.Request, out reply) {
	switch {
	case out.err != nil:
		writeError(w, out.err)
	case out.text != "":
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(out.status)
		_, _ = w.Write([]byte(out.text))
	case out.location != "":
		w.Header().Set("Location", out.location)
		w.WriteHeader(out.status)
	case out.body == nil:
		w.WriteHeader(out.status)
	default:
		if out.counted {
			setPagingHeaders(w, r, out.total, out.paged)
		}
		writeJSON(w, out.status, out.body)
	}
}

// repoParam undoes the second encoding layer of {repository_name} with url.PathUnescape, as
// handler/util.go unescapePathParams does ("a%252Fb" arrives here as "a%2Fb" → "a/b").
func repoParam(p params) (string, *apiError) {
	v, err := url.PathUnescape(p["repository_name"])
	if err != nil {
		return "", errBadRequest("invalid repository name %q: %v", p["repository_name"], err)
	}
	return v, nil
}

func parseID(s string) (int64, bool) {
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
