package harbor

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Harbor's audit log, GET /api/v2.0/auditlog-exts (Harbor >= 2.13; goharbor/harbor@v2.15.2
// src/server/v2.0/handler/auditlog.go). Facts the client is built on:
//   - Permission: the system permission audit-log:list (sysadmins; a system robot granted
//     {resource: audit-log, action: list}). A caller WITHOUT it is not refused: the handler
//     narrows the query to projects where the caller is project admin, so a robot gets 200 and
//     an empty list. Only GET /auditlog-exts/events answers 403 (RequireSystemAccess), hence
//     AuditLogEventTypes as the permission probe.
//   - Harbor < 2.13 has no such route: 404 "path /api/v2.0/auditlog-exts was not found".
//   - q=op_time=[from~to] bounds are inclusive. src/lib/q parseValue reads
//     "2006-01-02T15:04:05" with Go's time.Parse, which also accepts a fraction after the
//     seconds, so bounds may carry microseconds (the column is a PostgreSQL timestamp).
//     The swagger's "2020-04-09 02:36:00" form is not parsed as a time by Harbor (it reaches
//     the database as a string); this client never sends it.
//   - op_time is shown to the millisecond (strfmt.DateTime) but stored to the microsecond, and
//     the records of one request share the shown millisecond with ids in no op_time order (the
//     audit handlers insert them from concurrent goroutines). A cursor must re-read its
//     boundary and drop ids it has seen.
//   - Disabled event types, skip_audit_log_database and the purge job make records absent
//     without any error; tag records are never purged.

// AuditLogRecord is one entry of GET /auditlog-exts (swagger AuditLogExt).
type AuditLogRecord struct {
	ID           int64     `json:"id"`
	Username     string    `json:"username"`      // the operator; "anonymous" for anonymous pulls, "unknown" for unauthenticated user requests
	Resource     string    `json:"resource"`      // "project", "project/repo", "project/repo:tag", "project/repo@sha256:…", a username, "robot$name"
	ResourceType string    `json:"resource_type"` // artifact, tag, repository, project, user, robot, configuration
	Operation    string    `json:"operation"`     // create, delete, pull, update
	Description  string    `json:"operation_description"`
	Successful   bool      `json:"operation_result"`
	OpTime       time.Time `json:"op_time"` // UTC, millisecond precision
}

// AuditQuery selects audit records by op_time.
type AuditQuery struct {
	// From and To bound op_time, both inclusive at the millisecond Harbor shows: every record
	// whose op_time reads within [From, To] is returned. A zero value leaves that side open.
	From, To time.Time
}

// AuditPage is one page of an audit-log listing.
type AuditPage struct {
	Records []AuditLogRecord
	Total   int64 // X-Total-Count: records matching the query, all pages
	Page    int
	More    bool // a later page exists
}

// ErrAuditLogForbidden: the account lacks the system permission audit-log:list.
var ErrAuditLogForbidden = errors.New("Harbor's audit log needs the system permission audit-log:list")

// ErrAuditLogUnsupported: Harbor has no GET /auditlog-exts (it came with Harbor 2.13).
var ErrAuditLogUnsupported = errors.New("this Harbor has no audit-log API (/auditlog-exts needs Harbor 2.13 or later)")

const (
	auditForbiddenHint   = "grant the system permission audit-log:list: use a system administrator, or a system robot account with {resource: audit-log, action: list}; without it Harbor lists no audit records at all (it does not refuse the list)"
	auditUnsupportedHint = "the audit log API (/auditlog-exts) exists from Harbor 2.13 on: upgrade Harbor, or turn the audit-log feed off; webhooks still work"
)

// auditError is an *APIError classified as ErrAuditLogForbidden or ErrAuditLogUnsupported:
// errors.Is finds the sentinel, errors.As the *APIError, and the message is the APIError's with a
// hint naming the fix.
type auditError struct {
	kind error
	api  *APIError
}

func (e *auditError) Error() string   { return e.api.Error() }
func (e *auditError) Unwrap() []error { return []error{e.kind, e.api} }

// classifyAuditError turns 401/403 and the route-miss 404 into the typed errors.
func classifyAuditError(err error) error {
	var ae *APIError
	if !errors.As(err, &ae) {
		return err
	}
	switch {
	case ae.Status == 403:
		ae.Hint = auditForbiddenHint
		return &auditError{kind: ErrAuditLogForbidden, api: ae}
	case ae.Status == 401:
		ae.Hint += "; if the credentials are right: " + auditForbiddenHint
		return err
	case ae.routeMiss():
		ae.Hint = auditUnsupportedHint
		return &auditError{kind: ErrAuditLogUnsupported, api: ae}
	}
	return err
}

// auditTimeLayout is Harbor's q time layout with microseconds (see the file comment).
const auditTimeLayout = "2006-01-02T15:04:05.000000"

// Audit-log routes: the extended audit log (Harbor >= 2.13) and the one before it, which 2.13
// deprecated (internal/harbor/API-NOTES.md "Audit log").
const (
	routeAuditExts = "/auditlog-exts"
	routeAuditLogs = "/audit-logs"
)

// auditCall builds GET /auditlog-exts?q=op_time=[…]&sort=op_time for q.
func auditCall(q AuditQuery) (call, error) { return auditCallOn(routeAuditExts, q) }

// auditCallOn builds GET <route>?q=op_time=[…]&sort=op_time for q.
func auditCallOn(route string, q AuditQuery) (call, error) {
	v := url.Values{}
	if !q.From.IsZero() || !q.To.IsZero() {
		if !q.From.IsZero() && !q.To.IsZero() && q.To.Before(q.From) {
			return call{}, fmt.Errorf("audit query: To (%s) is before From (%s)", q.To.Format(time.RFC3339Nano), q.From.Format(time.RFC3339Nano))
		}
		lo, hi := "", ""
		if !q.From.IsZero() {
			lo = q.From.UTC().Truncate(time.Millisecond).Format(auditTimeLayout)
		}
		if !q.To.IsZero() {
			// Include every microsecond of To's millisecond.
			hi = q.To.UTC().Truncate(time.Millisecond).Add(time.Millisecond - time.Microsecond).Format(auditTimeLayout)
		}
		expr, err := BuildQ(QBetween("op_time", lo, hi))
		if err != nil {
			return call{}, fmt.Errorf("audit query: %w", err)
		}
		v.Set("q", EncodeQ(expr))
	}
	v.Set("sort", "op_time")
	return call{route: route, path: route, query: v}, nil
}

// ListAuditLogExts returns every record matching q, oldest first (Harbor's op_time order; ties
// in Harbor's order), reading all pages of 100. Records are de-duplicated by id: a record
// inserted into an earlier page while paging (a tie) can shift another onto the next page. A
// purge while paging can make records skip a page; re-read the window when Total shrinks.
// Without audit-log:list the answer is empty, not an error: probe with AuditLogEventTypes.
func (c *Client) ListAuditLogExts(ctx context.Context, q AuditQuery) ([]AuditLogRecord, error) {
	cl, err := auditCall(q)
	if err != nil {
		return nil, err
	}
	recs, err := listAll(ctx, c, cl, func(r AuditLogRecord) (string, bool) { return strconv.FormatInt(r.ID, 10), r.ID != 0 })
	if err != nil {
		return nil, classifyAuditError(err)
	}
	return recs, nil
}

// AuditLogExtsPage reads one page (1-based, 100 records) of the records matching q, oldest
// first, for callers that advance a cursor page by page.
func (c *Client) AuditLogExtsPage(ctx context.Context, q AuditQuery, page int) (*AuditPage, error) {
	return c.auditPage(ctx, routeAuditExts, q, page)
}

func (c *Client) auditPage(ctx context.Context, route string, q AuditQuery, page int) (*AuditPage, error) {
	if page < 1 {
		return nil, fmt.Errorf("audit log page %d: pages start at 1", page)
	}
	cl, err := auditCallOn(route, q)
	if err != nil {
		return nil, err
	}
	cl.query.Set("page", strconv.Itoa(page))
	cl.query.Set("page_size", strconv.Itoa(pageSize))
	var recs []AuditLogRecord
	res, err := c.getJSON(ctx, cl, &recs)
	if err != nil {
		return nil, classifyAuditError(err)
	}
	total, err := strconv.ParseInt(res.header.Get("X-Total-Count"), 10, 64)
	if err != nil {
		return nil, fmt.Errorf("Harbor API GET %s%s: X-Total-Count %q is not a number", apiPrefix, route, res.header.Get("X-Total-Count"))
	}
	if route == routeAuditLogs {
		legacySuccess(recs)
	}
	return &AuditPage{Records: recs, Total: total, Page: page, More: int64(page)*pageSize < total}, nil
}

// AuditLogEventTypes returns the event types an admin can disable or purge (GET
// /auditlog-exts/events). It needs audit-log:list and, unlike the list, refuses callers without
// it, so it is the probe for the permission: ErrAuditLogForbidden (403; 401 stays an *APIError
// about credentials), ErrAuditLogUnsupported (Harbor < 2.13).
func (c *Client) AuditLogEventTypes(ctx context.Context) ([]string, error) {
	var out []struct {
		EventType string `json:"event_type"`
	}
	if _, err := c.getJSON(ctx, call{route: "/auditlog-exts/events", path: "/auditlog-exts/events"}, &out); err != nil {
		return nil, classifyAuditError(err)
	}
	types := make([]string, 0, len(out))
	for _, e := range out {
		types = append(types, e.EventType)
	}
	return types, nil
}

// AuditLogExtsByID returns the records with the given ids that Harbor still holds (any order),
// with q=id={…} lists of at most 50 ids per request. A cursor uses it to look for ids it has
// not seen below the highest one it has (internal/harbor/API-NOTES.md "Audit log": ids come
// from one sequence).
func (c *Client) AuditLogExtsByID(ctx context.Context, ids []int64) ([]AuditLogRecord, error) {
	return c.auditByID(ctx, routeAuditExts, ids)
}

func (c *Client) auditByID(ctx context.Context, route string, ids []int64) ([]AuditLogRecord, error) {
	var out []AuditLogRecord
	for len(ids) > 0 {
		part := ids[:min(len(ids), 50)]
		ids = ids[len(part):]
		vals := make([]string, len(part))
		for i, id := range part {
			vals[i] = strconv.FormatInt(id, 10)
		}
		expr, err := BuildQ(QIn("id", vals...))
		if err != nil {
			return nil, fmt.Errorf("audit query: %w", err)
		}
		v := url.Values{"q": {EncodeQ(expr)}}
		recs, err := listAll(ctx, c, call{route: route, path: route, query: v},
			func(r AuditLogRecord) (string, bool) { return strconv.FormatInt(r.ID, 10), r.ID != 0 })
		if err != nil {
			return nil, classifyAuditError(err)
		}
		out = append(out, recs...)
	}
	if route == routeAuditLogs {
		legacySuccess(out)
	}
	return out, nil
}

// LatestAuditLogExt returns the record with the highest id (the last one stored), or nil when
// the log is empty (or the caller lacks audit-log:list: see ListAuditLogExts).
func (c *Client) LatestAuditLogExt(ctx context.Context) (*AuditLogRecord, error) {
	return c.latestAudit(ctx, routeAuditExts)
}

func (c *Client) latestAudit(ctx context.Context, route string) (*AuditLogRecord, error) {
	v := url.Values{"sort": {"-id"}, "page": {"1"}, "page_size": {"1"}}
	var recs []AuditLogRecord
	if _, err := c.getJSON(ctx, call{route: route, path: route, query: v}, &recs); err != nil {
		return nil, classifyAuditError(err)
	}
	if len(recs) == 0 {
		return nil, nil
	}
	if route == routeAuditLogs {
		legacySuccess(recs)
	}
	return &recs[0], nil
}

// Harbor before 2.13 keeps its audit log in GET /audit-logs (operation listAuditLogs; deprecated
// from 2.13 on, where it lists nothing new), read with the same q, sort and paging
// (goharbor/harbor@v2.11.2 src/server/v2.0/handler/auditlog.go ListAuditLogs,
// src/pkg/audit/model/model.go; testdata/real-api-211-audit-logs.json):
//   - records carry id, op_time, operation, resource, resource_type and username only: no
//     operation_description (so a push names its tag, "project/repo:tag", and no digest
//     anywhere) and no operation_result (only the event handler writes records, after the
//     change succeeded: the client sets Successful);
//   - project create/delete, artifact push/pull/delete, tag create/delete and repository delete
//     are recorded; user changes are not;
//   - without the system permission audit-log:list the list narrows to the caller's projects
//     (robots: none) and answers 200 with nothing, and there is no /events route to refuse it:
//     SystemPermissions tells;
//   - ids come from one sequence (SERIAL) and op_time ties happen as on 2.15.

// AuditLogsPage is AuditLogExtsPage on GET /audit-logs (Harbor before 2.13).
func (c *Client) AuditLogsPage(ctx context.Context, q AuditQuery, page int) (*AuditPage, error) {
	return c.auditPage(ctx, routeAuditLogs, q, page)
}

// AuditLogsByID is AuditLogExtsByID on GET /audit-logs (Harbor before 2.13).
func (c *Client) AuditLogsByID(ctx context.Context, ids []int64) ([]AuditLogRecord, error) {
	return c.auditByID(ctx, routeAuditLogs, ids)
}

// LatestAuditLog is LatestAuditLogExt on GET /audit-logs (Harbor before 2.13).
func (c *Client) LatestAuditLog(ctx context.Context) (*AuditLogRecord, error) {
	return c.latestAudit(ctx, routeAuditLogs)
}

// legacySuccess marks records of GET /audit-logs successful: that log records only changes that
// happened (see above), and has no operation_result to say so.
func legacySuccess(recs []AuditLogRecord) {
	for i := range recs {
		recs[i].Successful = true
	}
}

// Permission is one entry of GET /users/current/permissions.
type Permission struct {
	Resource string `json:"resource"`
	Action   string `json:"action"`
}

// SystemPermissions lists the system-scope permissions the account holds (GET
// /users/current/permissions?scope=/system&relative=true, operation getCurrentUserPermissions):
// resources relative to the scope, e.g. {audit-log, list}. It works for users and robots on every
// Harbor 2.x (internal/harbor/API-NOTES.md "Credential check").
func (c *Client) SystemPermissions(ctx context.Context) ([]Permission, error) {
	var out []Permission
	v := url.Values{"scope": {"/system"}, "relative": {"true"}}
	if _, err := c.getJSON(ctx, call{route: "/users/current/permissions", path: "/users/current/permissions", query: v}, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// AuditLogSwitches are the configuration items that make Harbor store fewer audit records
// (internal/harbor/API-NOTES.md "Audit log").
type AuditLogSwitches struct {
	SkipDatabase       bool     // skip_audit_log_database: nothing is stored
	DisabledEventTypes []string // disabled_audit_log_event_types, e.g. "create_user", lower-cased
	ForwardEndpoint    string   // audit_log_forward_endpoint
}

// AuditLogSwitches reads them from GET /configurations, which only a system administrator may
// read: anyone else gets an *APIError with status 403 (IsForbidden).
func (c *Client) AuditLogSwitches(ctx context.Context) (*AuditLogSwitches, error) {
	var raw map[string]struct {
		Value any `json:"value"`
	}
	if _, err := c.getJSON(ctx, call{route: "/configurations", path: "/configurations"}, &raw); err != nil {
		return nil, err
	}
	out := &AuditLogSwitches{}
	out.SkipDatabase, _ = raw["skip_audit_log_database"].Value.(bool)
	out.ForwardEndpoint, _ = raw["audit_log_forward_endpoint"].Value.(string)
	if s, _ := raw["disabled_audit_log_event_types"].Value.(string); s != "" {
		for t := range strings.SplitSeq(s, ",") {
			if t = strings.ToLower(strings.TrimSpace(t)); t != "" {
				out.DisabledEventTypes = append(out.DisabledEventTypes, t)
			}
		}
	}
	return out, nil
}
