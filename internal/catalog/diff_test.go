package catalog

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/harborport/terraform-provider-harborport/internal/sandbox/harborsim"
)

// sameValue's fast path must agree with the JSON-text comparison it
// replaces (Ocean's json.dumps equality) on every value.
func TestSameValueMatchesJSONText(t *testing.T) {
	byText := func(a, b any) bool {
		if a == nil || b == nil {
			return a == nil && b == nil
		}
		ja, err1 := json.Marshal(a)
		jb, err2 := json.Marshal(b)
		return err1 == nil && err2 == nil && bytes.Equal(ja, jb)
	}
	pairs := [][2]any{
		{1.0, 1.0}, {1.0, 2.0}, {0.0, math.Copysign(0, -1)}, {1.0, "1"}, {1.0, 1}, {int64(3), 3.0},
		{"a", "a"}, {"a", "b"}, {"\xff", "\ufffd"}, {"\xfe", "\xff"}, {"<&>", "<&>"},
		{true, true}, {true, false}, {true, "true"},
		{nil, nil}, {nil, "x"}, {"x", nil},
		{[]any{}, []any{}}, {[]any{1.0, "a"}, []any{1.0, "a"}}, {[]any{"a", "b"}, []any{"b", "a"}}, {[]any{1.0}, []any{1.0, 2.0}},
		{[]any{1.0}, map[string]any{"0": 1.0}}, {[]any{}, nil},
		{map[string]any{}, map[string]any{}}, {map[string]any{"a": nil}, map[string]any{}},
		{map[string]any{"a": nil}, map[string]any{"b": nil}}, {map[string]any{"a": 1.0, "b": []any{"x"}}, map[string]any{"b": []any{"x"}, "a": 1.0}},
		{map[string]any{"a": map[string]any{"b": 1}}, map[string]any{"a": map[string]any{"b": 1.0}}},
		{map[string]any{"a": []string{"x"}}, map[string]any{"a": []any{"x"}}},
		{[]string{"a", "b"}, []string{"a", "b"}}, {[]string{"a", "b"}, []any{"a", "b"}},
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 3000 {
		a := randomJSON(rng, 3)
		var b any
		if rng.IntN(2) == 0 {
			b = randomJSON(rng, 3)
		} else {
			b = roundTrip(t, a) // the same value as Port would return it
		}
		pairs = append(pairs, [2]any{a, b})
	}
	for _, p := range pairs {
		if got, want := sameValue(p[0], p[1]), byText(p[0], p[1]); got != want {
			t.Fatalf("sameValue(%#v, %#v) = %v, JSON text says %v", p[0], p[1], got, want)
		}
	}
}

func randomJSON(rng *rand.Rand, depth int) any {
	n := 5
	if depth > 0 {
		n = 7
	}
	switch rng.IntN(n) {
	case 0:
		return nil
	case 1:
		return []string{"a", "b", "é", "<"}[rng.IntN(4)]
	case 2:
		return float64(rng.IntN(3))
	case 3:
		return rng.IntN(2) == 0
	case 4:
		return []float64{0.5, 1e21, -1}[rng.IntN(3)]
	case 5:
		l := make([]any, rng.IntN(3))
		for i := range l {
			l[i] = randomJSON(rng, depth-1)
		}
		return l
	default:
		m := map[string]any{}
		for range rng.IntN(3) {
			m[[]string{"x", "y", "z"}[rng.IntN(3)]] = randomJSON(rng, depth-1)
		}
		return m
	}
}

func roundTrip(t *testing.T, v any) any {
	b, err := json.Marshal(v)
	must(t, err)
	var out any
	must(t, json.Unmarshal(b, &out))
	return out
}

// A failing read names its side: Harbor errors say so and stop the plan,
// and so does a blueprint Port does not have (unless previewing).
func TestComputeErrors(t *testing.T) {
	e := newEnv(t, envOptions{noLibrary: true, retries: -1})
	e.smallHarbor()
	eng := e.engine()

	e.hsim.SetFaults(harborsim.Faults{FailNext: 1000, FailStatus: 503})
	_, err := eng.Compute(context.Background())
	if err == nil || !strings.Contains(err.Error(), "reading Harbor projects") {
		t.Fatalf("Harbor down: err = %v", err)
	}
	e.hsim.SetFaults(harborsim.Faults{})

	e.psim.RemoveBlueprint("harborArtifact")
	_, err = eng.Compute(context.Background())
	if err == nil || !strings.Contains(err.Error(), `"harborArtifact": it does not exist`) {
		t.Fatalf("missing blueprint: err = %v", err)
	}
	rep, err := eng.Preview(context.Background())
	if err != nil || rep.Changeset.Counts().Create != 12 {
		t.Fatalf("Preview with a missing blueprint: %v, %v", err, rep)
	}
	// Both fail: the error is one of the two real failures, never a
	// cancellation caused by the other.
	e.hsim.SetFaults(harborsim.Faults{FailNext: 1000, FailStatus: 503})
	for range 5 {
		_, err = eng.Compute(context.Background())
		if err == nil || strings.Contains(err.Error(), "context canceled") {
			t.Fatalf("both failing: err = %v", err)
		}
	}
}
