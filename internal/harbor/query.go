package harbor

import (
	"fmt"
	"regexp"
	"strings"
	"unicode"
)

// Harbor's `q` filter syntax (internal/harbor/API-NOTES.md "Query syntax";
// goharbor/harbor@v2.15.2:src/lib/q/builder.go):
//
//	q=k=v,k=~v,k=[min~max],k={v1 v2},k=(v1 v2)
//
// Limits that shape this builder, all from builder.go parseKeywords/parsePattern:
//   - The whole expression is url.QueryUnescape'd once more after normal query decoding, so a
//     literal '%' or '+' must be escaped twice (EncodeQ does this).
//   - Terms are split on every ',' with no escape mechanism: no value may contain a comma.
//   - An exact value starting with '~', '[', '{' or '(' would be read as another operator; Harbor
//     strips one leading '\' from exact values, so BuildQ prefixes '\' to such values (and to
//     values that themselves start with '\').
//   - List values are separated by single spaces and each is TrimSpace'd and stripped of
//     surrounding quotes; range bounds likewise, and may not contain '~'. Values that look like
//     integers or "2006-01-02T15:04:05" times are typed by Harbor (useful for id/time columns).
//   - Keys are a map: a repeated key silently keeps only the last term.
//   - Unknown keys are silently ignored by Harbor (the filter then matches everything), so a typo
//     widens a query rather than failing it. Fuzzy (~) is a case-insensitive "contains".
//   - An empty key or value is a 400 BAD_REQUEST.

// QOp is the kind of a q term.
type QOp int

const (
	QExact QOp = iota // k=v
	QFuzzy            // k=~v (case-insensitive contains)
	QRange            // k=[min~max]; Values = {min, max}, "" = open bound
	QAnyOf            // k={v1 v2} (OR)
	QAllOf            // k=(v1 v2) (AND; only keys whose DAO implements it, e.g. artifact labels)
)

func (o QOp) String() string {
	switch o {
	case QExact:
		return "exact"
	case QFuzzy:
		return "fuzzy"
	case QRange:
		return "range"
	case QAnyOf:
		return "any-of"
	case QAllOf:
		return "all-of"
	}
	return fmt.Sprintf("QOp(%d)", int(o))
}

// QTerm is one `key<op>value` clause of a q expression.
type QTerm struct {
	Key    string
	Op     QOp
	Values []string
}

// QEq is k=v (exact).
func QEq(key, value string) QTerm { return QTerm{Key: key, Op: QExact, Values: []string{value}} }

// QLike is k=~v (case-insensitive contains).
func QLike(key, value string) QTerm { return QTerm{Key: key, Op: QFuzzy, Values: []string{value}} }

// QBetween is k=[lo~hi]; "" leaves a bound open.
func QBetween(key, lo, hi string) QTerm { return QTerm{Key: key, Op: QRange, Values: []string{lo, hi}} }

// QIn is k={v1 v2} (any of).
func QIn(key string, values ...string) QTerm { return QTerm{Key: key, Op: QAnyOf, Values: values} }

// QAll is k=(v1 v2) (all of).
func QAll(key string, values ...string) QTerm { return QTerm{Key: key, Op: QAllOf, Values: values} }

// Stricter than Harbor on purpose: a key is a column or a DAO keyword, never free text.
var qKeyRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.]*$`)

// BuildQ renders terms as a Harbor q expression (before EncodeQ), or explains which term Harbor
// could not represent. ParseQ(BuildQ(t)) == t for every accepted t (see the fuzz test).
func BuildQ(terms ...QTerm) (string, error) {
	seen := make(map[string]bool, len(terms))
	parts := make([]string, 0, len(terms))
	for i, t := range terms {
		if !qKeyRE.MatchString(t.Key) {
			return "", fmt.Errorf("q term %d: key %q must match %s", i+1, t.Key, qKeyRE)
		}
		if seen[t.Key] {
			return "", fmt.Errorf("q term %d: key %q appears twice; Harbor keeps only the last term per key", i+1, t.Key)
		}
		seen[t.Key] = true
		v, err := renderQValue(t)
		if err != nil {
			return "", fmt.Errorf("q term %d (%s %s): %w", i+1, t.Key, t.Op, err)
		}
		parts = append(parts, t.Key+"="+v)
	}
	return strings.Join(parts, ","), nil
}

func renderQValue(t QTerm) (string, error) {
	switch t.Op {
	case QExact, QFuzzy:
		if len(t.Values) != 1 {
			return "", fmt.Errorf("needs exactly 1 value, got %d", len(t.Values))
		}
		v := t.Values[0]
		if v == "" {
			return "", fmt.Errorf("value is empty (Harbor answers 400)")
		}
		if strings.Contains(v, ",") {
			return "", fmt.Errorf("value %q contains a comma, which Harbor's q syntax cannot escape", v)
		}
		if t.Op == QFuzzy {
			return "~" + v, nil
		}
		if strings.ContainsAny(v[:1], `~[{(\`) {
			return `\` + v, nil
		}
		return v, nil
	case QRange:
		if len(t.Values) != 2 {
			return "", fmt.Errorf("needs 2 values (min, max), got %d", len(t.Values))
		}
		if t.Values[0] == "" && t.Values[1] == "" {
			return "", fmt.Errorf("min and max are both empty")
		}
		for _, v := range t.Values {
			if v == "" {
				continue
			}
			if err := checkQListValue(v); err != nil {
				return "", err
			}
			if strings.Contains(v, "~") {
				return "", fmt.Errorf("range bound %q contains '~', the range separator", v)
			}
		}
		return "[" + t.Values[0] + "~" + t.Values[1] + "]", nil
	case QAnyOf, QAllOf:
		if len(t.Values) == 0 {
			return "", fmt.Errorf("needs at least 1 value")
		}
		for _, v := range t.Values {
			if v == "" {
				return "", fmt.Errorf("empty list value (Harbor drops it)")
			}
			if err := checkQListValue(v); err != nil {
				return "", err
			}
			if strings.IndexFunc(v, unicode.IsSpace) >= 0 {
				return "", fmt.Errorf("list value %q contains whitespace, the list separator", v)
			}
		}
		open, closing := "{", "}"
		if t.Op == QAllOf {
			open, closing = "(", ")"
		}
		return open + strings.Join(t.Values, " ") + closing, nil
	}
	return "", fmt.Errorf("unknown operator %d", int(t.Op))
}

// checkQListValue rejects what Harbor's parseValue would alter: commas (term separator),
// surrounding whitespace (TrimSpace) and surrounding quotes (Trim `"'`).
func checkQListValue(v string) error {
	if strings.Contains(v, ",") {
		return fmt.Errorf("value %q contains a comma, which Harbor's q syntax cannot escape", v)
	}
	if strings.TrimSpace(v) != v {
		return fmt.Errorf("value %q has surrounding whitespace, which Harbor trims", v)
	}
	if strings.Trim(v, `"'`) != v {
		return fmt.Errorf("value %q has surrounding quotes, which Harbor strips", v)
	}
	return nil
}

// ParseQ reads a q expression the way Harbor does after its extra unescape (builder.go
// parseKeywords/parsePattern), so a bad expression fails here with Harbor's reason instead of as a
// 400 mid-sync. Values stay strings (Harbor's int/time typing is not modelled). Stricter than
// Harbor: keys must match qKeyRE and may not repeat.
func ParseQ(expr string) ([]QTerm, error) {
	if expr == "" {
		return nil, nil
	}
	var terms []QTerm
	seen := map[string]bool{}
	for i, param := range strings.Split(expr, ",") {
		k, v, ok := strings.Cut(param, "=")
		if !ok || k == "" || v == "" {
			return nil, fmt.Errorf("term %d %q: the query string must contain \"=\" and the key/value cannot be empty (Harbor's rule; values cannot contain commas)", i+1, param)
		}
		if !qKeyRE.MatchString(k) {
			return nil, fmt.Errorf("term %d: key %q must match %s", i+1, k, qKeyRE)
		}
		if seen[k] {
			return nil, fmt.Errorf("term %d: key %q appears twice; Harbor keeps only the last term per key", i+1, k)
		}
		seen[k] = true
		t, err := parseQPattern(k, v)
		if err != nil {
			return nil, fmt.Errorf("term %d (%s): invalid query string value %q: %w", i+1, k, v, err)
		}
		terms = append(terms, t)
	}
	return terms, nil
}

func parseQPattern(k, v string) (QTerm, error) {
	switch v[0] {
	case '~':
		if len(v) < 2 {
			return QTerm{}, fmt.Errorf(`fuzzy match value must start with "~" and contain at least 1 other character`)
		}
		return QLike(k, v[1:]), nil
	case '[':
		if v[len(v)-1] != ']' || strings.Count(v, "~") != 1 {
			return QTerm{}, fmt.Errorf(`range must start with "[", end with "]" and contain exactly one "~"`)
		}
		lo, hi, _ := strings.Cut(v[1:len(v)-1], "~")
		lo, hi = strings.TrimSpace(lo), strings.TrimSpace(hi)
		if lo == "" && hi == "" {
			return QTerm{}, fmt.Errorf("range needs min or max")
		}
		return QBetween(k, qListValue(lo), qListValue(hi)), nil
	case '{', '(':
		closing, op := byte('}'), QAnyOf
		if v[0] == '(' {
			closing, op = ')', QAllOf
		}
		if len(v) < 2 || v[len(v)-1] != closing {
			return QTerm{}, fmt.Errorf("list must start with %q and end with %q", v[:1], string(closing))
		}
		var vals []string
		for _, s := range strings.Split(v[1:len(v)-1], " ") {
			if s = qListValue(s); s != "" {
				vals = append(vals, s)
			}
		}
		if len(vals) == 0 {
			return QTerm{}, fmt.Errorf("list has no values")
		}
		return QTerm{Key: k, Op: op, Values: vals}, nil
	}
	return QEq(k, strings.TrimPrefix(v, `\`)), nil
}

// qListValue mirrors Harbor's parseValue for strings.
func qListValue(s string) string { return strings.Trim(strings.TrimSpace(s), `"'`) }

// EncodeQ protects a q expression from Harbor's second url.QueryUnescape: only '%' and '+' change
// under QueryUnescape, so escaping exactly those makes the round trip the identity.
func EncodeQ(expr string) string {
	return strings.NewReplacer("%", "%25", "+", "%2B").Replace(expr)
}

// prepareQ validates a caller-supplied q expression and encodes it for the wire.
func prepareQ(expr string) (string, error) {
	if _, err := ParseQ(expr); err != nil {
		return "", fmt.Errorf("invalid Harbor q filter %q: %w", expr, err)
	}
	return EncodeQ(expr), nil
}
