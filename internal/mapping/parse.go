package mapping

import (
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Parse reads a port-app-config (YAML, or JSON, which is YAML) and compiles
// every jq expression in it. source names the input in error messages, e.g.
// "harborport_sync.mapping" or a file path. All problems found are reported
// at once, as *Error values joined with errors.Join (see Errors).
//
// A resource without `port` uses the built-in mapping of its kind (see
// DefaultYAML), so selector-only snippets like the seed document's
// "Filtering and Selectors" examples work as written. Parse assumes the
// default blueprint identifiers for that; ParseWithIDs takes others.
func Parse(src, source string) (*Config, error) {
	return ParseWithIDs(src, source, DefaultIDs())
}

// ParseWithIDs is Parse with the blueprint identifiers that resources
// without `port` write to.
func ParseWithIDs(src, source string, ids BlueprintIDs) (*Config, error) {
	return ParseWith(src, source, Options{IDs: ids})
}

// Options are what a mapping is parsed for, besides its text.
type Options struct {
	// IDs are the blueprints resources without `port` write to (DefaultIDs
	// if nil).
	IDs BlueprintIDs
	// Scope is the sync's ownership scope ("" = unscoped): jq sees it as
	// $scope, and every entity carries it in ScopeProperty
	// (internal/DESIGN.md "Scoped ownership").
	Scope string
	// PrefixIdentifiers makes the built-in mapping (and resources without
	// `port`) write "<scope>:" before identifiers and relation targets, so
	// several Harbors cannot collide. Only with a Scope.
	PrefixIdentifiers bool
}

// ParseWith is Parse with options.
func ParseWith(src, source string, o Options) (*Config, error) {
	if o.IDs == nil {
		o.IDs = DefaultIDs()
	}
	if err := ValidScope(o.Scope); err != nil {
		return nil, err
	}
	p := &parser{errs: errorList{source: source}, ids: o.IDs, opts: o}
	cfg := &Config{
		DeleteDependentEntities:      true,
		CreateMissingRelatedEntities: true,
		EnableMergeEntity:            true,
		EntityDeletionThreshold:      0.9,
		Source:                       source,
		Scope:                        o.Scope,
	}
	p.cfg = cfg
	if isBlank(src) {
		p.errs.add(0, 0, "", "the mapping is empty",
			"omit it to use the built-in default mapping, or list resources (see the Ocean Harbor integration's port-app-config)")
		return nil, p.errs.join()
	}
	dec := yaml.NewDecoder(strings.NewReader(src))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if err == io.EOF { // only comments
			p.errs.add(0, 0, "", "the mapping has no content (only comments)",
				"omit it to use the built-in default mapping, or list resources")
		} else {
			p.yamlError(err)
		}
		return nil, p.errs.join()
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err != io.EOF {
		line := 0
		if err == nil {
			line = extra.Line
		}
		p.errs.add(line, 0, "", "more than one YAML document (---)", "put everything in one document")
		return nil, p.errs.join()
	}
	p.parseTop(resolve(doc.Content[0]))
	if err := p.errs.join(); err != nil {
		return nil, err
	}
	return cfg, nil
}

type parser struct {
	cfg      *Config
	errs     errorList
	ids      BlueprintIDs
	opts     Options
	defaults *Config // built-in mapping, parsed when a resource omits port
	programs int     // jq expressions compiled so far (see maxPrograms)
}

// maxPrograms bounds the work a mapping can cause at parse time: YAML
// aliases can repeat a node exponentially ("billion laughs").
const maxPrograms = 10000

var yamlLineRe = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

func (p *parser) yamlError(err error) {
	msg := err.Error()
	line := 0
	if m := yamlLineRe.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = m[2]
	} else {
		msg = strings.TrimPrefix(msg, "yaml: ")
	}
	p.errs.add(line, 0, "", "invalid YAML: "+msg,
		"check indentation, and quote jq that contains ': ', starts with a quote, or ends with ':' (e.g. '.a // \"x\"')")
}

var (
	topKeys      = []string{"resources", "deleteDependentEntities", "createMissingRelatedEntities", "enableMergeEntity", "entityDeletionThreshold"}
	resourceKeys = []string{"kind", "selector", "port"}
	portKeys     = []string{"entity", "itemsToParse", "itemsToParseName", "itemsToParseTopLevelTransform"}
	entityKeys   = []string{"mappings"}
	mappingKeys  = []string{"identifier", "title", "blueprint", "team", "icon", "properties", "relations"}
)

func (p *parser) parseTop(root *yaml.Node) {
	if root.Kind != yaml.MappingNode {
		p.errs.add(root.Line, root.Column, "", "the mapping must be an object with a resources list, got "+nodeKind(root),
			"start with:\nresources:\n  - kind: project\n    ...")
		return
	}
	var resources *yaml.Node
	for _, kv := range p.pairs(root, "", topKeys) {
		switch kv.key {
		case "resources":
			resources = kv.val
		case "deleteDependentEntities":
			p.boolean(kv.val, kv.key, &p.cfg.DeleteDependentEntities)
		case "createMissingRelatedEntities":
			p.boolean(kv.val, kv.key, &p.cfg.CreateMissingRelatedEntities)
		case "enableMergeEntity":
			p.boolean(kv.val, kv.key, &p.cfg.EnableMergeEntity)
		case "entityDeletionThreshold":
			p.threshold(kv.val)
		}
	}
	if resources == nil {
		p.errs.add(root.Line, root.Column, "resources", "missing", "list at least one resource, e.g. resources: [{kind: project, ...}]")
		return
	}
	if resources.Kind != yaml.SequenceNode {
		p.errs.add(resources.Line, resources.Column, "resources", "must be a list, got "+nodeKind(resources), "")
		return
	}
	if len(resources.Content) == 0 {
		p.errs.add(resources.Line, resources.Column, "resources", "is empty: the sync would write nothing",
			"list at least one of the kinds project, user, repository, artifact")
	}
	for i, n := range resources.Content {
		if r := p.parseResource(resolve(n), i); r != nil {
			p.cfg.Resources = append(p.cfg.Resources, r)
		}
	}
}

func (p *parser) threshold(n *yaml.Node) {
	if n.Kind != yaml.ScalarNode || (n.Tag != "!!int" && n.Tag != "!!float") {
		p.errs.add(n.Line, n.Column, "entityDeletionThreshold", "must be a number between 0 and 1, got "+describe(n), "")
		return
	}
	f, err := strconv.ParseFloat(n.Value, 64)
	if err != nil || f < 0 || f > 1 {
		p.errs.add(n.Line, n.Column, "entityDeletionThreshold", fmt.Sprintf("must be between 0 and 1, got %s", n.Value),
			"it is a fraction: 0.9 allows deleting up to 90% of the owned entities in one sync")
		return
	}
	p.cfg.EntityDeletionThreshold = f
}

type pair struct {
	key    string
	keyPos *yaml.Node
	val    *yaml.Node
}

// pairs returns a mapping node's entries, reporting unknown and duplicate
// keys (YAML would silently keep the last duplicate).
func (p *parser) pairs(n *yaml.Node, path string, valid []string) []pair {
	var out []pair
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], resolve(n.Content[i+1])
		kp := join(path, k.Value)
		if k.Kind != yaml.ScalarNode {
			p.errs.add(k.Line, k.Column, path, "keys must be plain strings", "")
			continue
		}
		if seen[k.Value] {
			p.errs.add(k.Line, k.Column, kp, "duplicate key", "remove one of them")
			continue
		}
		seen[k.Value] = true
		if valid != nil && !contains(valid, k.Value) {
			p.errs.add(k.Line, k.Column, kp, fmt.Sprintf("unknown key %q", k.Value), unknownKeyHint(k.Value, valid))
			continue
		}
		out = append(out, pair{key: k.Value, keyPos: k, val: v})
	}
	return out
}

func (p *parser) boolean(n *yaml.Node, path string, dst *bool) bool {
	if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" {
		p.errs.add(n.Line, n.Column, path, "must be true or false, got "+describe(n), "")
		return false
	}
	*dst = n.Value == "true" || n.Value == "True" || n.Value == "TRUE"
	return true
}

func (p *parser) boolPtr(n *yaml.Node, path string) *bool {
	var b bool
	if !p.boolean(n, path, &b) {
		return nil
	}
	return &b
}

func (p *parser) str(n *yaml.Node, path string) (string, bool) {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		p.errs.add(n.Line, n.Column, path, "must be a string, got "+describe(n), "")
		return "", false
	}
	if n.Value == "" {
		p.errs.add(n.Line, n.Column, path, "must not be empty", "remove the key to leave it unset")
		return "", false
	}
	return n.Value, true
}

// jq compiles a scalar node as a jq expression, reporting errors at the
// node's position.
func (p *parser) jq(n *yaml.Node, path string) *program {
	if n.Kind != yaml.ScalarNode {
		p.errs.add(n.Line, n.Column, path, "must be a jq expression (a string), got "+nodeKind(n), "")
		return nil
	}
	if n.Tag == "!!null" {
		p.errs.add(n.Line, n.Column, path, "has no jq expression", `write a jq expression; for a null value write 'null' in quotes, or remove the key`)
		return nil
	}
	if p.programs++; p.programs > maxPrograms {
		if p.programs == maxPrograms+1 {
			p.errs.add(n.Line, n.Column, path, fmt.Sprintf("the mapping has more than %d jq expressions", maxPrograms),
				"YAML aliases (*name) repeat what they point to; expand fewer of them")
		}
		return nil
	}
	prog, je := compileJQ(n.Value, p.cfg.Scope)
	if je != nil {
		line, col := position(n, je.offset)
		p.errs.add(line, col, path, je.msg, je.hint)
		return nil
	}
	return prog
}

// position maps a byte offset inside a scalar's value to a YAML line and
// column, as well as YAML quoting allows (escapes shift columns slightly).
func position(n *yaml.Node, offset int) (line, col int) {
	if offset < 0 || offset > len(n.Value) {
		return n.Line, n.Column
	}
	switch n.Style {
	case yaml.LiteralStyle, yaml.FoldedStyle:
		before := n.Value[:offset]
		if offset == len(n.Value) { // EOF: the last line, not the one after it
			before = strings.TrimRight(before, "\n")
		}
		return n.Line + 1 + strings.Count(before, "\n"), 0
	case yaml.SingleQuotedStyle, yaml.DoubleQuotedStyle:
		if strings.Contains(n.Value, "\n") {
			return n.Line, n.Column
		}
		return n.Line, n.Column + 1 + offset
	}
	if strings.Contains(n.Value, "\n") {
		return n.Line, n.Column
	}
	return n.Line, n.Column + offset
}

func resolve(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if n != nil && n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
		return resolve(n.Content[0])
	}
	return n
}

func nodeKind(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "an object"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!null":
			return "null"
		case "!!bool":
			return "a boolean"
		case "!!int", "!!float":
			return "a number"
		}
		return "a string"
	}
	return "an unsupported YAML node"
}

// describe is nodeKind plus the scalar's text.
func describe(n *yaml.Node) string {
	if n.Kind == yaml.ScalarNode && n.Tag != "!!null" {
		return fmt.Sprintf("%s (%s)", nodeKind(n), strconv.Quote(n.Value))
	}
	return nodeKind(n)
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
