package mapping

import (
	"strings"
)

// unknownKeyHint names the closest valid key (typo protection) and lists all.
func unknownKeyHint(key string, valid []string) string {
	list := "valid keys: " + strings.Join(valid, ", ")
	if s := closest(key, valid); s != "" {
		return `did you mean "` + s + `"? ` + list
	}
	return list
}

// closest returns the candidate nearest to s when it is plausibly a typo:
// equal ignoring case, '_' and '-' (enable_merge_entity → enableMergeEntity),
// or within edit distance 2 (a third of the length for short words).
func closest(s string, candidates []string) string {
	norm := func(x string) string {
		return strings.ToLower(strings.NewReplacer("_", "", "-", "").Replace(x))
	}
	best, bestD := "", 1<<30
	for _, c := range candidates {
		if norm(c) == norm(s) {
			return c
		}
		d := levenshtein(norm(s), norm(c))
		limit := 2
		if l := len(c) / 3; l < limit {
			limit = max(l, 1)
		}
		if d <= limit && d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

func levenshtein(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
