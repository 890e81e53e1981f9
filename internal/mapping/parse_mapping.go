package mapping

import (
	"fmt"

	"go.yaml.in/yaml/v3"
)

// mappingNode is the compiled form of (part of) port.entity.mappings: a jq
// leaf, an object of nodes, or a list of nodes. Ocean evaluates nested
// objects and lists leaf by leaf (internal/port/API-NOTES.md
// "Ocean's jq rules"), which is how search queries ({combinator, rules}) and
// structured properties are written.
type mappingNode struct {
	field    string // path below mappings, e.g. "properties.size"
	line     int
	prog     *program // leaf
	list     bool
	keys     []string       // object keys, in file order
	children []*mappingNode // object values or list items
}

func (n *mappingNode) isObject() bool { return n.prog == nil && !n.list }

func (n *mappingNode) child(key string) *mappingNode {
	for i, k := range n.keys {
		if k == key {
			return n.children[i]
		}
	}
	return nil
}

func (p *parser) parseMappings(n *yaml.Node, mp string, r *Resource) {
	if n.Kind != yaml.MappingNode {
		p.errs.add(n.Line, n.Column, mp, "must be an object with identifier, blueprint, …, got "+nodeKind(n), "")
		return
	}
	root := &mappingNode{line: n.Line}
	ok := true
	for _, kv := range p.pairs(n, mp, mappingKeys) {
		kp := join(mp, kv.key)
		var c *mappingNode
		switch kv.key {
		case "identifier", "team":
			if kv.val.Kind == yaml.MappingNode {
				c = p.searchQuery(kv.val, kp, kv.key)
			} else {
				c = p.leaf(kv.val, kp, kv.key)
			}
		case "title", "blueprint", "icon":
			c = p.leaf(kv.val, kp, kv.key)
		case "properties":
			c = p.object(kv.val, kp, kv.key, false)
		case "relations":
			c = p.object(kv.val, kp, kv.key, true)
		}
		if c == nil {
			ok = false
			continue
		}
		root.keys = append(root.keys, kv.key)
		root.children = append(root.children, c)
	}
	for _, req := range []string{"identifier", "blueprint"} {
		if !hasKey(n, req) {
			ok = false
			hint := `e.g. identifier: .name`
			if req == "blueprint" {
				hint = `e.g. blueprint: '"harborProject"' (jq: the inner double quotes make it a string)`
			}
			p.errs.add(n.Line, n.Column, join(mp, req), "missing (required)", hint)
		}
	}
	if !ok {
		return
	}
	r.mappings = root
	r.blueprint = root.child("blueprint").prog
}

func (p *parser) leaf(n *yaml.Node, kp, field string) *mappingNode {
	prog := p.jq(n, kp)
	if prog == nil {
		return nil
	}
	return &mappingNode{field: field, line: n.Line, prog: prog}
}

// object parses properties or relations: id → jq, or for relations id → jq
// or search query, or for properties id → nested object/list of jq.
func (p *parser) object(n *yaml.Node, kp, field string, relations bool) *mappingNode {
	if n.Kind != yaml.MappingNode {
		p.errs.add(n.Line, n.Column, kp, "must be an object of id: jq, got "+nodeKind(n), "")
		return nil
	}
	out := &mappingNode{field: field, line: n.Line}
	ok := true
	for _, kv := range p.pairs(n, kp, nil) {
		var c *mappingNode
		cp, cf := join(kp, kv.key), join(field, kv.key)
		if !relations && kv.key == ScopeProperty && p.cfg.Scope != "" {
			p.errs.add(kv.val.Line, kv.val.Column, cp, "is the scope mark, which harborport writes itself for a scoped sync",
				"remove it; every entity of this sync gets "+ScopeProperty+" = $scope")
			ok = false
			continue
		}
		switch {
		case relations && kv.val.Kind == yaml.MappingNode:
			c = p.searchQuery(kv.val, cp, cf)
		case relations && kv.val.Kind == yaml.SequenceNode:
			p.errs.add(kv.val.Line, kv.val.Column, cp, "must be a jq expression or a search query, got a list",
				`for a many-relation write one jq expression that yields an array, e.g. '[.tags[]?.name]'`)
		default:
			c = p.value(kv.val, cp, cf)
		}
		if c == nil {
			ok = false
			continue
		}
		out.keys = append(out.keys, kv.key)
		out.children = append(out.children, c)
	}
	if !ok {
		return nil
	}
	return out
}

// value parses any node: scalar → jq, object → nested, list → list.
func (p *parser) value(n *yaml.Node, kp, field string) *mappingNode {
	switch n.Kind {
	case yaml.MappingNode:
		out := &mappingNode{field: field, line: n.Line}
		for _, kv := range p.pairs(n, kp, nil) {
			c := p.value(kv.val, join(kp, kv.key), join(field, kv.key))
			if c == nil {
				return nil
			}
			out.keys = append(out.keys, kv.key)
			out.children = append(out.children, c)
		}
		return out
	case yaml.SequenceNode:
		out := &mappingNode{field: field, line: n.Line, list: true}
		for i, item := range n.Content {
			idx := fmt.Sprintf("[%d]", i)
			c := p.value(resolve(item), kp+idx, field+idx)
			if c == nil {
				return nil
			}
			out.children = append(out.children, c)
		}
		return out
	}
	return p.leaf(n, kp, field)
}

// searchQuery parses a Port search query (internal/port/API-NOTES.md
// "Search queries in identifiers and relations"): {combinator: jq, rules:
// [{property: jq, operator: jq, value: jq…} | query]}.
func (p *parser) searchQuery(n *yaml.Node, kp, field string) *mappingNode {
	const hint = `a search query is {combinator: '"and"', rules: [{property: '"$identifier"', operator: '"="', value: .x}]}`
	out := &mappingNode{field: field, line: n.Line}
	var rules *yaml.Node
	ok := true
	for _, kv := range p.pairs(n, kp, []string{"combinator", "rules"}) {
		if kv.key == "rules" {
			rules = kv.val
			continue
		}
		c := p.leaf(kv.val, join(kp, kv.key), join(field, kv.key))
		if c == nil {
			ok = false
			continue
		}
		out.keys = append(out.keys, kv.key)
		out.children = append(out.children, c)
	}
	if !hasKey(n, "combinator") {
		p.errs.add(n.Line, n.Column, join(kp, "combinator"), "missing in search query", hint)
		ok = false
	}
	if rules == nil {
		if hasKey(n, "rules") {
			return nil
		}
		p.errs.add(n.Line, n.Column, join(kp, "rules"), "missing in search query", hint)
		return nil
	}
	if rules.Kind != yaml.SequenceNode || len(rules.Content) == 0 {
		p.errs.add(rules.Line, rules.Column, join(kp, "rules"), "must be a non-empty list of rules, got "+nodeKind(rules), hint)
		return nil
	}
	list := &mappingNode{field: join(field, "rules"), line: rules.Line, list: true}
	for i, rn := range rules.Content {
		rn = resolve(rn)
		rp, rf := fmt.Sprintf("%s.rules[%d]", kp, i), fmt.Sprintf("%s.rules[%d]", field, i)
		if rn.Kind != yaml.MappingNode {
			p.errs.add(rn.Line, rn.Column, rp, "a rule must be an object {property, operator, value}, got "+nodeKind(rn), hint)
			ok = false
			continue
		}
		var c *mappingNode
		if hasKey(rn, "combinator") || hasKey(rn, "rules") {
			c = p.searchQuery(rn, rp, rf) // nested group
		} else {
			c = p.rule(rn, rp, rf)
		}
		if c == nil {
			ok = false
			continue
		}
		list.children = append(list.children, c)
	}
	if !ok {
		return nil
	}
	out.keys = append(out.keys, "rules")
	out.children = append(out.children, list)
	return out
}

func (p *parser) rule(n *yaml.Node, kp, field string) *mappingNode {
	out := &mappingNode{field: field, line: n.Line}
	ok := true
	for _, kv := range p.pairs(n, kp, []string{"property", "operator", "value"}) {
		c := p.value(kv.val, join(kp, kv.key), join(field, kv.key))
		if c == nil {
			ok = false
			continue
		}
		out.keys = append(out.keys, kv.key)
		out.children = append(out.children, c)
	}
	for _, req := range []string{"property", "operator", "value"} {
		if !hasKey(n, req) {
			p.errs.add(n.Line, n.Column, join(kp, req), "missing in search rule",
				`a rule is {property: '"$identifier"', operator: '"="', value: .x}`)
			ok = false
		}
	}
	if !ok {
		return nil
	}
	return out
}
