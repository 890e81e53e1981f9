// Package provider is the Terraform glue of harborport: schemas, plan and
// state handling. The work itself happens in the blueprint, port, harbor,
// mapping and catalog packages.
package provider

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/harborport/terraform-provider-harborport/internal/harbor"
	"github.com/harborport/terraform-provider-harborport/internal/port"
	"github.com/harborport/terraform-provider-harborport/internal/version"
)

// DefaultPortBaseURL is Port's EU API, the default of Ocean and of Port's own provider.
const DefaultPortBaseURL = "https://api.getport.io"

var _ provider.Provider = (*harborportProvider)(nil)

type harborportProvider struct {
	version string
	// newPortClient is swapped in tests to count or fake client construction.
	newPortClient func(port.Config) (*port.Client, error)
}

// New returns the provider factory Terraform serves.
func New(version string) func() provider.Provider {
	return func() provider.Provider {
		return &harborportProvider{version: version, newPortClient: port.New}
	}
}

type providerModel struct {
	HarborURL           types.String `tfsdk:"harbor_url"`
	HarborUsername      types.String `tfsdk:"harbor_username"`
	HarborPassword      types.String `tfsdk:"harbor_password"`
	HarborInsecure      types.Bool   `tfsdk:"harbor_insecure"`
	HarborCACertificate types.String `tfsdk:"harbor_ca_certificate"`
	PortClientID        types.String `tfsdk:"port_client_id"`
	PortClientSecret    types.String `tfsdk:"port_client_secret"`
	PortBaseURL         types.String `tfsdk:"port_base_url"`
	MaxConcurrency      types.Int64  `tfsdk:"max_concurrency"`
}

func (p *harborportProvider) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "harborport"
	resp.Version = p.version
}

func (p *harborportProvider) Schema(_ context.Context, _ provider.SchemaRequest, resp *provider.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "harborport turns a Harbor container registry into a live software catalog in Port. " +
			"Every attribute can also be set through the environment variable named in its description; " +
			"a value in the configuration wins over the environment.",
		Attributes: map[string]schema.Attribute{
			"harbor_url": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "Base URL of Harbor, e.g. `https://harbor.example.com` (without `/api/v2.0`). Env: `HARBOR_URL`. Needed by `harborport_sync` and `harborport_webhook`.",
			},
			"harbor_username": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "Harbor user or robot account (`robot$name`). Listing users needs a system administrator, or a robot with `user:list` on Harbor ≥ 2.12. Env: `HARBOR_USERNAME`.",
			},
			"harbor_password": schema.StringAttribute{
				Optional:            true,
				Sensitive:           true,
				MarkdownDescription: "Password of the Harbor user, or the robot account's secret. Env: `HARBOR_PASSWORD`.",
			},
			"harbor_insecure": schema.BoolAttribute{
				Optional:            true,
				MarkdownDescription: "Skip TLS certificate verification for Harbor. Only for test installations; prefer `harbor_ca_certificate`. Env: `HARBOR_INSECURE`. Default `false`.",
			},
			"harbor_ca_certificate": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "PEM bundle of the CA that signed Harbor's certificate, for private CAs and self-signed certificates. Env: `HARBOR_CA_CERTIFICATE`.",
			},
			"port_client_id": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "Port client ID (Port → Credentials). Env: `PORT_CLIENT_ID`.",
			},
			"port_client_secret": schema.StringAttribute{
				Optional:            true,
				Sensitive:           true,
				MarkdownDescription: "Port client secret. Env: `PORT_CLIENT_SECRET`.",
			},
			"port_base_url": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "Port API base URL. Env: `PORT_BASE_URL`. Default `" + DefaultPortBaseURL + "` (EU); " +
					"`https://api.port.io` is the same region, `https://api.us.port.io` and `https://api.us.getport.io` are the US region.",
			},
			"max_concurrency": schema.Int64Attribute{
				Optional:            true,
				MarkdownDescription: "Most requests in flight to Harbor and to Port at once. Env: `HARBORPORT_MAX_CONCURRENCY`. Default `8`.",
				Validators:          []validator.Int64{int64validator.Between(1, 64)},
			},
		},
	}
}

// setting is one provider attribute resolved from configuration or environment.
type setting struct {
	attr, env string
}

var (
	sHarborURL      = setting{"harbor_url", "HARBOR_URL"}
	sHarborUsername = setting{"harbor_username", "HARBOR_USERNAME"}
	sHarborPassword = setting{"harbor_password", "HARBOR_PASSWORD"}
	sHarborInsecure = setting{"harbor_insecure", "HARBOR_INSECURE"}
	sHarborCA       = setting{"harbor_ca_certificate", "HARBOR_CA_CERTIFICATE"}
	sPortClientID   = setting{"port_client_id", "PORT_CLIENT_ID"}
	sPortSecret     = setting{"port_client_secret", "PORT_CLIENT_SECRET"}
	sPortBaseURL    = setting{"port_base_url", "PORT_BASE_URL"}
	sConcurrency    = setting{"max_concurrency", "HARBORPORT_MAX_CONCURRENCY"}
)

func (s setting) name() string { return fmt.Sprintf("%s (or %s)", s.attr, s.env) }

// Config is the provider configuration once every value is resolved.
type Config struct {
	HarborURL, HarborUsername, HarborPassword, HarborCACertificate string
	HarborInsecure                                                 bool
	PortClientID, PortClientSecret, PortBaseURL                    string
	MaxConcurrency                                                 int
}

// resolver reads each attribute from the configuration, else the environment.
// Values still unknown at plan time (they come from other resources) are
// collected rather than treated as errors: Terraform configures the provider
// again at apply, with them known.
type resolver struct {
	diags   diag.Diagnostics
	unknown []string
	getenv  func(string) string
}

func (r *resolver) str(v types.String, s setting) string {
	if v.IsUnknown() {
		r.unknown = append(r.unknown, s.attr)
		return ""
	}
	if !v.IsNull() {
		return v.ValueString()
	}
	return strings.TrimSpace(r.getenv(s.env))
}

func (r *resolver) boolean(v types.Bool, s setting) bool {
	if v.IsUnknown() {
		r.unknown = append(r.unknown, s.attr)
		return false
	}
	if !v.IsNull() {
		return v.ValueBool()
	}
	raw := strings.TrimSpace(r.getenv(s.env))
	if raw == "" {
		return false
	}
	b, err := strconv.ParseBool(raw)
	if err != nil {
		r.diags.AddAttributeError(path.Root(s.attr), "Invalid "+s.env,
			fmt.Sprintf("%s must be true or false, got %q.", s.env, raw))
	}
	return b
}

func (r *resolver) integer(v types.Int64, s setting, def int) int {
	if v.IsUnknown() {
		r.unknown = append(r.unknown, s.attr)
		return def
	}
	if !v.IsNull() {
		return int(v.ValueInt64())
	}
	raw := strings.TrimSpace(r.getenv(s.env))
	if raw == "" {
		return def
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < 1 || n > 64 {
		r.diags.AddAttributeError(path.Root(s.attr), "Invalid "+s.env,
			fmt.Sprintf("%s must be a whole number between 1 and 64, got %q.", s.env, raw))
		return def
	}
	return n
}

// resolve turns the provider block plus environment into a Config, with one
// attribute-path diagnostic per problem.
func resolve(m providerModel, getenv func(string) string) (Config, []string, diag.Diagnostics) {
	r := &resolver{getenv: getenv}
	c := Config{
		HarborURL:           r.str(m.HarborURL, sHarborURL),
		HarborUsername:      r.str(m.HarborUsername, sHarborUsername),
		HarborPassword:      r.str(m.HarborPassword, sHarborPassword),
		HarborInsecure:      r.boolean(m.HarborInsecure, sHarborInsecure),
		HarborCACertificate: r.str(m.HarborCACertificate, sHarborCA),
		PortClientID:        r.str(m.PortClientID, sPortClientID),
		PortClientSecret:    r.str(m.PortClientSecret, sPortSecret),
		PortBaseURL:         r.str(m.PortBaseURL, sPortBaseURL),
		MaxConcurrency:      r.integer(m.MaxConcurrency, sConcurrency, 8),
	}
	if c.PortBaseURL == "" && !contains(r.unknown, sPortBaseURL.attr) {
		c.PortBaseURL = DefaultPortBaseURL
	}
	if len(r.unknown) > 0 {
		return c, r.unknown, r.diags
	}

	if c.PortClientID == "" && c.PortClientSecret == "" {
		r.diags.AddAttributeError(path.Root(sPortClientID.attr), "Missing Port Credentials",
			"Set port_client_id and port_client_secret in the provider block, or the PORT_CLIENT_ID and PORT_CLIENT_SECRET "+
				"environment variables. Create them in Port under Settings → Credentials.")
	} else {
		pair(&r.diags, c.PortClientID, c.PortClientSecret, sPortClientID, sPortSecret)
	}
	checkURL(&r.diags, c.PortBaseURL, sPortBaseURL)
	if c.HarborURL != "" {
		checkURL(&r.diags, c.HarborURL, sHarborURL)
		pair(&r.diags, c.HarborUsername, c.HarborPassword, sHarborUsername, sHarborPassword)
	} else if c.HarborUsername != "" || c.HarborPassword != "" {
		r.diags.AddAttributeError(path.Root(sHarborURL.attr), "Missing Harbor URL",
			"Harbor credentials are set but "+sHarborURL.name()+" is not. Set it to Harbor's base URL, e.g. https://harbor.example.com.")
	}
	return c, nil, r.diags
}

// pair reports one of two settings that only make sense together.
func pair(d *diag.Diagnostics, a, b string, sa, sb setting) {
	switch {
	case a != "" && b == "":
		d.AddAttributeError(path.Root(sb.attr), "Missing "+sb.attr,
			fmt.Sprintf("%s is set but %s is not; set both.", sa.name(), sb.name()))
	case a == "" && b != "":
		d.AddAttributeError(path.Root(sa.attr), "Missing "+sa.attr,
			fmt.Sprintf("%s is set but %s is not; set both.", sb.name(), sa.name()))
	}
}

// checkURL accepts absolute http(s) URLs without credentials, query or fragment.
// Credentials in a URL would end up in logs and plan output.
func checkURL(d *diag.Diagnostics, raw string, s setting) {
	u, err := url.Parse(raw)
	var why string
	switch {
	case err != nil:
		why = err.Error()
	case u.Scheme != "http" && u.Scheme != "https":
		why = "it must start with https:// (or http://)"
	case u.Host == "":
		why = "it has no host"
	case u.User != nil:
		why = "it must not contain a user name or password; use the credential attributes"
	case u.RawQuery != "" || u.Fragment != "":
		why = "it must not have a query string or fragment"
	}
	if why != "" {
		shown := raw
		if err == nil && u.User != nil {
			u.User = url.User("REDACTED")
			shown = u.String()
		}
		d.AddAttributeError(path.Root(s.attr), "Invalid "+s.attr,
			fmt.Sprintf("%s is %q: %s.", s.name(), shown, why))
	}
}

func contains(list []string, v string) bool {
	for _, s := range list {
		if s == v {
			return true
		}
	}
	return false
}

func (p *harborportProvider) Configure(ctx context.Context, req provider.ConfigureRequest, resp *provider.ConfigureResponse) {
	var m providerModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	cfg, unknown, diags := resolve(m, os.Getenv)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	data := &providerData{config: cfg, unknown: unknown}
	resp.ResourceData, resp.DataSourceData = data, data
	if len(unknown) > 0 {
		return // configured again at apply, when the values are known
	}

	pc, err := p.newPortClient(port.Config{
		BaseURL:      cfg.PortBaseURL,
		ClientID:     cfg.PortClientID,
		ClientSecret: cfg.PortClientSecret,
		UserAgent:    version.UserAgent(),
		Logger:       newLeveledLogger(ctx, "port"),
		Concurrency:  cfg.MaxConcurrency,
	})
	if err != nil {
		resp.Diagnostics.AddAttributeError(path.Root(sPortBaseURL.attr), "Invalid Port Configuration", err.Error())
		return
	}
	// Check the credentials now, so a typo is one clear error before any
	// resource does work (Port answers 401 to bad client credentials,
	// internal/port/API-NOTES.md "Authentication and token lifetime").
	if err := pc.Authenticate(ctx); err != nil {
		if port.IsUnauthorized(err) || port.IsNotFound(err) {
			// At the client ID, not the secret: terraform prints the source
			// line of the attribute, and a literal secret would be in it.
			resp.Diagnostics.AddAttributeError(path.Root(sPortClientID.attr), "Port Rejected the Credentials",
				fmt.Sprintf("Port did not accept %s with %s at %s: %s. Check both values (Port → Settings → Credentials) "+
					"and that port_base_url names your region.", sPortClientID.name(), sPortSecret.name(), cfg.PortBaseURL, err))
		} else {
			resp.Diagnostics.AddAttributeError(path.Root(sPortBaseURL.attr), "Unable to Reach Port",
				fmt.Sprintf("Authenticating at %s failed: %s. Check %s and the network path to Port.", cfg.PortBaseURL, err, sPortBaseURL.name()))
		}
		return
	}
	data.port = pc

	if cfg.HarborURL == "" {
		return // only harborport_blueprints can be used; the others say what is missing
	}
	hc, err := harbor.New(harbor.Config{
		URL:                cfg.HarborURL,
		Username:           cfg.HarborUsername,
		Password:           cfg.HarborPassword,
		InsecureSkipVerify: cfg.HarborInsecure,
		CACertPEM:          cfg.HarborCACertificate,
		MaxConcurrency:     cfg.MaxConcurrency,
		UserAgent:          version.UserAgent(),
		Logger:             newLeveledLogger(ctx, "harbor"),
	})
	if err != nil {
		at := sHarborURL.attr
		if errors.Is(err, harbor.ErrInvalidCACert) {
			at = sHarborCA.attr // point at the attribute to fix
		}
		resp.Diagnostics.AddAttributeError(path.Root(at), "Invalid Harbor Configuration", err.Error())
		return
	}
	// Harbor serves wrong credentials as anonymous rather than failing
	// (internal/harbor/API-NOTES.md "Authentication and CSRF"), so without this check a
	// typo would sync an empty registry and delete the catalog.
	info, err := hc.Verify(ctx)
	switch {
	case errors.Is(err, harbor.ErrBadCredentials):
		// At the username, not the password: terraform prints the source
		// line of the attribute, and a literal password would be in it.
		resp.Diagnostics.AddAttributeError(path.Root(sHarborUsername.attr), "Harbor Rejected the Credentials",
			fmt.Sprintf("%s. Check %s and %s; a robot account is written robot$name.", err, sHarborUsername.name(), sHarborPassword.name()))
		return
	case err != nil:
		resp.Diagnostics.AddAttributeError(path.Root(sHarborURL.attr), "Unable to Reach Harbor",
			fmt.Sprintf("Checking %s/systeminfo failed: %s. Check %s, TLS (%s, %s) and the network path to Harbor.",
				hc.BaseURL(), err, sHarborURL.name(), sHarborCA.name(), sHarborInsecure.name()))
		return
	}
	tflog.Debug(ctx, "harbor verified", map[string]any{"harbor_version": info.Version})
	data.harbor, data.harborInfo = hc, info
}

func (p *harborportProvider) Resources(_ context.Context) []func() resource.Resource {
	return []func() resource.Resource{
		NewBlueprintsResource,
		NewSyncResource,
		NewWebhookResource,
	}
}

func (p *harborportProvider) DataSources(_ context.Context) []func() datasource.DataSource {
	return nil
}

// providerData is what Configure hands to every resource: the resolved
// configuration and the clients, built once and shared.
type providerData struct {
	config  Config
	unknown []string // attributes unknown at plan time; clients are nil then
	port    *port.Client

	harbor     *harbor.Client // nil when harbor_url is not set
	harborInfo *harbor.Info

	syncs syncRegistry // the configuration's harborport_syncs, checked against each other
}

// harborClient returns the Harbor client, or a diagnostic explaining why there is none.
func (d *providerData) harborClient() (*harbor.Client, diag.Diagnostic) {
	if _, dg := d.portClient(); dg != nil {
		return nil, dg
	}
	if d.harbor == nil {
		return nil, diag.NewErrorDiagnostic("Harbor Not Configured",
			"This resource reads Harbor, but the provider has no harbor_url. Set harbor_url, harbor_username and "+
				"harbor_password in the provider block, or HARBOR_URL, HARBOR_USERNAME and HARBOR_PASSWORD in the environment.")
	}
	return d.harbor, nil
}

// portClient returns the Port client, or a diagnostic explaining why there is none.
func (d *providerData) portClient() (*port.Client, diag.Diagnostic) {
	if d == nil {
		return nil, diag.NewErrorDiagnostic("Provider Not Configured", "The harborport provider was not configured. This is a bug in harborport; please report it.")
	}
	if d.port == nil {
		return nil, diag.NewErrorDiagnostic("Provider Configuration Unknown",
			fmt.Sprintf("The provider attributes %s depend on values known only after apply, so Port cannot be read yet. "+
				"Apply the resources they come from first (terraform apply -target=…), or set them statically or through the environment.",
				strings.Join(d.unknown, ", ")))
	}
	return d.port, nil
}
