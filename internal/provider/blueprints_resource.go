package provider

import (
	"context"
	"fmt"
	"maps"
	"sort"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"

	"github.com/harborport/terraform-provider-harborport/internal/blueprint"
	"github.com/harborport/terraform-provider-harborport/internal/mapping"
	"github.com/harborport/terraform-provider-harborport/internal/port"
)

var (
	_ resource.Resource                   = (*blueprintsResource)(nil)
	_ resource.ResourceWithConfigure      = (*blueprintsResource)(nil)
	_ resource.ResourceWithImportState    = (*blueprintsResource)(nil)
	_ resource.ResourceWithModifyPlan     = (*blueprintsResource)(nil)
	_ resource.ResourceWithValidateConfig = (*blueprintsResource)(nil)
)

// NewBlueprintsResource is the harborport_blueprints resource.
func NewBlueprintsResource() resource.Resource { return &blueprintsResource{} }

type blueprintsResource struct {
	data *providerData
}

type blueprintsModel struct {
	ID             types.String `tfsdk:"id"`
	Project        types.Object `tfsdk:"project"`
	User           types.Object `tfsdk:"user"`
	Repository     types.Object `tfsdk:"repository"`
	Artifact       types.Object `tfsdk:"artifact"`
	DeleteEntities types.Bool   `tfsdk:"delete_entities"`
	ScopeProperty  types.Bool   `tfsdk:"scope_property"`
	Identifiers    types.Map    `tfsdk:"identifiers"`
	Definitions    types.Map    `tfsdk:"definitions"`
}

func (m *blueprintsModel) kindObject(k blueprint.Kind) types.Object {
	switch k {
	case blueprint.Project:
		return m.Project
	case blueprint.User:
		return m.User
	case blueprint.Repository:
		return m.Repository
	default:
		return m.Artifact
	}
}

type kindModel struct {
	Identifier      types.String             `tfsdk:"identifier"`
	Title           types.String             `tfsdk:"title"`
	Icon            types.String             `tfsdk:"icon"`
	ExtraProperties map[string]propertyModel `tfsdk:"extra_properties"`
}

type propertyModel struct {
	Type        types.String `tfsdk:"type"`
	Format      types.String `tfsdk:"format"`
	Title       types.String `tfsdk:"title"`
	Description types.String `tfsdk:"description"`
	Enum        types.List   `tfsdk:"enum"`
}

func (r *blueprintsResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_blueprints"
}

func kindSchema(k blueprint.Kind) schema.SingleNestedAttribute {
	return schema.SingleNestedAttribute{
		Optional: true,
		MarkdownDescription: fmt.Sprintf("Overrides for the %s blueprint (default identifier `%s`). Omit to use the defaults.",
			k, blueprint.DefaultIdentifier(k)),
		Attributes: map[string]schema.Attribute{
			"identifier": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: fmt.Sprintf("Blueprint identifier. Default `%s`. Changing it replaces the blueprints.",
					blueprint.DefaultIdentifier(k)),
			},
			"title": schema.StringAttribute{Optional: true, MarkdownDescription: "Blueprint title shown in Port."},
			"icon":  schema.StringAttribute{Optional: true, MarkdownDescription: "Port icon name, e.g. `Harbor`, `Docker`, `Package`."},
			"extra_properties": schema.MapNestedAttribute{
				Optional: true,
				MarkdownDescription: "Properties to add to the built-in ones, keyed by property identifier, for custom mappings " +
					"to land in (e.g. `vulnerabilityCount`). Built-in properties: `" + strings.Join(blueprint.BuiltinProperties(k), "`, `") + "`.",
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"type": schema.StringAttribute{Required: true, MarkdownDescription: "One of `" + strings.Join(blueprint.PropertyTypes, "`, `") + "`."},
					"format": schema.StringAttribute{Optional: true, MarkdownDescription: "String format: one of `" +
						strings.Join(blueprint.PropertyFormats, "`, `") + "`."},
					"title":       schema.StringAttribute{Optional: true, MarkdownDescription: "Title shown in Port."},
					"description": schema.StringAttribute{Optional: true, MarkdownDescription: "Description shown in Port."},
					"enum": schema.ListAttribute{Optional: true, ElementType: types.StringType,
						MarkdownDescription: "Allowed values of a string property."},
				}},
			},
		},
	}
}

func (r *blueprintsResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "The four Port blueprints of the Harbor catalog — `harborProject`, `harborUser`, `harborRepository` " +
			"and `harborArtifact`, with their relations — as Port's Harbor integration defines them. Works with no arguments. " +
			"Changes made to them in Port (an edited or deleted property, relation or blueprint) show up in the next plan, " +
			"and apply repairs them; properties added in Port are left alone.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "Identifier of the artifact blueprint; also the import ID.",
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"project":    kindSchema(blueprint.Project),
			"user":       kindSchema(blueprint.User),
			"repository": kindSchema(blueprint.Repository),
			"artifact":   kindSchema(blueprint.Artifact),
			"delete_entities": schema.BoolAttribute{
				Optional: true,
				Computed: true,
				Default:  booldefault.StaticBool(false),
				MarkdownDescription: "Whether destroying also deletes every entity in the blueprints. Default `false`: destroy " +
					"fails with a clear error while entities exist, so a catalog is never lost by accident. Set it to `true` " +
					"and apply before destroying.",
			},
			"scope_property": schema.BoolAttribute{
				Optional: true,
				Computed: true,
				Default:  booldefault.StaticBool(false),
				MarkdownDescription: "Whether every blueprint gets the string property `" + mapping.ScopeProperty + "`, which " +
					"scoped `harborport_sync`s (and listeners) mark their entities with, so several Harbors or several syncs " +
					"can share these blueprints. Default `false`. Managed and drift-detected like the other properties; " +
					"turning it off again leaves the property (and the marks) in Port.",
			},
			"identifiers": schema.MapAttribute{
				Computed:    true,
				ElementType: types.StringType,
				MarkdownDescription: "Blueprint identifier per kind (`project`, `user`, `repository`, `artifact`), " +
					"e.g. for `harborport_sync` mappings.",
			},
			"definitions": schema.MapAttribute{
				Computed:    true,
				ElementType: types.StringType,
				MarkdownDescription: "The managed part of each blueprint (identifier, title, icon, harborport's properties " +
					"and relations) as JSON, per kind. It holds what Port has after a refresh, so drift shows as a diff here.",
			},
		},
	}
}

func (r *blueprintsResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
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

// overrides reads the per-kind objects. known is false when any of them still
// holds a value unknown at plan time.
func overrides(ctx context.Context, m blueprintsModel) (o map[blueprint.Kind]blueprint.Override, known bool, diags diag.Diagnostics) {
	o = map[blueprint.Kind]blueprint.Override{}
	known = true
	for _, k := range blueprint.Kinds {
		obj := m.kindObject(k)
		if obj.IsNull() {
			continue
		}
		if obj.IsUnknown() {
			known = false
			continue
		}
		var km kindModel
		diags.Append(obj.As(ctx, &km, basetypes.ObjectAsOptions{})...)
		if diags.HasError() {
			return nil, false, diags
		}
		ov := blueprint.Override{Identifier: km.Identifier.ValueString(), Title: km.Title.ValueString(), Icon: km.Icon.ValueString()}
		for _, v := range []types.String{km.Identifier, km.Title, km.Icon} {
			known = known && !v.IsUnknown()
		}
		if km.ExtraProperties != nil {
			ov.ExtraProperties = map[string]port.Property{}
		}
		for id, pm := range km.ExtraProperties {
			p := port.Property{Type: pm.Type.ValueString(), Format: pm.Format.ValueString(), Title: pm.Title.ValueString(),
				Description: pm.Description.ValueString()}
			for _, v := range []types.String{pm.Type, pm.Format, pm.Title, pm.Description} {
				known = known && !v.IsUnknown()
			}
			known = known && !pm.Enum.IsUnknown()
			if !pm.Enum.IsNull() && !pm.Enum.IsUnknown() {
				var enum []types.String
				diags.Append(pm.Enum.ElementsAs(ctx, &enum, false)...)
				for _, e := range enum {
					known = known && !e.IsUnknown()
					p.Enum = append(p.Enum, e.ValueString())
				}
			}
			ov.ExtraProperties[id] = p
		}
		o[k] = ov
	}
	switch {
	case m.ScopeProperty.IsUnknown():
		known = false
	case m.ScopeProperty.ValueBool():
		id, p := blueprint.ScopeProperty()
		for _, k := range blueprint.Kinds {
			ov := o[k]
			if ov.ExtraProperties == nil {
				ov.ExtraProperties = map[string]port.Property{}
			} else {
				ov.ExtraProperties = maps.Clone(ov.ExtraProperties)
			}
			ov.ExtraProperties[id] = p
			o[k] = ov
		}
	}
	return o, known, diags
}

func (r *blueprintsResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var m blueprintsModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if m.ScopeProperty.ValueBool() {
		for _, k := range blueprint.Kinds {
			obj := m.kindObject(k)
			if obj.IsNull() || obj.IsUnknown() {
				continue
			}
			var km kindModel
			resp.Diagnostics.Append(obj.As(ctx, &km, basetypes.ObjectAsOptions{})...)
			if _, dup := km.ExtraProperties[mapping.ScopeProperty]; dup {
				p := path.Root(string(k)).AtName("extra_properties").AtMapKey(mapping.ScopeProperty)
				resp.Diagnostics.AddAttributeError(p, "Invalid Blueprint Override", p.String()+
					": scope_property = true adds this property itself; remove it from extra_properties.")
			}
		}
	}
	o, _, diags := overrides(ctx, m)
	resp.Diagnostics.Append(diags...)
	for _, e := range blueprint.Validate(o) {
		// Terraform cannot point inside a map literal, so the path is also in the text.
		p := fieldPath(e)
		resp.Diagnostics.AddAttributeError(p, "Invalid Blueprint Override", p.String()+": "+e.Message+".")
	}
}

// fieldPath turns a blueprint.FieldError into the attribute path it is about.
func fieldPath(e blueprint.FieldError) path.Path {
	p := path.Root(string(e.Kind))
	field := e.Field
	if strings.HasPrefix(field, "extra_properties[") {
		end := strings.Index(field, "]")
		p = p.AtName("extra_properties").AtMapKey(field[len("extra_properties["):end])
		field = strings.TrimPrefix(field[end+1:], ".")
	}
	if field != "" {
		p = p.AtName(field)
	}
	return p
}

func stringMap(m map[blueprint.Kind]string) types.Map {
	elems := make(map[string]attr.Value, len(m))
	for k, v := range m {
		elems[string(k)] = types.StringValue(v)
	}
	return types.MapValueMust(types.StringType, elems)
}

// stateIdentifiers reads the identifiers map (kind → blueprint identifier)
// from state; a null element reads as "", a null or unknown map as empty.
func stateIdentifiers(ctx context.Context, m types.Map) (map[blueprint.Kind]string, diag.Diagnostics) {
	var elems map[string]types.String
	diags := m.ElementsAs(ctx, &elems, true)
	ids := make(map[blueprint.Kind]string, len(elems))
	for k, v := range elems {
		ids[blueprint.Kind(k)] = v.ValueString()
	}
	return ids, diags
}

func desiredDefinitions(set blueprint.Set) map[blueprint.Kind]string {
	defs := map[blueprint.Kind]string{}
	for k, bp := range set {
		defs[k] = blueprint.Canonical(bp)
	}
	return defs
}

// ModifyPlan derives identifiers and definitions from the configuration alone
// (never from Port), so the plan is the same when Terraform recomputes it at
// apply time (internal/provider/TERRAFORM-NOTES.md "ModifyPlan runs twice").
// Drift arrives through Read.
func (r *blueprintsResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() {
		return
	}
	var plan blueprintsModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	o, known, diags := overrides(ctx, plan)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	if !known {
		plan.Identifiers = types.MapUnknown(types.StringType)
		plan.Definitions = types.MapUnknown(types.StringType)
		plan.ID = types.StringUnknown()
		resp.Diagnostics.Append(resp.Plan.Set(ctx, &plan)...)
		return
	}
	ids := blueprint.Identifiers(o)
	plan.Identifiers = stringMap(ids)
	plan.Definitions = stringMap(desiredDefinitions(blueprint.Desired(o)))
	plan.ID = types.StringValue(ids[blueprint.Artifact])
	resp.Diagnostics.Append(resp.Plan.Set(ctx, &plan)...)

	if req.State.Raw.IsNull() {
		return
	}
	var state blueprintsModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if !state.Identifiers.IsNull() && !state.Identifiers.Equal(plan.Identifiers) {
		resp.RequiresReplace = append(resp.RequiresReplace, path.Root("identifiers"))
	}
}

func (r *blueprintsResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	client, d := r.data.portClient()
	if d != nil {
		resp.Diagnostics.Append(d)
		return
	}
	var plan blueprintsModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	o, _, diags := overrides(ctx, plan)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	desired := blueprint.Desired(o)
	for _, k := range blueprint.Kinds {
		id := desired[k].Identifier
		_, err := client.GetBlueprint(ctx, id)
		switch {
		case err == nil:
			resp.Diagnostics.AddError("Blueprint Already Exists",
				fmt.Sprintf("Port already has a blueprint %q (the %s blueprint). harborport will not take over a blueprint it did not create. "+
					"Import it instead: terraform import <address of this resource> %s — or choose another identifier in %s.identifier.",
					id, k, desired[blueprint.Artifact].Identifier, k))
		case !port.IsNotFound(err):
			resp.Diagnostics.AddError("Unable to Read Blueprint", fmt.Sprintf("Checking whether blueprint %q exists failed: %s", id, err))
		}
	}
	if resp.Diagnostics.HasError() {
		return
	}
	created, err := createBlueprints(ctx, client, desired, blueprint.Kinds)
	if err != nil {
		resp.Diagnostics.AddError("Unable to Create Blueprints", err.Error())
		if len(created) > 0 {
			// Keep what exists in state: Terraform marks it tainted, and the next
			// apply deletes the partial set before creating it again.
			resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
		}
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

// createBlueprints creates the given kinds in Ocean's stages: every blueprint
// bare first, then their relations, so relation targets always exist
// (internal/port/API-NOTES.md "Creating blueprints in stages"). It returns the
// kinds created so far.
func createBlueprints(ctx context.Context, client *port.Client, desired blueprint.Set, kinds []blueprint.Kind) ([]blueprint.Kind, error) {
	var created []blueprint.Kind
	for _, k := range kinds {
		if _, err := client.CreateBlueprint(ctx, blueprint.Bare(desired[k])); err != nil {
			return created, fmt.Errorf("creating blueprint %q: %w", desired[k].Identifier, err)
		}
		created = append(created, k)
	}
	for _, k := range kinds {
		bp := desired[k]
		if len(bp.Relations) == 0 {
			continue
		}
		if _, err := client.PatchBlueprint(ctx, bp.Identifier, map[string]any{"relations": bp.Relations}); err != nil {
			return created, fmt.Errorf("adding the relations of blueprint %q: %w", bp.Identifier, err)
		}
	}
	return created, nil
}

func (r *blueprintsResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	client, d := r.data.portClient()
	if d != nil {
		resp.Diagnostics.Append(d)
		return
	}
	var state blueprintsModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	o, _, diags := overrides(ctx, state)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}

	var ids map[blueprint.Kind]string
	if state.Identifiers.IsNull() || state.Identifiers.IsUnknown() {
		// Just imported: only the artifact blueprint's identifier is known;
		// its relations name the repository and project blueprints.
		imported, err := importedIdentifiers(ctx, client, state.ID.ValueString())
		if err != nil {
			resp.Diagnostics.AddError("Unable to Import Blueprints", err.Error())
			return
		}
		ids = imported
		for _, k := range blueprint.Kinds {
			ov := o[k]
			ov.Identifier = ids[k]
			o[k] = ov
		}
	} else {
		ids, diags = stateIdentifiers(ctx, state.Identifiers)
		if resp.Diagnostics.Append(diags...); resp.Diagnostics.HasError() {
			return
		}
	}
	remotes := map[blueprint.Kind]*port.Blueprint{}
	for _, k := range blueprint.Kinds {
		remote, err := client.GetBlueprint(ctx, ids[k])
		switch {
		case port.IsNotFound(err):
		case err != nil:
			resp.Diagnostics.AddError("Unable to Read Blueprint", fmt.Sprintf("Reading blueprint %q failed: %s", ids[k], err))
			return
		default:
			remotes[k] = remote
		}
	}
	desired := blueprint.Desired(o)
	if state.ScopeProperty.IsNull() {
		// Just imported: the scope property is managed if every blueprint has it.
		all := len(remotes) == len(blueprint.Kinds)
		for _, remote := range remotes {
			_, has := remote.Schema.Properties[mapping.ScopeProperty]
			all = all && has
		}
		state.ScopeProperty = types.BoolValue(all)
		if all {
			desired = blueprint.WithScopeProperty(desired)
		}
	}

	defs := map[blueprint.Kind]string{}
	missing := 0
	for _, k := range blueprint.Kinds {
		if remote := remotes[k]; remote != nil {
			defs[k] = blueprint.Canonical(blueprint.Managed(desired[k], *remote))
		} else {
			defs[k] = "" // shows as a diff; apply recreates it
			missing++
		}
	}
	if missing == len(blueprint.Kinds) {
		resp.State.RemoveResource(ctx) // all gone: plan to create them again
		return
	}
	state.ID = types.StringValue(ids[blueprint.Artifact])
	state.Identifiers = stringMap(ids)
	state.Definitions = stringMap(defs)
	if state.DeleteEntities.IsNull() {
		state.DeleteEntities = types.BoolValue(false)
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

// importedIdentifiers accepts either the artifact blueprint identifier, whose
// relations lead to the repository and project blueprints, or an explicit
// "project=…,user=…,repository=…,artifact=…" list.
func importedIdentifiers(ctx context.Context, client *port.Client, importID string) (map[blueprint.Kind]string, error) {
	ids := blueprint.Identifiers(nil)
	if strings.Contains(importID, "=") {
		for _, part := range strings.Split(importID, ",") {
			k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
			if _, ok := ids[blueprint.Kind(k)]; !ok || v == "" {
				return nil, fmt.Errorf("import ID %q: expected the artifact blueprint identifier, or kind=identifier pairs "+
					"separated by commas with kinds project, user, repository, artifact", importID)
			}
			ids[blueprint.Kind(k)] = v
		}
		return ids, nil
	}
	ids[blueprint.Artifact] = importID
	art, err := client.GetBlueprint(ctx, importID)
	if err != nil {
		if port.IsNotFound(err) {
			return nil, fmt.Errorf("Port has no blueprint %q. The import ID is the identifier of the artifact blueprint (default harborArtifact)", importID)
		}
		return nil, fmt.Errorf("reading blueprint %q: %w", importID, err)
	}
	for rel, k := range map[string]blueprint.Kind{"repository": blueprint.Repository, "project": blueprint.Project} {
		if r, ok := art.Relations[rel]; ok && r.Target != "" {
			ids[k] = r.Target
		}
	}
	return ids, nil
}

func (r *blueprintsResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	client, d := r.data.portClient()
	if d != nil {
		resp.Diagnostics.Append(d)
		return
	}
	var plan, state blueprintsModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	o, _, diags := overrides(ctx, plan)
	resp.Diagnostics.Append(diags...)
	old, _, diags := overrides(ctx, state)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	desired := blueprint.Desired(o)

	remotes := map[blueprint.Kind]*port.Blueprint{}
	var missing []blueprint.Kind
	for _, k := range blueprint.Kinds {
		remote, err := client.GetBlueprint(ctx, desired[k].Identifier)
		switch {
		case port.IsNotFound(err):
			missing = append(missing, k)
		case err != nil:
			resp.Diagnostics.AddError("Unable to Read Blueprint", fmt.Sprintf("Reading blueprint %q failed: %s", desired[k].Identifier, err))
			return
		default:
			remotes[k] = remote
		}
	}
	// Recreate blueprints deleted in Port, bare first as on create.
	if _, err := createBlueprints(ctx, client, desired, missing); err != nil {
		resp.Diagnostics.AddError("Unable to Recreate Blueprints", err.Error())
		return
	}
	for _, k := range blueprint.Kinds {
		remote, ok := remotes[k]
		if !ok {
			continue
		}
		want := desired[k]
		merged := blueprint.Merge(want, *remote)
		// Properties the previous configuration added and this one dropped are
		// removed; anything else added in Port stays.
		for id := range old[k].ExtraProperties {
			if _, still := want.Schema.Properties[id]; !still {
				delete(merged.Schema.Properties, id)
			}
		}
		if blueprint.Canonical(blueprint.Managed(want, *remote)) == blueprint.Canonical(want) && len(merged.Schema.Properties) == len(remote.Schema.Properties) {
			continue
		}
		if _, err := client.ReplaceBlueprint(ctx, merged); err != nil {
			resp.Diagnostics.AddError("Unable to Update Blueprint", fmt.Sprintf("Updating blueprint %q failed: %s", want.Identifier, err))
			return
		}
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *blueprintsResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	client, d := r.data.portClient()
	if d != nil {
		resp.Diagnostics.Append(d)
		return
	}
	var state blueprintsModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ids, diags := stateIdentifiers(ctx, state.Identifiers)
	if resp.Diagnostics.Append(diags...); resp.Diagnostics.HasError() {
		return
	}
	// Dependents first: artifact → repository → user → project.
	order := []blueprint.Kind{blueprint.Artifact, blueprint.Repository, blueprint.User, blueprint.Project}

	counts := map[string]int{}
	total := 0
	for _, k := range order {
		n, err := client.CountEntities(ctx, ids[k])
		if port.IsNotFound(err) {
			continue
		}
		if err != nil {
			resp.Diagnostics.AddError("Unable to Count Entities", fmt.Sprintf("Counting the entities of blueprint %q failed: %s", ids[k], err))
			return
		}
		counts[ids[k]] = n
		total += n
	}
	deleteEntities := state.DeleteEntities.ValueBool()
	if total > 0 && !deleteEntities {
		var parts []string
		for id, n := range counts {
			if n > 0 {
				parts = append(parts, fmt.Sprintf("%s: %d", id, n))
			}
		}
		sort.Strings(parts)
		resp.Diagnostics.AddError("Blueprints Still Hold Entities",
			fmt.Sprintf("Port holds %d entities in these blueprints (%s), and destroying would delete them with the blueprints. "+
				"To confirm, set delete_entities = true on this resource, run terraform apply, then destroy again. "+
				"Or remove the entities first (destroy the harborport_sync that fills them).", total, strings.Join(parts, ", ")))
		return
	}
	for _, k := range order {
		id := ids[k]
		var err error
		if deleteEntities && counts[id] > 0 {
			// Asynchronous in Port: the client polls the migration until done.
			err = client.DeleteAllEntities(ctx, id, true)
		} else {
			err = client.DeleteBlueprint(ctx, id)
		}
		if err != nil && !port.IsNotFound(err) {
			resp.Diagnostics.AddError("Unable to Delete Blueprint", fmt.Sprintf("Deleting blueprint %q failed: %s", id, err))
			return
		}
	}
}

func (r *blueprintsResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), req.ID)...)
}
