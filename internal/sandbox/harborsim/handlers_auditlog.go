package harborsim

import (
	"net/http"
	"regexp"
	"sort"
	"strings"
	"time"
	"unicode"
)

func init() {
	addRoute("GET", "/auditlog-exts", handleListAuditLogExts)
	addRoute("GET", "/auditlog-exts/events", handleAuditLogEventTypes)
	addRoute("GET", "/projects/{project_name}/auditlog-exts", handleProjectAuditLogExts)
	addRoute("GET", "/audit-logs", handleListLegacyAuditLogs)
}

// auditLogExtJSON is models.AuditLogExt: go-swagger orders the fields by name, omits empty
// scalars except operation_result (x-omitempty: false); op_time is a strfmt.DateTime
// (milliseconds, UTC; real-api-auditlog-exts.json).
type auditLogExtJSON struct {
	ID                   int64    `json:"id,omitempty"`
	OpTime               dateTime `json:"op_time"`
	Operation            string   `json:"operation,omitempty"`
	OperationDescription string   `json:"operation_description,omitempty"`
	OperationResult      bool     `json:"operation_result"`
	Resource             string   `json:"resource,omitempty"`
	ResourceType         string   `json:"resource_type,omitempty"`
	Username             string   `json:"username,omitempty"`
}

type auditLogEventTypeJSON struct {
	EventType string `json:"event_type,omitempty"`
}

// auditColumns maps the filter and sort keys of model.AuditLogExt to columns: like
// src/lib/orm/metadata.go parseModel, both the Go field name and the column name work (keys are
// case-sensitive). Payload is orm:"-" and so neither filterable nor sortable.
var auditColumns = map[string]string{
	"ID": "id", "id": "id",
	"ProjectID": "project_id", "project_id": "project_id",
	"Operation": "operation", "operation": "operation",
	"OperationDescription": "op_desc", "op_desc": "op_desc",
	"IsSuccessful": "op_result", "op_result": "op_result",
	"ResourceType": "resource_type", "resource_type": "resource_type",
	"Resource": "resource", "resource": "resource",
	"Username": "username", "username": "username",
	"OpTime": "op_time", "op_time": "op_time",
}

// pgTimestampText is how PostgreSQL prints a timestamp, which is what a fuzzy (ILIKE) filter on
// op_time matches against: beego casts the column to text for icontains.
const pgTimestampText = "2006-01-02 15:04:05.999999"

func auditCol(r *auditRecord, col string) (field, bool) {
	switch col {
	case "id":
		return inf(r.id), true
	case "project_id":
		return inf(r.projectID), true
	case "operation":
		return sf(r.operation), true
	case "op_desc":
		return sf(r.desc), true
	case "op_result":
		return bf(r.ok), true
	case "resource_type":
		return sf(r.resType), true
	case "resource":
		return sf(r.resource), true
	case "username":
		return sf(r.username), true
	case "op_time":
		return field{t: r.at, s: r.at.Format(pgTimestampText), kind: 't'}, true
	}
	return field{}, false
}

// snakeCase is src/lib/orm/metadata.go snakeCase, used as the second lookup for filter keys.
func snakeCase(s string) string {
	rs := []rune(s)
	var out []rune
	for i := range rs {
		if i > 0 && unicode.IsUpper(rs[i]) &&
			((i+1 < len(rs) && unicode.IsLower(rs[i+1])) || unicode.IsLower(rs[i-1])) {
			out = append(out, '_')
		}
		out = append(out, unicode.ToLower(rs[i]))
	}
	return string(out)
}

// auditTerm is one q term resolved to a column (src/lib/orm/query.go setFilters).
type auditTerm struct {
	col   string
	op    string // "" or one of the "__" operators setFilters accepts
	value any
}

var auditKeyOps = map[string]bool{"icontains": true, "in": true, "gte": true, "lte": true, "gt": true, "lt": true, "exact": true}

// compileAuditQuery resolves q's keys like setFilters: "key" or "key__op" (op from a fixed list),
// the key tried as given and then snake_cased; unknown keys and operators are ignored. String
// values on op_time are read as PostgreSQL reads a timestamp literal, and an unreadable one fails
// the query in the database: Harbor answers 500.
func compileAuditQuery(q *query, columns map[string]string) ([]auditTerm, *apiError) {
	var out []auditTerm
	for _, k := range q.keys {
		pieces := strings.Split(k, "__")
		if len(pieces) > 2 {
			continue
		}
		col, ok := columns[pieces[0]]
		if !ok {
			if col, ok = columns[snakeCase(pieces[0])]; !ok {
				continue
			}
		}
		t := auditTerm{col: col, value: q.terms[k]}
		if len(pieces) == 2 {
			if !auditKeyOps[pieces[1]] {
				continue
			}
			if _, exact := t.value.(string); !exact {
				// A range/list/fuzzy value with an operator key builds an expression beego
				// cannot run (not verified against a live Harbor).
				return nil, errInternal()
			}
			t.op = pieces[1]
		}
		if col == "op_time" {
			v, err := timestampTerm(t.value)
			if err != nil {
				return nil, err
			}
			t.value = v
		}
		out = append(out, t)
	}
	return out, nil
}

// timestampTerm types the values of an op_time term: q.parseValue already turned
// "2006-01-02T15:04:05[.frac]" range and list bounds into time.Time; everything else reached
// PostgreSQL as a string (exact values are never typed) or an integer.
func timestampTerm(v any) (any, *apiError) {
	one := func(x any) (any, *apiError) {
		switch y := x.(type) {
		case time.Time:
			return y, nil
		case string:
			if t, ok := parsePGTimestamp(y); ok {
				return t, nil
			}
		}
		return nil, errInternal() // invalid input syntax for type timestamp
	}
	switch t := v.(type) {
	case fuzzy:
		return t, nil // matched against the column's text form
	case valRange:
		var err *apiError
		if t.min != nil {
			if t.min, err = one(t.min); err != nil {
				return nil, err
			}
		}
		if t.max != nil {
			if t.max, err = one(t.max); err != nil {
				return nil, err
			}
		}
		return t, nil
	case orList:
		vals := make([]any, len(t.vals))
		for i, x := range t.vals {
			y, err := one(x)
			if err != nil {
				return nil, err
			}
			vals[i] = y
		}
		return orList{vals}, nil
	case andList:
		return t, nil // and lists are left to the DAO, which has none for audit logs
	}
	return one(v)
}

var pgTimestampRE = regexp.MustCompile(`^(\d{4}-\d{2}-\d{2})(?:[ T](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?))?(?:\s*(?:Z|[+-]\d{2}(?::?\d{2})?))?$`)

// parsePGTimestamp reads the timestamp literals PostgreSQL accepts for a `timestamp without
// time zone` column in the forms a client plausibly sends: a date, optionally " " or "T" and a
// time with optional fraction; a zone suffix is ignored, as PostgreSQL ignores it for this type.
func parsePGTimestamp(s string) (time.Time, bool) {
	m := pgTimestampRE.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return time.Time{}, false
	}
	clock := m[2]
	switch strings.Count(clock, ":") {
	case 0:
		clock = "00:00:00"
	case 1:
		clock += ":00"
	}
	t, err := time.Parse("2006-01-02T15:04:05", m[1]+"T"+clock)
	return t, err == nil
}

func errInternal() *apiError {
	return &apiError{http.StatusInternalServerError, "UNKNOWN", "internal error"}
}

func (t auditTerm) keep(r *auditRecord) bool {
	f, _ := auditCol(r, t.col)
	switch t.op {
	case "", "exact", "in":
		return f.match(t.value)
	case "icontains":
		v, _ := t.value.(string) // compileAuditQuery allows operators on exact (string) values only
		return f.match(fuzzy{v})
	}
	var c int
	switch v := t.value.(type) {
	case time.Time:
		c = f.t.Compare(v)
	default:
		c = f.cmp(v)
	}
	switch t.op {
	case "gt":
		return c > 0
	case "gte":
		return c >= 0
	case "lt":
		return c < 0
	}
	return c <= 0 // lte
}

// auditSort resolves sort keys (exact keys only, unknown ones skipped); none left means the
// model's default, op_time descending (`sort:"default:desc"`).
func auditSort(keys []sortKey, columns map[string]string) []sortKey {
	var out []sortKey
	for _, k := range keys {
		if col, ok := columns[k.key]; ok {
			out = append(out, sortKey{key: col, desc: k.desc})
		}
	}
	if len(out) == 0 {
		out = []sortKey{{key: "op_time", desc: true}}
	}
	// PostgreSQL leaves ties in no particular order; op_time (µs) and id make it deterministic.
	return append(out, sortKey{key: "op_time"}, sortKey{key: "id"})
}

// listAudit filters (q and the caller's project restriction; nil = every project), sorts and
// pages the records of the extended audit log (GET /auditlog-exts).
func (s *Server) listAudit(lp *listParams, projects map[int64]bool) reply {
	rows, start, end, err := s.selectAudit(lp, projects, auditColumns)
	if err != nil {
		return fail(err)
	}
	out := make([]auditLogExtJSON, 0, end-start) // go-swagger writes [] for an empty payload
	for _, r := range rows[start:end] {
		out = append(out, auditLogExtJSON{ID: r.id, OpTime: dt(r.at), Operation: r.operation,
			OperationDescription: r.desc, OperationResult: r.ok, Resource: r.resource, ResourceType: r.resType,
			Username: r.username})
	}
	return paged(out, int64(len(rows)), lp)
}

// selectAudit is the query both audit lists run: q on the model's columns, the project
// restriction, the sort, and the page window of the result.
func (s *Server) selectAudit(lp *listParams, projects map[int64]bool, columns map[string]string) (rows []*auditRecord, start, end int, err *apiError) {
	terms, err := compileAuditQuery(lp.q, columns)
	if err != nil {
		return nil, 0, 0, err
	}
next:
	for _, r := range s.audit.recs {
		if projects != nil && !projects[r.projectID] {
			continue
		}
		for _, t := range terms {
			if !t.keep(r) {
				continue next
			}
		}
		rows = append(rows, r)
	}
	keys := auditSort(lp.sort, columns)
	sort.SliceStable(rows, func(i, j int) bool { return compareBy(keys, auditCol, rows[i], rows[j]) < 0 })
	start, end = lp.window(len(rows))
	return rows, start, end, nil
}

// auditListParams binds the list parameters in Harbor's order: go-swagger's validation (422)
// before the handler's own checks, q syntax (400) after authentication.
func auditListParams(r *http.Request) (*listParams, *apiError, *apiError) {
	lp, err := parseListParams(r.URL.Query())
	if err != nil && err.status == http.StatusUnprocessableEntity {
		return nil, err, nil
	}
	return lp, nil, err
}

// auditScope is checkPermissionAndBuildQuery (src/server/v2.0/handler/auditlog.go): anonymous
// callers get 401 with the (empty) username as message; holders of the system permission
// audit-log:list (sysadmins, system robots granted it) see everything; any other caller is NOT
// refused but restricted to the projects where they are project admin (the only role with
// project log:list, src/common/rbac/project/rbac_role.go) — a robot without audit-log:list
// (not a local user) therefore gets 200 with an empty list.
func (s *Server) auditScope(c secCtx) (map[int64]bool, *apiError) {
	if !c.authenticated() {
		return nil, &apiError{http.StatusUnauthorized, "UNAUTHORIZED", ""}
	}
	if s.canListAudit(c) {
		return nil, nil
	}
	allowed := map[int64]bool{}
	if !c.robot() {
		for _, p := range s.projects {
			if p.members[c.u.id] == RoleProjectAdmin {
				allowed[p.id] = true
			}
		}
	}
	return allowed, nil
}

// canListAudit: the system permission audit-log:list (src/common/rbac/system/policies.go).
func (s *Server) canListAudit(c secCtx) bool {
	return c.sysAdmin() || (c.robot() && c.u.auditList)
}

// GET /auditlog-exts (operation listAuditLogExts).
func handleListAuditLogExts(s *Server, r *http.Request, c secCtx, _ params) reply {
	lp, verr, qerr := auditListParams(r)
	if verr != nil {
		return fail(verr)
	}
	scope, err := s.auditScope(c)
	if err != nil {
		return fail(err)
	}
	if qerr != nil {
		return fail(qerr)
	}
	return s.listAudit(lp, scope)
}

// GET /audit-logs (listAuditLogs). From 2.13 on it is deprecated and Harbor writes nothing there
// any more, so it answers [] (real-api-auditlog-exts.json notes), after the same checks as
// /auditlog-exts. Before 2.13 it is the audit log (legacyAuditLogs).
func handleListLegacyAuditLogs(s *Server, r *http.Request, c secCtx, _ params) reply {
	lp, verr, qerr := auditListParams(r)
	if verr != nil {
		return fail(verr)
	}
	if !s.rel.auditExts() {
		return s.legacyAuditLogs(lp, qerr, c)
	}
	if _, err := s.auditScope(c); err != nil {
		return fail(err)
	}
	if qerr != nil {
		return fail(qerr)
	}
	return paged([]auditLogJSON{}, 0, lp)
}

// auditLogJSON is models.AuditLog (Harbor < 2.13): id, op_time, operation, resource,
// resource_type, username, nothing more (real-api-211-audit-logs.json).
type auditLogJSON struct {
	ID           int64    `json:"id,omitempty"`
	OpTime       dateTime `json:"op_time"`
	Operation    string   `json:"operation,omitempty"`
	Resource     string   `json:"resource,omitempty"`
	ResourceType string   `json:"resource_type,omitempty"`
	Username     string   `json:"username,omitempty"`
}

// legacyAuditColumns are the filter and sort keys of model.AuditLog (goharbor/harbor@v2.11.2
// src/pkg/audit/model/model.go): no description, no result.
var legacyAuditColumns = map[string]string{
	"ID": "id", "id": "id",
	"ProjectID": "project_id", "project_id": "project_id",
	"Operation": "operation", "operation": "operation",
	"ResourceType": "resource_type", "resource_type": "resource_type",
	"Resource": "resource", "resource": "resource",
	"Username": "username", "username": "username",
	"OpTime": "op_time", "op_time": "op_time",
}

// legacyAuditLogs is ListAuditLogs of goharbor/harbor@v2.11.2 src/server/v2.0/handler/auditlog.go:
// 401 for anonymous callers (the empty username as message), then q and sort (400 on bad q), then
// the scope: the system permission audit-log:list sees every record; a local user sees the
// records of the projects where their role holds log:list (every role but limited guest,
// src/common/rbac/project/rbac_role.go; the simulator has no limited guests); anyone else, a robot without the permission included, is
// narrowed to project id -1 and gets 200 with an empty list. The default order is op_time
// descending (`sort:"default:desc"`).
func (s *Server) legacyAuditLogs(lp *listParams, qerr *apiError, c secCtx) reply {
	if !c.authenticated() {
		return fail(&apiError{http.StatusUnauthorized, "UNAUTHORIZED", ""})
	}
	if qerr != nil {
		return fail(qerr)
	}
	var scope map[int64]bool
	if !s.canListAudit(c) {
		scope = map[int64]bool{}
		if !c.robot() {
			for _, p := range s.projects {
				if p.members[c.u.id] != 0 {
					scope[p.id] = true
				}
			}
		}
	}
	rows, start, end, err := s.selectAudit(lp, scope, legacyAuditColumns)
	if err != nil {
		return fail(err)
	}
	out := make([]auditLogJSON, 0, end-start)
	for _, r := range rows[start:end] {
		out = append(out, auditLogJSON{ID: r.id, OpTime: dt(r.at), Operation: r.operation, Resource: r.resource,
			ResourceType: r.resType, Username: r.username})
	}
	return paged(out, int64(len(rows)), lp)
}

// GET /auditlog-exts/events (listAuditLogEventTypes): RequireSystemAccess(list, audit-log), so
// unlike the list it refuses callers without the permission: 401 anonymous, 403 with the
// username as message (handler/base.go). That makes it the way to detect a missing permission.
func handleAuditLogEventTypes(s *Server, _ *http.Request, c secCtx, _ params) reply {
	if !c.authenticated() {
		return fail(errUnauthorized())
	}
	if !s.canListAudit(c) {
		return fail(errForbidden(c.name()))
	}
	out := make([]auditLogEventTypeJSON, 0, len(auditEventTypes))
	for _, t := range auditEventTypes {
		out = append(out, auditLogEventTypeJSON{EventType: t})
	}
	return ok(out)
}

// GET /projects/{project_name}/auditlog-exts (getLogExts): project permission log:list (project
// admins; the simulator's robots hold every project permission), then the project must exist.
func handleProjectAuditLogExts(s *Server, r *http.Request, c secCtx, pp params) reply {
	lp, verr, qerr := auditListParams(r)
	if verr != nil {
		return fail(verr)
	}
	p := s.projByName[pp["project_name"]]
	if !c.sysAdmin() && !c.robot() && (p == nil || c.u == nil || p.members[c.u.id] != RoleProjectAdmin) {
		if !c.authenticated() {
			return fail(errUnauthorized())
		}
		return fail(errForbidden("forbidden"))
	}
	if p == nil {
		return fail(errNotFound("project %s not found", pp["project_name"]))
	}
	if qerr != nil {
		return fail(qerr)
	}
	return s.listAudit(lp, map[int64]bool{p.id: true})
}
