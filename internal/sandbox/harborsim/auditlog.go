package harborsim

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Harbor's audit log ("auditlog-exts", Harbor >= 2.13), as goharbor/harbor@v2.15.2 writes it:
//
//   - Records come from events. Push, pull and delete of artifacts, project create/delete,
//     repository delete, tag create/delete (API only) and robot create/delete are resolved by
//     src/controller/event/topic.go ResolveToAuditLog; user create/update/delete and
//     configuration updates come from the log middleware (src/server/middleware/log/log.go,
//     src/pkg/auditext/event/basic.go), which also records FAILED requests (operation_result
//     false). Nothing is recorded for project metadata edits, scans or logins through the API.
//   - The events of one request are resolved one after another after it succeeded
//     (src/server/middleware/notification), each taking time.Now() as op_time, and each audit
//     handler runs in its own goroutine (src/pkg/notifier/notifier.go Notify). So a request's
//     records share op_time to the millisecond the API shows, while their ids (insert order)
//     follow no rule: the real capture has the repository record of DELETE …/repositories/x with
//     a lower id than its artifact record although the artifact's op_time is (microseconds)
//     earlier. The simulator keeps op_time with microseconds (PostgreSQL's timestamp), gives the
//     k-th record of a request base+k µs (kept inside base's millisecond), and hands out the ids of a
//     request in reverse, so a client that assumes id order == op_time order fails here as it
//     would on Harbor.
//   - config switches (src/lib/config/userconfig.go): disabled_audit_log_event_types drops
//     "<operation>_<resource_type>" types (case-insensitive), pull_audit_log_disable drops pulls,
//     skip_audit_log_database stores nothing (records only go to audit_log_forward_endpoint,
//     src/pkg/auditext/manager.go Create).
//
// The store lives under Server.mu: writes happen inside the mutations, reads inside GET handlers.

// auditEventTypes are the types Harbor lets an admin disable or purge, in Harbor's order
// (src/pkg/auditext/model/model.go EventTypes; GET /auditlog-exts/events). Tag records exist
// although create_tag/delete_tag are not listed.
var auditEventTypes = []string{"create_artifact", "delete_artifact", "pull_artifact", "create_project",
	"delete_project", "delete_repository", "login_user", "logout_user", "create_user", "delete_user",
	"update_user", "create_robot", "delete_robot", "update_configuration"}

// auditOtherEvents is the purge keyword for every type after pull_artifact (model.OtherEvents).
const auditOtherEvents = "other"

type auditRecord struct {
	id        int64
	projectID int64 // 0 for user, configuration and system-robot records
	operation string
	resType   string
	resource  string
	desc      string
	username  string
	ok        bool
	at        time.Time // microsecond precision, like the op_time TIMESTAMP column
}

func (r *auditRecord) eventType() string { return r.operation + "_" + r.resType }

// AuditLogConfig holds Harbor's audit-log configuration items (PUT /configurations keys).
type AuditLogConfig struct {
	// SkipDatabase is skip_audit_log_database: nothing is stored, the API returns no records.
	// Harbor refuses it without ForwardEndpoint (src/controller/config/controller.go).
	SkipDatabase bool
	// ForwardEndpoint is audit_log_forward_endpoint (syslog forwarding is not simulated).
	ForwardEndpoint string
	// DisabledEventTypes is disabled_audit_log_event_types: "<operation>_<resource_type>" names
	// such as "create_user" or "pull_artifact", compared case-insensitively.
	DisabledEventTypes []string
	// PullAuditLogDisable is pull_audit_log_disable: pulls are not recorded.
	PullAuditLogDisable bool
}

func (c AuditLogConfig) enabled(eventType string) bool {
	for _, d := range c.DisabledEventTypes {
		if strings.EqualFold(strings.TrimSpace(d), eventType) {
			return false
		}
	}
	return true
}

// legacyAuditTypes are the resource types Harbor before 2.13 records: its audit handler
// (goharbor/harbor@v2.11.2 src/controller/event/handler/auditlog/auditlog.go) takes push, pull
// and delete of artifacts, tag create/delete, repository delete and project create/delete
// events, always after success. Users, robots and the configuration are recorded only by the
// log middleware of the extended audit log (2.13+), so 2.11 logs no user change
// (real-api-211-audit-logs.json); disabled_audit_log_event_types does not exist yet.
var legacyAuditTypes = map[string]bool{"artifact": true, "tag": true, "repository": true, "project": true}

type auditStore struct {
	recs   []*auditRecord // ascending id
	nextID int64          // last id handed out (BIGSERIAL starts at 1)
	cfg    AuditLogConfig
}

// auditLocked stores the records of one Harbor request whose events were resolved at `at`
// (see the file comment for op_time and id order). Requires s.mu held for writing.
func (s *Server) auditLocked(at time.Time, recs ...auditRecord) {
	st := &s.audit
	if st.cfg.SkipDatabase {
		return
	}
	base := at.UTC().Truncate(time.Microsecond)
	last := base.Truncate(time.Millisecond).Add(999 * time.Microsecond) // stay in base's millisecond
	var keep []*auditRecord
	for k := range recs {
		r := recs[k]
		r.at = base.Add(time.Duration(k) * time.Microsecond)
		if r.at.After(last) {
			r.at = last
		}
		switch {
		case !s.rel.auditExts():
			if !r.ok || !legacyAuditTypes[r.resType] {
				continue // before 2.13 only the event handler writes records (legacyAuditTypes)
			}
		case !st.cfg.enabled(r.eventType()):
			continue // auditlog.Handler / Resolver.PreCheck: AuditLogEventEnabled
		}
		if r.operation == "pull" && st.cfg.PullAuditLogDisable {
			continue
		}
		if len(r.username) > 255 {
			r.username = r.username[:252] + "..." // dao.Create truncates long usernames
		}
		keep = append(keep, &r)
	}
	for i := len(keep) - 1; i >= 0; i-- {
		st.nextID++
		keep[i].id = st.nextID
		st.recs = append(st.recs, keep[i])
	}
}

// artifactAuditRecords turns push, pull and delete events into their records
// (topic.go PushArtifactEvent/PullArtifactEvent/DeleteArtifactEvent.ResolveToAuditLog). Each tag
// of a multi-tag push is one manifest PUT in Harbor and so one record; a push or pull without a
// tag names the digest.
func artifactAuditRecords(evs []Event) []auditRecord {
	var out []auditRecord
	for _, ev := range evs {
		byDigest := ev.RepoName + "@" + ev.Digest
		r := auditRecord{projectID: ev.ProjectID, resType: "artifact", username: ev.Operator, ok: true}
		switch ev.Type {
		case "PUSH_ARTIFACT":
			r.operation, r.desc = "create", "push artifact: "+byDigest
			if len(ev.Tags) == 0 {
				r.resource = byDigest
				out = append(out, r)
			}
			for _, t := range ev.Tags {
				r.resource = ev.RepoName + ":" + t
				out = append(out, r)
			}
		case "PULL_ARTIFACT":
			r.operation, r.desc, r.resource = "pull", "pull artifact: "+byDigest, byDigest
			if len(ev.Tags) > 0 {
				r.resource = ev.RepoName + ":" + ev.Tags[0]
			}
			if r.username == "" {
				r.username = "anonymous" // a pull of a public artifact without credentials
			}
			out = append(out, r)
		case "DELETE_ARTIFACT":
			r.operation, r.desc, r.resource = "delete", "delete artifact: "+byDigest, byDigest
			out = append(out, r)
		}
	}
	return out
}

// auditArtifactEventsLocked records artifact events; all of them belong to one request.
func (s *Server) auditArtifactEventsLocked(evs []Event) {
	if len(evs) == 0 {
		return
	}
	s.auditLocked(evs[len(evs)-1].OccurAt, artifactAuditRecords(evs)...)
}

func projectAuditRecord(op string, p *project, operator string) auditRecord {
	return auditRecord{projectID: p.id, operation: op, resType: "project", resource: p.name,
		desc: op + " project: " + p.name, username: operator, ok: true}
}

func tagAuditRecord(op string, r *repository, tagName, operator string) auditRecord {
	res := r.name + ":" + tagName
	return auditRecord{projectID: r.project.id, operation: op, resType: "tag", resource: res,
		desc: op + " tag: " + res, username: operator, ok: true}
}

func repositoryAuditRecord(r *repository, operator string) auditRecord {
	return auditRecord{projectID: r.project.id, operation: "delete", resType: "repository", resource: r.name,
		desc: "delete repository: " + r.name, username: operator, ok: true}
}

// userAuditRecord is what the log middleware writes for /users requests (basic.go Resolve,
// user.go): "<op> user with name: <name>", plus a suffix for the password and sysadmin routes.
func userAuditRecord(op, name, suffix, operator string, ok bool) auditRecord {
	return auditRecord{operation: op, resType: "user", resource: name,
		desc: op + " user with name: " + name + suffix, username: operator, ok: ok}
}

// Suffixes user.go appends to the description of PUT …/password and PUT …/sysadmin.
const (
	auditSuffixPassword = ", change user password"
	auditSuffixSysadmin = ", add/remove user as system administrator"
)

// AuditRecord is a read-only view of one stored audit record.
type AuditRecord struct {
	ID           int64
	ProjectID    int64
	Username     string
	Resource     string
	ResourceType string
	Operation    string
	Description  string // operation_description
	Successful   bool   // operation_result
	OpTime       time.Time
}

// AuditLog returns every stored record in id order.
func (s *Server) AuditLog() []AuditRecord {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]AuditRecord, 0, len(s.audit.recs))
	for _, r := range s.audit.recs {
		out = append(out, AuditRecord{ID: r.id, ProjectID: r.projectID, Username: r.username, Resource: r.resource,
			ResourceType: r.resType, Operation: r.operation, Description: r.desc, Successful: r.ok, OpTime: r.at})
	}
	return out
}

// AuditLogConfig returns the current audit-log configuration.
func (s *Server) AuditLogConfig() AuditLogConfig {
	s.mu.RLock()
	defer s.mu.RUnlock()
	c := s.audit.cfg
	c.DisabledEventTypes = append([]string(nil), c.DisabledEventTypes...)
	return c
}

// SetAuditLogConfig changes the audit-log configuration as the admin's PUT /configurations
// would. Like Harbor it refuses skip_audit_log_database without a forward endpoint, and the
// change itself is recorded as "update configuration" when update_configuration is enabled
// before (the middleware's PreCheck) and after (the audit handler) and the database is kept.
func (s *Server) SetAuditLogConfig(cfg AuditLogConfig) error {
	if cfg.SkipDatabase && cfg.ForwardEndpoint == "" {
		return errors.New("bad request: audit log forward endpoint should be configured before enable skip audit log in database")
	}
	cfg.DisabledEventTypes = append([]string(nil), cfg.DisabledEventTypes...)
	s.mu.Lock()
	defer s.mu.Unlock()
	before := s.audit.cfg.enabled("update_configuration")
	s.audit.cfg = cfg
	if before {
		s.auditLocked(s.now(), auditRecord{operation: "update", resType: "configuration", resource: "configuration",
			desc: "update configuration", username: s.opts.AdminUser, ok: true})
	}
	return nil
}

// AuditPurge is one run of Harbor's audit-log purge job (System → Clean Up → Log Rotation;
// POST /system/purgeaudit/schedule parameters).
type AuditPurge struct {
	// RetentionHours is audit_retention_hour: records with op_time < now - RetentionHours go.
	RetentionHours int
	// Before, when set, is the cutoff instead of now - RetentionHours (a simulator convenience:
	// Harbor's job only takes hours).
	Before time.Time
	// EventTypes is include_event_types: names from GET /auditlog-exts/events, or "other" for
	// every type after pull_artifact. Empty purges nothing. Tag records are never purged: their
	// types are not in Harbor's list (src/pkg/auditext/dao/dao.go permitEventTypes). Before 2.13
	// they are operations instead: "create", "delete", "pull" (purgeLegacyAuditLog).
	EventTypes []string
	// DryRun counts without deleting.
	DryRun bool
}

// PurgeAuditLog deletes (or with DryRun counts) records like the purge job's SQL:
// op_time < cutoff AND lower(operation || '_' || resource_type) IN (types).
func (s *Server) PurgeAuditLog(p AuditPurge) (int64, error) {
	if p.RetentionHours < 0 {
		return 0, fmt.Errorf("audit_retention_hour must not be negative, got %d", p.RetentionHours)
	}
	// permitEventTypes checks the lower-cased name but keeps the caller's spelling, which the SQL
	// compares with a lower-cased column: "CREATE_ARTIFACT" passes the check and matches nothing.
	if !s.rel.auditExts() {
		return s.purgeLegacyAuditLog(p)
	}
	types := map[string]bool{}
	for _, e := range p.EventTypes {
		switch low := strings.ToLower(e); {
		case contains(auditEventTypes, low):
			types[e] = true
		case low == auditOtherEvents:
			for _, o := range auditEventTypes[3:] {
				types[o] = true
			}
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cutoff := p.Before
	if cutoff.IsZero() {
		cutoff = s.now().Add(-time.Duration(p.RetentionHours) * time.Hour)
	}
	var n int64
	kept := s.audit.recs[:0:0]
	for _, r := range s.audit.recs {
		if r.at.Before(cutoff) && types[r.eventType()] {
			n++
			if !p.DryRun {
				continue
			}
		}
		kept = append(kept, r)
	}
	if !p.DryRun {
		s.audit.recs = kept
	}
	return n, nil
}

// robotAuditRecord: CreateRobotEvent/DeleteRobotEvent name the robot with its prefix
// (src/controller/event/metadata/robot.go); system robots belong to no project.
func robotAuditRecord(op, fullName, operator string) auditRecord {
	return auditRecord{operation: op, resType: "robot", resource: fullName, desc: op + " robot: " + fullName,
		username: operator, ok: true}
}

// purgeLegacyAuditLog is the purge of Harbor before 2.13 (goharbor/harbor@v2.11.2
// src/pkg/audit/dao/dao.go Purge): AuditPurge.EventTypes are operations there, "create",
// "delete" or "pull" (others are dropped), and the SQL is op_time < cutoff AND lower(operation)
// IN (…): tag records go too.
func (s *Server) purgeLegacyAuditLog(p AuditPurge) (int64, error) {
	ops := map[string]bool{}
	for _, e := range p.EventTypes {
		if low := strings.ToLower(e); low == "create" || low == "delete" || low == "pull" {
			ops[low] = true
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cutoff := p.Before
	if cutoff.IsZero() {
		cutoff = s.now().Add(-time.Duration(p.RetentionHours) * time.Hour)
	}
	var n int64
	kept := s.audit.recs[:0:0]
	for _, r := range s.audit.recs {
		if r.at.Before(cutoff) && ops[strings.ToLower(r.operation)] {
			n++
			if !p.DryRun {
				continue
			}
		}
		kept = append(kept, r)
	}
	if !p.DryRun {
		s.audit.recs = kept
	}
	return n, nil
}
