package harborsim

import (
	"net/http"
	"strings"
)

func init() {
	addRoute("GET", "/configurations", handleGetConfigurations)
}

// configItem is the swagger's StringConfigItem / BoolConfigItem: {value, editable}, both
// x-omitempty: false.
type configItem struct {
	Value    any  `json:"value"`
	Editable bool `json:"editable"`
}

// GET /configurations (operation getConfigurations, goharbor/harbor@v2.15.2
// src/server/v2.0/handler/config.go): RequireSystemAccess(read, configuration), so a sysadmin
// (401 anonymous, 403 with the username otherwise), then the user-scope items as
// ConfigurationsResponse: each item {value, editable}. The simulator answers the items harborport
// reads (the audit-log switches and notification_enable) plus auth_mode; a real Harbor lists
// about forty more. Values as src/lib/config/metadata/metadatalist.go types them:
// disabled_audit_log_event_types is one comma-separated string; these items are not editable
// from the API when set from the environment, which the simulator does not model (editable true).
func handleGetConfigurations(s *Server, _ *http.Request, c secCtx, _ params) reply {
	if !c.authenticated() {
		return fail(errUnauthorized())
	}
	if !c.sysAdmin() {
		return fail(errForbidden(c.name()))
	}
	cfg := s.audit.cfg
	out := map[string]configItem{
		"auth_mode":                  {Value: "db_auth", Editable: true},
		"notification_enable":        {Value: *s.opts.NotificationEnable, Editable: true},
		"audit_log_forward_endpoint": {Value: cfg.ForwardEndpoint, Editable: true},
		"skip_audit_log_database":    {Value: cfg.SkipDatabase, Editable: true},
	}
	if s.rel.disabledEventTypes() {
		out["disabled_audit_log_event_types"] = configItem{Value: strings.Join(cfg.DisabledEventTypes, ","), Editable: true}
	}
	return ok(out)
}
