package mapping

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// The fast path gives gojq's first result exactly: the same value, the same
// "no output", and an error exactly when gojq errs (the error itself then
// comes from gojq). Random programs of the fast subset, random items.
func TestFastJQMatchesGojq(t *testing.T) {
	seed := uint64(1)
	if s := os.Getenv("HARBORPORT_FASTJQ_SEED"); s != "" {
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	r := rand.New(rand.NewPCG(seed, 2))
	n := 3000
	if s := os.Getenv("HARBORPORT_FASTJQ_N"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	programs := []string{
		`(.repositoryName | strings) + "@" + (.digest | strings)`,
		`.tags[0].name // (.digest | split(":")[1] | .[0:12])`,
		`[.tags[]?.name]`,
		`[.scan_overview[]?][0]`,
		`.metadata.public == "true"`,
		`.a[]?`, `.a[]`, `.a[1:]`, `.[2:4]`, `.a.b[0]`, `[.a[]?, .b]`, `.a // .b // "z"`, `(.a, .b) // 1`, `.a + .b`, `.a != null`,
	}
	for range n {
		programs = append(programs, genProgram(r, 3+r.IntN(2)))
	}
	covered := 0
	for i, src := range programs {
		p, jerr := compileJQ(src, "")
		if jerr != nil {
			t.Fatalf("program %q does not compile: %s", src, jerr.msg)
		}
		if p.fast == nil {
			if i < 5 {
				t.Fatalf("%q is not on the fast path", src)
			}
			continue
		}
		covered++
		for range 12 {
			item := genValue(r, 3)
			if i%3 == 0 {
				item = genItem(r)
			}
			gv, gok, gerr := p.runCode(context.Background(), item)
			fv, fok, ferr := p.run(context.Background(), item)
			if fok != gok || (ferr == nil) != (gerr == nil) || !reflect.DeepEqual(fv, gv) {
				t.Fatalf("%q on %#v:\nfast (%#v, %v, %v)\ngojq (%#v, %v, %v)", src, item, fv, fok, ferr, gv, gok, gerr)
			}
		}
	}
	if covered < len(programs)/2 {
		t.Fatalf("only %d of %d generated programs took the fast path", covered, len(programs))
	}
}

var genFields = []string{"a", "b", "tags", "name", "digest"}

func genProgram(r *rand.Rand, depth int) string {
	if depth == 0 {
		switch r.IntN(6) {
		case 0:
			return "." + genFields[r.IntN(len(genFields))]
		case 1:
			return fmt.Sprintf("%q", []string{"x", "a:b", "é:ü", ""}[r.IntN(4)])
		case 2:
			return []string{"0", "1", "12", "null", "true", "false"}[r.IntN(6)]
		case 3:
			return "."
		case 4:
			return "strings"
		default:
			return `split(":")`
		}
	}
	p := genProgram(r, depth-1)
	switch r.IntN(13) {
	case 0:
		return "(" + p + ")." + genFields[r.IntN(len(genFields))]
	case 1:
		return "(" + p + ")[" + fmt.Sprint(r.IntN(3)) + "]"
	case 2:
		return "(" + p + ")[]"
	case 3:
		return "(" + p + ")[]?"
	case 4:
		return "(" + p + ")[" + []string{"1:3", ":2", "2:", "0:12"}[r.IntN(4)] + "]"
	case 5:
		return "[" + p + "]"
	case 6:
		return p + " | " + genProgram(r, depth-1)
	case 7:
		return "(" + p + " // " + genProgram(r, depth-1) + ")"
	case 8:
		return "(" + p + ", " + genProgram(r, depth-1) + ")"
	case 9:
		return "(" + p + " + " + genProgram(r, depth-1) + ")"
	case 10:
		return "(" + p + " == " + genProgram(r, depth-1) + ")"
	case 11:
		return "(" + p + " != " + genProgram(r, depth-1) + ")"
	default:
		return "(" + p + ")?"
	}
}

func genValue(r *rand.Rand, depth int) any {
	n := 6
	if depth == 0 {
		n = 4
	}
	switch r.IntN(n) {
	case 0:
		return nil
	case 1:
		return []any{true, false}[r.IntN(2)]
	case 2:
		return float64(r.IntN(5)) - 1
	case 3:
		return []string{"", "a:b:c", "sha256:0123456789abcdef", "é:ü中", "x"}[r.IntN(5)]
	case 4:
		a := make([]any, r.IntN(4))
		for i := range a {
			a[i] = genValue(r, depth-1)
		}
		return a
	default:
		m := map[string]any{}
		for range r.IntN(4) {
			m[genFields[r.IntN(len(genFields))]] = genValue(r, depth-1)
		}
		return m
	}
}

// genItem is artifact-shaped, with the awkward cases.
func genItem(r *rand.Rand) map[string]any {
	it := map[string]any{"digest": "sha256:" + strings.Repeat("ab", 32), "repositoryName": "p/r"}
	switch r.IntN(4) {
	case 0:
		it["tags"] = nil
	case 1:
		it["tags"] = []any{map[string]any{"name": "v1"}, map[string]any{"name": "latest"}}
	case 2:
		it["tags"] = []any{}
	}
	if r.IntN(2) == 0 {
		it["scan_overview"] = map[string]any{"application/vnd.x": map[string]any{"severity": "High"}}
	}
	if r.IntN(5) == 0 {
		it["digest"] = nil
	}
	return it
}
