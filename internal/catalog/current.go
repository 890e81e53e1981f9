package catalog

import (
	"context"
	"fmt"
	"sort"

	"github.com/harborport/terraform-provider-harborport/internal/port"
)

// Current reads every entity of the owned blueprints from Port, asking only
// for the fields the mapping sets (port-api.md §1.6.4 include), so a no-op
// plan costs ceil(entities / 1000) search pages per blueprint.
func (e *Engine) Current(ctx context.Context) (map[string]port.Entity, error) {
	return e.current(ctx, false)
}

func (e *Engine) current(ctx context.Context, missingOK bool) (map[string]port.Entity, error) {
	include := e.includes()
	cur := map[string]port.Entity{}
	for _, bp := range e.owned {
		err := e.port.SearchEntities(ctx, bp, port.SearchQuery{Include: include[bp]}, func(page []port.Entity) error {
			for _, ent := range page {
				ent.Blueprint = bp
				cur[ent.Key()] = ent
			}
			return nil
		})
		if err != nil {
			if port.IsNotFound(err) && missingOK {
				continue
			}
			if port.IsNotFound(err) {
				return nil, fmt.Errorf("reading Port blueprint %q: it does not exist. Create it first (harborport_blueprints, "+
					"with depends_on from harborport_sync) or fix the blueprint in the mapping: %w", bp, err)
			}
			return nil, fmt.Errorf("reading Port entities of blueprint %q: %w", bp, err)
		}
	}
	return cur, nil
}

// includes lists, per blueprint, the fields any resource writing to it maps.
func (e *Engine) includes() map[string][]string {
	sets := map[string]map[string]bool{}
	for _, r := range e.mapping.Resources {
		bp, _ := r.Blueprint()
		s := sets[bp]
		if s == nil {
			s = map[string]bool{"$identifier": true}
			sets[bp] = s
		}
		f := r.Fields()
		if f.Title {
			s["$title"] = true
		}
		if f.Icon {
			s["$icon"] = true
		}
		if f.Team {
			s["$team"] = true
		}
		for _, p := range f.Properties {
			s["properties."+p] = true
		}
		for _, rel := range f.Relations {
			s["relations."+rel] = true
		}
	}
	out := map[string][]string{}
	for bp, s := range sets {
		for k := range s {
			out[bp] = append(out[bp], k)
		}
		sort.Strings(out[bp])
	}
	return out
}
