package portsim

import (
	"slices"
	"strings"
	"time"
)

// Binding a compiled query to the blueprint it runs against
// (internal/port/API-NOTES.md "Search"). Port's documents do not say what it
// answers for a rule naming a property the blueprint lacks, or an operator
// that does not suit the property's type; the simulator takes the strict
// reading and answers 422 invalid_request naming the rule (INFERRED), so a
// client cannot come to depend on a query Port may reject or answer wrongly.
// Which operator suits which type follows Port's operator docs
// (https://docs.port.io/search-and-query/operators/comparison-operators).

// kind is the type of the value a rule looks at.
type kind int

const (
	kString kind = iota // strings of any format but date-time
	kDate               // date-time (and timer) strings, $createdAt, $updatedAt
	kNumber
	kBool
	kObject
	kArray
	kAny // mirror and aggregation properties: the type is the source's; not checked
)

var kindNames = map[kind]string{kString: "string", kDate: "date-time", kNumber: "number", kBool: "boolean",
	kObject: "object", kArray: "array", kAny: "any"}

// target is what a rule names, resolved against a blueprint.
type target struct {
	what  string // for messages: `property "x"`, `meta-property "$title"`, `relation "r"`
	kind  kind
	items string // array item type ("" = not declared)
}

func (g *group) check(bp *bpRec) error {
	for _, c := range g.rules {
		if err := c.check(bp); err != nil {
			return err
		}
	}
	return nil
}

// resolve finds the property, meta-property or relation the rule names.
func (r *rule) resolve(bp *bpRec) (target, error) {
	sp := bp.spec
	if r.rel != "" {
		rs, known := sp.relations[r.rel]
		if !known {
			return target{}, invalid("%s/relation: blueprint %q has no relation %q (its relations: %s)", r.path, sp.id, r.rel, listOrNone(sortedKeys(sp.relations)))
		}
		t := target{what: "relation " + quote(r.rel), kind: kString}
		if rs.many {
			t.kind, t.items = kArray, "string"
		}
		return t, nil
	}
	p := r.prop
	switch p {
	case "$identifier", "$title", "$icon", "$blueprint", "$createdBy", "$updatedBy":
		return target{what: "meta-property " + quote(p), kind: kString}, nil
	case "$createdAt", "$updatedAt":
		return target{what: "meta-property " + quote(p), kind: kDate}, nil
	case "$team":
		return target{what: "meta-property " + quote(p), kind: kArray, items: "string"}, nil
	}
	if ps := sp.props[p]; ps != nil {
		return target{what: "property " + quote(p), kind: kindOf(ps.typ, ps.format), items: ps.itemType}, nil
	}
	if f, _ := bp.def["calculationProperties"].(map[string]any)[p].(map[string]any); f != nil {
		typ, _ := f["type"].(string)
		format, _ := f["format"].(string)
		return target{what: "calculation property " + quote(p), kind: kindOf(typ, format)}, nil
	}
	for _, group := range []string{"mirrorProperties", "aggregationProperties"} {
		if m, _ := bp.def[group].(map[string]any); m[p] != nil {
			return target{what: quote(p) + " of " + group, kind: kAny}, nil
		}
	}
	if _, isRel := sp.relations[p]; isRel {
		// def-7 addresses relations with {"relation": …}; "property" names
		// properties (https://docs.port.io/search-and-query/structure-and-syntax,
		// "Filter by relations/scorecards"). INFERRED: a relation under
		// "property" is rejected.
		return target{}, invalid("%s/property: %q is a relation of blueprint %q, not a property; filter relations with {\"relation\": %q, \"operator\": …, \"value\": …}", r.path, p, sp.id, p)
	}
	return target{}, invalid("%s/property: blueprint %q has no property %q (its properties: %s; meta-properties: %s)", r.path, sp.id, p, listOrNone(sortedKeys(sp.props)), strings.Join(metaProps, " "))
}

func kindOf(typ, format string) kind {
	switch typ {
	case "string":
		if format == "date-time" || format == "timer" {
			return kDate
		}
		return kString
	case "number":
		return kNumber
	case "boolean":
		return kBool
	case "object":
		return kObject
	case "array":
		return kArray
	}
	return kAny
}

// check binds the rule to bp: the operator must suit the type of what the
// rule names, and the value must suit both.
func (r *rule) check(bp *bpRec) error {
	t, err := r.resolve(bp)
	if err != nil {
		return err
	}
	if t.kind == kAny || slices.Contains(emptyRuleOps, r.op) {
		return nil // isEmpty / isNotEmpty suit every type
	}
	bad := func(hint string) error {
		return invalid("%s/operator: %q does not apply to %s of blueprint %q (type %s); %s", r.path, r.op, t.what, bp.spec.id, kindNames[t.kind], hint)
	}
	badValue := func(want string) error {
		return invalid("%s/value: operator %q on %s of blueprint %q (type %s) takes %s, got %s (%s)", r.path, r.op, t.what, bp.spec.id, kindNames[t.kind], want, jsonType(r.val), describe(r.val))
	}
	switch r.op {
	case "=", "!=":
		// "The = and != operators are not supported on array-type properties"
		// (the operator docs); nor do they compare objects.
		if t.kind == kArray || t.kind == kObject {
			return bad("for an array use containsAny, in, isEmpty or isNotEmpty")
		}
		if r.val == nil {
			return nil // null is a valid String Rule value
		}
		switch t.kind {
		case kString:
			if _, isStr := r.val.(string); !isStr {
				return badValue("a string")
			}
		case kDate:
			if !isDateTime(r.val) {
				return badValue("an ISO 8601 date-time string")
			}
		case kNumber:
			if _, isNum := r.val.(float64); !isNum {
				return badValue("a number")
			}
		case kBool:
			if _, isBool := r.val.(bool); !isBool {
				return badValue("true or false")
			}
		}
	case "<", "<=", ">", ">=":
		switch t.kind {
		case kNumber:
			if _, isNum := r.val.(float64); !isNum {
				return badValue("a number")
			}
		case kDate:
			if !isDateTime(r.val) {
				return badValue("an ISO 8601 date-time string")
			}
		default:
			return bad("it compares numbers and date-times")
		}
	case "between", "notBetween":
		if t.kind != kDate {
			return bad("it checks date-time values")
		}
	case "contains", "doesNotContains", "beginsWith", "doesNotBeginsWith", "endsWith", "doesNotEndsWith":
		if t.kind != kString {
			hint := "it matches inside a string"
			if t.kind == kArray {
				hint += "; for an array use containsAny"
			}
			return bad(hint)
		}
	case "containsAny":
		// "checks if any of the specified strings exist in the target array".
		if t.kind != kArray {
			return bad("it checks an array; for a string use in")
		}
		if t.items != "" && t.items != "string" {
			return bad("it takes strings, and this array holds " + t.items + "s; use isEmpty or isNotEmpty")
		}
	case "in", "notIn":
		// "checks if a string property is equal to one or more specified
		// string values"; the docs also show $team (an array) with "in".
		switch {
		case t.kind == kString:
		case t.kind == kArray && (t.items == "" || t.items == "string"):
		default:
			return bad("it compares strings (or the strings of an array)")
		}
	}
	return nil
}

func isDateTime(v any) bool {
	s, isStr := v.(string)
	if !isStr {
		return false
	}
	_, err := time.Parse(time.RFC3339Nano, s)
	return err == nil
}

func quote(s string) string { return `"` + s + `"` }

func listOrNone(ss []string) string {
	if len(ss) == 0 {
		return "none"
	}
	return strings.Join(ss, ", ")
}
