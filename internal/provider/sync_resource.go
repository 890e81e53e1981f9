package provider

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"sort"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64default"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/harborport/terraform-provider-harborport/internal/catalog"
	"github.com/harborport/terraform-provider-harborport/internal/mapping"
)

var (
	_ resource.Resource                   = (*syncResource)(nil)
	_ resource.ResourceWithConfigure      = (*syncResource)(nil)
	_ resource.ResourceWithModifyPlan     = (*syncResource)(nil)
	_ resource.ResourceWithValidateConfig = (*syncResource)(nil)
	_ resource.ResourceWithImportState    = (*syncResource)(nil)
)

// NewSyncResource returns harborport_sync: a full resync of Harbor into Port
// whose plan shows exactly what apply writes.
//
// How plan and apply agree (internal/DESIGN.md "Plan and apply";
// internal/provider/TERRAFORM-NOTES.md "ModifyPlan runs twice"):
// live data enters only in Read, which stores the computed changeset in
// private state; ModifyPlan renders that changeset (deterministic, because it
// runs again at apply with the same inputs); Update applies exactly it.
func NewSyncResource() resource.Resource { return &syncResource{} }

type syncResource struct{ data *providerData }

type syncModel struct {
	ID           types.String `tfsdk:"id"`
	Mapping      types.String `tfsdk:"mapping"`
	Blueprints   types.Map    `tfsdk:"blueprints"`
	PreviewLimit types.Int64  `tfsdk:"preview_limit"`
	Changes      types.Map    `tfsdk:"changes"`
	ChangeCounts types.Object `tfsdk:"change_counts"`
	SkippedKinds types.Map    `tfsdk:"skipped_kinds"`

	Scope             types.String `tfsdk:"scope"`
	PrefixIdentifiers types.Bool   `tfsdk:"prefix_identifiers"`
	AdoptUnscoped     types.Bool   `tfsdk:"adopt_unscoped"`
}

// sameInputs reports whether a and b compute the same catalog: the mapping
// and everything that shapes what it writes and owns.
func (a syncModel) sameInputs(b syncModel) bool {
	return a.Mapping.Equal(b.Mapping) && a.Blueprints.Equal(b.Blueprints) && a.Scope.Equal(b.Scope) &&
		a.PrefixIdentifiers.Equal(b.PrefixIdentifiers) && a.AdoptUnscoped.Equal(b.AdoptUnscoped)
}

// pendingKey holds the changeset computed by the last Read (compact, and
// decoded only by apply); summaryKey its counts and first changes, which is
// all a plan renders.
const (
	pendingKey = "pending"
	summaryKey = "pending_summary"
)

// refreshErrorKey holds the errors of the last Read, which ModifyPlan raises
// unless the mapping or blueprints change (see Read).
const refreshErrorKey = "refresh_error"

type storedDiag struct {
	Summary string `json:"s"`
	Detail  string `json:"d"`
}

// encodeErrors keeps the error diagnostics as private state (JSON).
func encodeErrors(diags diag.Diagnostics) []byte {
	var out []storedDiag
	for _, d := range diags.Errors() {
		out = append(out, storedDiag{d.Summary(), d.Detail()})
	}
	b, _ := json.Marshal(out) // strings only: cannot fail
	return b
}

func decodeErrors(b []byte) diag.Diagnostics {
	var in []storedDiag
	var diags diag.Diagnostics
	if err := json.Unmarshal(b, &in); err != nil {
		diags.AddError("Unreadable Stored Refresh Error", err.Error()+": run terraform plan again")
		return diags
	}
	for _, d := range in {
		diags.AddError(d.Summary, d.Detail)
	}
	return diags
}

const syncSource = "harborport_sync.mapping"

var countTypes = map[string]attr.Type{
	"create": types.Int64Type, "update": types.Int64Type, "delete": types.Int64Type, "unchanged": types.Int64Type,
	"skipped": types.Int64Type,
}

func (r *syncResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_sync"
}

func (r *syncResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Keeps Port's catalog equal to Harbor: every `terraform plan` previews the entities a resync " +
			"would create, update or delete, and `terraform apply` performs exactly that. The entities of the blueprints " +
			"the mapping writes to are owned by this resource: those Harbor no longer has are deleted, within " +
			"`entityDeletionThreshold`. Destroying the resource leaves the catalog in place.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "Constant `harborport_sync`.",
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"mapping": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "Ocean port-app-config (YAML or JSON): `resources` with `kind` (`project`, `user`, " +
					"`repository`, `artifact`), `selector` and `port.entity.mappings` jq, plus `deleteDependentEntities`, " +
					"`createMissingRelatedEntities`, `enableMergeEntity` and `entityDeletionThreshold`. Omitted: the " +
					"built-in mapping for the default blueprints.",
			},
			"blueprints": schema.MapAttribute{
				Optional:    true,
				ElementType: types.StringType,
				MarkdownDescription: "Blueprint identifier per kind (`project`, `user`, `repository`, `artifact`) for the " +
					"built-in mapping and for resources without a `port` block — pass " +
					"`harborport_blueprints.<name>.identifiers` when you renamed the blueprints. Default: the seed's identifiers.",
			},
			"preview_limit": schema.Int64Attribute{
				Optional:            true,
				Computed:            true,
				Default:             int64default.StaticInt64(100),
				Validators:          []validator.Int64{int64validator.Between(0, 1000)},
				MarkdownDescription: "How many entries `changes` shows at most (0–1000, default 100). The counts are always exact.",
			},
			"scope": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "Ownership scope, e.g. `eu` or `team-payments`: several syncs (several Harbors, or one Harbor " +
					"split by project) share the same blueprints, each owning only its scope. Every entity this sync writes is " +
					"marked with the property `" + mapping.ScopeProperty + "` (add it with `scope_property = true` on " +
					"`harborport_blueprints`); plans, deletes and `entityDeletionThreshold` see only this scope's entities. " +
					"Mappings see it as `$scope` in jq. 1–63 letters, digits, `_`, `.`, `-`. Unset: the sync owns every entity " +
					"of its blueprints. See the guide \"Scoped ownership\".",
			},
			"prefix_identifiers": schema.BoolAttribute{
				Optional: true,
				Computed: true,
				Default:  booldefault.StaticBool(true),
				MarkdownDescription: "With `scope`, whether the built-in mapping (and resources without `port`) writes " +
					"`<scope>:` before identifiers and relation targets (`eu:library/nginx@sha256:…`), so two Harbors cannot " +
					"collide. Default `true`. Set `false` when one Harbor is split into several scoped syncs, or to scope an " +
					"existing catalog without changing its identifiers. Custom mappings use `$scope` themselves.",
			},
			"adopt_unscoped": schema.BoolAttribute{
				Optional: true,
				Computed: true,
				Default:  booldefault.StaticBool(false),
				MarkdownDescription: "With `scope`, whether entities without a scope mark that this sync does not produce are " +
					"deleted (they count as owned). Default `false`: they are left alone and a warning lists them. Set it for " +
					"the apply that retires an unscoped sync's entities, e.g. after turning on `prefix_identifiers`.",
			},
			"changes": schema.MapAttribute{
				Computed:    true,
				ElementType: types.StringType,
				MarkdownDescription: "Pending changes, `\"<blueprint>/<identifier>\"` → `create`, `update: <fields>` or " +
					"`delete`, the first `preview_limit` in key order. Empty when Port matches Harbor.",
			},
			"skipped_kinds": schema.MapAttribute{
				Computed:    true,
				ElementType: types.StringType,
				MarkdownDescription: "Harbor kinds the provider's Harbor account cannot read, kind → Harbor's answer and the permission " +
					"it lacks (e.g. `user` without `user:list`, which robot accounts can hold only from Harbor 2.12 on). Their " +
					"blueprints are neither written nor pruned, and a warning says how to fix it; every other kind syncs as usual. " +
					"Decided at refresh, like `changes`; empty when every kind is readable.",
			},
			"change_counts": schema.SingleNestedAttribute{
				Computed:            true,
				MarkdownDescription: "Exact totals of the pending (or, after apply, applied) changes, and the entities already in sync.",
				Attributes: map[string]schema.Attribute{
					"create":    schema.Int64Attribute{Computed: true, MarkdownDescription: "Entities Harbor has and Port lacks."},
					"update":    schema.Int64Attribute{Computed: true, MarkdownDescription: "Entities whose mapped fields differ in Port."},
					"delete":    schema.Int64Attribute{Computed: true, MarkdownDescription: "Entities of the owned blueprints that the mapping no longer produces."},
					"unchanged": schema.Int64Attribute{Computed: true, MarkdownDescription: "Entities already equal to what the mapping produces."},
					"skipped": schema.Int64Attribute{Computed: true, MarkdownDescription: "Planned changes the apply left alone because " +
						"the entity changed in Port (the listener, another apply or a person wrote it) or in Harbor since the plan; " +
						"the next plan shows what remains. Known after apply; 0 after a refresh."},
				},
			},
		},
	}
}

func (r *syncResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
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

// compile parses the mapping of m; ok is false when it is not known yet.
func compile(ctx context.Context, m syncModel) (cfg *mapping.Config, ok bool, diags diag.Diagnostics) {
	if m.Mapping.IsUnknown() {
		return nil, false, nil
	}
	ids := mapping.DefaultIDs()
	// Blueprint identifiers only fill in resources without a `port` block,
	// so while they are unknown the mapping is still checked, with the defaults.
	idsKnown := !m.Blueprints.IsUnknown()
	if idsKnown && !m.Blueprints.IsNull() {
		var given map[string]string
		diags.Append(m.Blueprints.ElementsAs(ctx, &given, false)...)
		for k, v := range given {
			kind := mapping.Kind(k)
			if !validKind(kind) {
				diags.AddAttributeError(path.Root("blueprints").AtMapKey(k), "Unknown Kind",
					fmt.Sprintf("blueprints has key %q; the kinds are project, user, repository and artifact.", k))
				continue
			}
			ids[kind] = v
		}
		if diags.HasError() {
			return nil, false, diags
		}
	}
	if m.Scope.IsUnknown() || m.PrefixIdentifiers.IsUnknown() {
		return nil, false, diags
	}
	opts := mapping.Options{IDs: ids, Scope: m.Scope.ValueString(), PrefixIdentifiers: m.PrefixIdentifiers.IsNull() || m.PrefixIdentifiers.ValueBool()}
	if err := mapping.ValidScope(opts.Scope); err != nil {
		diags.AddAttributeError(path.Root("scope"), "Invalid Scope", err.Error()+".")
		return nil, false, diags
	}
	var err error
	if m.Mapping.IsNull() {
		cfg = mapping.DefaultWith(opts)
	} else {
		cfg, err = mapping.ParseWith(m.Mapping.ValueString(), syncSource, opts)
	}
	if err == nil {
		_, err = catalog.New(nil, nil, cfg) // ownership and plannability checks
	}
	if err != nil {
		if errs := mapping.Errors(err); len(errs) > 0 {
			for _, e := range errs {
				diags.AddAttributeError(path.Root("mapping"), "Invalid Mapping", e.Error())
			}
		} else {
			diags.AddAttributeError(path.Root("mapping"), "Invalid Mapping", err.Error())
		}
		return nil, false, diags
	}
	return cfg, idsKnown, diags
}

func validKind(k mapping.Kind) bool {
	for _, x := range mapping.Kinds {
		if x == k {
			return true
		}
	}
	return false
}

func (r *syncResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var m syncModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	_, _, diags := compile(ctx, m)
	resp.Diagnostics.Append(diags...)
	if m.Scope.IsNull() {
		for name, v := range map[string]types.Bool{"prefix_identifiers": m.PrefixIdentifiers, "adopt_unscoped": m.AdoptUnscoped} {
			if !v.IsNull() {
				resp.Diagnostics.AddAttributeError(path.Root(name), "Scope Required",
					name+" applies to scoped syncs only: set scope too, or remove "+name+".")
			}
		}
	}
}

// engine builds the catalog engine for m's mapping.
func (r *syncResource) engine(ctx context.Context, m syncModel) (*catalog.Engine, diag.Diagnostics) {
	var diags diag.Diagnostics
	hc, dg := r.data.harborClient()
	if dg != nil {
		diags.Append(dg)
		return nil, diags
	}
	cfg, ok, dd := compile(ctx, m)
	diags.Append(dd...)
	if !ok || diags.HasError() {
		if !diags.HasError() {
			diags.AddError("Mapping Unknown", "The mapping is not known yet. This is a bug in harborport.")
		}
		return nil, diags
	}
	eng, err := catalog.New(hc, r.data.port, cfg)
	if err != nil {
		diags.AddAttributeError(path.Root("mapping"), "Invalid Mapping", err.Error())
		return nil, diags
	}
	return eng.WithProgress(tflogProgress(ctx)).AdoptUnscoped(m.AdoptUnscoped.ValueBool()), diags
}

// tflogProgress forwards the engine's progress lines to tflog at INFO, so
// TF_LOG=INFO shows a long sync's per-kind counts and rates and its summary.
func tflogProgress(ctx context.Context) catalog.Progress {
	return func(msg string, kv ...any) {
		fields := make(map[string]any, len(kv)/2)
		for i := 0; i+1 < len(kv); i += 2 {
			fields[fmt.Sprint(kv[i])] = kv[i+1]
		}
		tflog.Info(ctx, msg, fields)
	}
}

// compute reads Harbor and Port; problems met on the way become warnings.
func compute(ctx context.Context, eng *catalog.Engine, preview bool) (*catalog.Report, diag.Diagnostics) {
	var diags diag.Diagnostics
	var rep *catalog.Report
	var err error
	if preview {
		rep, err = eng.Preview(ctx)
	} else {
		rep, err = eng.Compute(ctx)
	}
	var conflict *catalog.ScopeConflictError
	var unscoped *catalog.UnscopedConflictError
	switch {
	case errors.As(err, &conflict):
		diags.AddAttributeError(path.Root("scope"), "Entities Owned by Another Scope", err.Error()+".")
		return nil, diags
	case errors.As(err, &unscoped):
		diags.AddAttributeError(path.Root("scope"), "Syncs Share Blueprints", err.Error()+".")
		return nil, diags
	case err != nil:
		diags.AddError("Unable to Compute the Catalog Changes", err.Error())
		return nil, diags
	}
	if u := rep.Unclaimed; u.Count > 0 {
		diags.AddWarning("Unscoped Entities Left Alone",
			fmt.Sprintf("%d entities in this sync's blueprints carry no scope mark and are not produced by this sync (scope %q); "+
				"they are left alone. They may belong to a sync that is not scoped yet. If they are what an unscoped sync "+
				"this one replaces left behind, set adopt_unscoped = true for one apply to delete them. First ones:\n  %s",
				u.Count, eng.Scope(), strings.Join(u.Examples, "\n  ")))
	}
	if rep.Warnings.Count > 0 {
		diags.AddWarning("Mapping Warnings",
			fmt.Sprintf("%d mapping warnings (fields set to null or entities dropped, as Ocean does). First ones:\n  %s",
				rep.Warnings.Count, strings.Join(rep.Warnings.Examples, "\n  ")))
	}
	if rep.ItemErrors.Count > 0 {
		diags.AddWarning("Selector Errors",
			fmt.Sprintf("%d Harbor items failed a selector (a selector must yield true or false); they are not synced. First ones:\n  %s",
				rep.ItemErrors.Count, strings.Join(rep.ItemErrors.Examples, "\n  ")))
	}
	if s := rep.Changeset.DeletesSkipped; s != "" {
		diags.AddWarning("Deletes Skipped", s+".")
	}
	return rep, diags
}

// ownershipConflicts are the summaries of compute errors that come from the
// configuration (scopes), so a preview raises them instead of warning.
var ownershipConflicts = map[string]bool{"Entities Owned by Another Scope": true, "Syncs Share Blueprints": true}

// skippedKindsValue is skipped_kinds: kind → Harbor's answer and the
// permission it lacks (the warning carries the whole story).
func skippedKindsValue(sks []catalog.SkippedKind) types.Map {
	elems := make(map[string]attr.Value, len(sks))
	for _, sk := range sks {
		elems[string(sk.Kind)] = types.StringValue(sk.Cause + ": needs " + sk.Permission())
	}
	return types.MapValueMust(types.StringType, elems)
}

// skippedKindsWarnings warns once per kind the Harbor account cannot read
// (internal/DESIGN.md "Kinds the credentials cannot read").
func skippedKindsWarnings(sks []catalog.SkippedKind) diag.Diagnostics {
	var diags diag.Diagnostics
	for _, sk := range sks {
		diags.AddAttributeWarning(path.Root("skipped_kinds").AtMapKey(string(sk.Kind)), "Harbor Kind Skipped", sk.Message())
	}
	return diags
}

// blocked is the error for a changeset whose deletes the threshold blocked.
func blocked(cs *catalog.Changeset) diag.Diagnostics {
	if cs == nil {
		return nil
	}
	return blockedMsg(cs.DeletesBlocked)
}

func blockedMsg(why string) diag.Diagnostics {
	var diags diag.Diagnostics
	if why != "" {
		diags.AddAttributeError(path.Root("mapping"), "Mass Deletion Blocked", why+".")
	}
	return diags
}

// countsValue is change_counts with skipped known: a refresh (0) or an apply.
func countsValue(c catalog.Counts, skipped int) types.Object {
	return types.ObjectValueMust(countTypes, map[string]attr.Value{
		"create": types.Int64Value(int64(c.Create)), "update": types.Int64Value(int64(c.Update)),
		"delete": types.Int64Value(int64(c.Delete)), "unchanged": types.Int64Value(int64(c.Unchanged)),
		"skipped": types.Int64Value(int64(skipped)),
	})
}

// plannedCounts is change_counts in a plan: exact totals, and skipped
// unknown, since only the apply's conditional check can tell.
func plannedCounts(c catalog.Counts) types.Object {
	return types.ObjectValueMust(countTypes, map[string]attr.Value{
		"create": types.Int64Value(int64(c.Create)), "update": types.Int64Value(int64(c.Update)),
		"delete": types.Int64Value(int64(c.Delete)), "unchanged": types.Int64Value(int64(c.Unchanged)),
		"skipped": types.Int64Unknown(),
	})
}

// withSkipped sets skipped in planned counts once the apply knows it (a
// plan that knew it already, from the prior state, keeps its value).
func withSkipped(planned types.Object, skipped int) types.Object {
	attrs := maps.Clone(planned.Attributes())
	if v, ok := attrs["skipped"]; !ok || !v.IsUnknown() {
		return planned
	}
	attrs["skipped"] = types.Int64Value(int64(skipped))
	return types.ObjectValueMust(countTypes, attrs)
}

func changesValue(m map[string]string) types.Map {
	elems := make(map[string]attr.Value, len(m))
	for k, v := range m {
		elems[k] = types.StringValue(v)
	}
	return types.MapValueMust(types.StringType, elems)
}

func previewLimit(m syncModel) int {
	if m.PreviewLimit.IsNull() || m.PreviewLimit.IsUnknown() {
		return 100
	}
	return int(m.PreviewLimit.ValueInt64())
}

func (r *syncResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var st syncModel
	resp.Diagnostics.Append(req.State.Get(ctx, &st)...)
	if resp.Diagnostics.HasError() {
		return
	}
	eng, diags := r.engine(ctx, st)
	var rep *catalog.Report
	if !diags.HasError() {
		var more diag.Diagnostics
		rep, more = compute(ctx, eng, false)
		diags.Append(more...)
	}
	if diags.HasError() {
		// The mapping in state cannot be computed now. Failing refresh would
		// also fail the plan that fixes the mapping, and a destroy; so keep
		// the state, warn, and let ModifyPlan raise the error unless the
		// configuration changes the mapping or the blueprints.
		resp.Diagnostics.Append(diags.Warnings()...)
		resp.Diagnostics.Append(resp.Private.SetKey(ctx, pendingKey, nil)...)
		resp.Diagnostics.Append(resp.Private.SetKey(ctx, summaryKey, nil)...)
		resp.Diagnostics.Append(resp.Private.SetKey(ctx, refreshErrorKey, encodeErrors(diags))...)
		first := diags.Errors()[0]
		resp.Diagnostics.AddWarning("Catalog Changes Not Computed",
			fmt.Sprintf("Refreshing harborport_sync with the mapping in state failed: %s: %s\n\n"+
				"The state is kept. A plan with this mapping fails with the same error; a plan that changes the mapping "+
				"(or the blueprints) computes with the new one.", first.Summary(), first.Detail()))
		resp.Diagnostics.Append(resp.State.Set(ctx, &st)...)
		return
	}
	resp.Diagnostics.Append(diags...)
	resp.Diagnostics.Append(resp.Private.SetKey(ctx, refreshErrorKey, nil)...)
	var pending, summary []byte
	cs := rep.Changeset
	if !cs.Empty() || cs.DeletesBlocked != "" {
		b, err := cs.Encode()
		if err != nil {
			resp.Diagnostics.AddError("Unable to Store the Changeset", err.Error())
			return
		}
		pending = b
	}
	if pending != nil || len(cs.SkippedKinds) > 0 {
		// The summary also carries the skipped kinds, which the plan warns
		// about even when nothing else is pending.
		b, err := json.Marshal(cs.Summary())
		if err != nil {
			resp.Diagnostics.AddError("Unable to Store the Changeset", err.Error())
			return
		}
		summary = b
	}
	resp.Diagnostics.Append(resp.Private.SetKey(ctx, pendingKey, pending)...)
	resp.Diagnostics.Append(resp.Private.SetKey(ctx, summaryKey, summary)...)
	// Refreshed state describes Port as it is: nothing pending yet (the plan
	// adds it), and how many entities are in sync.
	st.Changes = changesValue(nil)
	st.ChangeCounts = countsValue(catalog.Counts{Unchanged: rep.Changeset.Unchanged}, 0)
	st.SkippedKinds = skippedKindsValue(rep.Changeset.SkippedKinds)
	if st.ID.IsNull() || st.ID.IsUnknown() {
		st.ID = types.StringValue("harborport_sync")
	}
	if st.PreviewLimit.IsNull() {
		st.PreviewLimit = types.Int64Value(100)
	}
	// States written before these attributes existed: their defaults.
	if st.PrefixIdentifiers.IsNull() {
		st.PrefixIdentifiers = types.BoolValue(true)
	}
	if st.AdoptUnscoped.IsNull() {
		st.AdoptUnscoped = types.BoolValue(false)
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &st)...)
}

func (r *syncResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() {
		return // destroy: nothing to preview (the catalog stays)
	}
	var plan syncModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	var prior *syncModel
	if !req.State.Raw.IsNull() {
		prior = &syncModel{}
		resp.Diagnostics.Append(req.State.Get(ctx, prior)...)
		if resp.Diagnostics.HasError() {
			return
		}
	}

	resp.Diagnostics.Append(r.register(ctx, plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if prior == nil || !plan.sameInputs(*prior) {
		// New or re-mapped: what apply does depends on live data read at
		// apply time, so the values are unknown; a warning previews them.
		plan.Changes = types.MapUnknown(types.StringType)
		plan.ChangeCounts = types.ObjectUnknown(countTypes)
		plan.SkippedKinds = types.MapUnknown(types.StringType)
		resp.Diagnostics.Append(resp.Plan.Set(ctx, &plan)...)
		r.livePreview(ctx, plan, resp)
		return
	}

	if errs, diags := req.Private.GetKey(ctx, refreshErrorKey); len(errs) > 0 {
		resp.Diagnostics.Append(diags...)
		resp.Diagnostics.Append(decodeErrors(errs)...)
		return
	}
	// The plan renders the summary only: however large the changeset, a
	// plan (ModifyPlan runs twice) never decodes it.
	raw, diags := req.Private.GetKey(ctx, summaryKey)
	resp.Diagnostics.Append(diags...)
	var sum catalog.Summary
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &sum); err != nil {
			resp.Diagnostics.AddError("Unreadable Stored Changeset", "The changeset summary stored by the last refresh is unreadable ("+
				err.Error()+"): run terraform plan again.")
			return
		}
	}
	resp.Diagnostics.Append(blockedMsg(sum.DeletesBlocked)...)
	// The refresh decided which kinds are skipped; the plan (and the apply,
	// which runs ModifyPlan again) says so from what it stored.
	resp.Diagnostics.Append(skippedKindsWarnings(sum.SkippedKinds)...)
	plan.SkippedKinds = prior.SkippedKinds
	if sum.Empty() {
		// Port matches Harbor: plan = refreshed state → "No changes"
		// (a preview_limit edit alone is just stored).
		plan.Changes, plan.ChangeCounts = prior.Changes, prior.ChangeCounts
		resp.Diagnostics.Append(resp.Plan.Set(ctx, &plan)...)
		return
	}
	plan.Changes = changesValue(sum.FirstN(previewLimit(plan)))
	plan.ChangeCounts = plannedCounts(sum.Counts)
	resp.Diagnostics.Append(resp.Plan.Set(ctx, &plan)...)
}

// livePreview reads Harbor and Port now to show, as a warning, what the apply
// of a new or changed mapping will do. Unknown inputs or an unconfigured
// provider skip it silently; apply computes again anyway.
func (r *syncResource) livePreview(ctx context.Context, plan syncModel, resp *resource.ModifyPlanResponse) {
	if r.data == nil || r.data.port == nil || r.data.harbor == nil {
		return
	}
	if _, ok, _ := compile(ctx, plan); !ok {
		return
	}
	eng, diags := r.engine(ctx, plan)
	resp.Diagnostics.Append(diags...)
	if diags.HasError() {
		return
	}
	rep, diags := compute(ctx, eng, true)
	if diags.HasError() {
		if first := diags.Errors()[0]; ownershipConflicts[first.Summary()] {
			// Configuration, not timing: apply would meet it again.
			resp.Diagnostics.Append(diags...)
			return
		}
		// Not fatal: apply computes again, and reports the error then if it persists.
		resp.Diagnostics.AddWarning("Catalog Sync Preview Unavailable", diags.Errors()[0].Detail())
		return
	}
	resp.Diagnostics.Append(diags...)
	resp.Diagnostics.Append(strangeBlueprints(ctx, plan, rep.MissingBlueprints)...)
	resp.Diagnostics.Append(skippedKindsWarnings(rep.Changeset.SkippedKinds)...)
	cs := rep.Changeset
	resp.Diagnostics.Append(blocked(cs)...)
	c := cs.Counts()
	limit := previewLimit(plan)
	preview := cs.Preview(min(limit, 20))
	keys := make([]string, 0, len(preview))
	for k := range preview {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	fmt.Fprintf(&b, "Read just now from Harbor and Port; apply reads again and may differ if they change meanwhile.\n"+
		"%d to create, %d to update, %d to delete, %d unchanged.\n", c.Create, c.Update, c.Delete, c.Unchanged)
	if per := cs.PerBlueprint(); per != "" {
		b.WriteString(per + "\n")
	}
	for _, k := range keys {
		fmt.Fprintf(&b, "  %s: %s\n", k, preview[k])
	}
	if n := len(cs.Changes); n > len(keys) {
		fmt.Fprintf(&b, "  … and %d more\n", n-len(keys))
	}
	resp.Diagnostics.AddWarning("Catalog Sync Preview", strings.TrimRight(b.String(), "\n"))
}

// strangeBlueprints warns about blueprints the mapping writes to that Port
// does not have and that harborport_blueprints would not create either (the
// defaults, or the identifiers passed in `blueprints`): apply will fail unless
// some other resource creates them first. With `blueprints` unknown (wired
// from a harborport_blueprints being created) nothing can be said.
func strangeBlueprints(ctx context.Context, plan syncModel, missing []string) diag.Diagnostics {
	var diags diag.Diagnostics
	if len(missing) == 0 || plan.Blueprints.IsUnknown() {
		return diags
	}
	expected := map[string]bool{}
	for _, id := range mapping.DefaultIDs() {
		expected[id] = true
	}
	var given map[string]string
	diags.Append(plan.Blueprints.ElementsAs(ctx, &given, false)...)
	for _, id := range given {
		expected[id] = true
	}
	var odd []string
	for _, bp := range missing {
		if !expected[bp] {
			odd = append(odd, fmt.Sprintf("%q", bp))
		}
	}
	if len(odd) > 0 {
		diags.AddAttributeWarning(path.Root("mapping"), "Blueprint Not in Port",
			fmt.Sprintf("The mapping writes to %s, which Port does not have and harborport_blueprints does not create. "+
				"Apply will fail before writing anything unless another resource creates it first (then give harborport_sync "+
				"a depends_on on that resource). Otherwise fix the blueprint in the mapping.", strings.Join(odd, ", ")))
	}
	return diags
}

func (r *syncResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan syncModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	plan.ID = types.StringValue("harborport_sync")
	if !r.applyLive(ctx, &plan, &resp.Diagnostics) {
		// Nothing was written: no state, so the next plan creates again with
		// the configuration as it is then (a tainted state would only add a
		// needless replace).
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

// applyLive computes the changeset now and applies it (create, or a changed
// mapping, whose plan showed unknown changes). plan gets what was done.
// reached is false when it stopped before writing anything to Port.
func (r *syncResource) applyLive(ctx context.Context, plan *syncModel, diags *diag.Diagnostics) (reached bool) {
	plan.Changes, plan.ChangeCounts = changesValue(nil), countsValue(catalog.Counts{}, 0)
	plan.SkippedKinds = skippedKindsValue(nil)
	eng, dd := r.engine(ctx, *plan)
	diags.Append(dd...)
	if diags.HasError() {
		return false
	}
	rep, dd := compute(ctx, eng, false)
	diags.Append(dd...)
	if diags.HasError() {
		return false
	}
	diags.Append(blocked(rep.Changeset)...)
	if diags.HasError() {
		return false
	}
	diags.Append(skippedKindsWarnings(rep.Changeset.SkippedKinds)...)
	plan.SkippedKinds = skippedKindsValue(rep.Changeset.SkippedKinds)
	r.apply(ctx, eng, rep.Changeset, plan, diags)
	return true
}

// apply performs cs and records it in plan; on failure plan says nothing is
// pending, and the next refresh recomputes what is left. It returns how many
// planned changes were skipped (changed since the plan).
func (r *syncResource) apply(ctx context.Context, eng *catalog.Engine, cs *catalog.Changeset, plan *syncModel, diags *diag.Diagnostics) int {
	res, err := eng.Apply(ctx, cs)
	if len(res.Skipped) > 0 {
		diags.AddWarning("Planned Changes Skipped", skippedDetail(res.Skipped))
	}
	if err != nil {
		plan.Changes, plan.ChangeCounts = changesValue(nil), countsValue(catalog.Counts{}, 0)
		extra := ""
		if res.AlreadyDone > 0 {
			extra += fmt.Sprintf(", %d already made by another writer", res.AlreadyDone)
		}
		if len(res.Skipped) > 0 {
			extra += fmt.Sprintf("; %d skipped, changed since the plan", len(res.Skipped))
		}
		detail := fmt.Sprintf("Applied %d of %d changes (%d created, %d updated, %d deleted%s) before: %s.",
			res.Done(), len(cs.Changes), res.Created, res.Updated, res.Deleted, extra, err)
		if len(res.Failed) > 0 {
			lines := make([]string, 0, 10)
			for i, f := range res.Failed {
				if i == 10 {
					lines = append(lines, fmt.Sprintf("… and %d more", len(res.Failed)-10))
					break
				}
				lines = append(lines, f.String())
			}
			detail += "\nFailed:\n  " + strings.Join(lines, "\n  ")
		}
		detail += "\nThe changes Port confirmed are kept; run terraform plan to see what remains, and apply again once the cause is fixed."
		summary := "Catalog Sync Failed"
		if errors.Is(err, catalog.ErrPartial) {
			summary = "Catalog Sync Partially Failed"
		}
		diags.AddError(summary, detail)
		return len(res.Skipped)
	}
	plan.Changes = changesValue(cs.Preview(previewLimit(*plan)))
	plan.ChangeCounts = countsValue(cs.Counts(), len(res.Skipped))
	return len(res.Skipped)
}

// skippedDetail names up to 10 skipped changes, with why.
func skippedDetail(skips []catalog.Skip) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d planned changes skipped: the entity changed in Port since the plan (the listener or another writer) "+
		"or in Harbor; writing them would have moved Port back to what the plan saw. The next plan shows what remains.", len(skips))
	for i, s := range skips {
		if i == 10 {
			fmt.Fprintf(&b, "\n  … and %d more", len(skips)-10)
			break
		}
		b.WriteString("\n  " + s.String())
	}
	return b.String()
}

func (r *syncResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan syncModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	// Whatever happens, the reviewed changeset is used up: clear it so it is
	// neither stored in state nor applied twice.
	defer func() {
		resp.Diagnostics.Append(resp.Private.SetKey(ctx, pendingKey, nil)...)
		resp.Diagnostics.Append(resp.Private.SetKey(ctx, summaryKey, nil)...)
	}()

	if plan.Changes.IsUnknown() {
		r.applyLive(ctx, &plan, &resp.Diagnostics)
		resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
		return
	}
	raw, diags := req.Private.GetKey(ctx, pendingKey)
	resp.Diagnostics.Append(diags...)
	cs, err := catalog.DecodeChangeset(raw)
	if err != nil {
		resp.Diagnostics.AddError("Unreadable Stored Changeset", err.Error())
		return
	}
	// The plan was rendered from this changeset; if they disagree, applying
	// it would not be what was reviewed.
	var planned map[string]string
	resp.Diagnostics.Append(plan.Changes.ElementsAs(ctx, &planned, false)...)
	got := cs.Preview(previewLimit(plan))
	if cs.HasCompact() {
		// Identifiers of a large changeset are found again by apply; the
		// preview is the summary's, checked against the changeset's counts.
		raw, dd := req.Private.GetKey(ctx, summaryKey)
		resp.Diagnostics.Append(dd...)
		var sum catalog.Summary
		if err := json.Unmarshal(raw, &sum); err != nil || sum.Counts != cs.Counts() || sum.Changes != len(cs.Changes) {
			got = nil
		} else {
			got = sum.FirstN(previewLimit(plan))
		}
	}
	if !maps.Equal(got, planned) {
		resp.Diagnostics.AddError("Changeset Does Not Match the Plan",
			fmt.Sprintf("The stored changeset has %d changes but the plan showed %d. Nothing was written. Run terraform plan again.", len(got), len(planned)))
		return
	}
	eng, diags := r.engine(ctx, plan)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	want := plan
	skipped := r.apply(ctx, eng, cs, &plan, &resp.Diagnostics)
	if !resp.Diagnostics.HasError() {
		// Terraform holds the planned values to their word; skipped was
		// unknown in the plan, and the warning names the skipped changes.
		plan.Changes, plan.ChangeCounts = want.Changes, withSkipped(want.ChangeCounts, skipped)
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

// Delete forgets the sync; the catalog stays in Port (harborport_blueprints
// with delete_entities removes it).
func (r *syncResource) Delete(context.Context, resource.DeleteRequest, *resource.DeleteResponse) {}

// ImportState adopts an existing catalog: the next plan shows what the
// mapping would change in it.
func (r *syncResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), "harborport_sync")...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("preview_limit"), int64(100))...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("changes"), changesValue(nil))...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("change_counts"), countsValue(catalog.Counts{}, 0))...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("skipped_kinds"), skippedKindsValue(nil))...)
}

// register checks plan against the other harborport_syncs of the
// configuration (sync_registry.go). Unknown inputs are checked at apply.
func (r *syncResource) register(ctx context.Context, plan syncModel) diag.Diagnostics {
	if r.data == nil {
		return nil
	}
	cfg, ok, diags := compile(ctx, plan)
	if !ok || diags.HasError() {
		return nil // ValidateConfig reports mapping errors
	}
	bps, _ := cfg.Blueprints()
	identity, _ := json.Marshal([]any{plan.Scope.ValueString(), plan.PrefixIdentifiers.ValueBool(), plan.Mapping.ValueString(),
		plan.Blueprints.String()})
	if err := r.data.syncs.register(string(identity), syncInfo{scope: plan.Scope.ValueString(), blueprints: bps}); err != nil {
		diags.AddAttributeError(path.Root("scope"), "Syncs Share Blueprints", err.Error()+".")
	}
	return diags
}
