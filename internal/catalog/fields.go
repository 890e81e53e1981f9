package catalog

import (
	"fmt"
	"sort"

	"github.com/harborport/terraform-provider-harborport/internal/mapping"
	"github.com/harborport/terraform-provider-harborport/internal/port"
)

// fieldRef is one compared entity field (internal/DESIGN.md
// "Comparing entities": only the fields a resource maps are compared).
type fieldRef struct {
	name string // as Change.Fields reports it: "$title", a property name, "relations.x"
	path string // as Port's search include names it: "$title", "properties.x", "relations.x"
	get  func(*port.Entity) any
}

// fieldRefs lists f's fields in a fixed order: title, icon, team,
// properties, relations (each sorted).
func fieldRefs(f *mapping.Fields) []fieldRef {
	var out []fieldRef
	if f.Title {
		out = append(out, fieldRef{"$title", "$title", func(e *port.Entity) any { return strPtr(e.Title) }})
	}
	if f.Icon {
		out = append(out, fieldRef{"$icon", "$icon", func(e *port.Entity) any { return strPtr(e.Icon) }})
	}
	if f.Team {
		out = append(out, fieldRef{"$team", "$team", func(e *port.Entity) any { return sortedTeam(e.Team) }})
	}
	for _, p := range f.Properties {
		out = append(out, fieldRef{p, "properties." + p, func(e *port.Entity) any { return e.Properties[p] }})
	}
	for _, r := range f.Relations {
		out = append(out, fieldRef{"relations." + r, "relations." + r, func(e *port.Entity) any { return e.Relations[r] }})
	}
	return out
}

// pathGetter reads the field Port's include path names.
func pathGetter(path string) func(*port.Entity) any {
	switch path {
	case "$title":
		return func(e *port.Entity) any { return strPtr(e.Title) }
	case "$icon":
		return func(e *port.Entity) any { return strPtr(e.Icon) }
	case "$team":
		return func(e *port.Entity) any { return sortedTeam(e.Team) }
	}
	if len(path) > len("properties.") && path[:len("properties.")] == "properties." {
		p := path[len("properties."):]
		return func(e *port.Entity) any { return e.Properties[p] }
	}
	if len(path) > len("relations.") && path[:len("relations.")] == "relations." {
		r := path[len("relations."):]
		return func(e *port.Entity) any { return e.Relations[r] }
	}
	return func(*port.Entity) any { return nil }
}

// changedFields lists the mapped fields whose values differ, in Ocean's
// terms: compared as sorted-key JSON; a null on one side equals absence on
// the other (internal/port/API-NOTES.md "Ocean's equality rules").
func changedFields(w *Wanted, cur port.Entity) []string {
	var out []string
	for _, f := range fieldRefs(w.Fields) {
		if !sameValue(f.get(&w.Entity), f.get(&cur)) {
			out = append(out, f.name)
		}
	}
	return out
}

func strPtr(p *string) any {
	if p == nil {
		return nil
	}
	return *p
}

func sortedTeam(t any) any {
	list, ok := t.([]any)
	if !ok {
		return t
	}
	ss := make([]string, 0, len(list))
	for _, v := range list {
		ss = append(ss, fmt.Sprint(v))
	}
	sort.Strings(ss)
	return ss
}

func relationIDs(v any) []string {
	switch t := v.(type) {
	case string:
		return []string{t}
	case []any:
		var out []string
		for _, x := range t {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}
