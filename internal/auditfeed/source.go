package auditfeed

import (
	"context"

	"github.com/harborport/terraform-provider-harborport/internal/harbor"
)

// source is the audit log the feed reads: Harbor's audit-log API
// (/auditlog-exts, Harbor 2.13+), or before 2.13 the audit log that release
// deprecated, GET /audit-logs, with fewer fields and no user changes
// (internal/harbor/API-NOTES.md "Audit log"). Both take the same q, sort and
// paging, and hand out ids from one sequence, so the cursor works on either.
type source struct {
	name   string // the cursor's Source: "" or "audit-logs"
	route  string // for messages
	page   func(ctx context.Context, q harbor.AuditQuery, page int) (*harbor.AuditPage, error)
	byID   func(ctx context.Context, ids []int64) ([]harbor.AuditLogRecord, error)
	latest func(ctx context.Context) (*harbor.AuditLogRecord, error)
}

const legacySourceName = "audit-logs"

func extsSource(h *harbor.Client) *source {
	return &source{name: "", route: "GET /api/v2.0/auditlog-exts", page: h.AuditLogExtsPage, byID: h.AuditLogExtsByID, latest: h.LatestAuditLogExt}
}

func legacySource(h *harbor.Client) *source {
	return &source{name: legacySourceName, route: "GET /api/v2.0/audit-logs", page: h.AuditLogsPage, byID: h.AuditLogsByID, latest: h.LatestAuditLog}
}

// label is the source for logs and /readyz.
func (s *source) label() string {
	if s.name == "" {
		return "auditlog-exts"
	}
	return s.name
}
