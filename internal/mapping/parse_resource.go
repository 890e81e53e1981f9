package mapping

import (
	"fmt"
	"path"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"
)

// selectorKeys lists the selector keys per kind: `query` everywhere, plus the
// Harbor-side filters of the seed document ("Filtering and Selectors").
var selectorKeys = map[Kind][]string{
	KindProject:    {"query", "public", "name"},
	KindUser:       {"query"},
	KindRepository: {"query", "projectName", "nameContains", "nameStartsWith"},
	KindArtifact:   {"query", "tag", "withTag", "withScanOverview"},
}

func kindList() string {
	s := make([]string, len(Kinds))
	for i, k := range Kinds {
		s[i] = string(k)
	}
	return strings.Join(s, ", ")
}

func (p *parser) parseResource(n *yaml.Node, i int) *Resource {
	rp := fmt.Sprintf("resources[%d]", i)
	if n.Kind != yaml.MappingNode {
		p.errs.add(n.Line, n.Column, rp, "must be an object with kind, selector and port, got "+nodeKind(n), "")
		return nil
	}
	r := &Resource{Index: i, Line: n.Line, cfg: p.cfg, Selector: Selector{Query: "true"}}
	var kindOK bool
	var selector, portNode *yaml.Node
	for _, kv := range p.pairs(n, rp, resourceKeys) {
		switch kv.key {
		case "kind":
			kindOK = p.kind(kv.val, rp+".kind", r)
		case "selector":
			selector = kv.val
		case "port":
			portNode = kv.val
		}
	}
	if r.Kind == "" && kindOK {
		kindOK = false
	}
	if !hasKey(n, "kind") {
		p.errs.add(n.Line, n.Column, rp+".kind", "missing", "one of: "+kindList())
	}
	if selector != nil {
		p.parseSelector(selector, rp+".selector", r, kindOK)
	}
	if r.query == nil && selector == nil {
		r.query, _ = compileJQ("true", "")
		r.queryLine = n.Line
	}
	switch {
	case portNode != nil:
		p.parsePort(portNode, rp+".port", r)
	case kindOK:
		p.useDefaultPort(r)
	default:
		return nil
	}
	if r.mappings == nil || r.query == nil {
		return nil
	}
	return r
}

// useDefaultPort gives r the built-in mapping of its kind. Its nodes are
// re-lined to the resource's line so warnings point into the user's file.
func (p *parser) useDefaultPort(r *Resource) {
	if p.defaults == nil {
		p.defaults = DefaultWith(p.opts)
	}
	d := p.defaults.KindResources(r.Kind)[0]
	r.itemsToParseName = "item"
	r.mappings = relined(d.mappings, r.Line)
	r.blueprint = d.blueprint
}

func relined(n *mappingNode, line int) *mappingNode {
	c := *n
	c.line = line
	c.children = make([]*mappingNode, len(n.children))
	for i, ch := range n.children {
		c.children[i] = relined(ch, line)
	}
	return &c
}

func hasKey(n *yaml.Node, key string) bool {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return true
		}
	}
	return false
}

func (p *parser) kind(n *yaml.Node, kp string, r *Resource) bool {
	s, ok := p.str(n, kp)
	if !ok {
		return false
	}
	for _, k := range Kinds {
		if string(k) == s {
			r.Kind = k
			return true
		}
	}
	hint := "valid kinds: " + kindList()
	if c := closest(s, strings.Split(kindList(), ", ")); c != "" {
		hint = `did you mean "` + c + `"? ` + hint
	}
	p.errs.add(n.Line, n.Column, kp, fmt.Sprintf("unknown kind %q", s), hint)
	return false
}

func (p *parser) parseSelector(n *yaml.Node, sp string, r *Resource, kindOK bool) {
	if n.Kind != yaml.MappingNode {
		p.errs.add(n.Line, n.Column, sp, "must be an object (e.g. query: 'true'), got "+nodeKind(n), "")
		return
	}
	var valid []string
	if kindOK {
		valid = selectorKeys[r.Kind]
	}
	var tagNode *yaml.Node
	for _, kv := range p.pairs(n, sp, nil) {
		kp := join(sp, kv.key)
		if valid != nil && !contains(valid, kv.key) {
			p.errs.add(kv.keyPos.Line, kv.keyPos.Column, kp,
				fmt.Sprintf("unknown selector key %q for kind %q", kv.key, r.Kind), selectorHint(kv.key, r.Kind))
			continue
		}
		v := kv.val
		s := &r.Selector
		switch kv.key {
		case "query":
			r.queryLine = v.Line
			if r.query = p.jq(v, kp); r.query != nil {
				s.Query = v.Value
			}
		case "public":
			s.Public = p.boolPtr(v, kp)
		case "withTag":
			s.WithTag = p.boolPtr(v, kp)
		case "withScanOverview":
			s.WithScanOverview = p.boolPtr(v, kp)
		case "name":
			if g, ok := p.str(v, kp); ok {
				if _, err := path.Match(g, ""); err != nil {
					p.errs.add(v.Line, v.Column, kp, fmt.Sprintf("invalid glob %q: %v", g, err),
						`globs use *, ? and [a-z]; escape a literal one with \`)
				} else {
					s.Name = g
				}
			}
		case "projectName":
			s.ProjectName, _ = p.str(v, kp)
		case "nameContains":
			s.NameContains, _ = p.str(v, kp)
		case "nameStartsWith":
			s.NameStartsWith, _ = p.str(v, kp)
		case "tag":
			s.Tag, _ = p.str(v, kp)
			tagNode = v
		default: // kind unknown: its own error already reported
		}
	}
	if r.query == nil && !hasKey(n, "query") {
		r.query, _ = compileJQ("true", "")
		r.queryLine = n.Line
	}
	if tagNode != nil && r.Selector.WithTag != nil && !*r.Selector.WithTag {
		p.errs.add(tagNode.Line, tagNode.Column, sp+".tag", "cannot be used with withTag: false",
			"Harbor then returns artifacts without tags, so no artifact could match; remove withTag: false")
	}
}

func selectorHint(key string, k Kind) string {
	valid := selectorKeys[k]
	hint := fmt.Sprintf("valid keys for %s: %s", k, strings.Join(valid, ", "))
	if c := closest(key, valid); c != "" {
		return `did you mean "` + c + `"? ` + hint
	}
	for _, other := range Kinds {
		if other != k && contains(selectorKeys[other], key) {
			return fmt.Sprintf("%q is a selector of kind %s; %s", key, other, hint)
		}
	}
	return hint
}

var itemsNameRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

func (p *parser) parsePort(n *yaml.Node, pp string, r *Resource) {
	if n.Kind != yaml.MappingNode {
		p.errs.add(n.Line, n.Column, pp, "must be an object with entity.mappings, got "+nodeKind(n), "")
		return
	}
	r.itemsToParseName = "item"
	topTransform := true
	var entity *yaml.Node
	for _, kv := range p.pairs(n, pp, portKeys) {
		kp := join(pp, kv.key)
		switch kv.key {
		case "entity":
			entity = kv.val
		case "itemsToParse":
			r.itemsToParse = p.jq(kv.val, kp)
			r.itemsToParseLine = kv.val.Line
		case "itemsToParseName":
			if s, ok := p.str(kv.val, kp); ok {
				if !itemsNameRe.MatchString(s) {
					p.errs.add(kv.val.Line, kv.val.Column, kp, fmt.Sprintf("%q is not a plain key name", s),
						"use letters, digits and _ so mappings can refer to it as .name")
				} else {
					r.itemsToParseName = s
				}
			}
		case "itemsToParseTopLevelTransform":
			p.boolean(kv.val, kp, &topTransform)
		}
	}
	if r.itemsToParse != nil && topTransform {
		if del := deletionPath(r.itemsToParse.src); del != "" {
			r.itemsToParseTopDelete, _ = compileJQ("del("+del+")", p.cfg.Scope)
		}
	}
	if entity == nil {
		p.errs.add(n.Line, n.Column, pp+".entity", "missing", "add entity.mappings with at least identifier and blueprint")
		return
	}
	ep := pp + ".entity"
	if entity.Kind != yaml.MappingNode {
		p.errs.add(entity.Line, entity.Column, ep, "must be an object with mappings, got "+nodeKind(entity), "")
		return
	}
	var mappings *yaml.Node
	for _, kv := range p.pairs(entity, ep, entityKeys) {
		mappings = kv.val
	}
	if mappings == nil {
		p.errs.add(entity.Line, entity.Column, ep+".mappings", "missing", "add mappings with at least identifier and blueprint")
		return
	}
	p.parseMappings(mappings, ep+".mappings", r)
}

var (
	asRootRe    = regexp.MustCompile(`^\.\s+as\s+\$\w+`)
	simplePathR = regexp.MustCompile(`^(\.\w+|\.\[[^\]]+\])(\.\w+|\[[^\]]+\]|\.\[[^\]]+\])*`)
	leadParenRe = regexp.MustCompile(`(?s)^\((.*?)\)`)
)

// deletionPath finds the path itemsToParseTopLevelTransform removes from the
// parent item, the way Ocean does (`extract_jq_deletion_path_revised`,
// port_ocean/core/integrations/mixins/utils.py): the first plain path in the
// pipe segments of the expression (".tags" for ".tags // []"). "" when there
// is none; the parent is then kept whole (Ocean would fail the item).
func deletionPath(expr string) string {
	chain := strings.TrimSpace(expr)
	if strings.HasPrefix(chain, "(") {
		m := leadParenRe.FindStringSubmatch(chain)
		if m == nil {
			return ""
		}
		chain = strings.TrimSpace(m[1])
	}
	for _, seg := range strings.Split(chain, "|") {
		seg = strings.TrimSpace(seg)
		if asRootRe.MatchString(seg) || seg == "." || strings.HasPrefix(seg, "$") {
			continue
		}
		if m := simplePathR.FindString(seg); m != "" {
			return m
		}
	}
	return ""
}
