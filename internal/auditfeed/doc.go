// Package auditfeed is the listener's second event source: it polls Harbor's
// audit log (GET /api/v2.0/auditlog-exts, Harbor 2.13+; before 2.13 the older
// GET /api/v2.0/audit-logs, source.go) and turns each record into the same
// keys a webhook would, through the same spool, coalescing, retries and
// Harbor re-read (internal/DESIGN.md "Event sources"). It hears what webhooks
// never say: tags added or removed through the API, repository and project
// deletion, project creation, user changes (2.13+ only), and everything in a
// project without a webhook policy.
//
// The cursor (cursor.go) lives in the spool and moves only in the transaction
// that spools the keys of the records it passed, so a crash neither loses nor
// repeats a record; ties on op_time and ids out of op_time order are handled
// with the highest id read and the ids missing below it; records lost before
// they were read (Harbor's log rotation) trigger one full resync. A missing
// permission, an old Harbor or records switched off degrade the feed with a
// reason on /readyz and in the log, while webhooks keep working (feed.go).
// Scans on push end without an audit record, so pushes are followed until
// their scan is final (scan.go).
package auditfeed
