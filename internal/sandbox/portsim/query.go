package portsim

import (
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Search rules (internal/port/API-NOTES.md "Search"; spec schema def-7, def-5,
// def-6).

type opSet []string

// Operators allowed in "map by property" identifiers and relation queries
// (spec def-5 / def-6; internal/port/API-NOTES.md
// "Search queries in identifiers and relations").
var (
	identifierQueryOps = opSet{"=", "in", "containsAny", "contains"}
	relationQueryOps   = identifierQueryOps
	searchOps          = opSet{"=", "!=", "<", "<=", ">", ">=", "between", "notBetween", "contains", "containsAny",
		"doesNotContains", "beginsWith", "doesNotBeginsWith", "endsWith", "doesNotEndsWith", "in", "notIn",
		"isEmpty", "isNotEmpty"}
	// Valid in Port (def-7) but not simulated: rejected with a message saying so.
	unimplementedOps = opSet{"isExpired", "isNotExpired", "matchAny", "relatedTo"}
)

var metaProps = []string{"$identifier", "$title", "$icon", "$team", "$blueprint", "$createdAt", "$updatedAt", "$createdBy", "$updatedBy"}

type evalCtx struct {
	bp *bpRec
	e  *entity
}

type cond interface{ match(x *evalCtx) bool }

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
	prop     string
	op       string
	val      any
	from, to time.Time // between / notBetween / date "="
	dateRule bool
}

// compileQuery validates {combinator, rules} at path and compiles it.
func compileQuery(path string, q map[string]any, ops opSet) (*group, error) {
	return compileQueryAt(path, q, ops, time.Now())
}

func compileQueryAt(path string, q map[string]any, ops opSet, now time.Time) (*group, error) {
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
	g := &group{and: comb == "and"}
	for i, item := range arr {
		rp := path + "/rules/" + strconv.Itoa(i)
		m, isObj := item.(map[string]any)
		if !isObj {
			return nil, invalid("%s must be object, got %s", rp, jsonType(item))
		}
		if _, nested := m["combinator"]; nested {
			sub, err := compileQueryAt(rp, m, ops, now)
			if err != nil {
				return nil, err
			}
			g.rules = append(g.rules, sub)
			continue
		}
		r, err := compileRule(rp, m, ops, now)
		if err != nil {
			return nil, err
		}
		g.rules = append(g.rules, r)
	}
	return g, nil
}

func compileRule(path string, m map[string]any, ops opSet, now time.Time) (*rule, error) {
	op, err := requiredString(path, m, "operator")
	if err != nil {
		return nil, err
	}
	if !slices.Contains(ops, op) {
		// Say so when a full-search operator is merely not simulated.
		if slices.Contains(unimplementedOps, op) && len(ops) == len(searchOps) {
			return nil, invalid("%s/operator %q is valid in Port but not implemented by portsim (supported: %s)", path, op, strings.Join(ops, " "))
		}
		return nil, invalid("%s/operator must be equal to one of the allowed values: %s (got %q)", path, strings.Join(ops, " "), op)
	}
	pv, present := m["property"]
	if !present {
		return nil, invalid("%s must have required property 'property'", path)
	}
	prop, isStr := pv.(string)
	if !isStr {
		return nil, invalid("%s/property must be string (user-context properties are not implemented by portsim), got %s", path, jsonType(pv))
	}
	if strings.HasPrefix(prop, "$") && !slices.Contains(metaProps, prop) {
		return nil, invalid("%s/property %q is not a meta-property portsim knows (known: %s)", path, prop, strings.Join(metaProps, " "))
	}
	r := &rule{prop: prop, op: op}
	val, hasVal := m["value"]
	switch op {
	case "isEmpty", "isNotEmpty":
		if err := onlyKeys(path, m, "property", "operator"); err != nil {
			return nil, err
		}
		return r, nil
	}
	if err := onlyKeys(path, m, "property", "operator", "value"); err != nil {
		return nil, err
	}
	if !hasVal {
		return nil, invalid("%s must have required property 'value'", path)
	}
	r.val = val
	switch op {
	case "in", "notIn", "containsAny":
		if _, isArr := val.([]any); !isArr {
			return nil, invalid("%s/value must be array for operator %q, got %s", path, op, jsonType(val))
		}
	case "<", "<=", ">", ">=":
		switch v := val.(type) {
		case float64:
		case string:
			if _, err := time.Parse(time.RFC3339Nano, v); err != nil {
				return nil, invalid("%s/value must be number or date-time for operator %q, got %q", path, op, v)
			}
		default:
			return nil, invalid("%s/value must be number or date-time for operator %q, got %s", path, op, jsonType(val))
		}
	case "between", "notBetween":
		if err := r.dateRange(path, val, now); err != nil {
			return nil, err
		}
	case "=":
		if obj, isObj := val.(map[string]any); isObj {
			if err := r.dateRange(path, obj, now); err != nil {
				return nil, err
			}
		}
	case "contains", "doesNotContains", "beginsWith", "doesNotBeginsWith", "endsWith", "doesNotEndsWith":
		switch val.(type) {
		case string:
		case []any:
			if op != "contains" {
				return nil, invalid("%s/value must be string for operator %q, got array", path, op)
			}
		default:
			return nil, invalid("%s/value must be string for operator %q, got %s", path, op, jsonType(val))
		}
	}
	return r, nil
}

// dateRange reads a Date Rule value: {from, to} or {preset} (spec def-7).
func (r *rule) dateRange(path string, val any, now time.Time) error {
	obj, isObj := val.(map[string]any)
	if !isObj {
		return invalid("%s/value must be object ({from, to} or {preset}) for operator %q, got %s", path, r.op, jsonType(val))
	}
	r.dateRule = true
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

// lookup returns the value a rule property names, and whether it is set.
func lookup(x *evalCtx, prop string) any {
	e := x.e
	switch prop {
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
	if v, has := e.props[prop]; has {
		return v
	}
	if v, has := e.rels[prop]; has {
		return v
	}
	return nil
}

func (r *rule) match(x *evalCtx) bool {
	v := lookup(x, r.prop)
	switch r.op {
	case "isEmpty":
		return isEmpty(v)
	case "isNotEmpty":
		return !isEmpty(v)
	case "=":
		if r.dateRule {
			return inRange(v, r.from, r.to)
		}
		return anyElem(v, func(e any) bool { return jsonEqual(e, r.val) }) || jsonEqual(v, r.val)
	case "!=":
		return !(anyElem(v, func(e any) bool { return jsonEqual(e, r.val) }) || jsonEqual(v, r.val))
	case "in":
		return anyElem(v, func(e any) bool { return member(e, r.val) })
	case "notIn":
		return !anyElem(v, func(e any) bool { return member(e, r.val) })
	case "containsAny":
		return anyElem(v, func(e any) bool {
			qs, _ := r.val.([]any)
			for _, q := range qs {
				if strOp(e, q, strings.Contains) {
					return true
				}
			}
			return false
		})
	case "contains":
		qs, isArr := r.val.([]any)
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
		if jsonEqual(e, q) {
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
		if !isRule || r.prop != "$identifier" || r.dateRule {
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
