package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net"
	"net/url"
	"slices"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/setvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/setdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/harborport/terraform-provider-harborport/internal/harbor"
	"github.com/harborport/terraform-provider-harborport/internal/webhookpolicy"
)

var (
	_ resource.Resource                   = (*webhookResource)(nil)
	_ resource.ResourceWithConfigure      = (*webhookResource)(nil)
	_ resource.ResourceWithModifyPlan     = (*webhookResource)(nil)
	_ resource.ResourceWithValidateConfig = (*webhookResource)(nil)
	_ resource.ResourceWithImportState    = (*webhookResource)(nil)
)

// NewWebhookResource returns harborport_webhook: one Harbor webhook policy
// per project, pointing at the listener. Harbor has no system-wide policy
// (internal/harbor/API-NOTES.md "Webhook policies"; goharbor/harbor#21370), so
// new projects need one too.
//
// Same contract as harborport_sync (internal/DESIGN.md "Plan and apply";
// internal/provider/TERRAFORM-NOTES.md "ModifyPlan runs twice"): live Harbor
// data enters only in Read, which stores the pending policy work in private
// state; ModifyPlan renders it deterministically into `pending` and `policies`;
// Update applies exactly it.
func NewWebhookResource() resource.Resource { return &webhookResource{} }

type webhookResource struct{ data *providerData }

type webhookModel struct {
	ID             types.String `tfsdk:"id"`
	Name           types.String `tfsdk:"name"`
	Endpoint       types.String `tfsdk:"endpoint"`
	Secret         types.String `tfsdk:"secret"`
	Projects       types.Set    `tfsdk:"projects"`
	EventTypes     types.Set    `tfsdk:"event_types"`
	PayloadFormat  types.String `tfsdk:"payload_format"`
	Enabled        types.Bool   `tfsdk:"enabled"`
	SkipCertVerify types.Bool   `tfsdk:"skip_cert_verify"`
	Policies       types.Map    `tfsdk:"policies"`
	Pending        types.Map    `tfsdk:"pending"`

	// SecretWO is write-only: null in plan and state, set from the
	// configuration by withConfigSecret where a policy is written.
	SecretWO        types.String `tfsdk:"secret_wo"`
	SecretWOVersion types.Int64  `tfsdk:"secret_wo_version"`
}

// harborEventTypes are the webhook-deliverable types of Harbor 2.8+
// (GET …/webhook/events; internal/harbor/API-NOTES.md "Webhook policies").
var harborEventTypes = []string{"PUSH_ARTIFACT", "PULL_ARTIFACT", "DELETE_ARTIFACT", "QUOTA_EXCEED", "QUOTA_WARNING",
	"SCANNING_FAILED", "SCANNING_STOPPED", "SCANNING_COMPLETED", "REPLICATION", "TAG_RETENTION"}

var defaultEventTypes = []string{"PUSH_ARTIFACT", "DELETE_ARTIFACT", "PULL_ARTIFACT", "SCANNING_COMPLETED", "SCANNING_FAILED"}

const (
	// webhookPendingKey holds the policy work computed by the last Read.
	webhookPendingKey = "pending"
	// pendingPreviewLimit bounds the planned `pending` map (large computed
	// maps are slow in the framework, internal/provider/TERRAFORM-NOTES.md
	// "Large computed maps"); the work itself is not bounded.
	pendingPreviewLimit = 500
	minSecretLength     = 16
)

func (r *webhookResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_webhook"
}

func (r *webhookResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	defEvents := make([]attr.Value, len(defaultEventTypes))
	for i, e := range defaultEventTypes {
		defEvents[i] = types.StringValue(e)
	}
	resp.Schema = schema.Schema{
		MarkdownDescription: "Harbor webhook policies, one per project, that send artifact and scan events to the harborport " +
			"listener (`terraform-provider-harborport serve`). Projects created later, and policies edited, disabled or " +
			"deleted in Harbor, show up in the next plan; apply repairs them. Destroy removes only the policies this resource manages.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				Computed: true, MarkdownDescription: "The policy name.",
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"name": schema.StringAttribute{
				Optional: true, Computed: true, Default: stringdefault.StaticString("harborport"),
				Validators: []validator.String{stringvalidator.LengthBetween(1, 256)},
				// A rename is a new set of policies: destroy the old ones, then create (or adopt) the new.
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
				MarkdownDescription: "Policy name, the same in every project (Harbor keeps names unique per project). " +
					"A policy of this name that already exists is adopted, not duplicated. Default `harborport`. Changing it replaces the policies.",
			},
			"endpoint": schema.StringAttribute{
				Required: true,
				MarkdownDescription: "The listener's webhook URL, e.g. `https://harborport.example.com/integration/webhook` (http or https). " +
					"No query string, fragment or credentials: Harbor silently drops them; the secret goes in `secret`.",
			},
			"secret": schema.StringAttribute{
				Optional: true, Sensitive: true,
				Validators: []validator.String{stringvalidator.LengthAtLeast(minSecretLength)},
				MarkdownDescription: "Sent by Harbor verbatim as the `Authorization` header (Harbor's `auth_header`); the listener's " +
					"`HARBORPORT_WEBHOOK_SECRET` must equal it, e.g. `Bearer <random>`. At least 16 characters, one line. " +
					"Harbor shows it in clear text to the project's admins. Stored in the Terraform state (sensitive); " +
					"`secret_wo` keeps it out of state and plan. Exactly one of `secret` and `secret_wo` is required.",
			},
			"secret_wo": schema.StringAttribute{
				Optional: true, Sensitive: true, WriteOnly: true,
				Validators: []validator.String{stringvalidator.LengthAtLeast(minSecretLength),
					stringvalidator.AlsoRequires(path.MatchRoot("secret_wo_version"))},
				MarkdownDescription: "The same secret as `secret`, write-only: Terraform passes it to the provider but never stores it in " +
					"the state or a saved plan (Terraform ≥ 1.11), and it may come from an ephemeral value. Since no copy is kept, " +
					"a secret changed in Harbor is not detected by a refresh. Apply writes `secret_wo` into every policy it creates, " +
					"adopts or updates, and when `secret_wo_version` changes it compares the value with every policy in Harbor and " +
					"rewrites those that differ.",
			},
			"secret_wo_version": schema.Int64Attribute{
				Optional: true,
				Validators: []validator.Int64{int64validator.AlsoRequires(path.MatchRoot("secret_wo")),
					int64validator.AtLeast(1)},
				MarkdownDescription: "Required with `secret_wo`: change it (e.g. increment it) to make apply write a new `secret_wo` " +
					"to every policy. Terraform cannot see a change of a write-only value, only of this number.",
			},
			"projects": schema.SetAttribute{
				Optional: true, ElementType: types.StringType,
				Validators: []validator.Set{setvalidator.SizeAtLeast(1), setvalidator.ValueStringsAre(stringvalidator.LengthAtLeast(1))},
				MarkdownDescription: "Names of the projects that get a policy. Unset: every project the Harbor user can see, " +
					"including projects created later (the next plan adds them).",
			},
			"event_types": schema.SetAttribute{
				Optional: true, Computed: true, ElementType: types.StringType,
				Default:    setdefault.StaticValue(types.SetValueMust(types.StringType, defEvents)),
				Validators: []validator.Set{setvalidator.SizeAtLeast(1), setvalidator.ValueStringsAre(stringvalidator.OneOf(harborEventTypes...))},
				MarkdownDescription: "Harbor event types to send. Default: `" + strings.Join(defaultEventTypes, "`, `") + "`. " +
					"Allowed: `" + strings.Join(harborEventTypes, "`, `") + "`.",
			},
			"payload_format": schema.StringAttribute{
				Optional: true, Computed: true, Default: stringdefault.StaticString("CloudEvents"),
				Validators:          []validator.String{stringvalidator.OneOf("CloudEvents", "Default")},
				MarkdownDescription: "`CloudEvents` (default; Harbor ≥ 2.8) or `Default`. The listener accepts both.",
			},
			"enabled": schema.BoolAttribute{
				Optional: true, Computed: true, Default: booldefault.StaticBool(true),
				MarkdownDescription: "Whether the policies deliver events. Default `true`. Always sent: Harbor stores an omitted value as `false`.",
			},
			"skip_cert_verify": schema.BoolAttribute{
				Optional: true, Computed: true, Default: booldefault.StaticBool(false),
				MarkdownDescription: "Let Harbor skip TLS verification of the endpoint. Default `false`.",
			},
			"policies": schema.MapAttribute{
				Computed: true, ElementType: types.Int64Type,
				MarkdownDescription: "Project name → id of the policy this resource manages there.",
			},
			"pending": schema.MapAttribute{
				Computed: true, ElementType: types.StringType,
				MarkdownDescription: "The work the plan found, project → `create`, `update: <fields>`, `adopt` " +
					"(`adopt, update: <fields>`) or `delete` (at most 500 entries; `…` counts the rest). Empty when Harbor matches.",
			},
		},
	}
}

func (r *webhookResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	if req.ProviderData == nil {
		return
	}
	d, ok := req.ProviderData.(*providerData)
	if !ok {
		resp.Diagnostics.AddError("Unexpected Provider Data", fmt.Sprintf("Expected *providerData, got %T. This is a bug in harborport.", req.ProviderData))
		return
	}
	r.data = d
}

// checkEndpoint refuses what Harbor would reject or silently rewrite:
// utils.ParseEndpoint accepts only the literal schemes http and https and
// keeps scheme://host/path, dropping query, fragment and userinfo
// (internal/harbor/API-NOTES.md "Webhook policies"). The message never repeats
// the URL: it may hold credentials.
func checkEndpoint(raw string) string {
	s := strings.TrimSpace(raw)
	u, err := url.Parse(s)
	switch {
	case err != nil || u.Host == "" || !strings.Contains(s, "://"):
		return "is not an absolute URL; write it like https://harborport.example.com/integration/webhook"
	case !strings.HasPrefix(s, "http://") && !strings.HasPrefix(s, "https://"):
		return "must start with https:// or http:// (lower case; Harbor accepts no other scheme)"
	case u.User != nil:
		return "must not contain a user name or password: Harbor drops them. Put the credential in `secret`, which Harbor sends as the Authorization header"
	case u.RawQuery != "" || u.ForceQuery:
		return "must not have a query string: Harbor drops it. Put a token in `secret`, which Harbor sends as the Authorization header"
	case u.Fragment != "" || strings.Contains(s, "#"):
		return "must not have a #fragment: Harbor drops it"
	}
	return ""
}

// loopbackHost returns the endpoint's host when it is a loopback name or
// address: reachable from Harbor's jobservice only when that runs in the
// listener's network namespace (a host install), not from its container.
func loopbackHost(raw string) string {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return ""
	}
	h := strings.ToLower(u.Hostname())
	if ip := net.ParseIP(h); (ip != nil && ip.IsLoopback()) || h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return h
	}
	return ""
}

// checkSecret reports a secret Go's HTTP client would refuse as a header
// value (Harbor's jobservice would then fail every delivery). It never
// repeats the value.
func checkSecret(s string) string {
	if strings.TrimSpace(s) != s {
		return "must not start or end with spaces or line breaks (HTTP strips them, so the listener would see a different value)"
	}
	for _, c := range s {
		if c < 0x20 || c == 0x7f {
			return "must be one line without control characters: Harbor sends it as an HTTP header"
		}
	}
	return ""
}

func (r *webhookResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var m webhookModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if known(m.Endpoint) {
		if msg := checkEndpoint(m.Endpoint.ValueString()); msg != "" {
			resp.Diagnostics.AddAttributeError(path.Root("endpoint"), "Invalid Webhook Endpoint", "endpoint "+msg+".")
		} else if h := loopbackHost(m.Endpoint.ValueString()); h != "" {
			resp.Diagnostics.AddAttributeWarning(path.Root("endpoint"), "Webhook Endpoint Is a Loopback Address",
				fmt.Sprintf("endpoint points at %q, a loopback address. Harbor's jobservice sends the webhooks, and a loopback address "+
					"leads to the machine it runs on: a Harbor installed on the listener's host (jobservice as a host process, or in a "+
					"container with host networking) reaches the listener there; a containerised Harbor (the docker compose "+
					"installer, the Helm chart) does not, because in the jobservice container that address is the container itself. "+
					"To check, push an image and look at the policy's executions: in Harbor's UI, Projects → <project> → Webhooks; "+
					"in its API, GET /api/v2.0/projects/<project>/webhook/policies/<policy id>/executions, then …/executions/<id>/tasks. "+
					"Tasks in Success reached the listener; tasks in Error did not (the task's log, …/tasks/<id>/log, gives the reason, "+
					"e.g. connection refused): then use an address of the listener that Harbor can reach (its DNS name, a Kubernetes "+
					"Service name or the host's IP).", h))
		}
	}
	// Exactly one of the two; checked here rather than with ExactlyOneOf, whose
	// message names only the other attribute.
	switch {
	case m.Secret.IsNull() && m.SecretWO.IsNull():
		resp.Diagnostics.AddAttributeError(path.Root("secret_wo"), "Missing Webhook Secret",
			"Set secret_wo (with secret_wo_version; write-only: kept out of the state and plan, Terraform 1.11 or later) or secret "+
				"(stored in the state as a sensitive value). Harbor sends it as the Authorization header; the listener's "+
				"HARBORPORT_WEBHOOK_SECRET must equal it.")
	case !m.Secret.IsNull() && !m.SecretWO.IsNull():
		resp.Diagnostics.AddAttributeError(path.Root("secret_wo"), "Conflicting Webhook Secrets",
			"secret and secret_wo are both set; keep one: secret_wo keeps the value out of the state and plan (Terraform 1.11 "+
				"or later), secret works with every Terraform version.")
	}
	for name, v := range map[string]types.String{"secret": m.Secret, "secret_wo": m.SecretWO} {
		if known(v) {
			if msg := checkSecret(v.ValueString()); msg != "" {
				resp.Diagnostics.AddAttributeError(path.Root(name), "Invalid Webhook Secret", name+" "+msg+".")
			}
		}
	}
}

// withConfigSecret copies secret_wo from the configuration into m. A
// write-only value reaches the provider only in the configuration (plan and
// state hold null), and Harbor needs it in every policy written.
func withConfigSecret(ctx context.Context, cfg tfsdk.Config, m *webhookModel) diag.Diagnostics {
	var v types.String
	diags := cfg.GetAttribute(ctx, path.Root("secret_wo"), &v)
	m.SecretWO = v
	return diags
}

// secretValue is the secret m configures, and whether it is at hand: with
// secret_wo, a model read from state or plan (refresh) has no value, so
// Harbor's copy cannot be compared.
func (m webhookModel) secretValue() (string, bool) {
	if !m.Secret.IsNull() {
		return m.Secret.ValueString(), true
	}
	if !m.SecretWO.IsNull() {
		return m.SecretWO.ValueString(), true
	}
	return "", false
}

func known(v attr.Value) bool { return !v.IsNull() && !v.IsUnknown() }

// desiredSpec is the policy work m describes; ok is false while a value is
// unknown.
func desiredSpec(ctx context.Context, m webhookModel) (spec webhookpolicy.Spec, ok bool, diags diag.Diagnostics) {
	for _, v := range []attr.Value{m.Name, m.Endpoint, m.Secret, m.SecretWO, m.Projects, m.EventTypes, m.PayloadFormat, m.Enabled, m.SkipCertVerify} {
		if v.IsUnknown() {
			return spec, false, nil
		}
	}
	var events []string
	diags = m.EventTypes.ElementsAs(ctx, &events, false)
	slices.Sort(events)
	secret, haveSecret := m.secretValue()
	spec.HaveSecret = haveSecret
	spec.Policy = harbor.WebhookPolicy{
		Name:        m.Name.ValueString(),
		Description: webhookpolicy.Description,
		Enabled:     m.Enabled.ValueBool(), // always serialized (harbor.WebhookPolicy)
		EventTypes:  events,
		Targets: []harbor.WebhookTarget{{Type: webhookpolicy.TypeHTTP, Address: webhookpolicy.NormalizeEndpoint(m.Endpoint.ValueString()),
			AuthHeader: secret, SkipCertVerify: m.SkipCertVerify.ValueBool(), PayloadFormat: m.PayloadFormat.ValueString()}},
	}
	if !m.Projects.IsNull() {
		spec.Projects = []string{}
		diags.Append(m.Projects.ElementsAs(ctx, &spec.Projects, false)...)
	}
	return spec, !diags.HasError(), diags
}

// policies is the webhook policy engine (internal/webhookpolicy) on hc.
func (r *webhookResource) policies(hc *harbor.Client) *webhookpolicy.Client {
	c := &webhookpolicy.Client{Harbor: hc, Concurrency: 8}
	if r.data != nil {
		c.User = r.data.config.HarborUsername
		if r.data.config.MaxConcurrency > 0 {
			c.Concurrency = r.data.config.MaxConcurrency
		}
	}
	return c
}

// frameworkDiags turns the engine's problems into Terraform diagnostics.
func frameworkDiags(in webhookpolicy.Diags) diag.Diagnostics {
	var out diag.Diagnostics
	for _, d := range in {
		switch {
		case d.Attribute != "" && d.Severity == webhookpolicy.Warning:
			out.AddAttributeWarning(path.Root(d.Attribute), d.Summary, d.Detail)
		case d.Attribute != "":
			out.AddAttributeError(path.Root(d.Attribute), d.Summary, d.Detail)
		case d.Severity == webhookpolicy.Warning:
			out.AddWarning(d.Summary, d.Detail)
		default:
			out.AddError(d.Summary, d.Detail)
		}
	}
	return out
}

// survey reads Harbor and computes the work that makes it match m. managed
// is project → id of the policies this resource manages (from state).
func (r *webhookResource) survey(ctx context.Context, hc *harbor.Client, m webhookModel, managed map[string]int64) (webhookpolicy.Survey, diag.Diagnostics) {
	spec, ok, diags := desiredSpec(ctx, m)
	if !ok {
		if !diags.HasError() {
			diags.AddError("Webhook Configuration Unknown", "The webhook attributes are not known yet. This is a bug in harborport; please report it.")
		}
		return webhookpolicy.Survey{Kept: map[string]int64{}}, diags
	}
	sv, dd := r.policies(hc).Survey(ctx, spec, managed)
	diags.Append(frameworkDiags(dd)...)
	return sv, diags
}

// execute performs ops (internal/webhookpolicy Execute: conditional on the
// policy the plan read) and returns the managed policies afterwards.
func (r *webhookResource) execute(ctx context.Context, hc *harbor.Client, want harbor.WebhookPolicy, ops []webhookpolicy.Op, base map[string]int64) (map[string]int64, diag.Diagnostics) {
	out, dd := r.policies(hc).Execute(ctx, want, ops, base)
	return out, frameworkDiags(dd)
}

func pendingPreview(ops []webhookpolicy.Op) map[string]string {
	return webhookpolicy.Preview(ops, pendingPreviewLimit)
}

func policiesValue(m map[string]int64) types.Map {
	elems := make(map[string]attr.Value, len(m))
	for k, v := range m {
		elems[k] = types.Int64Value(v)
	}
	return types.MapValueMust(types.Int64Type, elems)
}

func stringMapValue(m map[string]string) types.Map {
	elems := make(map[string]attr.Value, len(m))
	for k, v := range m {
		elems[k] = types.StringValue(v)
	}
	return types.MapValueMust(types.StringType, elems)
}

// plannedPolicies is `policies` after ops: deletes removed, adopted ids
// known, new policies' ids unknown until apply.
func plannedPolicies(prior map[string]int64, ops []webhookpolicy.Op) types.Map {
	elems := make(map[string]attr.Value, len(prior)+len(ops))
	for k, v := range prior {
		elems[k] = types.Int64Value(v)
	}
	for _, o := range ops {
		switch o.Op {
		case webhookpolicy.OpDelete:
			delete(elems, o.Project)
		case webhookpolicy.OpCreate:
			elems[o.Project] = types.Int64Unknown()
		default:
			elems[o.Project] = types.Int64Value(o.ID)
		}
	}
	return types.MapValueMust(types.Int64Type, elems)
}

func managedPolicies(ctx context.Context, m types.Map) (map[string]int64, diag.Diagnostics) {
	out := map[string]int64{}
	if m.IsNull() || m.IsUnknown() {
		return out, nil
	}
	diags := m.ElementsAs(ctx, &out, false)
	return out, diags
}

// notificationsWarning: with notification_enable false Harbor sends no
// webhook at all (config.NotificationEnable is checked in every webhook
// handler, internal/harbor/API-NOTES.md "Credential check"), so the policies
// would be inert.
func notificationsWarning(info *harbor.Info) diag.Diagnostics {
	var diags diag.Diagnostics
	if info != nil && !info.NotificationEnable {
		diags.AddWarning("Harbor Notifications Are Disabled",
			"Harbor reports notification_enable = false in /api/v2.0/systeminfo, so it delivers no webhook events at all: the listener "+
				"will receive nothing from these policies. A Harbor system administrator can turn the configuration item notification_enable "+
				"back on (PUT /api/v2.0/configurations); until then only the listener's --resync-interval keeps Port current.")
	}
	return diags
}

func (r *webhookResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var st webhookModel
	resp.Diagnostics.Append(req.State.Get(ctx, &st)...)
	if resp.Diagnostics.HasError() {
		return
	}
	hc, dg := r.data.harborClient()
	if dg != nil {
		resp.Diagnostics.Append(dg)
		return
	}
	managed, diags := managedPolicies(ctx, st.Policies)
	resp.Diagnostics.Append(diags...)
	sv, diags := r.survey(ctx, hc, st, managed)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	var pending []byte
	if len(sv.Ops) > 0 {
		b, err := json.Marshal(sv.Ops)
		if err != nil {
			resp.Diagnostics.AddError("Unable to Store the Pending Webhook Work", err.Error())
			return
		}
		pending = b
	}
	resp.Diagnostics.Append(resp.Private.SetKey(ctx, webhookPendingKey, pending)...)
	// Refreshed state is Harbor as it is: the managed policies that still
	// exist, nothing pending yet (the plan renders it).
	st.Policies = policiesValue(sv.Kept)
	st.Pending = stringMapValue(nil)
	if !known(st.ID) {
		st.ID = st.Name
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &st)...)
}

func (r *webhookResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() {
		return // destroy
	}
	if r.data != nil {
		resp.Diagnostics.Append(notificationsWarning(r.data.harborInfo)...)
	}
	var plan webhookModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	plan.ID = plan.Name
	var prior *webhookModel
	if !req.State.Raw.IsNull() {
		prior = &webhookModel{}
		resp.Diagnostics.Append(req.State.Get(ctx, prior)...)
		if resp.Diagnostics.HasError() {
			return
		}
	}
	if prior == nil || webhookInputsChanged(plan, *prior) {
		// What apply does depends on Harbor at apply time: unknown now, with a live preview as a warning.
		plan.Policies, plan.Pending = types.MapUnknown(types.Int64Type), types.MapUnknown(types.StringType)
		resp.Diagnostics.Append(resp.Plan.Set(ctx, &plan)...)
		var managed map[string]int64
		if prior != nil {
			managed, _ = managedPolicies(ctx, prior.Policies)
		}
		preview := plan // the plan itself never holds secret_wo
		resp.Diagnostics.Append(withConfigSecret(ctx, req.Config, &preview)...)
		r.livePreview(ctx, preview, managed, &resp.Diagnostics)
		return
	}
	raw, diags := req.Private.GetKey(ctx, webhookPendingKey)
	resp.Diagnostics.Append(diags...)
	ops, err := webhookpolicy.DecodeOps(raw)
	if err != nil {
		resp.Diagnostics.AddError("Unreadable Pending Webhook Work", err.Error())
		return
	}
	if len(ops) == 0 {
		plan.Policies, plan.Pending = prior.Policies, prior.Pending // Harbor matches: "No changes"
		resp.Diagnostics.Append(resp.Plan.Set(ctx, &plan)...)
		return
	}
	priorPolicies, diags := managedPolicies(ctx, prior.Policies)
	resp.Diagnostics.Append(diags...)
	plan.Pending = stringMapValue(pendingPreview(ops))
	plan.Policies = plannedPolicies(priorPolicies, ops)
	resp.Diagnostics.Append(resp.Plan.Set(ctx, &plan)...)
}

// webhookInputsChanged compares the configurable attributes (name forces replacement).
func webhookInputsChanged(plan, prior webhookModel) bool {
	return !plan.Endpoint.Equal(prior.Endpoint) || !plan.Secret.Equal(prior.Secret) || !plan.SecretWOVersion.Equal(prior.SecretWOVersion) ||
		!plan.Projects.Equal(prior.Projects) ||
		!plan.EventTypes.Equal(prior.EventTypes) || !plan.PayloadFormat.Equal(prior.PayloadFormat) ||
		!plan.Enabled.Equal(prior.Enabled) || !plan.SkipCertVerify.Equal(prior.SkipCertVerify)
}

// livePreview shows, as a warning, what apply of a new or changed
// configuration would do now. Unknown inputs or provider values skip it; a
// failure is only a warning, since apply reads Harbor again.
func (r *webhookResource) livePreview(ctx context.Context, plan webhookModel, managed map[string]int64, diags *diag.Diagnostics) {
	if r.data == nil || r.data.harbor == nil {
		return
	}
	if _, ok, _ := desiredSpec(ctx, plan); !ok {
		return
	}
	sv, dd := r.survey(ctx, r.data.harbor, plan, managed)
	if dd.HasError() {
		diags.AddWarning("Webhook Policy Preview Unavailable", dd.Errors()[0].Summary()+": "+dd.Errors()[0].Detail())
		return
	}
	diags.Append(dd...)
	if len(sv.Ops) == 0 {
		return
	}
	var b strings.Builder
	b.WriteString("Read just now from Harbor; apply reads again and may differ if Harbor changes meanwhile.\n")
	for i, o := range sv.Ops {
		if i == 20 {
			fmt.Fprintf(&b, "  … and %d more\n", len(sv.Ops)-i)
			break
		}
		fmt.Fprintf(&b, "  %s: %s\n", o.Project, o.Summary())
	}
	diags.AddWarning("Webhook Policy Preview", strings.TrimRight(b.String(), "\n"))
}

func (r *webhookResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan webhookModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	plan.ID = plan.Name
	resp.Diagnostics.Append(withConfigSecret(ctx, req.Config, &plan)...)
	r.applyLive(ctx, &plan, map[string]int64{}, &resp.Diagnostics)
	plan.SecretWO = types.StringNull() // never stored (the framework nulls write-only values too)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

// applyLive surveys Harbor now and applies the result (create, or a changed
// configuration, whose plan showed unknown values). plan gets what was done.
func (r *webhookResource) applyLive(ctx context.Context, plan *webhookModel, managed map[string]int64, diags *diag.Diagnostics) {
	plan.Policies, plan.Pending = policiesValue(managed), stringMapValue(nil)
	hc, dg := r.data.harborClient()
	if dg != nil {
		diags.Append(dg)
		return
	}
	sv, dd := r.survey(ctx, hc, *plan, managed)
	diags.Append(dd...)
	if diags.HasError() {
		return
	}
	spec, _, _ := desiredSpec(ctx, *plan)
	out, dd := r.execute(ctx, hc, spec.Policy, sv.Ops, sv.Kept)
	diags.Append(dd...)
	plan.Policies = policiesValue(out)
	if !diags.HasError() {
		plan.Pending = stringMapValue(pendingPreview(sv.Ops))
	}
}

func (r *webhookResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, prior webhookModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &prior)...)
	if resp.Diagnostics.HasError() {
		return
	}
	// Whatever happens, the reviewed work is used up: clear it so it is
	// neither saved in state nor applied twice.
	defer func() { resp.Diagnostics.Append(resp.Private.SetKey(ctx, webhookPendingKey, nil)...) }()
	plan.ID = plan.Name
	resp.Diagnostics.Append(withConfigSecret(ctx, req.Config, &plan)...)
	managed, diags := managedPolicies(ctx, prior.Policies)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	if plan.Pending.IsUnknown() {
		r.applyLive(ctx, &plan, managed, &resp.Diagnostics)
		plan.SecretWO = types.StringNull() // never stored (the framework nulls write-only values too)
		resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
		return
	}

	raw, diags := req.Private.GetKey(ctx, webhookPendingKey)
	resp.Diagnostics.Append(diags...)
	ops, err := webhookpolicy.DecodeOps(raw)
	if err != nil {
		resp.Diagnostics.AddError("Unreadable Pending Webhook Work", err.Error())
		return
	}
	// The plan was rendered from these ops; if they disagree, applying them
	// would not be what was reviewed.
	var planned map[string]string
	resp.Diagnostics.Append(plan.Pending.ElementsAs(ctx, &planned, false)...)
	if got := pendingPreview(ops); !maps.Equal(got, planned) {
		resp.Diagnostics.AddError("Webhook Work Does Not Match the Plan",
			fmt.Sprintf("The stored work has %d entries but the plan showed %d. Nothing was changed in Harbor. Run terraform plan again.", len(got), len(planned)))
		return
	}
	hc, dg := r.data.harborClient()
	if dg != nil {
		resp.Diagnostics.Append(dg)
		return
	}
	spec, ok, diags := desiredSpec(ctx, plan)
	resp.Diagnostics.Append(diags...)
	if !ok || resp.Diagnostics.HasError() {
		return
	}
	out, diags := r.execute(ctx, hc, spec.Policy, ops, managed)
	resp.Diagnostics.Append(diags...)
	plan.Policies = policiesValue(out)
	if resp.Diagnostics.HasError() {
		plan.Pending = stringMapValue(nil)
	}
	plan.SecretWO = types.StringNull()
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

// Delete removes the managed policies only (by id, checked by name); other
// policies in the same projects stay.
func (r *webhookResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var st webhookModel
	resp.Diagnostics.Append(req.State.Get(ctx, &st)...)
	if resp.Diagnostics.HasError() {
		return
	}
	hc, dg := r.data.harborClient()
	if dg != nil {
		resp.Diagnostics.Append(dg)
		return
	}
	managed, diags := managedPolicies(ctx, st.Policies)
	resp.Diagnostics.Append(diags...)
	name := st.Name.ValueString()
	pc := r.policies(hc)
	failed := pc.DeleteAll(ctx, managed, name)
	for _, p := range slices.Sorted(maps.Keys(failed)) {
		resp.Diagnostics.AddError("Unable to Delete a Webhook Policy",
			fmt.Sprintf("Deleting policy %q (id %d) in Harbor project %q failed: %s.%s The resource stays in state until it succeeds.",
				name, managed[p], p, failed[p], pc.RightsHint(p, failed[p])))
	}
}

// ImportState adopts the policies with the given name in every project. The
// secret is not imported (design choice of the issue): the configuration's
// secret is written by the next apply, which the plan shows.
func (r *webhookResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	name := strings.TrimSpace(req.ID)
	if name == "" {
		resp.Diagnostics.AddError("Invalid Import ID", "Import by policy name, e.g. terraform import harborport_webhook.listener harborport")
		return
	}
	hc, dg := r.data.harborClient()
	if dg != nil {
		resp.Diagnostics.Append(dg)
		return
	}
	pc := r.policies(hc)
	found, sample, all, dd := pc.FindNamed(ctx, name)
	resp.Diagnostics.Append(frameworkDiags(dd)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if sample == nil {
		resp.Diagnostics.AddError("Webhook Policy Not Found",
			fmt.Sprintf("No Harbor project visible to the Harbor user %q has a webhook policy named %q. Check the name (case matters).", pc.User, name))
		return
	}
	projects := types.SetNull(types.StringType) // in every project: the "all projects" form
	if len(found) < len(all) {
		elems := make([]attr.Value, 0, len(found))
		for _, p := range slices.Sorted(maps.Keys(found)) {
			elems = append(elems, types.StringValue(p))
		}
		projects = types.SetValueMust(types.StringType, elems)
	}
	names := slices.Clone(sample.EventTypes)
	slices.Sort(names)
	events := make([]attr.Value, 0, len(names))
	for _, e := range slices.Compact(names) {
		events = append(events, types.StringValue(e))
	}
	st := webhookModel{
		ID: types.StringValue(name), Name: types.StringValue(name), Secret: types.StringNull(), Projects: projects,
		EventTypes: types.SetValueMust(types.StringType, events), Enabled: types.BoolValue(sample.Enabled),
		Endpoint: types.StringNull(), PayloadFormat: types.StringValue("Default"), SkipCertVerify: types.BoolValue(false),
		Policies: policiesValue(found), Pending: stringMapValue(nil),
	}
	if len(sample.Targets) > 0 {
		t := sample.Targets[0]
		st.Endpoint = types.StringValue(t.Address)
		st.SkipCertVerify = types.BoolValue(t.SkipCertVerify)
		if t.PayloadFormat != "" {
			st.PayloadFormat = types.StringValue(t.PayloadFormat)
		}
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &st)...)
}
