package mapping

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Error is one problem found while parsing a mapping. Parse returns several of
// them joined with errors.Join; errors.As finds the first, and
// Errors(err) lists them all.
type Error struct {
	Source  string // e.g. "harborport_sync.mapping" or a file path
	Line    int    // 1-based YAML line, 0 if unknown
	Column  int    // 1-based column, 0 if unknown
	Path    string // e.g. "resources[1].port.entity.mappings.properties.size"
	Message string
	Hint    string // what to do about it; may be empty
}

// Error renders `source:line: path: message (hint: …)`.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Source)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	b.WriteString(": ")
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Message)
	if e.Hint != "" {
		b.WriteString(" (hint: ")
		b.WriteString(e.Hint)
		b.WriteString(")")
	}
	return b.String()
}

// Errors unpacks what Parse returned into its individual *Error values
// (nil if err is nil or holds none).
func Errors(err error) []*Error {
	if err == nil {
		return nil
	}
	var out []*Error
	var walk func(error)
	walk = func(e error) {
		if me, ok := e.(*Error); ok {
			out = append(out, me)
			return
		}
		if j, ok := e.(interface{ Unwrap() []error }); ok {
			for _, x := range j.Unwrap() {
				walk(x)
			}
			return
		}
		if u := errors.Unwrap(e); u != nil {
			walk(u)
		}
	}
	walk(err)
	return out
}

// errorList collects parse errors; join sorts them by position so the user
// reads them top to bottom.
type errorList struct {
	source string
	errs   []*Error
}

func (l *errorList) add(line, col int, path, msg, hint string) {
	l.errs = append(l.errs, &Error{Source: l.source, Line: line, Column: col, Path: path, Message: msg, Hint: hint})
}

func (l *errorList) join() error {
	if len(l.errs) == 0 {
		return nil
	}
	sort.SliceStable(l.errs, func(i, j int) bool {
		if l.errs[i].Line != l.errs[j].Line {
			return l.errs[i].Line < l.errs[j].Line
		}
		return l.errs[i].Column < l.errs[j].Column
	})
	errs := make([]error, len(l.errs))
	for i, e := range l.errs {
		errs[i] = e
	}
	if len(errs) == 1 {
		return errs[0]
	}
	return errors.Join(errs...)
}

// ItemError is a per-item failure that Ocean treats as an error, not a
// warning: a selector that did not yield a boolean (internal/port/API-NOTES.md
// "Ocean's jq rules"). The catalog must count it and skip the delete phase
// (internal/port/API-NOTES.md "Ocean's resync and deletion guards").
type ItemError struct {
	Resource int    // index in resources[]
	Line     int    // YAML line of the failing field
	Field    string // e.g. "selector.query"
	Item     string // short id of the Harbor item
	Message  string
}

func (e *ItemError) Error() string {
	return fmt.Sprintf("resources[%d].%s (line %d): %s (item %s)", e.Resource, e.Field, e.Line, e.Message, e.Item)
}

// Warning is a non-fatal mapping problem for one item, following Ocean: the
// field became null (runtime jq error, value not representable in JSON) or
// the entity was dropped (identifier or blueprint empty/null/not a string).
type Warning struct {
	Resource int    // index in resources[]
	Line     int    // YAML line of the field
	Field    string // e.g. "properties.size", "identifier", "itemsToParse"
	Message  string
	Item     string // short id of the item, e.g. "tfdemo/hello@sha256:6cb0ba24593f"
}

func (w Warning) String() string {
	return fmt.Sprintf("resources[%d].%s (line %d): %s (item %s)", w.Resource, w.Field, w.Line, w.Message, w.Item)
}
