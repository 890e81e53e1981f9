package portsim

import (
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Search rules (internal/port/API-NOTES.md "Search"; spec schemas def-7 for
// searches, def-5 / def-6 for search queries in identifiers and relations).
//
// A query is checked in two steps: compileQuery checks its shape
// against the route schema (no blueprint needed), and group.check binds every
// rule to the blueprint it runs against (query_check.go): the property or
// relation must exist and the operator and value must suit its type.

type opSet []string

// querySchema is the schema a query is validated against.
type querySchema struct {
	ops opSet
	// mapping: def-5 / def-6 (identifier and relation queries), whose rules
	// are property rules with narrower value types.
	mapping bool
}

var (
	// Operators allowed in "map by property" identifiers and relation queries
	// (spec def-5 / def-6; internal/port/API-NOTES.md
	// "Search queries in identifiers and relations").
	mappingOps = opSet{"=", "in", "containsAny", "contains"}
	searchOps  = opSet{"=", "!=", "<", "<=", ">", ">=", "between", "notBetween", "contains", "containsAny",
		"doesNotContains", "beginsWith", "doesNotBeginsWith", "endsWith", "doesNotEndsWith", "in", "notIn",
		"isEmpty", "isNotEmpty"}
	// Valid in Port (def-7) but not simulated: rejected with a message saying so.
	unimplementedOps = opSet{"isExpired", "isNotExpired", "matchAny", "relatedTo"}

	identifierQuery = querySchema{ops: mappingOps, mapping: true}
	relationQuery   = querySchema{ops: mappingOps, mapping: true}
	searchQuery     = querySchema{ops: searchOps}
)

// Operator families of def-7's rule variants.
var (
	stringRuleOps = opSet{"=", "!=", "containsAny", "contains", "doesNotContains", "beginsWith", "doesNotBeginsWith",
		"endsWith", "doesNotEndsWith", "in", "notIn"}
	numberRuleOps = opSet{"<", "<=", ">", ">="}
	emptyRuleOps  = opSet{"isEmpty", "isNotEmpty"}
)

var metaProps = []string{"$identifier", "$title", "$icon", "$team", "$blueprint", "$createdAt", "$updatedAt", "$createdBy", "$updatedBy"}

type evalCtx struct {
	st *store // resolves relation targets' titles
	bp *bpRec
	e  *entity
}

type cond interface {
	match(x *evalCtx) bool
	check(bp *bpRec) error
}

type group struct {
	and   bool
	rules []cond
}

func (g *group) match(x *evalCtx) bool {
	for _, r := range g.rules {
		if r.match(x) != g.and {
			return !g.and
		}
	}
	return g.and // empty "and" matches all; empty "or" matches none
}

type rule struct {
	path     string // where the rule is in the request, for errors
	prop     string // property form: a property or meta-property
	rel      string // relation form: a relation identifier
	target   string // relation form: "$identifier" (default) or "$title"
	op       string
	val      any
	from, to time.Time // between / notBetween
	mapping  bool      // from an identifier or relation query (def-5 / def-6)
}

// compileQuery validates {combinator, rules} at path against the route
// schema and compiles it; check binds it to a blueprint.
func compileQuery(path string, q map[string]any, sch querySchema) (*group, error) {
	return compileQueryAt(path, q, sch, time.Now())
}

func compileQueryAt(path string, q map[string]any, sch querySchema, now time.Time) (*group, error) {
	if err := onlyKeys(path, q, "combinator", "rules"); err != nil {
		return nil, err
	}
	comb, err := requiredString(path, q, "combinator")
	if err != nil {
		return nil, err
	}
	if comb != "and" && comb != "or" {
		return nil, invalid("%s/combinator must be equal to one of the allowed values: and, or (got %q)", path, comb)
	}
	rv, present := q["rules"]
	if !present {
		return nil, invalid("%s must have required property 'rules'", path)
	}
	arr, isArr := rv.([]any)
	if !isArr {
		return nil, invalid("%s/rules must be array, got %s", path, jsonType(rv))
	}
	// Neither the schema nor the docs bound the nesting depth or require a
	// non-empty rules array, so neither does the simulator: an empty "and"
	// matches every entity and an empty "or" none (INFERRED).
	g := &group{and: comb == "and"}
	for i, item := range arr {
		rp := path + "/rules/" + strconv.Itoa(i)
		m, isObj := item.(map[string]any)
		if !isObj {
			return nil, invalid("%s must be object, got %s", rp, jsonType(item))
		}
		if _, nested := m["combinator"]; nested {
			sub, err := compileQueryAt(rp, m, sch, now)
			if err != nil {
				return nil, err
			}
			g.rules = append(g.rules, sub)
			continue
		}
		r, err := compileRule(rp, m, sch, now)
		if err != nil {
			return nil, err
		}
		g.rules = append(g.rules, r)
	}
	return g, nil
}

func compileRule(path string, m map[string]any, sch querySchema, now time.Time) (*rule, error) {
	op, err := requiredString(path, m, "operator")
	if err != nil {
		return nil, err
	}
	if !slices.Contains(sch.ops, op) {
		// Say so when a full-search operator is merely not simulated.
		if slices.Contains(unimplementedOps, op) && !sch.mapping {
			return nil, invalid("%s/operator %q is valid in Port but not implemented by portsim (supported: %s)", path, op, strings.Join(sch.ops, " "))
		}
		return nil, invalid("%s/operator must be equal to one of the allowed values: %s (got %q)", path, strings.Join(sch.ops, " "), op)
	}
	r := &rule{path: path, op: op, mapping: sch.mapping}
	empty := slices.Contains(emptyRuleOps, op)
	_, hasRel := m["relation"]
	switch {
	case hasRel && !sch.mapping && (empty || slices.Contains(stringRuleOps, op)):
		// The relation form of def-7's String Rule and Empty Rule:
		// {relation, targetProperty?, operator, value}.
		keys := []string{"relation", "targetProperty", "operator", "value"}
		if empty {
			keys = keys[:3]
		}
		if err := onlyKeys(path, m, keys...); err != nil {
			return nil, err
		}
		if r.rel, err = requiredString(path, m, "relation"); err != nil {
			return nil, err
		}
		r.target = "$identifier"
		if t, present, err := optString(path, m, "targetProperty"); err != nil {
			return nil, err
		} else if present {
			if t != "$identifier" && t != "$title" {
				return nil, invalid("%s/targetProperty must be equal to one of the allowed values: $title, $identifier (got %q)", path, t)
			}
			r.target = t
		}
	default:
		keys := []string{"property", "operator", "value"}
		if empty {
			keys = keys[:2]
		}
		if err := onlyKeys(path, m, keys...); err != nil {
			return nil, err
		}
		pv, present := m["property"]
		if !present {
			return nil, invalid("%s must have required property 'property'", path)
		}
		prop, isStr := pv.(string)
		if !isStr {
			if _, isObj := pv.(map[string]any); isObj && !sch.mapping {
				return nil, invalid("%s/property: user-context properties ({context, property}) are valid in Port but not implemented by portsim; name a property", path)
			}
			return nil, invalid("%s/property must be string, got %s", path, jsonType(pv))
		}
		if strings.HasPrefix(prop, "$") && !slices.Contains(metaProps, prop) {
			return nil, invalid("%s/property %q is not a meta-property portsim knows (known: %s)", path, prop, strings.Join(metaProps, " "))
		}
		r.prop = prop
	}
	if empty {
		return r, nil
	}
	val, hasVal := m["value"]
	if !hasVal {
		return nil, invalid("%s must have required property 'value'", path)
	}
	r.val = val
	if obj, isObj := val.(map[string]any); isObj {
		if _, ctx := obj["context"]; ctx && !sch.mapping {
			return nil, invalid("%s/value: user-context values ({context, property}) are valid in Port but not implemented by portsim; send the value itself", path)
		}
	}
	if sch.mapping {
		return r, r.mappingValue()
	}
	switch {
	case op == "between" || op == "notBetween":
		return r, r.dateRange(val, now)
	case slices.Contains(numberRuleOps, op):
		// Number Rule: a number or a date-time string.
		switch v := val.(type) {
		case float64:
		case string:
			if _, err := time.Parse(time.RFC3339Nano, v); err != nil {
				return nil, invalid("%s/value must be number or date-time for operator %q, got %q", path, op, v)
			}
		default:
			return nil, invalid("%s/value must be number or date-time for operator %q, got %s", path, op, jsonType(val))
		}
	case op == "in" || op == "notIn" || op == "containsAny":
		// The docs give these a list of strings (https://docs.port.io/search-and-query/operators/comparison-operators).
		return r, stringArray(path, op, val)
	case op == "=" || op == "!=":
		switch val.(type) {
		case nil, string, float64, bool, []any:
			// An array is a valid String Rule value; check says which
			// property types take it (none do for = and !=).
			if arr, isArr := val.([]any); isArr {
				return r, stringArray(path, op, arr)
			}
		case map[string]any:
			// The Date Rule lists "=" with {from, to} / {preset}, but the docs
			// say "=" takes only an ISO 8601 string and ranges and presets need
			// between / notBetween (https://docs.port.io/search-and-query/operators/comparison-operators,
			// "DateTime format support"): the stricter reading.
			return nil, invalid("%s/value: operator %q takes a date-time string, not a date range or preset; use between or notBetween", path, op)
		}
	default: // contains, doesNotContains, beginsWith, ... : one string
		if _, isStr := val.(string); !isStr {
			return nil, invalid("%s/value must be string for operator %q, got %s", path, op, jsonType(val))
		}
	}
	return r, nil
}

// mappingValue checks a def-5 / def-6 rule's value: "=" takes a string, a
// number or null; "in" and "containsAny" a list of strings; "contains" a
// string, a list of strings or null.
func (r *rule) mappingValue() error {
	switch r.op {
	case "=":
		switch r.val.(type) {
		case nil, string, float64:
			return nil
		}
		return invalid("%s/value must be string, number or null for operator %q, got %s", r.path, r.op, jsonType(r.val))
	case "contains":
		switch r.val.(type) {
		case nil, string:
			return nil
		}
		if _, isArr := r.val.([]any); !isArr {
			return invalid("%s/value must be string, array of strings or null for operator %q, got %s", r.path, r.op, jsonType(r.val))
		}
	}
	return stringArray(r.path, r.op, r.val)
}

func stringArray(path, op string, val any) error {
	arr, isArr := val.([]any)
	if !isArr {
		return invalid("%s/value must be array of strings for operator %q, got %s", path, op, jsonType(val))
	}
	for i, x := range arr {
		if _, isStr := x.(string); !isStr {
			return invalid("%s/value/%d must be string, got %s (%s)", path, i, jsonType(x), describe(x))
		}
	}
	return nil
}

// dateRange reads a Date Rule value: {from, to} or {preset} (spec def-7).
func (r *rule) dateRange(val any, now time.Time) error {
	path := r.path
	obj, isObj := val.(map[string]any)
	if !isObj {
		return invalid("%s/value must be object ({from, to} or {preset}) for operator %q, got %s", path, r.op, jsonType(val))
	}
	if err := onlyKeys(path+"/value", obj, "from", "to", "preset"); err != nil {
		return err
	}
	if p, has := obj["preset"]; has {
		preset, _ := p.(string)
		day := now.Truncate(24 * time.Hour)
		switch preset {
		case "today":
			r.from, r.to = day, day.Add(24*time.Hour)
		case "tomorrow":
			r.from, r.to = day.Add(24*time.Hour), day.Add(48*time.Hour)
		case "yesterday":
			r.from, r.to = day.Add(-24*time.Hour), day
		case "lastDay":
			r.from, r.to = now.Add(-24*time.Hour), now
		case "lastWeek":
			r.from, r.to = now.AddDate(0, 0, -7), now
		case "last2Weeks":
			r.from, r.to = now.AddDate(0, 0, -14), now
		case "lastMonth":
			r.from, r.to = now.AddDate(0, -1, 0), now
		case "last3Months":
			r.from, r.to = now.AddDate(0, -3, 0), now
		case "last6Months":
			r.from, r.to = now.AddDate(0, -6, 0), now
		case "last12Months":
			r.from, r.to = now.AddDate(-1, 0, 0), now
		default:
			return invalid("%s/value/preset must be one of today, tomorrow, yesterday, lastDay, lastWeek, last2Weeks, lastMonth, last3Months, last6Months, last12Months (got %v)", path, p)
		}
		return nil
	}
	var err error
	for _, k := range []string{"from", "to"} {
		s, isStr := obj[k].(string)
		if !isStr {
			return invalid("%s/value must have required property '%s' (a date-time string)", path, k)
		}
		t, perr := time.Parse(time.RFC3339Nano, s)
		if perr != nil {
			err = invalid("%s/value/%s must match format \"date-time\" (got %q)", path, k, s)
		}
		if k == "from" {
			r.from = t
		} else {
			r.to = t
		}
	}
	return err
}

// lookup returns the value a rule names (nil when unset): a meta-property,
// a property, or a relation's targets (their identifiers, or their titles).
func (r *rule) lookup(x *evalCtx) any {
	e := x.e
	if r.rel != "" {
		v := e.rels[r.rel]
		if r.target != "$title" || v == nil {
			return v
		}
		target := x.bp.spec.relations[r.rel].target
		title := func(id any) any {
			s, _ := id.(string)
			if tb := x.st.bps[target]; tb != nil {
				if te := tb.ents[s]; te != nil && te.title != nil {
					return *te.title
				}
			}
			return nil
		}
		if ids, many := v.([]any); many {
			out := make([]any, 0, len(ids))
			for _, id := range ids {
				if t := title(id); t != nil {
					out = append(out, t)
				}
			}
			return out
		}
		return title(v)
	}
	switch r.prop {
	case "$identifier":
		return e.id
	case "$title":
		if e.title != nil {
			return *e.title
		}
		return nil
	case "$icon":
		if e.icon != nil {
			return *e.icon
		}
		return nil
	case "$team":
		out := make([]any, len(e.team))
		for i, t := range e.team {
			out[i] = t
		}
		return out
	case "$blueprint":
		return x.bp.spec.id
	case "$createdAt":
		return iso(e.createdAt)
	case "$updatedAt":
		return iso(e.updatedAt)
	case "$createdBy":
		return e.createdBy
	case "$updatedBy":
		return e.updatedBy
	}
	return e.props[r.prop]
}

func (r *rule) match(x *evalCtx) bool {
	v := r.lookup(x)
	equal := func(e any) bool { return valueEqual(e, r.val) }
	switch r.op {
	case "isEmpty":
		return isEmpty(v)
	case "isNotEmpty":
		return !isEmpty(v)
	case "=":
		return valueEqual(v, r.val) || anyElem(v, equal)
	case "!=":
		return !valueEqual(v, r.val) && !anyElem(v, equal)
	case "in":
		return anyElem(v, func(e any) bool { return member(e, r.val) })
	case "notIn":
		return !anyElem(v, func(e any) bool { return member(e, r.val) })
	case "containsAny":
		// "checks if any of the specified strings exist in the target array"
		// (https://docs.port.io/search-and-query/operators/comparison-operators).
		return anyElem(v, func(e any) bool { return member(e, r.val) })
	case "contains":
		qs, isArr := r.val.([]any) // a list only in identifier and relation queries
		if !isArr {
			qs = []any{r.val}
		}
		return anyElem(v, func(e any) bool {
			for _, q := range qs {
				if strOp(e, q, strings.Contains) {
					return true
				}
			}
			return false
		})
	case "doesNotContains":
		return !anyElem(v, func(e any) bool { return strOp(e, r.val, strings.Contains) })
	case "beginsWith":
		return anyElem(v, func(e any) bool { return strOp(e, r.val, strings.HasPrefix) })
	case "doesNotBeginsWith":
		return !anyElem(v, func(e any) bool { return strOp(e, r.val, strings.HasPrefix) })
	case "endsWith":
		return anyElem(v, func(e any) bool { return strOp(e, r.val, strings.HasSuffix) })
	case "doesNotEndsWith":
		return !anyElem(v, func(e any) bool { return strOp(e, r.val, strings.HasSuffix) })
	case "<", "<=", ">", ">=":
		c, ok := compare(v, r.val)
		if !ok {
			return false
		}
		switch r.op {
		case "<":
			return c < 0
		case "<=":
			return c <= 0
		case ">":
			return c > 0
		}
		return c >= 0
	case "between":
		return inRange(v, r.from, r.to)
	case "notBetween":
		return v != nil && !inRange(v, r.from, r.to)
	}
	return false
}

// anyElem applies f to v, or to each element when v is an array (Port's
// search is term-based: an array field matches when any element does).
func anyElem(v any, f func(any) bool) bool {
	if arr, isArr := v.([]any); isArr {
		for _, e := range arr {
			if f(e) {
				return true
			}
		}
		return false
	}
	return f(v)
}

func member(e any, list any) bool {
	qs, _ := list.([]any)
	for _, q := range qs {
		if valueEqual(e, q) {
			return true
		}
	}
	return false
}

func strOp(e, q any, f func(string, string) bool) bool {
	es, eok := e.(string)
	qs, qok := q.(string)
	return eok && qok && f(es, qs)
}

func jsonEqual(a, b any) bool { return reflect.DeepEqual(a, b) }

// valueEqual is JSON equality, except that two date-time strings are equal
// when they name the same instant ("…:06Z" and "…:06.000Z").
func valueEqual(a, b any) bool {
	if jsonEqual(a, b) {
		return true
	}
	as, aok := a.(string)
	bs, bok := b.(string)
	if !aok || !bok {
		return false
	}
	at, err1 := time.Parse(time.RFC3339Nano, as)
	bt, err2 := time.Parse(time.RFC3339Nano, bs)
	return err1 == nil && err2 == nil && at.Equal(bt)
}

func isEmpty(v any) bool {
	switch t := v.(type) {
	case nil:
		return true
	case string:
		return t == ""
	case []any:
		return len(t) == 0
	case map[string]any:
		return len(t) == 0
	}
	return false
}

// compare orders numbers, or date-time strings.
func compare(a, b any) (int, bool) {
	if x, isNum := a.(float64); isNum {
		y, isNum := b.(float64)
		if !isNum {
			return 0, false
		}
		switch {
		case x < y:
			return -1, true
		case x > y:
			return 1, true
		}
		return 0, true
	}
	as, aok := a.(string)
	bs, bok := b.(string)
	if !aok || !bok {
		return 0, false
	}
	at, err1 := time.Parse(time.RFC3339Nano, as)
	bt, err2 := time.Parse(time.RFC3339Nano, bs)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	return at.Compare(bt), true
}

func inRange(v any, from, to time.Time) bool {
	s, isStr := v.(string)
	if !isStr {
		return false
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	return err == nil && !t.Before(from) && !t.After(to)
}

// fastPath extracts identifier candidates from a top-level "and" query:
// a $identifier "=" or "in" rule limits the scan to those ids (sorted).
func (g *group) identifierCandidates() ([]string, bool) {
	if g == nil || !g.and {
		return nil, false
	}
	for _, c := range g.rules {
		r, isRule := c.(*rule)
		if !isRule || r.prop != "$identifier" {
			continue
		}
		switch r.op {
		case "=":
			if s, isStr := r.val.(string); isStr {
				return []string{s}, true
			}
		case "in":
			var ids []string
			vals, _ := r.val.([]any)
			for _, v := range vals {
				if s, isStr := v.(string); isStr {
					ids = append(ids, s)
				}
			}
			sort.Strings(ids)
			return slices.Compact(ids), true
		}
	}
	return nil, false
}

// blueprintCandidates does the same for $blueprint.
func (g *group) blueprintCandidates() ([]string, bool) {
	if g == nil || !g.and {
		return nil, false
	}
	for _, c := range g.rules {
		r, isRule := c.(*rule)
		if !isRule || r.prop != "$blueprint" {
			continue
		}
		switch r.op {
		case "=":
			if s, isStr := r.val.(string); isStr {
				return []string{s}, true
			}
		case "in":
			var ids []string
			vals, _ := r.val.([]any)
			for _, v := range vals {
				if s, isStr := v.(string); isStr {
					ids = append(ids, s)
				}
			}
			return ids, true
		}
	}
	return nil, false
}
