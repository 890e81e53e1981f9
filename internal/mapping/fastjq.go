package mapping

import (
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/itchyny/gojq"
)

// A fast path for the jq that mappings are made of: paths with indexes,
// iteration, slices and `?`; array construction; parentheses; pipes; `//`,
// `,`, `+`, `==`, `!=`; string, number and constant literals; `strings` and
// `split("…")`. Such a program is evaluated directly on the item, without
// gojq's interpreter (a plan maps every Harbor item through every mapped
// field, which made jq the second largest CPU cost of a plan; see
// internal/catalog/BENCHMARKS.md). Anything else — and any error that is not
// caught by `?` or `//` — goes to gojq, so results and error messages stay
// gojq's exactly (FuzzJQ and TestFastJQMatchesGojq compare the two).

// fastStatus is how a fast evaluation ended.
type fastStatus uint8

const (
	fastOK      fastStatus = iota // the outputs are all there is
	fastErrored                   // the outputs were followed by a jq error
	fastBail                      // not evaluable here: ask gojq
)

type fastFn func(in any) ([]any, fastStatus)

// compileFast returns the fast evaluator of q, or nil if q is outside the
// subset. vars are the variables bound before q (the prelude's $scope),
// constants for the whole mapping.
func compileFast(q *gojq.Query, vars map[string]any) fastFn {
	if q == nil || q.Meta != nil || len(q.Imports) > 0 || len(q.FuncDefs) > 0 || len(q.Patterns) > 0 {
		return nil
	}
	if q.Term != nil {
		if q.Left != nil || q.Right != nil {
			return nil
		}
		return compileTerm(q.Term, vars)
	}
	left, right := compileFast(q.Left, vars), compileFast(q.Right, vars)
	if left == nil || right == nil {
		return nil
	}
	switch q.Op {
	case gojq.OpPipe:
		return func(in any) ([]any, fastStatus) {
			outs, st := left(in)
			if st == fastBail {
				return nil, fastBail
			}
			var res []any
			for _, v := range outs {
				o, s := right(v)
				res = append(res, o...)
				if s != fastOK {
					return res, s
				}
			}
			return res, st
		}
	case gojq.OpComma:
		return func(in any) ([]any, fastStatus) {
			a, sa := left(in)
			if sa != fastOK {
				return a, sa
			}
			b, sb := right(in)
			return append(a, b...), sb
		}
	case gojq.OpAlt:
		// a // b: a's truthy outputs, or b's outputs if there are none. An
		// error in a is not caught (gojq's compileAlt forks without the
		// error-catching fork jq 1.6 uses): it follows a's truthy outputs.
		return func(in any) ([]any, fastStatus) {
			a, sa := left(in)
			if sa == fastBail {
				return nil, fastBail
			}
			var truthy []any
			for _, v := range a {
				if v != nil && v != false {
					truthy = append(truthy, v)
				}
			}
			if sa == fastErrored || len(truthy) > 0 {
				return truthy, sa
			}
			return right(in)
		}
	case gojq.OpAdd, gojq.OpEq, gojq.OpNe:
		op := q.Op
		return func(in any) ([]any, fastStatus) {
			// Only the single-valued case: the order of a cartesian product
			// and of its errors is gojq's business.
			l, sl := left(in)
			r, sr := right(in)
			if sl != fastOK || sr != fastOK || len(l) != 1 || len(r) != 1 {
				return nil, fastBail
			}
			switch op {
			case gojq.OpEq:
				return []any{jqEqual(l[0], r[0])}, fastOK
			case gojq.OpNe:
				return []any{!jqEqual(l[0], r[0])}, fastOK
			}
			v, ok := jqAdd(l[0], r[0])
			if !ok {
				return nil, fastBail
			}
			return []any{v}, fastOK
		}
	}
	return nil
}

func compileTerm(t *gojq.Term, vars map[string]any) fastFn {
	var base fastFn
	switch t.Type {
	case gojq.TermTypeIdentity:
		base = func(in any) ([]any, fastStatus) { return []any{in}, fastOK }
	case gojq.TermTypeIndex:
		step := compileIndex(t.Index)
		if step == nil {
			return nil
		}
		base = func(in any) ([]any, fastStatus) {
			v, st := step(in)
			if st != fastOK {
				return nil, st
			}
			return []any{v}, fastOK
		}
	case gojq.TermTypeNull, gojq.TermTypeTrue, gojq.TermTypeFalse, gojq.TermTypeNumber, gojq.TermTypeString:
		v, ok := literal(t)
		if !ok {
			return nil
		}
		base = func(any) ([]any, fastStatus) { return []any{v}, fastOK }
	case gojq.TermTypeArray:
		if t.Array.Query == nil {
			base = func(any) ([]any, fastStatus) { return []any{[]any{}}, fastOK }
			break
		}
		q := compileFast(t.Array.Query, vars)
		if q == nil {
			return nil
		}
		base = func(in any) ([]any, fastStatus) {
			outs, st := q(in)
			if st != fastOK {
				return nil, st
			}
			if outs == nil {
				outs = []any{}
			}
			return []any{outs}, fastOK
		}
	case gojq.TermTypeQuery:
		if base = compileFast(t.Query, vars); base == nil {
			return nil
		}
	case gojq.TermTypeFunc:
		if base = compileFunc(t.Func, vars); base == nil {
			return nil
		}
	default:
		return nil
	}
	if len(t.SuffixList) == 0 {
		return base
	}
	// gojq's `?`: right after an index or iteration it guards that one step,
	// for each value separately; anywhere else (first, or after another
	// `?`) it guards the whole term so far (compileTermSuffix).
	type suffix struct {
		optional, iter, guarded bool
		index                   func(any) (any, fastStatus)
	}
	var sufs []suffix
	for _, s := range t.SuffixList {
		switch {
		case s.Optional:
			if n := len(sufs); n > 0 && !sufs[n-1].optional && !sufs[n-1].guarded {
				sufs[n-1].guarded = true
				continue
			}
			sufs = append(sufs, suffix{optional: true})
		case s.Iter:
			sufs = append(sufs, suffix{iter: true})
		default:
			ix := compileIndex(s.Index)
			if ix == nil {
				return nil
			}
			sufs = append(sufs, suffix{index: ix})
		}
	}
	return func(in any) ([]any, fastStatus) {
		outs, st := base(in)
		for _, s := range sufs {
			if st == fastBail {
				return nil, fastBail
			}
			if s.optional {
				if st == fastErrored { // the error ends the stream quietly
					st = fastOK
				}
				continue
			}
			// Outputs before a pending error still flow through this step
			// (streams are lazy); an error here comes first and ends them.
			var next []any
			for _, v := range outs {
				var vals []any
				vst := fastOK
				if s.iter {
					var ok bool
					if vals, ok = iterate(v); !ok {
						vst = fastErrored
					}
				} else {
					var r any
					r, vst = s.index(v)
					vals = []any{r}
				}
				if vst == fastBail {
					return nil, fastBail
				}
				if vst == fastErrored {
					if s.guarded {
						continue // `?` on this step: this value gives nothing
					}
					st = fastErrored
					break
				}
				next = append(next, vals...)
			}
			outs = next
		}
		return outs, st
	}
}

// compileIndex compiles .name, ."name", .[n] (a non-negative integer
// literal) and .[a:b] (integer literal bounds, either may be left out). The
// combinations of value and index whose outcome is less obvious in gojq
// (a string indexed by a number, say) go to gojq.
func compileIndex(ix *gojq.Index) func(any) (any, fastStatus) {
	if ix == nil {
		return nil
	}
	if !ix.IsSlice && ix.Start == nil && ix.End == nil {
		name := ix.Name
		if name == "" {
			if ix.Str == nil || len(ix.Str.Queries) > 0 {
				return nil
			}
			name = ix.Str.Str
		}
		return func(v any) (any, fastStatus) {
			switch m := v.(type) {
			case map[string]any:
				return m[name], fastOK
			case nil:
				return nil, fastOK
			case []any, string, float64, bool:
				return nil, fastErrored
			}
			return nil, fastBail
		}
	}
	if ix.Name != "" || ix.Str != nil {
		return nil
	}
	if !ix.IsSlice {
		n, ok := intLiteral(ix.Start)
		if !ok || ix.End != nil {
			return nil
		}
		return func(v any) (any, fastStatus) {
			switch a := v.(type) {
			case []any:
				if n < len(a) {
					return a[n], fastOK
				}
				return nil, fastOK
			case nil:
				return nil, fastOK
			}
			return nil, fastBail
		}
	}
	start, end := 0, -1 // -1: to the end
	if ix.Start != nil {
		var ok bool
		if start, ok = intLiteral(ix.Start); !ok {
			return nil
		}
	}
	if ix.End != nil {
		var ok bool
		if end, ok = intLiteral(ix.End); !ok {
			return nil
		}
	}
	return func(v any) (any, fastStatus) {
		switch x := v.(type) {
		case nil:
			return nil, fastOK
		case []any:
			s, e := clampSlice(len(x), start, end)
			return slices.Clone(x[s:e]), fastOK
		case string:
			if isASCII(x) {
				s, e := clampSlice(len(x), start, end)
				return x[s:e], fastOK
			}
			rs := []rune(x)
			s, e := clampSlice(len(rs), start, end)
			return string(rs[s:e]), fastOK
		}
		return nil, fastBail
	}
}

func clampSlice(n, start, end int) (int, int) {
	if end < 0 || end > n {
		end = n
	}
	start = min(start, n)
	if end < start {
		end = start
	}
	return start, end
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// intLiteral reads a query that is a plain non-negative integer literal.
func intLiteral(q *gojq.Query) (int, bool) {
	if q == nil || q.Term == nil || q.Left != nil || q.Right != nil || len(q.FuncDefs) > 0 ||
		q.Term.Type != gojq.TermTypeNumber || len(q.Term.SuffixList) > 0 {
		return 0, false
	}
	n, err := strconv.Atoi(q.Term.Number)
	if err != nil || n < 0 || n > 1<<20 {
		return 0, false
	}
	return n, true
}

// literal is the value of null, true, false, an integer or a string
// without interpolation or format.
func literal(t *gojq.Term) (any, bool) {
	switch t.Type {
	case gojq.TermTypeNull:
		return nil, true
	case gojq.TermTypeTrue:
		return true, true
	case gojq.TermTypeFalse:
		return false, true
	case gojq.TermTypeNumber:
		n, err := strconv.ParseInt(t.Number, 10, 64)
		if err != nil || n > 1<<53 {
			return nil, false
		}
		return float64(n), true
	case gojq.TermTypeString:
		if t.Str == nil || len(t.Str.Queries) > 0 || t.Format != "" {
			return nil, false
		}
		return t.Str.Str, true
	}
	return nil, false
}

func compileFunc(f *gojq.Func, vars map[string]any) fastFn {
	if v, ok := vars[f.Name]; ok && len(f.Args) == 0 && strings.HasPrefix(f.Name, "$") {
		return func(any) ([]any, fastStatus) { return []any{v}, fastOK }
	}
	switch {
	case f.Name == "strings" && len(f.Args) == 0:
		return func(in any) ([]any, fastStatus) {
			if _, ok := in.(string); ok {
				return []any{in}, fastOK
			}
			return nil, fastOK
		}
	case f.Name == "split" && len(f.Args) == 1:
		a := f.Args[0]
		if a.Term == nil || a.Left != nil || a.Right != nil || len(a.Term.SuffixList) > 0 {
			return nil
		}
		sep, ok := literal(a.Term)
		s, isStr := sep.(string)
		if !ok || !isStr || s == "" {
			return nil
		}
		return func(in any) ([]any, fastStatus) {
			str, ok := in.(string)
			if !ok {
				return nil, fastErrored
			}
			if str == "" {
				return []any{[]any{}}, fastOK // jq splits "" into no parts
			}
			parts := strings.Split(str, s)
			out := make([]any, len(parts))
			for i, p := range parts {
				out[i] = p
			}
			return []any{out}, fastOK
		}
	}
	return nil
}

// iterate is .[]: an array's elements, an object's values in key order.
func iterate(v any) ([]any, bool) {
	switch x := v.(type) {
	case []any:
		return x, true
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		out := make([]any, len(keys))
		for i, k := range keys {
			out[i] = x[k]
		}
		return out, true
	}
	return nil, false
}

// jqAdd is jq's + for decoded JSON values; ok is false where jq raises an
// error (gojq then words it).
func jqAdd(a, b any) (any, bool) {
	switch {
	case a == nil:
		return b, true
	case b == nil:
		return a, true
	}
	switch x := a.(type) {
	case float64:
		if y, ok := b.(float64); ok {
			s := x + y
			return s, !math.IsInf(s, 0) && !math.IsNaN(s)
		}
	case string:
		if y, ok := b.(string); ok {
			return x + y, true
		}
	case []any:
		if y, ok := b.([]any); ok {
			return append(slices.Clip(x), y...), true
		}
	case map[string]any:
		if y, ok := b.(map[string]any); ok {
			out := make(map[string]any, len(x)+len(y))
			for k, v := range x {
				out[k] = v
			}
			for k, v := range y {
				out[k] = v
			}
			return out, true
		}
	}
	return nil, false
}

// jqEqual is jq's == for decoded JSON values.
func jqEqual(a, b any) bool {
	switch x := a.(type) {
	case nil:
		return b == nil
	case bool:
		y, ok := b.(bool)
		return ok && x == y
	case float64:
		y, ok := b.(float64)
		return ok && x == y
	case string:
		y, ok := b.(string)
		return ok && x == y
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !jqEqual(x[i], y[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			w, ok := y[k]
			if !ok || !jqEqual(v, w) {
				return false
			}
		}
		return true
	}
	return false
}
