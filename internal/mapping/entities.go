package mapping

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/harborport/terraform-provider-harborport/internal/port"
)

// Entities is the whole Ocean pipeline for one Harbor item
// (internal/port/API-NOTES.md "Ocean's port-app-config", "Ocean's jq rules"):
// Harbor-side selectors on the item; itemsToParse expansion; the query on each
// expanded item (Ocean evaluates it after expansion); the mapping for those
// that pass. Selector failures are *ItemError values joined in err; err does
// not void the entities returned for other elements.
func (r *Resource) Entities(item map[string]any) ([]port.Entity, []Warning, error) {
	if !r.matchHarbor(item) {
		return nil, nil, nil
	}
	ctx := newLazyDeadline(r.timeout())
	defer ctx.cancel()
	id := itemID(r.Kind, item)
	inputs, warns := r.expand(ctx, item, id)
	var out []port.Entity
	var errs []error
	for _, in := range inputs {
		ok, err := r.evalQuery(ctx, in.value, in.id)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if !ok {
			continue
		}
		e, keep, w := r.mapOne(ctx, in.value, in.id)
		warns = append(warns, w...)
		if keep {
			out = append(out, e)
		}
	}
	return out, warns, errors.Join(errs...)
}

// Map turns item into entities without evaluating the selector (the caller
// ran Select, or — like Ocean's live events with parse_all — needs the
// entity of an item that failed it, to delete it). With itemsToParse, one
// entity per array element. Following Ocean: every leaf jq runs on its own;
// the first output counts; a runtime error makes the field null with a
// warning; null results are kept and sent as null; an entity whose
// identifier or blueprint is empty, null or not a string is dropped with a
// warning.
func (r *Resource) Map(item map[string]any) ([]port.Entity, []Warning) {
	ctx := newLazyDeadline(r.timeout())
	defer ctx.cancel()
	inputs, warns := r.expand(ctx, item, itemID(r.Kind, item))
	out := make([]port.Entity, 0, len(inputs))
	for _, in := range inputs {
		e, keep, w := r.mapOne(ctx, in.value, in.id)
		warns = append(warns, w...)
		if keep {
			out = append(out, e)
		}
	}
	return out, warns
}

type input struct {
	value map[string]any
	id    string
}

// expand applies itemsToParse: {…parent, <itemsToParseName>: element} per
// element, the parent without the parsed array when
// itemsToParseTopLevelTransform is on (Ocean's handle_items_to_parse). A
// result that is not an array skips the item with a warning, as in Ocean.
func (r *Resource) expand(ctx context.Context, item map[string]any, id string) ([]input, []Warning) {
	if r.itemsToParse == nil {
		return []input{{item, id}}, nil
	}
	warn := func(msg string) []Warning {
		return []Warning{{Resource: r.Index, Line: r.itemsToParseLine, Field: "itemsToParse", Message: msg, Item: id}}
	}
	v, _, err := r.itemsToParse.run(ctx, item)
	if err != nil {
		return nil, warn(fmt.Sprintf("itemsToParse %q failed: %v; item skipped", r.itemsToParse.src, err))
	}
	elems, ok := v.([]any)
	if !ok {
		return nil, warn(fmt.Sprintf("itemsToParse %q must yield an array, got %s; item skipped", r.itemsToParse.src, preview(v)))
	}
	parent := item
	if r.itemsToParseTopDelete != nil {
		if p, _, err := r.itemsToParseTopDelete.runCode(ctx, item); err == nil {
			if m, ok := p.(map[string]any); ok {
				parent = m
			}
		}
	}
	out := make([]input, len(elems))
	for i, e := range elems {
		m := make(map[string]any, len(parent)+1)
		for k, v := range parent {
			m[k] = v
		}
		m[r.itemsToParseName] = e
		out[i] = input{m, fmt.Sprintf("%s[%d]", id, i)}
	}
	return out, nil
}

// evaluator evaluates mapping nodes for one input, collecting warnings.
type evaluator struct {
	r     *Resource
	ctx   context.Context
	input map[string]any
	id    string
	warns []Warning
}

func (ev *evaluator) warn(n *mappingNode, msg string) {
	ev.warns = append(ev.warns, Warning{Resource: ev.r.Index, Line: n.line, Field: n.field, Message: msg, Item: ev.id})
}

func (ev *evaluator) eval(n *mappingNode) any {
	switch {
	case n.prog != nil:
		v, _, err := n.prog.run(ev.ctx, ev.input)
		if err != nil {
			ev.warn(n, fmt.Sprintf("jq %q failed: %v; the field is null", n.prog.src, err))
			return nil
		}
		return v
	case n.list:
		out := make([]any, len(n.children))
		for i, c := range n.children {
			out[i] = ev.eval(c)
		}
		return out
	default:
		out := make(map[string]any, len(n.keys))
		for i, k := range n.keys {
			out[k] = ev.eval(n.children[i])
		}
		return out
	}
}

// requiredString evaluates identifier or blueprint; "" means drop.
func (ev *evaluator) requiredString(n *mappingNode) string {
	v := ev.eval(n)
	s, ok := v.(string)
	switch {
	case ok && s != "":
		return s
	case ok:
		ev.warn(n, fmt.Sprintf("%s is empty; entity dropped", n.field))
	case v == nil:
		if len(ev.warns) == 0 || ev.warns[len(ev.warns)-1].Field != n.field {
			ev.warn(n, fmt.Sprintf("%s %q is null; entity dropped", n.field, n.prog.src))
		} else {
			ev.warns[len(ev.warns)-1].Message += "; entity dropped"
		}
	default:
		ev.warn(n, fmt.Sprintf("%s must be a string, got %s; entity dropped (convert with | tostring)", n.field, preview(v)))
	}
	return ""
}

// optionalString evaluates title or icon: null → nil.
func (ev *evaluator) optionalString(n *mappingNode) *string {
	switch v := ev.eval(n).(type) {
	case nil:
		return nil
	case string:
		return &v
	default:
		ev.warn(n, fmt.Sprintf("%s must be a string, got %s; left unset (convert with | tostring)", n.field, preview(v)))
		return nil
	}
}

func (ev *evaluator) team(n *mappingNode) any {
	v := ev.eval(n)
	switch t := v.(type) {
	case nil, string, map[string]any:
		return t
	case []any:
		for _, e := range t {
			if _, ok := e.(string); !ok {
				ev.warn(n, fmt.Sprintf("team must be a string or an array of strings, got %s; left unset", preview(v)))
				return nil
			}
		}
		return t
	}
	ev.warn(n, fmt.Sprintf("team must be a string or an array of strings, got %s; left unset", preview(v)))
	return nil
}

// object evaluates properties or relations. The parser accepts only a
// mapping there, so the value is an object; anything else is reported and
// the field left empty rather than trusted.
func (ev *evaluator) object(n *mappingNode) map[string]any {
	v := ev.eval(n)
	m, ok := v.(map[string]any)
	if !ok {
		ev.warn(n, fmt.Sprintf("%s must be an object, got %s; left empty", n.field, preview(v)))
	}
	return m
}

// mapOne maps one (expanded) item. keep is false when the entity is dropped.
func (r *Resource) mapOne(ctx context.Context, in map[string]any, id string) (port.Entity, bool, []Warning) {
	ev := &evaluator{r: r, ctx: ctx, input: in, id: id}
	var e port.Entity
	m := r.mappings

	idNode := m.child("identifier")
	if idNode.isObject() {
		q, _ := ev.eval(idNode).(map[string]any)
		e.IdentifierQuery = q
	} else if e.Identifier = ev.requiredString(idNode); e.Identifier == "" {
		return e, false, ev.done()
	} else if msg := invalidIdentifier(e.Identifier); msg != "" {
		ev.warn(idNode, msg+"; entity dropped")
		return e, false, ev.done()
	}
	if e.Blueprint = ev.requiredString(m.child("blueprint")); e.Blueprint == "" {
		return e, false, ev.done()
	}
	for i, k := range m.keys {
		c := m.children[i]
		switch k {
		case "title":
			e.Title = ev.optionalString(c)
		case "icon":
			e.Icon = ev.optionalString(c)
		case "team":
			e.Team = ev.team(c)
		case "properties":
			e.Properties = ev.object(c)
		case "relations":
			e.Relations = ev.object(c)
		}
	}
	if e.Properties == nil {
		e.Properties = map[string]any{}
	}
	if r.cfg != nil && r.cfg.Scope != "" {
		e.Properties[ScopeProperty] = r.cfg.Scope
	}
	if e.Relations == nil {
		e.Relations = map[string]any{}
	}
	if ctx.Err() != nil {
		// A half-evaluated entity would overwrite good data with nulls.
		ev.warns = append(ev.warns, Warning{Resource: r.Index, Line: r.Line, Field: "mappings",
			Message: fmt.Sprintf("mapping did not finish within %s; entity dropped", r.timeout()), Item: id})
		return e, false, ev.warns
	}
	return e, true, ev.warns
}

func (ev *evaluator) done() []Warning { return ev.warns }

// Port's entity identifier rule (internal/port/API-NOTES.md
// "Entity identifiers"): ^(?!\.{1,2}$)[\p{L}0-9@_.+:\\/=-]+$, at most 1000
// characters. Port would reject such an entity on write; dropping it here says
// why, per item.
var identifierRe = regexp.MustCompile(`^[\p{L}0-9@_.+:\\/=-]+$`)

// identifierASCII[b] says whether ASCII byte b matches identifierRe's class:
// most identifiers are ASCII, and the regexp cost ~5% of a large plan's CPU.
var identifierASCII = func() (t [128]bool) {
	for b := range 128 {
		t[b] = 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9' || strings.IndexByte(`@_.+:\/=-`, byte(b)) >= 0
	}
	return
}()

func validIdentifierChars(id string) bool {
	for i := 0; i < len(id); i++ {
		if id[i] >= utf8.RuneSelf {
			return identifierRe.MatchString(id)
		}
		if !identifierASCII[id[i]] {
			return false
		}
	}
	return id != ""
}

func invalidIdentifier(id string) string {
	switch n := utf8.RuneCountInString(id); {
	case n > 1000:
		return fmt.Sprintf("identifier is %d characters long; Port allows at most 1000", n)
	case id == "." || id == ".." || !validIdentifierChars(id):
		return fmt.Sprintf("identifier %q is not a valid Port identifier (letters, digits and @ _ . + : \\ / = - only)", id)
	}
	return ""
}

// lazyDeadline is the per-item jq budget as a context that costs nothing
// until gojq asks for its Done channel: most programs never reach gojq
// (constants, paths and fastjq.go's subset), and a context with a timer per
// item was a measurable part of a plan. It is used by one goroutine.
type lazyDeadline struct {
	deadline time.Time
	ctx      context.Context
	stop     context.CancelFunc
}

func newLazyDeadline(d time.Duration) *lazyDeadline {
	return &lazyDeadline{deadline: time.Now().Add(d)}
}

func (l *lazyDeadline) real() context.Context {
	if l.ctx == nil {
		l.ctx, l.stop = context.WithDeadline(context.Background(), l.deadline)
	}
	return l.ctx
}

func (l *lazyDeadline) Deadline() (time.Time, bool) { return l.deadline, true }
func (l *lazyDeadline) Done() <-chan struct{}       { return l.real().Done() }
func (l *lazyDeadline) Value(any) any               { return nil }

func (l *lazyDeadline) Err() error {
	if l.ctx != nil {
		return l.ctx.Err()
	}
	if !time.Now().Before(l.deadline) {
		return context.DeadlineExceeded
	}
	return nil
}

func (l *lazyDeadline) cancel() {
	if l.stop != nil {
		l.stop()
	}
}
