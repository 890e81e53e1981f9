package mapping

import (
	"slices"

	"github.com/itchyny/gojq"
)

// ItemKeys returns the top-level keys of a Harbor item of kind k that the
// mapping can read — in jq, in its selectors, and for messages — so a plan
// may decode only those keys of each listed item (about half of an
// artifact's JSON is extra_attrs, addition_links and the like, which the
// built-in mapping never reads). ok is false when it cannot be known: a
// program outside the analysable subset (anything gojq runs, see
// fastjq.go), or itemsToParse.
func (c *Config) ItemKeys(k Kind) (keys []string, ok bool) {
	set := map[string]bool{}
	for _, key := range alwaysKeys[k] {
		set[key] = true
	}
	for _, r := range c.KindResources(k) {
		if r.itemsToParse != nil || r.itemsToParseTopDelete != nil {
			return nil, false
		}
		progs := []*program{r.query, r.blueprint}
		var walk func(n *mappingNode)
		walk = func(n *mappingNode) {
			if n == nil {
				return
			}
			if n.prog != nil {
				progs = append(progs, n.prog)
			}
			for _, c := range n.children {
				walk(c)
			}
		}
		walk(r.mappings)
		for _, p := range progs {
			if p == nil {
				continue
			}
			if p.rootAll {
				return nil, false
			}
			for _, key := range p.rootKeys {
				set[key] = true
			}
		}
		s := r.Selector
		if s.Public != nil {
			set["metadata"] = true
		}
		if s.Tag != "" {
			set["tags"] = true
		}
	}
	for key := range set {
		keys = append(keys, key)
	}
	slices.Sort(keys)
	return keys, true
}

// alwaysKeys are what the selectors, messages, de-duplication and the
// engine's source keys read of each kind, whatever the mapping says.
var alwaysKeys = map[Kind][]string{
	KindProject:    {"name", "project_id", "metadata"},
	KindUser:       {"username", "user_id"},
	KindRepository: {"name", "id", "projectName"},
	KindArtifact:   {"digest", "id", "tags", "repositoryName", "projectName"},
}

// rootKeysOf analyses which top-level keys of its input a program of the
// fast subset reads; all is true when it may read the whole input (or is
// outside the subset).
func rootKeysOf(q *gojq.Query, vars map[string]any) (keys []string, all bool) {
	if q == nil {
		return nil, false
	}
	if compileFast(q, vars) == nil {
		return nil, true
	}
	if q.Term != nil {
		return termRootKeys(q.Term, vars)
	}
	lk, la := rootKeysOf(q.Left, vars)
	if q.Op == gojq.OpPipe {
		return lk, la // the right side reads the left side's outputs
	}
	rk, ra := rootKeysOf(q.Right, vars)
	return append(lk, rk...), la || ra
}

func termRootKeys(t *gojq.Term, vars map[string]any) (keys []string, all bool) {
	switch t.Type {
	case gojq.TermTypeNull, gojq.TermTypeTrue, gojq.TermTypeFalse, gojq.TermTypeNumber, gojq.TermTypeString:
		return nil, false
	case gojq.TermTypeArray:
		if t.Array.Query == nil {
			return nil, false
		}
		return rootKeysOf(t.Array.Query, vars)
	case gojq.TermTypeQuery:
		return rootKeysOf(t.Query, vars) // suffixes apply to its outputs
	case gojq.TermTypeFunc:
		if _, isVar := vars[t.Func.Name]; isVar {
			return nil, false // a bound variable: a constant
		}
	case gojq.TermTypeIndex:
		if name, ok := indexName(t.Index); ok {
			return []string{name}, false
		}
		return nil, true
	case gojq.TermTypeIdentity:
		if len(t.SuffixList) > 0 && t.SuffixList[0].Index != nil {
			if name, ok := indexName(t.SuffixList[0].Index); ok {
				return []string{name}, false
			}
		}
		return nil, true
	}
	return nil, true // functions of the input (strings, split) and the rest
}

func indexName(ix *gojq.Index) (string, bool) {
	if ix == nil || ix.IsSlice || ix.Start != nil || ix.End != nil {
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
