package harborsim

import (
	"net/http"
	"strings"
)

// GET /ping: no auth, 200 text/plain "Pong" (internal/harbor/API-NOTES.md
// "Authentication and CSRF").
func handlePing(_ *Server, _ *http.Request, _ secCtx, _ params) reply {
	return reply{status: http.StatusOK, text: "Pong"}
}

type componentHealth struct {
	Name   string `json:"name,omitempty"`
	Status string `json:"status,omitempty"`
}

type overallHealth struct {
	Components []componentHealth `json:"components"`
	Status     string            `json:"status,omitempty"`
}

// GET /health: no auth.
func handleHealth(_ *Server, _ *http.Request, _ secCtx, _ params) reply {
	var cs []componentHealth
	for _, n := range []string{"core", "database", "jobservice", "portal", "redis", "registry", "registryctl", "trivy"} {
		cs = append(cs, componentHealth{Name: n, Status: "healthy"})
	}
	return ok(overallHealth{Components: cs, Status: "healthy"})
}

// generalInfo is GeneralInfo: every field is x-nullable/x-omitempty, so anonymous callers get
// only the auth subset and authenticated ones (users and robots) also get harbor_version,
// notification_enable, … (src/controller/systeminfo GetInfo; real-api-systeminfo.json).
type generalInfo struct {
	AuthMode                    *string   `json:"auth_mode,omitempty"`
	BannerMessage               *string   `json:"banner_message,omitempty"`
	CurrentTime                 *dateTime `json:"current_time,omitempty"`
	ExternalURL                 *string   `json:"external_url,omitempty"`
	HarborVersion               *string   `json:"harbor_version,omitempty"`
	HasCARoot                   *bool     `json:"has_ca_root,omitempty"`
	NotificationEnable          *bool     `json:"notification_enable,omitempty"`
	OIDCProviderName            *string   `json:"oidc_provider_name,omitempty"`
	PrimaryAuthMode             *bool     `json:"primary_auth_mode,omitempty"`
	ProjectCreationRestriction  *string   `json:"project_creation_restriction,omitempty"`
	ReadOnly                    *bool     `json:"read_only,omitempty"`
	RegistryStorageProviderName *string   `json:"registry_storage_provider_name,omitempty"`
	RegistryURL                 *string   `json:"registry_url,omitempty"`
	SelfRegistration            *bool     `json:"self_registration,omitempty"`
}

func sp(s string) *string { return &s }
func bp(b bool) *bool     { return &b }

func handleSystemInfo(s *Server, r *http.Request, c secCtx, _ params) reply {
	info := generalInfo{AuthMode: sp("db_auth"), BannerMessage: sp(""), OIDCProviderName: sp(""),
		PrimaryAuthMode: bp(false), SelfRegistration: bp(false)}
	if c.authenticated() {
		ext := s.opts.ExternalURL
		if ext == "" {
			ext = "http://" + r.Host
		}
		host := ext
		if i := strings.Index(host, "://"); i >= 0 {
			host = host[i+3:]
		}
		info.CurrentTime = dtp(s.peekNow())
		info.ExternalURL = sp(ext)
		info.HarborVersion = sp(s.opts.Version)
		info.HasCARoot = bp(false)
		info.NotificationEnable = bp(*s.opts.NotificationEnable)
		info.ProjectCreationRestriction = sp("everyone")
		info.ReadOnly = bp(false)
		info.RegistryStorageProviderName = sp("filesystem")
		info.RegistryURL = sp(strings.TrimSuffix(host, "/"))
	}
	return ok(info)
}
