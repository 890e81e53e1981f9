package harborsim

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"
)

// serveAuditAdmin serves the admin operations added for the audit log (same conventions as
// serveAdmin: JSON bodies with unknown fields rejected, {"error"} with 400/404/409):
//
//	POST /_sim/users/update      {"username","email","realname","comment","sysadmin","password"} (omitted = unchanged)
//	POST /_sim/users/delete      {"username"}
//	POST /_sim/repositories/delete {"project","repo"}
//	GET  /_sim/auditlog          → [{"id","project_id","username","resource","resource_type","operation","operation_description","operation_result","op_time"}] (id order, op_time with µs)
//	GET  /_sim/auditlog/config   → {"skip_database","forward_endpoint","disabled_event_types","pull_audit_log_disable"}
//	POST /_sim/auditlog/config   same body → {"status":"ok"}
//	POST /_sim/auditlog/purge    {"retention_hours","before" (RFC 3339, optional),"event_types","dry_run"} → {"purged": n}
//
// It reports whether op was one of these.
func (s *Server) serveAuditAdmin(w http.ResponseWriter, r *http.Request, op string) bool {
	switch op {
	case "users/update", "users/delete", "repositories/delete", "auditlog", "auditlog/config", "auditlog/purge":
	default:
		return false
	}
	if r.Method == http.MethodGet {
		switch op {
		case "auditlog":
			adminJSON(w, http.StatusOK, auditRecordsJSON(s.AuditLog()))
		case "auditlog/config":
			adminJSON(w, http.StatusOK, auditConfigJSON(s.AuditLogConfig()))
		default:
			adminJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "use POST with a JSON body for /_sim/" + op})
		}
		return true
	}
	if r.Method != http.MethodPost || op == "auditlog" {
		adminJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "use GET for /_sim/auditlog, POST with a JSON body for /_sim/" + op})
		return true
	}
	var in struct {
		Username            string    `json:"username"`
		Email               *string   `json:"email"`
		Realname            *string   `json:"realname"`
		Comment             *string   `json:"comment"`
		SysAdmin            *bool     `json:"sysadmin"`
		Password            *string   `json:"password"`
		Project             string    `json:"project"`
		Repo                string    `json:"repo"`
		SkipDatabase        bool      `json:"skip_database"`
		ForwardEndpoint     string    `json:"forward_endpoint"`
		DisabledEventTypes  []string  `json:"disabled_event_types"`
		PullAuditLogDisable bool      `json:"pull_audit_log_disable"`
		RetentionHours      int       `json:"retention_hours"`
		Before              time.Time `json:"before"`
		EventTypes          []string  `json:"event_types"`
		DryRun              bool      `json:"dry_run"`
	}
	dec := json.NewDecoder(io.LimitReader(r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil && !errors.Is(err, io.EOF) {
		adminJSON(w, http.StatusBadRequest, map[string]string{"error": "bad JSON body for /_sim/" + op + ": " + err.Error()})
		return true
	}
	var out any = map[string]string{"status": "ok"}
	var err error
	switch op {
	case "users/update":
		err = s.UpdateUser(in.Username, UserUpdate{Email: in.Email, Realname: in.Realname, Comment: in.Comment,
			SysAdmin: in.SysAdmin, Password: in.Password})
	case "users/delete":
		err = s.DeleteUser(in.Username)
	case "repositories/delete":
		err = s.DeleteRepository(in.Project, in.Repo)
	case "auditlog/config":
		err = s.SetAuditLogConfig(AuditLogConfig{SkipDatabase: in.SkipDatabase, ForwardEndpoint: in.ForwardEndpoint,
			DisabledEventTypes: in.DisabledEventTypes, PullAuditLogDisable: in.PullAuditLogDisable})
	case "auditlog/purge":
		var n int64
		n, err = s.PurgeAuditLog(AuditPurge{RetentionHours: in.RetentionHours, Before: in.Before,
			EventTypes: in.EventTypes, DryRun: in.DryRun})
		out = map[string]int64{"purged": n}
	}
	if err != nil {
		status := http.StatusBadRequest
		switch {
		case errors.Is(err, ErrNotFound):
			status = http.StatusNotFound
		case strings.Contains(err.Error(), "already exists"):
			status = http.StatusConflict
		}
		adminJSON(w, status, map[string]string{"error": err.Error()})
		return true
	}
	adminJSON(w, http.StatusOK, out)
	return true
}

type auditRecordJSON struct {
	ID                   int64     `json:"id"`
	ProjectID            int64     `json:"project_id"`
	Username             string    `json:"username"`
	Resource             string    `json:"resource"`
	ResourceType         string    `json:"resource_type"`
	Operation            string    `json:"operation"`
	OperationDescription string    `json:"operation_description"`
	OperationResult      bool      `json:"operation_result"`
	OpTime               time.Time `json:"op_time"`
}

func auditRecordsJSON(recs []AuditRecord) []auditRecordJSON {
	out := make([]auditRecordJSON, 0, len(recs))
	for _, r := range recs {
		out = append(out, auditRecordJSON{ID: r.ID, ProjectID: r.ProjectID, Username: r.Username, Resource: r.Resource,
			ResourceType: r.ResourceType, Operation: r.Operation, OperationDescription: r.Description,
			OperationResult: r.Successful, OpTime: r.OpTime})
	}
	return out
}

type auditConfigOut struct {
	SkipDatabase        bool     `json:"skip_database"`
	ForwardEndpoint     string   `json:"forward_endpoint"`
	DisabledEventTypes  []string `json:"disabled_event_types"`
	PullAuditLogDisable bool     `json:"pull_audit_log_disable"`
}

func auditConfigJSON(c AuditLogConfig) auditConfigOut {
	return auditConfigOut{SkipDatabase: c.SkipDatabase, ForwardEndpoint: c.ForwardEndpoint,
		DisabledEventTypes: append([]string{}, c.DisabledEventTypes...), PullAuditLogDisable: c.PullAuditLogDisable}
}
