package mapping

import (
	"fmt"
	"testing"
)

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

// itemString returns it[key] as a string, for helpers without a
// testing.TB; it panics naming the key when the value is not a string.
func itemString(it map[string]any, key string) string {
	s, ok := it[key].(string)
	if !ok {
		panic(fmt.Sprintf("item field %q is %v (%T), want a string", key, it[key], it[key]))
	}
	return s
}
