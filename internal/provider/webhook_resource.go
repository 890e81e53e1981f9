package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"sort"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework-validators/setvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/setdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/harborport/terraform-provider-harborport/internal/harbor"
)

var (
	_ resource.Resource                   = (*webhookResource)(nil)
	_ resource.ResourceWithConfigure      = (*webhookResource)(nil)
	_ resource.ResourceWithModifyPlan     = (*webhookResource)(nil)
	_ resource.ResourceWithValidateConfig = (*webhookResource)(nil)
	_ resource.ResourceWithImportState    = (*webhookResource)(nil)
)

// NewWebhookResource returns harborport_webhook: one Harbor webhook policy
// per project (Harbor has no system-wide policy, harbor-api.md §6.3),
// pointing at the listener. It follows harborport_sync's rule: live data
// enters only in Read, which stores the pending policy work in private
// state; ModifyPlan renders it; Update applies exactly it.
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
}

// harborEventTypes are the deliverable types of Harbor 2.8+ (GET
// /webhook/events, real-api-webhook-events.json).
var harborEventTypes = []string{"PUSH_ARTIFACT", "PULL_ARTIFACT", "DELETE_ARTIFACT", "QUOTA_EXCEED", "QUOTA_WARNING",
	"SCANNING_FAILED", "SCANNING_STOPPED", "SCANNING_COMPLETED", "REPLICATION", "TAG_RETENTION"}

var defaultEventTypes = []string{"PUSH_ARTIFACT", "DELETE_ARTIFACT", "PULL_ARTIFACT", "SCANNING_COMPLETED", "SCANNING_FAILED"}

const webhookPendingKey = "pending"

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
			"id": schema.StringAttribute{Computed: true, MarkdownDescription: "The policy name."},
			"name": schema.StringAttribute{
				Optional: true, Computed: true, Default: stringdefault.StaticString("harborport"),
				Validators:          []validator.String{stringvalidator.LengthBetween(1, 256)},
				MarkdownDescription: "Policy name in every project (unique per project in Harbor). A policy of this name that already exists is adopted. Default `harborport`.",
			},
			"endpoint": schema.StringAttribute{
				Required: true,
				MarkdownDescription: "The listener's webhook URL, e.g. `https://harborport.example.com/integration/webhook`. " +
					"No query string or credentials: Harbor strips them (harbor-api.md §5); the secret goes in `secret`.",
			},
			"secret": schema.StringAttribute{
				Required: true, Sensitive: true,
				Validators:          []validator.String{stringvalidator.LengthAtLeast(16)},
				MarkdownDescription: "Sent by Harbor as the `Authorization` header, verbatim; the listener's `HARBORPORT_WEBHOOK_SECRET` must equal it. At least 16 characters.",
			},
			"projects": schema.SetAttribute{
				Optional: true, ElementType: types.StringType,
				Validators:          []validator.Set{setvalidator.SizeAtLeast(1)},
				MarkdownDescription: "Project names. Unset: every project, including ones created later (the next plan adds them).",
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
				MarkdownDescription: "Whether the policies deliver. Default `true` (always sent: Harbor stores an omitted value as `false`).",
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
				MarkdownDescription: "Work the plan found, project → `create`, `update: <fields>`, `adopt` or `delete`. Empty when Harbor matches.",
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

// checkEndpoint refuses what Harbor would silently rewrite (harbor-api.md §5).
func checkEndpoint(raw string) string {
	u, err := url.Parse(strings.TrimSpace(raw))
	switch {
	case err != nil || u.Host == "":
		return "is not an absolute URL like https://harborport.example.com/integration/webhook"
	case u.Scheme != "http" && u.Scheme != "https":
		return "must use http or https"
	case u.User != nil:
		return "must not carry credentials: Harbor strips them; put the secret in `secret`"
	case u.RawQuery != "" || u.ForceQuery:
		return "must not have a query string: Harbor strips it; put the secret in `secret`"
	case u.Fragment != "":
		return "must not have a fragment: Harbor strips it"
	}
	return ""
}

// normalizeEndpoint is the address as Harbor stores it (utils.ParseEndpoint).
func normalizeEndpoint(raw string) string {
	return strings.TrimRight(strings.TrimSpace(raw), "/")
}

func (r *webhookResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var m webhookModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() || m.Endpoint.IsUnknown() || m.Endpoint.IsNull() {
		return
	}
	if msg := checkEndpoint(m.Endpoint.ValueString()); msg != "" {
		resp.Diagnostics.AddAttributeError(path.Root("endpoint"), "Invalid Webhook Endpoint", "endpoint "+msg+".")
	}
}

// policyOp is one piece of pending work on one project's policy.
type policyOp struct {
	Project string   `json:"p"`
	Op      string   `json:"o"` // create | update | adopt | delete
	ID      int64    `json:"i,omitempty"`
	Fields  []string `json:"f,omitempty"`
}

func (o policyOp) summary() string {
	if o.Op == "update" {
		return "update: " + strings.Join(o.Fields, ", ")
	}
	return o.Op
}

// desiredPolicy is the policy m describes.
func desiredPolicy(ctx context.Context, m webhookModel) (harbor.WebhookPolicy, diag.Diagnostics) {
	var events []string
	diags := m.EventTypes.ElementsAs(ctx, &events, false)
	sort.Strings(events)
	return harbor.WebhookPolicy{
		Name:        m.Name.ValueString(),
		Description: "Managed by Terraform (harborport): sends events to the harborport listener.",
		Enabled:     m.Enabled.ValueBool(),
		EventTypes:  events,
		Targets: []harbor.WebhookTarget{{Type: "http", Address: normalizeEndpoint(m.Endpoint.ValueString()),
			AuthHeader: m.Secret.ValueString(), SkipCertVerify: m.SkipCertVerify.ValueBool(), PayloadFormat: m.PayloadFormat.ValueString()}},
	}, diags
}

// differences names what differs between a policy in Harbor and the wanted one.
// The secret is compared (Harbor returns auth_header verbatim, §5) but only
// named, never shown.
func differences(have, want harbor.WebhookPolicy) []string {
	var out []string
	if have.Enabled != want.Enabled {
		out = append(out, "enabled")
	}
	he := slices.Clone(have.EventTypes)
	sort.Strings(he)
	if !slices.Equal(he, want.EventTypes) {
		out = append(out, "event_types")
	}
	if len(have.Targets) != 1 {
		return append(out, "targets")
	}
	ht, wt := have.Targets[0], want.Targets[0]
	if ht.Type != wt.Type || normalizeEndpoint(ht.Address) != wt.Address {
		out = append(out, "endpoint")
	}
	if ht.AuthHeader != wt.AuthHeader {
		out = append(out, "secret")
	}
	if ht.SkipCertVerify != wt.SkipCertVerify {
		out = append(out, "skip_cert_verify")
	}
	if pf := ht.PayloadFormat; (pf == "" && wt.PayloadFormat != "Default") || (pf != "" && pf != wt.PayloadFormat) {
		out = append(out, "payload_format")
	}
	return out
}

// plan reads Harbor and computes the work that makes it match m. policies is
// project → id of the managed policy where one exists now.
func (r *webhookResource) plan(ctx context.Context, m webhookModel, managed map[string]int64) (ops []policyOp, policies map[string]int64, diags diag.Diagnostics) {
	hc, dg := r.data.harborClient()
	if dg != nil {
		diags.Append(dg)
		return nil, nil, diags
	}
	want, dd := desiredPolicy(ctx, m)
	diags.Append(dd...)
	var targets []string
	if m.Projects.IsNull() {
		items, err := hc.ListProjects(ctx, harbor.ProjectQuery{})
		if err != nil {
			diags.AddError("Unable to List Harbor Projects", err.Error())
			return nil, nil, diags
		}
		for _, it := range items {
			if n, _ := it["name"].(string); n != "" {
				targets = append(targets, n)
			}
		}
	} else {
		diags.Append(m.Projects.ElementsAs(ctx, &targets, false)...)
	}
	sort.Strings(targets)
	policies = map[string]int64{}
	inTargets := map[string]bool{}
	for _, p := range targets {
		inTargets[p] = true
		list, err := hc.ListWebhookPolicies(ctx, p)
		if harbor.IsNotFound(err) {
			diags.AddAttributeWarning(path.Root("projects"), "Harbor Project Not Found",
				fmt.Sprintf("Project %q does not exist in Harbor, so it gets no webhook policy. Create it, or remove it from projects.", p))
			continue
		}
		if err != nil {
			diags.AddError("Unable to Read Webhook Policies", fmt.Sprintf("Project %q: %s. The Harbor user needs the project admin role (or a robot with webhook policy permissions) on it.", p, err))
			return nil, nil, diags
		}
		var found *harbor.WebhookPolicy
		for i := range list {
			if list[i].Name == want.Name {
				found = &list[i]
				break
			}
		}
		switch {
		case found == nil:
			ops = append(ops, policyOp{Project: p, Op: "create"})
		default:
			policies[p] = found.ID
			fields := differences(*found, want)
			if id, ok := managed[p]; !ok || id != found.ID {
				ops = append(ops, policyOp{Project: p, Op: "adopt", ID: found.ID, Fields: fields})
			} else if len(fields) > 0 {
				ops = append(ops, policyOp{Project: p, Op: "update", ID: found.ID, Fields: fields})
			}
		}
	}
	for _, p := range slices.Sorted(maps.Keys(managed)) {
		if !inTargets[p] {
			ops = append(ops, policyOp{Project: p, Op: "delete", ID: managed[p]})
		}
	}
	return ops, policies, diags
}

// apply performs ops and returns project → policy id afterwards.
func (r *webhookResource) apply(ctx context.Context, m webhookModel, ops []policyOp, policies map[string]int64) (map[string]int64, diag.Diagnostics) {
	var diags diag.Diagnostics
	hc, dg := r.data.harborClient()
	if dg != nil {
		diags.Append(dg)
		return policies, diags
	}
	want, dd := desiredPolicy(ctx, m)
	diags.Append(dd...)
	out := maps.Clone(policies)
	if out == nil {
		out = map[string]int64{}
	}
	for _, op := range ops {
		p := want
		var err error
		switch op.Op {
		case "create":
			var id int64
			id, err = hc.CreateWebhookPolicy(ctx, op.Project, p)
			if harbor.IsConflict(err) {
				// Created meanwhile (or by a failed earlier apply): adopt it.
				var list []harbor.WebhookPolicy
				if list, err = hc.ListWebhookPolicies(ctx, op.Project); err == nil {
					for _, x := range list {
						if x.Name == p.Name {
							id = x.ID
						}
					}
					p.ID = id
					err = hc.UpdateWebhookPolicy(ctx, op.Project, p)
				}
			}
			if err == nil {
				out[op.Project] = id
			}
		case "update", "adopt":
			p.ID = op.ID
			if len(op.Fields) > 0 || op.Op == "update" {
				err = hc.UpdateWebhookPolicy(ctx, op.Project, p)
			}
			if err == nil {
				out[op.Project] = op.ID
			}
		case "delete":
			err = r.deleteManaged(ctx, hc, op.Project, op.ID, want.Name)
			if err == nil {
				delete(out, op.Project)
			}
		}
		if err != nil {
			diags.AddError("Unable to Apply a Webhook Policy",
				fmt.Sprintf("%s the policy %q in project %q: %s. The other projects were handled; the next plan shows what is left. "+
					"A 403 means the Harbor user needs the project admin role there.", op.Op, want.Name, op.Project, err))
		}
	}
	return out, diags
}

// deleteManaged deletes policy id of project if it still is the named policy.
func (r *webhookResource) deleteManaged(ctx context.Context, hc *harbor.Client, project string, id int64, name string) error {
	p, err := hc.GetWebhookPolicy(ctx, project, id)
	if harbor.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if p.Name != name {
		return nil // the id now belongs to someone else's policy: leave it
	}
	err = hc.DeleteWebhookPolicy(ctx, project, id)
	if harbor.IsNotFound(err) {
		return nil
	}
	return err
}

func policiesValue(m map[string]int64) types.Map {
	elems := make(map[string]attr.Value, len(m))
	for k, v := range m {
		elems[k] = types.Int64Value(v)
	}
	return types.MapValueMust(types.Int64Type, elems)
}

func pendingValue(ops []policyOp) types.Map {
	elems := make(map[string]attr.Value, len(ops))
	for _, o := range ops {
		elems[o.Project] = types.StringValue(o.summary())
	}
	return types.MapValueMust(types.StringType, elems)
}

func managedPolicies(ctx context.Context, m types.Map) (map[string]int64, diag.Diagnostics) {
	out := map[string]int64{}
	if m.IsNull() || m.IsUnknown() {
		return out, nil
	}
	diags := m.ElementsAs(ctx, &out, false)
	return out, diags
}

func (r *webhookResource) notificationsWarning(diags *diag.Diagnostics) {
	if r.data != nil && r.data.harborInfo != nil && !r.data.harborInfo.NotificationEnable {
		diags.AddWarning("Harbor Notifications Are Disabled",
			"Harbor reports notification_enable = false in /systeminfo: it delivers no webhooks at all, so the listener will "+
				"receive nothing. Enable notifications in Harbor (Configuration → System Settings), or rely on the listener's --resync-interval.")
	}
}

func (r *webhookResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var st webhookModel
	resp.Diagnostics.Append(req.State.Get(ctx, &st)...)
	if resp.Diagnostics.HasError() {
		return
	}
	managed, diags := managedPolicies(ctx, st.Policies)
	resp.Diagnostics.Append(diags...)
	ops, current, diags := r.plan(ctx, st, managed)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	var pending []byte
	if len(ops) > 0 {
		b, err := json.Marshal(ops)
		if err != nil {
			resp.Diagnostics.AddError("Unable to Store the Pending Work", err.Error())
			return
		}
		pending = b
	}
	resp.Diagnostics.Append(resp.Private.SetKey(ctx, webhookPendingKey, pending)...)
	// State says what is managed now: policies we manage that still exist.
	kept := map[string]int64{}
	for p, id := range managed {
		if current[p] == id {
			kept[p] = id
		}
	}
	st.Policies = policiesValue(kept)
	st.Pending = pendingValue(nil)
	resp.Diagnostics.Append(resp.State.Set(ctx, &st)...)
}

func (r *webhookResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() {
		return
	}
	r.notificationsWarning(&resp.Diagnostics)
	var plan webhookModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	plan.ID = plan.Name
	if req.State.Raw.IsNull() {
		plan.Policies, plan.Pending = types.MapUnknown(types.Int64Type), types.MapUnknown(types.StringType)
		resp.Diagnostics.Append(resp.Plan.Set(ctx, &plan)...)
		return
	}
	var prior webhookModel
	resp.Diagnostics.Append(req.State.Get(ctx, &prior)...)
	if resp.Diagnostics.HasError() {
		return
	}
	changed := !plan.Name.Equal(prior.Name) || !plan.Endpoint.Equal(prior.Endpoint) || !plan.Secret.Equal(prior.Secret) ||
		!plan.Projects.Equal(prior.Projects) || !plan.EventTypes.Equal(prior.EventTypes) || !plan.PayloadFormat.Equal(prior.PayloadFormat) ||
		!plan.Enabled.Equal(prior.Enabled) || !plan.SkipCertVerify.Equal(prior.SkipCertVerify)
	if changed {
		plan.Policies, plan.Pending = types.MapUnknown(types.Int64Type), types.MapUnknown(types.StringType)
		resp.Diagnostics.Append(resp.Plan.Set(ctx, &plan)...)
		return
	}
	raw, diags := req.Private.GetKey(ctx, webhookPendingKey)
	resp.Diagnostics.Append(diags...)
	var ops []policyOp
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &ops); err != nil {
			resp.Diagnostics.AddError("Unreadable Pending Work", err.Error())
			return
		}
	}
	if len(ops) == 0 {
		plan.Policies, plan.Pending = prior.Policies, prior.Pending
		resp.Diagnostics.Append(resp.Plan.Set(ctx, &plan)...)
		return
	}
	plan.Pending = pendingValue(ops)
	// Ids of new policies are known only after apply.
	plan.Policies = types.MapUnknown(types.Int64Type)
	if !slices.ContainsFunc(ops, func(o policyOp) bool { return o.Op != "delete" }) {
		managed, _ := managedPolicies(ctx, prior.Policies)
		for _, o := range ops {
			delete(managed, o.Project)
		}
		plan.Policies = policiesValue(managed)
	}
	resp.Diagnostics.Append(resp.Plan.Set(ctx, &plan)...)
}

func (r *webhookResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan webhookModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	plan.ID = plan.Name
	r.applyLive(ctx, &plan, map[string]int64{}, &resp.Diagnostics)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *webhookResource) applyLive(ctx context.Context, plan *webhookModel, managed map[string]int64, diags *diag.Diagnostics) {
	ops, current, dd := r.plan(ctx, *plan, managed)
	diags.Append(dd...)
	if diags.HasError() {
		plan.Policies, plan.Pending = policiesValue(managed), pendingValue(nil)
		return
	}
	base := map[string]int64{}
	for p, id := range managed {
		if current[p] == id {
			base[p] = id
		}
	}
	out, dd := r.apply(ctx, *plan, ops, base)
	diags.Append(dd...)
	plan.Policies, plan.Pending = policiesValue(out), pendingValue(ops)
	if diags.HasError() {
		plan.Pending = pendingValue(nil)
	}
}

func (r *webhookResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, prior webhookModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &prior)...)
	if resp.Diagnostics.HasError() {
		return
	}
	defer func() { resp.Diagnostics.Append(resp.Private.SetKey(ctx, webhookPendingKey, nil)...) }()
	plan.ID = plan.Name
	managed, diags := managedPolicies(ctx, prior.Policies)
	resp.Diagnostics.Append(diags...)
	if plan.Pending.IsUnknown() && plan.Policies.IsUnknown() && !plan.Name.Equal(prior.Name) {
		// A renamed policy: the old ones are ours to remove first.
		if hc, dg := r.data.harborClient(); dg == nil {
			for p, id := range managed {
				if err := r.deleteManaged(ctx, hc, p, id, prior.Name.ValueString()); err != nil {
					resp.Diagnostics.AddError("Unable to Remove the Old Policy", fmt.Sprintf("Project %q, policy %q: %s.", p, prior.Name.ValueString(), err))
				}
			}
			managed = map[string]int64{}
		}
	}
	if plan.Pending.IsUnknown() {
		r.applyLive(ctx, &plan, managed, &resp.Diagnostics)
		resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
		return
	}
	raw, diags := req.Private.GetKey(ctx, webhookPendingKey)
	resp.Diagnostics.Append(diags...)
	var ops []policyOp
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &ops); err != nil {
			resp.Diagnostics.AddError("Unreadable Pending Work", err.Error())
			return
		}
	}
	out, diags := r.apply(ctx, plan, ops, managed)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		plan.Pending = pendingValue(nil)
	}
	plan.Policies = policiesValue(out)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

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
	for _, p := range slices.Sorted(maps.Keys(managed)) {
		if err := r.deleteManaged(ctx, hc, p, managed[p], st.Name.ValueString()); err != nil {
			resp.Diagnostics.AddError("Unable to Delete a Webhook Policy",
				fmt.Sprintf("Project %q, policy %q (id %d): %s.", p, st.Name.ValueString(), managed[p], err))
		}
	}
}

// ImportState adopts the policies named like the import id. The secret cannot
// be read into configuration terms, so the next apply writes the configured one.
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
	items, err := hc.ListProjects(ctx, harbor.ProjectQuery{})
	if err != nil {
		resp.Diagnostics.AddError("Unable to List Harbor Projects", err.Error())
		return
	}
	found := map[string]int64{}
	var sample *harbor.WebhookPolicy
	for _, it := range items {
		p, _ := it["name"].(string)
		list, err := hc.ListWebhookPolicies(ctx, p)
		if err != nil {
			resp.Diagnostics.AddError("Unable to Read Webhook Policies", fmt.Sprintf("Project %q: %s.", p, err))
			return
		}
		for i := range list {
			if list[i].Name == name {
				found[p] = list[i].ID
				sample = &list[i]
			}
		}
	}
	if sample == nil {
		resp.Diagnostics.AddError("Webhook Policy Not Found", fmt.Sprintf("No Harbor project has a webhook policy named %q.", name))
		return
	}
	events := make([]attr.Value, 0, len(sample.EventTypes))
	for _, e := range sample.EventTypes {
		events = append(events, types.StringValue(e))
	}
	st := webhookModel{
		ID: types.StringValue(name), Name: types.StringValue(name), Secret: types.StringNull(), Projects: types.SetNull(types.StringType),
		EventTypes: types.SetValueMust(types.StringType, events), Enabled: types.BoolValue(sample.Enabled),
		Policies: policiesValue(found), Pending: pendingValue(nil),
		Endpoint: types.StringNull(), PayloadFormat: types.StringValue("Default"), SkipCertVerify: types.BoolValue(false),
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
