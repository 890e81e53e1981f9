package mapping

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"time"

	"github.com/itchyny/gojq"
)

// prelude is prepended to every program.
//
//   - `def env: {}; {} as $ENV |` is Ocean's own guard
//     (internal/port/API-NOTES.md "Ocean's jq rules"): a mapping must never
//     read the process environment, which holds the Harbor password and the
//     Port secret. gojq without WithEnvironLoader already yields {} for both;
//     the prelude keeps that true even if an option is added later, and shadows
//     any user attempt to re-enable it.
//   - fromdateiso8601/fromdate accept fractional seconds. Harbor writes
//     "2026-11-28T08:39:38.168Z" (internal/harbor/API-NOTES.md "Artifacts"),
//     which jq 1.7's strptime — and so Ocean — rejects; the seed's own example
//     `(.update_time | fromdateiso8601) > (now - 2592000)` would then always be
//     null. The result is whole seconds, as jq's is.
//
// gojq itself refuses input/inputs (no WithInputIter), import/include (no
// module loader), and has no debug, stderr, input_filename or $__loc__ in
// library mode, so a mapping can read nothing but the item it is given.
//   - `$scope` is the sync's ownership scope (a string), or null for an
//     unscoped sync: custom mappings use it to keep identifiers of several
//     Harbors apart (internal/DESIGN.md "Scoped ownership").
const prelude = `def fromdateiso8601: _harborport_fromdateiso8601; def fromdate: fromdateiso8601; ` +
	`def env: {}; {} as $ENV | `

// scopeBinding binds $scope after the prelude: null, or the scope's JSON
// string.
func scopeBinding(scope string) string {
	if scope == "" {
		return "null as $scope | "
	}
	b, _ := json.Marshal(scope) // a Go string: cannot fail
	return string(b) + " as $scope | "
}

var compilerOptions = []gojq.CompilerOption{
	gojq.WithFunction("_harborport_fromdateiso8601", 0, 0, fromdateISO8601),
}

// program is one compiled jq expression of the mapping.
type program struct {
	src   string     // the expression as written (after YAML unquoting)
	code  *gojq.Code // always set
	konst bool       // src is a scalar literal: value is its result
	value any
	path  []string // src is a plain .a.b.c path: evaluated without gojq
	fast  fastFn   // src is in fastjq.go's subset: evaluated without gojq

	// The top-level keys of the input the program reads (itemkeys.go);
	// rootAll: possibly all of it.
	rootKeys []string
	rootAll  bool
}

// jqError is a compile-time problem with one expression.
type jqError struct {
	msg, hint string
	offset    int // byte offset in src of the offending token, -1 if unknown
}

func compileJQ(src string, scope string) (*program, *jqError) {
	text := rewriteSingleQuotes(src)
	if isBlank(text) {
		return nil, &jqError{msg: "empty jq expression", offset: -1,
			hint: "write null to map nothing, or remove the key"}
	}
	q, err := gojq.Parse(text)
	if err != nil {
		je := &jqError{msg: "jq syntax error: " + err.Error(), offset: -1, hint: syntaxHint(src, text, err)}
		var pe *gojq.ParseError
		if errors.As(err, &pe) && text == src {
			je.offset = max(0, pe.Offset-len(pe.Token))
		}
		return nil, je
	}
	if len(q.Imports) > 0 || q.Meta != nil {
		return nil, &jqError{msg: "jq error: import, include and module are not supported", offset: -1,
			hint: "a mapping can only read the Harbor item it is given; define helpers inline with def"}
	}
	full, err := gojq.Parse(prelude + scopeBinding(scope) + text)
	if err != nil { // cannot happen for a program that parsed alone
		return nil, &jqError{msg: "jq syntax error: " + err.Error(), offset: -1}
	}
	code, err := gojq.Compile(full, compilerOptions...)
	if err != nil {
		return nil, &jqError{msg: "jq error: " + err.Error(), offset: -1, hint: compileHint(text, err)}
	}
	p := &program{src: src, code: code}
	if isScalarLiteral(q) {
		v, _, err := p.runCode(context.Background(), nil)
		if err == nil {
			p.konst, p.value = true, v
		}
	} else if p.path = plainPath(q); p.path == nil {
		p.fast = compileFast(q, scopeVars(scope))
	}
	switch {
	case p.konst:
	case p.path != nil:
		p.rootKeys = p.path[:1]
	default:
		p.rootKeys, p.rootAll = rootKeysOf(q, scopeVars(scope))
	}
	return p, nil
}

// isScalarLiteral reports whether q is null, true, false, a number or a
// string without interpolation: its value can be computed once.
func isScalarLiteral(q *gojq.Query) bool {
	if q.Term == nil || q.Left != nil || q.Right != nil || len(q.FuncDefs) > 0 || len(q.Term.SuffixList) > 0 {
		return false
	}
	switch q.Term.Type {
	case gojq.TermTypeNull, gojq.TermTypeTrue, gojq.TermTypeFalse, gojq.TermTypeNumber:
		return true
	case gojq.TermTypeString:
		return q.Term.Str != nil && len(q.Term.Str.Queries) == 0 && q.Term.Format == ""
	}
	return false
}

// stringLiteral returns the value of src if it is a plain jq string literal
// such as "harborArtifact".
func (p *program) stringLiteral() (string, bool) {
	if !p.konst {
		return "", false
	}
	s, ok := p.value.(string)
	return s, ok
}

// plainPath recognises .a, .a.b, ."x y".c (no ?, no [], no pipes), the bulk
// of real mappings, so they skip the jq interpreter.
func plainPath(q *gojq.Query) []string {
	if q.Term == nil || q.Left != nil || q.Right != nil || len(q.FuncDefs) > 0 || q.Term.Type != gojq.TermTypeIndex {
		return nil
	}
	name := func(ix *gojq.Index) (string, bool) {
		if ix == nil || ix.Start != nil || ix.End != nil || ix.IsSlice {
			return "", false
		}
		if ix.Name != "" {
			return ix.Name, true
		}
		if ix.Str != nil && len(ix.Str.Queries) == 0 {
			return ix.Str.Str, true
		}
		return "", false
	}
	first, ok := name(q.Term.Index)
	if !ok {
		return nil
	}
	path := []string{first}
	for _, s := range q.Term.SuffixList {
		if s.Iter || s.Optional {
			return nil
		}
		n, ok := name(s.Index)
		if !ok {
			return nil
		}
		path = append(path, n)
	}
	return path
}

// errTimeout: the per-item deadline passed while the program ran.
var errTimeout = errors.New("evaluation took too long and was stopped")

// run evaluates the program and returns its first output, converted to the
// types encoding/json produces (float64, string, bool, nil, []any,
// map[string]any) and deep-copied, so entities never alias the item. ok is
// false when the program produced no output.
func (p *program) run(ctx context.Context, input any) (v any, ok bool, err error) {
	if p.konst {
		return p.value, true, nil
	}
	if p.path != nil {
		cur := input
		for _, k := range p.path {
			switch m := cur.(type) {
			case map[string]any:
				cur = m[k]
			case nil:
			default:
				// jq raises an error here; let gojq word it.
				return p.runCode(ctx, input)
			}
		}
		v, err := normalize(cur)
		return v, err == nil, err
	}
	if p.fast != nil {
		outs, st := p.fast(input)
		switch {
		case len(outs) > 0 && st != fastBail:
			// The first output, as gojq would give it (an error, if any,
			// came after it).
			v, err := normalize(outs[0])
			return v, err == nil, err
		case st == fastOK:
			return nil, false, nil
		}
		// An error (gojq words it) or outside the fast path at run time.
	}
	return p.runCode(ctx, input)
}

func (p *program) runCode(ctx context.Context, input any) (v any, ok bool, err error) {
	defer func() {
		if r := recover(); r != nil {
			v, ok, err = nil, false, fmt.Errorf("internal jq error: %v", r)
		}
	}()
	out, ok := p.code.RunWithContext(ctx, input).Next()
	if !ok {
		return nil, false, nil
	}
	if e, isErr := out.(error); isErr {
		if ctx.Err() != nil {
			return nil, false, errTimeout
		}
		var he *gojq.HaltError
		if errors.As(e, &he) && he.Value() == nil {
			return nil, false, errors.New("halt stopped the program")
		}
		return nil, false, e
	}
	v, err = normalize(out)
	if err != nil {
		return nil, false, err
	}
	return v, true, nil
}

// normalize converts a gojq value into encoding/json's shapes. gojq yields
// int and *big.Int for integers; Port's responses decode to float64, so the
// catalog compares like with like. NaN and ±Inf have no JSON form (Port
// would reject the whole batch), so they are an error for the field.
func normalize(v any) (any, error) {
	switch x := v.(type) {
	case nil, string, bool:
		return x, nil
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil, fmt.Errorf("result %v is not representable in JSON", x)
		}
		return x, nil
	case int:
		return float64(x), nil
	case *big.Int:
		// gojq keeps integers exact; beyond ±1.8e308 float64 is ±Inf.
		f, _ := new(big.Float).SetInt(x).Float64()
		if math.IsInf(f, 0) {
			return nil, fmt.Errorf("integer result of %d digits is not representable in JSON", len(x.String()))
		}
		return f, nil
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			n, err := normalize(e)
			if err != nil {
				return nil, err
			}
			out[i] = n
		}
		return out, nil
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			n, err := normalize(e)
			if err != nil {
				return nil, err
			}
			out[k] = n
		}
		return out, nil
	default:
		return nil, fmt.Errorf("result of unsupported type %T", v)
	}
}

// fromdateISO8601 parses RFC 3339 date-times with optional fractional
// seconds into whole seconds since the epoch (see prelude).
func fromdateISO8601(v any, _ []any) any {
	s, ok := v.(string)
	if !ok {
		return fmt.Errorf("fromdateiso8601 cannot be applied to: %s", typeName(v))
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999Z0700"} {
		if t, err := time.Parse(layout, s); err == nil {
			return float64(t.Unix())
		}
	}
	return fmt.Errorf("date %q does not match format \"%%Y-%%m-%%dT%%H:%%M:%%S%%z\" (fractional seconds allowed)", s)
}

// typeName is jq's name for a value's type.
func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case float64, int, *big.Int:
		return "number"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

func isBlank(s string) bool {
	for _, r := range s {
		if r != ' ' && r != '\t' && r != '\n' && r != '\r' {
			return false
		}
	}
	return true
}

// scopeVars are the variables the fast path knows (fastjq.go): $scope.
func scopeVars(scope string) map[string]any {
	if scope == "" {
		return map[string]any{"$scope": nil}
	}
	return map[string]any{"$scope": scope}
}
