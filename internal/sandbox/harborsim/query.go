package harborsim

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// query is a parsed `q` parameter (src/lib/q/builder.go @ v2.15.2).
type query struct {
	keys  []string // in order of appearance
	terms map[string]any
}

type fuzzy struct{ v string }
type valRange struct{ min, max any }
type orList struct{ vals []any }
type andList struct{ vals []any }

const errQueryMsg = `the query string must contain "=" and the key/value cannot be empty`

// parseQuery mirrors q.Build: the whole value is QueryUnescape'd, split on ",", each part on the
// first "=", and the value classified as exact, ~fuzzy, [range], {or list} or (and list).
func parseQuery(raw string) (*query, *apiError) {
	qu := &query{terms: map[string]any{}}
	if raw == "" {
		return qu, nil
	}
	if un, err := url.QueryUnescape(raw); err == nil {
		raw = un
	}
	for _, param := range strings.Split(raw, ",") {
		kv := strings.SplitN(param, "=", 2)
		if len(kv) != 2 || kv[0] == "" || kv[1] == "" {
			return nil, errBadRequest(errQueryMsg)
		}
		v, err := parsePattern(kv[1])
		if err != nil {
			// errors.New(err).WithMessagef(...): the cause is appended after ": ".
			return nil, errBadRequest("invalid query string value: %s: %v", kv[1], err)
		}
		if _, dup := qu.terms[kv[0]]; !dup {
			qu.keys = append(qu.keys, kv[0])
		}
		qu.terms[kv[0]] = v
	}
	return qu, nil
}

func parsePattern(v string) (any, error) {
	switch v[0] {
	case '~':
		if len(v) < 2 {
			return nil, fmt.Errorf(`fuzzy match value must start with "~" and contain at least 1 other characters`)
		}
		return fuzzy{v[1:]}, nil
	case '[':
		if v[len(v)-1] != ']' || strings.Count(v, "~") != 1 {
			return nil, fmt.Errorf(`range must start with "[", end with "]" and contains only one "~"`)
		}
		parts := strings.SplitN(v[1:len(v)-1], "~", 2)
		lo, hi := strings.TrimSpace(parts[0]), strings.TrimSpace(parts[1])
		if lo == "" && hi == "" {
			return nil, fmt.Errorf(`min and max at least one should be set in range'`)
		}
		r := valRange{}
		if lo != "" {
			r.min = parseValue(lo)
		}
		if hi != "" {
			r.max = parseValue(hi)
		}
		return r, nil
	case '{':
		if v[len(v)-1] != '}' {
			return nil, fmt.Errorf(`or list must start with "{" and end with "}"`)
		}
		return orList{parseList(v)}, nil
	case '(':
		if v[len(v)-1] != ')' {
			return nil, fmt.Errorf(`and list must start with "(" and end with ")"`)
		}
		return andList{parseList(v)}, nil
	}
	if v[0] == '\\' {
		return v[1:], nil
	}
	return v, nil
}

func parseList(v string) []any {
	var out []any
	for _, s := range strings.Split(v[1:len(v)-1], " ") {
		pv := parseValue(s)
		if str, ok := pv.(string); ok && str == "" {
			continue
		}
		out = append(out, pv)
	}
	return out
}

// parseValue tries time, then integer, then a string with quotes trimmed (q.parseValue).
func parseValue(v string) any {
	v = strings.TrimSpace(v)
	if t, err := time.Parse("2006-01-02T15:04:05", v); err == nil {
		return t
	}
	if i, err := strconv.ParseInt(v, 10, 64); err == nil {
		return i
	}
	return strings.Trim(v, `"'`)
}

// field is one filterable column value of a row.
type field struct {
	s    string
	i    int64
	t    time.Time
	kind byte // 's', 'i', 't', 'b'
}

func sf(s string) field    { return field{s: s, kind: 's'} }
func inf(i int64) field    { return field{i: i, kind: 'i', s: strconv.FormatInt(i, 10)} }
func tf(t time.Time) field { return field{t: t, kind: 't'} }
func bf(b bool) field      { return field{s: strconv.FormatBool(b), kind: 'b'} }

// match applies one q term to a column like the ORM: exact "=", fuzzy "icontains" (case
// insensitive), range ">= <=", or-list "IN", and-list "all equal".
func (f field) match(term any) bool {
	switch t := term.(type) {
	case string:
		return f.eq(t)
	case int64:
		return f.eq(strconv.FormatInt(t, 10))
	case time.Time:
		return f.kind == 't' && f.t.Equal(t)
	case fuzzy:
		return strings.Contains(strings.ToLower(f.s), strings.ToLower(t.v))
	case valRange:
		return (t.min == nil || f.cmp(t.min) >= 0) && (t.max == nil || f.cmp(t.max) <= 0)
	case orList:
		for _, v := range t.vals {
			if f.match(v) {
				return true
			}
		}
		return false
	case andList:
		for _, v := range t.vals {
			if !f.match(v) {
				return false
			}
		}
		return true
	}
	return false
}

func (f field) eq(v string) bool {
	if f.kind == 'b' {
		b, err := strconv.ParseBool(v)
		return err == nil && strconv.FormatBool(b) == f.s
	}
	return f.s == v
}

func (f field) cmp(v any) int {
	switch x := v.(type) {
	case int64:
		if f.kind == 'i' {
			return cmpInt(f.i, x)
		}
	case time.Time:
		if f.kind == 't' {
			return f.t.Compare(x)
		}
	case string:
		return strings.Compare(f.s, x)
	}
	return strings.Compare(f.s, fmt.Sprint(v))
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// sortKey is one `sort=` entry ("-field" = descending).
type sortKey struct {
	key  string
	desc bool
}

func parseSort(s string) []sortKey {
	if s == "" {
		return nil
	}
	var out []sortKey
	for _, part := range strings.Split(s, ",") {
		k := sortKey{key: part}
		if strings.HasPrefix(part, "-") {
			k = sortKey{key: part[1:], desc: true}
		}
		out = append(out, k)
	}
	return out
}

// compareBy compares two rows by the given sort keys using a column accessor; unknown columns
// are ignored, as the ORM only sorts on sortable fields.
func compareBy[T any](keys []sortKey, col func(row T, key string) (field, bool), a, b T) int {
	for _, k := range keys {
		fa, ok := col(a, k.key)
		if !ok {
			continue
		}
		fb, _ := col(b, k.key)
		var c int
		switch fa.kind {
		case 'i':
			c = cmpInt(fa.i, fb.i)
		case 't':
			c = fa.t.Compare(fb.t)
		default:
			c = strings.Compare(fa.s, fb.s)
		}
		if k.desc {
			c = -c
		}
		if c != 0 {
			return c
		}
	}
	return 0
}
