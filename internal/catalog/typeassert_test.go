package catalog

import "testing"

// as returns v as a T and fails the test, naming both types, when it is not
// one: a checked replacement for v.(T) on decoded JSON in tests.
func as[T any](t testing.TB, v any) T {
	t.Helper()
	x, ok := v.(T)
	if !ok {
		t.Fatalf("got %T (%v), want %T", v, v, x)
	}
	return x
}
