package mapping

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// The ASCII fast path must agree with Port's identifier pattern exactly.
func TestValidIdentifierCharsMatchesPattern(t *testing.T) {
	for b := range 128 {
		for _, s := range []string{string(rune(b)), "a" + string(rune(b)) + "z", "ü" + string(rune(b))} {
			if got, want := validIdentifierChars(s), identifierRe.MatchString(s); got != want {
				t.Errorf("%q: fast path %v, pattern %v", s, got, want)
			}
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	alphabet := []rune("aZ09@_.+:\\/=- \t\"'é漢\u00a0\u200b#?%")
	for range 20000 {
		var sb strings.Builder
		for range r.IntN(8) {
			sb.WriteRune(alphabet[r.IntN(len(alphabet))])
		}
		s := sb.String()
		if got, want := validIdentifierChars(s), identifierRe.MatchString(s); got != want {
			t.Fatalf("%q: fast path %v, pattern %v", s, got, want)
		}
	}
}
