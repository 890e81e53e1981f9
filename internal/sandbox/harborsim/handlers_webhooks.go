package harborsim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
)

// Supported notify types and payload formats (src/pkg/notification/notification.go;
// real-api-webhook-events.json).
var (
	notifyTypes    = []string{"http", "slack"}
	payloadFormats = []string{"Default", "CloudEvents"}
)

type payloadFormatJSON struct {
	Formats    []string `json:"formats"`
	NotifyType string   `json:"notify_type,omitempty"`
}

type supportedEventsJSON struct {
	EventType      []string            `json:"event_type"`
	NotifyType     []string            `json:"notify_type"`
	PayloadFormats []payloadFormatJSON `json:"payload_formats"`
}

func policyCol(p *webhookPolicy, key string) (field, bool) {
	switch key {
	case "name":
		return sf(p.name), true
	case "id":
		return inf(p.id), true
	case "enabled":
		return bf(p.enabled), true
	case "creation_time":
		return tf(p.created), true
	case "update_time":
		return tf(p.updated), true
	}
	return field{}, false
}

func (pol *webhookPolicy) json() policyJSON {
	return policyJSON{CreationTime: dt(pol.created), Creator: pol.creator, Description: pol.description,
		Enabled: pol.enabled, EventTypes: append([]string(nil), pol.eventTypes...), ID: pol.id, Name: pol.name,
		ProjectID: pol.projectID, Targets: append([]webhookTarget(nil), pol.targets...), UpdateTime: dt(pol.updated)}
}

// GET /projects/{project_name_or_id}/webhook/policies (default sort -creation_time).
func handleListPolicies(s *Server, r *http.Request, c secCtx, pp params) reply {
	p, key := s.lookupProject(r, pp["project_name_or_id"])
	if err := s.requireProjectAccess(c, p, actList, resPolicy); err != nil {
		return fail(err)
	}
	if p == nil {
		return fail(errNotFound("project %s not found", key))
	}
	lp, err := parseListParams(r.URL.Query())
	if err != nil {
		return fail(err)
	}
	var rows []*webhookPolicy
	for _, pol := range p.policies {
		if matchAll(lp.q, pol, policyCol) {
			rows = append(rows, pol)
		}
	}
	keys := append(append([]sortKey{}, lp.sort...), sortKey{"creation_time", true}, sortKey{"id", true})
	sort.SliceStable(rows, func(i, j int) bool { return compareBy(keys, policyCol, rows[i], rows[j]) < 0 })
	start, end := lp.window(len(rows))
	out := make([]policyJSON, 0, end-start) // go-swagger turns a nil list into []
	for _, pol := range rows[start:end] {
		out = append(out, pol.json())
	}
	return paged(out, int64(len(rows)), lp)
}

// policyBody is the accepted WebhookPolicy input; id, project_id and times are ignored.
type policyBody struct {
	Name        string          `json:"name"`
	Description string          `json:"description"`
	Creator     string          `json:"creator"`
	Enabled     bool            `json:"enabled"` // omitted → false (internal/harbor/API-NOTES.md "Webhook policies")
	EventTypes  []string        `json:"event_types"`
	Targets     []webhookTarget `json:"targets"`
}

// decodePolicy binds the body like go-swagger: missing → 422 "policy in body is required",
// malformed → 400 parse error.
func decodePolicy(r *http.Request) (*policyBody, *apiError) {
	raw, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return nil, errBadRequest("reading policy body failed: %v", err)
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil, errValidation([]string{"policy in body is required"})
	}
	var b policyBody
	if err := json.Unmarshal(raw, &b); err != nil {
		return nil, errBadRequest(`parsing policy body from "" failed, because %v`, err)
	}
	return &b, nil
}

// validatePolicy mirrors handler/webhook.go validateEventTypes + validateTargets
// (internal/harbor/API-NOTES.md "Webhook policies"). It normalises target addresses to
// scheme://host/path and defaults an http payload format.
func validatePolicy(b *policyBody) *apiError {
	if len(b.EventTypes) == 0 {
		return errBadRequest("empty event type")
	}
	for _, et := range b.EventTypes {
		if !contains(webhookEventTypes, et) {
			return errBadRequest("unsupported event type %s", et)
		}
	}
	if len(b.Targets) == 0 {
		return errBadRequest("empty notification target with policy %s", b.Name)
	}
	for i := range b.Targets {
		t := &b.Targets[i]
		u, err := parseEndpoint(t.Address)
		if err != nil {
			return errBadRequest("%v", err)
		}
		// Query, fragment and userinfo are dropped (SSRF fix, internal/harbor/API-NOTES.md
		// "Webhook policies").
		t.Address = u.Scheme + "://" + u.Host + u.Path
		if !contains(notifyTypes, t.Type) {
			return errBadRequest("unsupported target type %s with policy %s", t.Type, b.Name)
		}
		if t.Type == "slack" && t.PayloadFormat != "" {
			return errBadRequest("set payload format is not allowed for slack")
		}
		if t.Type == "http" {
			if t.PayloadFormat == "" {
				t.PayloadFormat = "Default"
			} else if !contains(payloadFormats, t.PayloadFormat) {
				// Wording inferred from src/pkg/notification (not captured from a live server).
				return errBadRequest("unsupported payload format type: %s", t.PayloadFormat)
			}
		}
	}
	return nil
}

// parseEndpoint is utils.ParseEndpoint: trim spaces and a trailing "/", default scheme http,
// only http/https.
func parseEndpoint(endpoint string) (*url.URL, error) {
	endpoint = strings.TrimRight(strings.Trim(endpoint, " "), "/")
	if endpoint == "" {
		return nil, fmt.Errorf("empty URL")
	}
	if i := strings.Index(endpoint, "://"); i >= 0 {
		if scheme := endpoint[:i]; scheme != "http" && scheme != "https" {
			return nil, fmt.Errorf("invalid scheme: %s", scheme)
		}
	} else {
		endpoint = "http://" + endpoint
	}
	return url.ParseRequestURI(endpoint)
}

func policyNameTaken(p *project, name string, except int64) bool {
	for _, pol := range p.policies {
		if pol.name == name && pol.id != except {
			return true
		}
	}
	return false
}

// POST /projects/{project_name_or_id}/webhook/policies → 201, empty body,
// Location: <request path>/<id> (internal/harbor/API-NOTES.md "Webhook policies").
func handleCreatePolicy(s *Server, r *http.Request, c secCtx, pp params) reply {
	p, key := s.lookupProject(r, pp["project_name_or_id"])
	if err := s.requireProjectAccess(c, p, actCreate, resPolicy); err != nil {
		return fail(err)
	}
	b, err := decodePolicy(r)
	if err != nil {
		return fail(err)
	}
	if err := validatePolicy(b); err != nil {
		return fail(err)
	}
	if p == nil {
		return fail(errNotFound("project %s not found", key))
	}
	// UNIQUE(name, project_id) since 2.1.0 → 409 from orm.AsConflictError.
	if policyNameTaken(p, b.Name, 0) {
		return fail(errConflict("notification policy named %s already exists", b.Name))
	}
	now := s.now()
	s.nextPolicy++
	pol := &webhookPolicy{id: s.nextPolicy, projectID: p.id, created: now, updated: now}
	pol.apply(b)
	p.policies = append(p.policies, pol)
	return reply{status: http.StatusCreated, location: fmt.Sprintf("%s/%d", strings.TrimSuffix(r.URL.Path, "/"), pol.id)}
}

func (pol *webhookPolicy) apply(b *policyBody) {
	pol.name, pol.description, pol.creator, pol.enabled = b.Name, b.Description, b.Creator, b.Enabled
	pol.eventTypes = append([]string(nil), b.EventTypes...)
	pol.targets = append([]webhookTarget(nil), b.Targets...)
}

// policyInProject resolves {webhook_policy_id}: 422 when not an int64 (go-swagger binding), 404
// when unknown or in another project (requirePolicyInProject).
func policyInProject(p *project, raw string, all func(int64) *webhookPolicy) (*webhookPolicy, *apiError) {
	id, ok := parseID(raw)
	if !ok {
		return nil, errValidation([]string{fmt.Sprintf("webhook_policy_id in path must be of type int64: %q", raw)})
	}
	pol := all(id)
	if pol == nil {
		return nil, errNotFound("notification policy %d not found", id)
	}
	if pol.projectID != p.id {
		return nil, errNotFound("resource not found: project id:%d, webhook policy id: %d not found", p.id, id)
	}
	return pol, nil
}

func (s *Server) policyByID(id int64) *webhookPolicy {
	for _, p := range s.projects {
		for _, pol := range p.policies {
			if pol.id == id {
				return pol
			}
		}
	}
	return nil
}

// GET …/webhook/policies/{id}: Harbor resolves the project before checking access.
func handleGetPolicy(s *Server, r *http.Request, c secCtx, pp params) reply {
	p, key := s.lookupProject(r, pp["project_name_or_id"])
	if p == nil {
		return fail(errNotFound("project %s not found", key))
	}
	if err := s.requireProjectAccess(c, p, actRead, resPolicy); err != nil {
		return fail(err)
	}
	pol, err := policyInProject(p, pp["webhook_policy_id"], s.policyByID)
	if err != nil {
		return fail(err)
	}
	return ok(pol.json())
}

// PUT …/webhook/policies/{id}: full replace, 200 with an empty body.
func handleUpdatePolicy(s *Server, r *http.Request, c secCtx, pp params) reply {
	p, key := s.lookupProject(r, pp["project_name_or_id"])
	if err := s.requireProjectAccess(c, p, actUpdate, resPolicy); err != nil {
		return fail(err)
	}
	if p == nil {
		return fail(errNotFound("project %s not found", key))
	}
	pol, err := policyInProject(p, pp["webhook_policy_id"], s.policyByID)
	if err != nil {
		return fail(err)
	}
	b, err := decodePolicy(r)
	if err != nil {
		return fail(err)
	}
	if err := validatePolicy(b); err != nil {
		return fail(err)
	}
	if policyNameTaken(p, b.Name, pol.id) {
		return fail(errConflict("notification policy named %s already exists", b.Name))
	}
	pol.apply(b)
	pol.updated = s.now()
	return reply{status: http.StatusOK}
}

// DELETE …/webhook/policies/{id}: 200, or 412 while a delivery execution of the policy is not
// final (executions.go).
func handleDeletePolicy(s *Server, r *http.Request, c secCtx, pp params) reply {
	p, key := s.lookupProject(r, pp["project_name_or_id"])
	if err := s.requireProjectAccess(c, p, actDelete, resPolicy); err != nil {
		return fail(err)
	}
	if p == nil {
		return fail(errNotFound("project %s not found", key))
	}
	pol, err := policyInProject(p, pp["webhook_policy_id"], s.policyByID)
	if err != nil {
		return fail(err)
	}
	if s.delivery.executionBusy(pol.id) {
		return fail(errExecutionsNotFinal(pol.id)) // executions.go
	}
	for i, x := range p.policies {
		if x == pol {
			p.policies = append(p.policies[:i], p.policies[i+1:]...)
			break
		}
	}
	return reply{status: http.StatusOK}
}

// GET …/webhook/events (real-api-webhook-events.json).
func handleWebhookEvents(s *Server, r *http.Request, c secCtx, pp params) reply {
	p, key := s.lookupProject(r, pp["project_name_or_id"])
	if err := s.requireProjectAccess(c, p, actRead, resPolicy); err != nil {
		return fail(err)
	}
	if p == nil {
		return fail(errNotFound("project %s not found", key))
	}
	return ok(supportedEventsJSON{EventType: append([]string(nil), webhookEventTypes...),
		NotifyType:     append([]string(nil), notifyTypes...),
		PayloadFormats: []payloadFormatJSON{{Formats: append([]string(nil), payloadFormats...), NotifyType: "http"}}})
}
