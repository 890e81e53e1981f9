package harborsim

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"
)

// serveAdmin is the JSON admin API for the standalone demo. Every operation is a POST with a
// JSON body (unknown fields rejected) except GET /_sim/requests. Replies are JSON; errors are
// {"error":"..."} with 400 (bad input), 404 (missing object) or 409 (conflict).
//
//	POST /_sim/seed       {"projects","repos_per_project","artifacts_per_repo","users","seed"}
//	POST /_sim/projects   {"name","public"}                 → {"project_id"}
//	POST /_sim/projects/delete {"name"}
//	POST /_sim/users      {"username","password","admin"}   → {"user_id"}
//	POST /_sim/robots     {"name","secret","system_user_list","audit_log_list"}
//	POST /_sim/members    {"project","username","role"}
//	POST /_sim/revoke     {"username"}
//	POST /_sim/push       {"project","repo","tags","size","children","digest"} → {"digest"}
//	POST /_sim/tags/add | /_sim/tags/delete {"project","repo","digest","tag"}
//	POST /_sim/artifacts/delete {"project","repo","digest"}
//	POST /_sim/scan       {"project","repo","digest","counts":{"High":2},"status":"Success|Error|Stopped"}
//	GET  /_sim/webhooks/log, POST /_sim/webhooks/{pause,resume,wait,log/reset} (delivery_admin.go)
//	POST /_sim/pull       {"project","repo","reference"}
//	POST /_sim/faults     {"latency_ms","fail_next","fail_status","hang_ms","error_5xx_rate"}
//	GET  /_sim/requests   → {"METHOD route": count}
//	POST /_sim/requests/reset
//	users/update, users/delete, repositories/delete, auditlog… (admin_http_audit.go)
func (s *Server) serveAdmin(w http.ResponseWriter, r *http.Request) {
	op := strings.TrimPrefix(r.URL.Path, "/_sim/")
	if strings.HasPrefix(op, "webhooks/") {
		s.serveDeliveryAdmin(w, r, op)
		return
	}
	if s.serveAuditAdmin(w, r, op) {
		return
	}
	if op == "requests" && r.Method == http.MethodGet {
		adminJSON(w, http.StatusOK, s.Requests())
		return
	}
	if r.Method != http.MethodPost {
		adminJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "use POST with a JSON body (GET only for /_sim/requests)"})
		return
	}
	var in struct {
		Name             string         `json:"name"`
		Public           bool           `json:"public"`
		Username         string         `json:"username"`
		Password         string         `json:"password"`
		Admin            bool           `json:"admin"`
		Secret           string         `json:"secret"`
		SystemUserList   bool           `json:"system_user_list"`
		AuditLogList     bool           `json:"audit_log_list"`
		Project          string         `json:"project"`
		Role             int            `json:"role"`
		Repo             string         `json:"repo"`
		Tags             []string       `json:"tags"`
		Tag              string         `json:"tag"`
		Size             int64          `json:"size"`
		Children         int            `json:"children"`
		Digest           string         `json:"digest"`
		Reference        string         `json:"reference"`
		Counts           map[string]int `json:"counts"`
		Status           string         `json:"status"`
		Projects         int            `json:"projects"`
		ReposPerProject  int            `json:"repos_per_project"`
		ArtifactsPerRepo int            `json:"artifacts_per_repo"`
		Users            int            `json:"users"`
		Seed             int64          `json:"seed"`
		LatencyMS        int64          `json:"latency_ms"`
		FailNext         int            `json:"fail_next"`
		FailStatus       int            `json:"fail_status"`
		HangMS           int64          `json:"hang_ms"`
		Error5xxRate     float64        `json:"error_5xx_rate"`
	}
	dec := json.NewDecoder(io.LimitReader(r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil && !errors.Is(err, io.EOF) {
		adminJSON(w, http.StatusBadRequest, map[string]string{"error": "bad JSON body for /_sim/" + op + ": " + err.Error()})
		return
	}
	var out any = map[string]string{"status": "ok"}
	var err error
	switch op {
	case "seed":
		s.Seed(SeedConfig{Projects: in.Projects, ReposPerProject: in.ReposPerProject, ArtifactsPerRepo: in.ArtifactsPerRepo, Users: in.Users, Seed: in.Seed})
	case "projects":
		var id int
		id, err = s.CreateProjectE(in.Name, in.Public)
		out = map[string]int{"project_id": id}
	case "projects/delete":
		err = s.DeleteProject(in.Name)
	case "users":
		var id int
		id, err = s.AddUserE(in.Username, in.Password, in.Admin)
		out = map[string]int{"user_id": id}
	case "robots":
		err = s.AddRobotE(in.Name, in.Secret, RobotPermissions{UserList: in.SystemUserList, AuditLogList: in.AuditLogList})
	case "members":
		err = s.AddMember(in.Project, in.Username, in.Role)
	case "revoke":
		s.RevokeUser(in.Username)
	case "push":
		var d string
		d, err = s.PushArtifact(in.Project, in.Repo, in.Tags, PushOptions{Size: in.Size, Children: in.Children, Digest: in.Digest})
		out = map[string]string{"digest": d}
	case "tags/add":
		err = s.AddTag(in.Project, in.Repo, in.Digest, in.Tag)
	case "tags/delete":
		err = s.DeleteTag(in.Project, in.Repo, in.Digest, in.Tag)
	case "artifacts/delete":
		err = s.DeleteArtifact(in.Project, in.Repo, in.Digest)
	case "scan":
		err = s.ScanArtifactWithStatus(in.Project, in.Repo, in.Digest, in.Status, in.Counts)
	case "pull":
		err = s.PullArtifact(in.Project, in.Repo, in.Reference)
	case "faults":
		s.SetFaults(Faults{Latency: time.Duration(in.LatencyMS) * time.Millisecond, FailNext: in.FailNext,
			FailStatus: in.FailStatus, Hang: time.Duration(in.HangMS) * time.Millisecond, Error5xxRate: in.Error5xxRate})
	case "requests/reset":
		s.ResetRequests()
	default:
		adminJSON(w, http.StatusNotFound, map[string]string{"error": "unknown admin operation /_sim/" + op})
		return
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
		return
	}
	adminJSON(w, http.StatusOK, out)
}

func adminJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
