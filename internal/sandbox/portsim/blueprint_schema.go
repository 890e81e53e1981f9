package portsim

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"
)

// Blueprint body validation: spec POST/PUT/PATCH /v1/blueprints
// (internal/port/API-NOTES.md "Blueprints"). The top level is
// additionalProperties: true in the spec, so unknown top-level keys are accepted
// and dropped (INFERRED: not stored); schema and relation items are
// additionalProperties: false.

type bpMode int

const (
	modeCreate  bpMode = iota // POST: identifier, title, schema required
	modeReplace               // PUT: title, schema required
	modePatch                 // PATCH: nothing required
)

var blueprintKeys = []string{"identifier", "title", "description", "icon", "ownership", "schema",
	"calculationProperties", "mirrorProperties", "aggregationProperties", "relations",
	"changelogDestination", "teamInheritance", "includeInGlobalSearch"}

var propertyTypes = []string{"string", "number", "boolean", "object", "array"}

var propertyFormats = []string{"date-time", "url", "email", "idn-email", "ipv4", "ipv6", "markdown", "yaml",
	"user", "blueprints", "team", "timer", "proto", "labeled-url"}

// parseBlueprintBody validates a body and returns the known keys it sets.
func parseBlueprintBody(body map[string]any, mode bpMode) (map[string]any, error) {
	out := map[string]any{}
	for _, k := range blueprintKeys {
		if v, present := body[k]; present {
			out[k] = v
		}
	}
	need := map[bpMode][]string{modeCreate: {"identifier", "title", "schema"}, modeReplace: {"title", "schema"}}[mode]
	for _, k := range need {
		if _, present := body[k]; !present {
			return nil, invalid("body must have required property '%s'", k)
		}
	}
	if id, present, err := optString("body", body, "identifier"); err != nil {
		return nil, err
	} else if present {
		if err := checkBlueprintID("body/identifier", id); err != nil {
			return nil, err
		}
	}
	if t, present, err := optString("body", body, "title"); err != nil {
		return nil, err
	} else if present && (jsLen(t) < 1 || jsLen(t) > 100) {
		return nil, invalid("body/title must have 1 to 100 characters (got %d)", jsLen(t))
	}
	if d, present, err := optString("body", body, "description"); err != nil {
		return nil, err
	} else if present && jsLen(d) > 200 {
		return nil, invalid("body/description must NOT have more than 200 characters (got %d)", jsLen(d))
	}
	if _, _, err := optString("body", body, "icon"); err != nil {
		return nil, err
	}
	if _, err := optBool("body", body, "includeInGlobalSearch", true); err != nil {
		return nil, err
	}
	for _, k := range []string{"ownership", "changelogDestination", "teamInheritance"} {
		if _, _, err := optObject("body", body, k); err != nil {
			return nil, err
		}
	}
	if schema, present, err := optObject("body", body, "schema"); err != nil {
		return nil, err
	} else if present {
		norm, err := checkSchema(schema)
		if err != nil {
			return nil, err
		}
		out["schema"] = norm
	}
	if rels, present, err := optObject("body", body, "relations"); err != nil {
		return nil, err
	} else if present {
		norm, err := checkRelations(rels)
		if err != nil {
			return nil, err
		}
		out["relations"] = norm
	}
	if calc, present, err := optObject("body", body, "calculationProperties"); err != nil {
		return nil, err
	} else if present {
		if err := checkFieldMap("body/calculationProperties", calc, func(path string, f map[string]any) error {
			if _, err := requiredString(path, f, "calculation"); err != nil {
				return err
			}
			t, err := requiredString(path, f, "type")
			if err != nil {
				return err
			}
			if !slices.Contains(propertyTypes, t) {
				return invalid("%s/type must be equal to one of the allowed values: %s (got %q)", path, strings.Join(propertyTypes, ", "), t)
			}
			return nil
		}); err != nil {
			return nil, err
		}
	}
	if mirror, present, err := optObject("body", body, "mirrorProperties"); err != nil {
		return nil, err
	} else if present {
		if err := checkFieldMap("body/mirrorProperties", mirror, func(path string, f map[string]any) error {
			if err := onlyKeys(path, f, "path", "title"); err != nil {
				return err
			}
			_, err := requiredString(path, f, "path")
			return err
		}); err != nil {
			return nil, err
		}
	}
	if agg, present, err := optObject("body", body, "aggregationProperties"); err != nil {
		return nil, err
	} else if present {
		if err := checkFieldMap("body/aggregationProperties", agg, func(path string, f map[string]any) error {
			for _, k := range []string{"title", "target"} {
				if _, err := requiredString(path, f, k); err != nil {
					return err
				}
			}
			_, _, err := optObject(path, f, "calculationSpec")
			if _, has := f["calculationSpec"]; !has {
				return invalid("%s must have required property 'calculationSpec'", path)
			}
			return err
		}); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// checkFieldMap validates a map of identifier → object.
func checkFieldMap(path string, m map[string]any, each func(string, map[string]any) error) error {
	for _, id := range sortedKeys(m) {
		if err := checkPropID(path, id); err != nil {
			return err
		}
		f, isObj := m[id].(map[string]any)
		if !isObj {
			return invalid("%s/%s must be object, got %s", path, id, jsonType(m[id]))
		}
		if err := each(path+"/"+id, f); err != nil {
			return err
		}
	}
	return nil
}

func checkSchema(schema map[string]any) (map[string]any, error) {
	if err := onlyKeys("body/schema", schema, "properties", "required"); err != nil {
		return nil, err
	}
	props, present, err := optObject("body/schema", schema, "properties")
	if err != nil {
		return nil, err
	}
	if !present {
		return nil, invalid("body/schema must have required property 'properties'")
	}
	if err := checkFieldMap("body/schema/properties", props, checkProperty); err != nil {
		return nil, err
	}
	required := []any{}
	if r, present := schema["required"]; present {
		arr, isArr := r.([]any)
		if !isArr {
			return nil, invalid("body/schema/required must be array, got %s", jsonType(r))
		}
		for i, x := range arr {
			name, isStr := x.(string)
			if !isStr {
				return nil, invalid("body/schema/required/%d must be string, got %s", i, jsonType(x))
			}
			// INFERRED: Port refuses to require a property the schema lacks.
			if _, known := props[name]; !known {
				return nil, invalid("body/schema/required/%d: %q is not a property of this blueprint; add it to schema.properties or remove it from required", i, name)
			}
		}
		required = arr
	}
	return map[string]any{"properties": props, "required": required}, nil
}

func checkProperty(path string, p map[string]any) error {
	t, err := requiredString(path, p, "type")
	if err != nil {
		return err
	}
	if !slices.Contains(propertyTypes, t) {
		return invalid("%s/type must be equal to one of the allowed values: %s (got %q)", path, strings.Join(propertyTypes, ", "), t)
	}
	if f, present, err := optString(path, p, "format"); err != nil {
		return err
	} else if present && !slices.Contains(propertyFormats, f) {
		return invalid("%s/format must be equal to one of the allowed values: %s (got %q)", path, strings.Join(propertyFormats, ", "), f)
	}
	if title, present, err := optString(path, p, "title"); err != nil {
		return err
	} else if present && jsLen(title) > 100 {
		return invalid("%s/title must NOT have more than 100 characters", path)
	}
	for _, k := range []string{"description", "icon"} {
		if _, _, err := optString(path, p, k); err != nil {
			return err
		}
	}
	if sp, present, err := optString(path, p, "spec"); err != nil {
		return err
	} else if present && !slices.Contains([]string{"open-api", "embedded-url", "async-api"}, sp) {
		return invalid("%s/spec must be equal to one of the allowed values: open-api, embedded-url, async-api (got %q)", path, sp)
	}
	for _, k := range []string{"minLength", "maxLength", "minItems", "maxItems"} {
		if v, present := p[k]; present {
			n, isNum := v.(float64)
			if !isNum || n < 0 || n != math.Trunc(n) {
				return invalid("%s/%s must be a non-negative integer, got %v", path, k, v)
			}
		}
	}
	for _, k := range []string{"minimum", "maximum"} {
		if v, present := p[k]; present {
			if _, isNum := v.(float64); !isNum {
				return invalid("%s/%s must be number, got %s", path, k, jsonType(v))
			}
		}
	}
	if _, _, err := optString(path, p, "pattern"); err != nil {
		return err
	}
	if e, present := p["enum"]; present {
		arr, isArr := e.([]any)
		if !isArr {
			return invalid("%s/enum must be array, got %s", path, jsonType(e))
		}
		for i, v := range arr {
			if v != nil && !valueHasType(v, t) {
				return invalid("%s/enum/%d must be %s, got %s", path, i, t, jsonType(v))
			}
		}
	}
	if it, present, err := optObject(path, p, "items"); err != nil {
		return err
	} else if present {
		if t != "array" {
			return invalid("%s/items is only allowed when type is \"array\" (type is %q)", path, t)
		}
		if it2, has, err := optString(path+"/items", it, "type"); err != nil {
			return err
		} else if has && !slices.Contains(propertyTypes, it2) {
			return invalid("%s/items/type must be equal to one of the allowed values: %s (got %q)", path, strings.Join(propertyTypes, ", "), it2)
		}
		if f, has, err := optString(path+"/items", it, "format"); err != nil {
			return err
		} else if has && !slices.Contains(propertyFormats, f) {
			return invalid("%s/items/format must be equal to one of the allowed values: %s (got %q)", path, strings.Join(propertyFormats, ", "), f)
		}
	}
	return nil
}

func checkRelations(rels map[string]any) (map[string]any, error) {
	out := map[string]any{}
	err := checkFieldMap("body/relations", rels, func(path string, r map[string]any) error {
		if err := onlyKeys(path, r, "title", "target", "required", "many", "description", "type"); err != nil {
			return err
		}
		target, err := requiredString(path, r, "target")
		if err != nil {
			return err
		}
		if title, present, err := optString(path, r, "title"); err != nil {
			return err
		} else if present && jsLen(title) > 100 {
			return invalid("%s/title must NOT have more than 100 characters", path)
		}
		for _, k := range []string{"description", "type"} {
			if _, _, err := optString(path, r, k); err != nil {
				return err
			}
		}
		// required and many are "required" with default false: the validator
		// fills the default, so omitting them is fine.
		req, err := optBool(path, r, "required", false)
		if err != nil {
			return err
		}
		many, err := optBool(path, r, "many", false)
		if err != nil {
			return err
		}
		norm := deepCopy(r)
		norm["target"], norm["required"], norm["many"] = target, req, many
		out[strings.TrimPrefix(path, "body/relations/")] = norm
		return nil
	})
	return out, err
}

// withDefaults fills the collections Port always returns.
func withDefaults(def map[string]any) map[string]any {
	for _, k := range []string{"relations", "mirrorProperties", "calculationProperties", "aggregationProperties"} {
		if _, present := def[k]; !present {
			def[k] = map[string]any{}
		}
	}
	return def
}

// bpSpec is a blueprint compiled for entity validation.
type bpSpec struct {
	id        string
	props     map[string]*propSpec
	required  []string
	relations map[string]relSpec
}

type propSpec struct {
	typ, format string
	enum        []any
	itemType    string
	itemFormat  string
	minLen      *float64
	maxLen      *float64
	minItems    *float64
	maxItems    *float64
	minimum     *float64
	maximum     *float64
	pattern     *regexp.Regexp // nil when absent or not expressible in Go's RE2
}

type relSpec struct {
	target         string
	required, many bool
}

// compileBlueprint turns a validated, complete definition into a bpSpec and
// checks cross-field rules. targetExists reports whether a blueprint exists.
func compileBlueprint(def map[string]any, targetExists func(string) bool) (*bpSpec, error) {
	id, _ := def["identifier"].(string)
	sp := &bpSpec{id: id, props: map[string]*propSpec{}, relations: map[string]relSpec{}}
	schema, _ := def["schema"].(map[string]any)
	props, _ := schema["properties"].(map[string]any)
	for pid, raw := range props {
		p, _ := raw.(map[string]any)
		ps := &propSpec{}
		ps.typ, _ = p["type"].(string)
		ps.format, _ = p["format"].(string)
		ps.enum, _ = p["enum"].([]any)
		if it, isObj := p["items"].(map[string]any); isObj {
			ps.itemType, _ = it["type"].(string)
			ps.itemFormat, _ = it["format"].(string)
		}
		for k, dst := range map[string]**float64{"minLength": &ps.minLen, "maxLength": &ps.maxLen,
			"minItems": &ps.minItems, "maxItems": &ps.maxItems, "minimum": &ps.minimum, "maximum": &ps.maximum} {
			if n, isNum := p[k].(float64); isNum {
				*dst = &n
			}
		}
		if pat, isStr := p["pattern"].(string); isStr {
			ps.pattern, _ = regexp.Compile(pat) // JS-only syntax (lookaround) is not checked
		}
		sp.props[pid] = ps
	}
	required, _ := schema["required"].([]any)
	for _, r := range required {
		if name, isStr := r.(string); isStr {
			sp.required = append(sp.required, name)
		}
	}
	rels, _ := def["relations"].(map[string]any)
	for _, rid := range sortedKeys(rels) {
		r, _ := rels[rid].(map[string]any)
		var rs relSpec
		rs.target, _ = r["target"].(string)
		rs.required, _ = r["required"].(bool)
		rs.many, _ = r["many"].(bool)
		if rs.target != id && !targetExists(rs.target) {
			// internal/port/API-NOTES.md "Blueprints": relation to a missing
			// blueprint → 404 not_found.
			return nil, blueprintNotFound(rs.target)
		}
		if _, clash := sp.props[rid]; clash {
			return nil, invalid("body/relations/%s: identifier %q is already used by a property; property and relation identifiers must be unique", rid, rid)
		}
		sp.relations[rid] = rs
	}
	mirror, _ := def["mirrorProperties"].(map[string]any)
	for _, mid := range sortedKeys(mirror) {
		path, _ := mirror[mid].(map[string]any)["path"].(string)
		first, _, _ := strings.Cut(path, ".")
		if _, isRel := sp.relations[first]; !isRel || !strings.Contains(path, ".") {
			// INFERRED: a mirror path starts with one of the blueprint's relations.
			return nil, invalid("body/mirrorProperties/%s/path %q must be \"<relation>.<property>\" starting with a relation of this blueprint", mid, path)
		}
	}
	for _, group := range []string{"mirrorProperties", "calculationProperties", "aggregationProperties"} {
		m, _ := def[group].(map[string]any)
		for fid := range m {
			if _, clash := sp.props[fid]; clash {
				return nil, invalid("body/%s/%s: identifier %q is already used by a property", group, fid, fid)
			}
		}
	}
	return sp, nil
}

func valueHasType(v any, t string) bool {
	switch t {
	case "string":
		_, is := v.(string)
		return is
	case "number":
		_, is := v.(float64)
		return is
	case "boolean":
		_, is := v.(bool)
		return is
	case "object":
		_, is := v.(map[string]any)
		return is
	case "array":
		_, is := v.([]any)
		return is
	}
	return false
}

func describe(v any) string {
	s := fmt.Sprintf("%v", v)
	if str, isStr := v.(string); isStr {
		s = fmt.Sprintf("%q", str)
	}
	if len(s) > 80 {
		s = s[:77] + "..."
	}
	return s
}
