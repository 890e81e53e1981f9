package provider

import (
	"fmt"
	"slices"
	"strings"
	"sync"
)

// syncRegistry is what the provider knows about the harborport_sync
// resources of one configuration: one provider instance serves all of them,
// so their plans can be checked against each other (internal/DESIGN.md
// "Scoped ownership"). A sync is known by the identity of its configuration
// (scope, mapping, blueprints), so the same sync planned again — refresh,
// plan, apply — is one entry, and two syncs configured identically are one
// too (they write the same entities; nothing to protect).
type syncRegistry struct {
	mu    sync.Mutex
	syncs map[string]syncInfo // identity → info
}

type syncInfo struct {
	scope      string   // "" = unscoped
	blueprints []string // the blueprints its mapping writes to, sorted
}

func (s syncInfo) String() string {
	who := "an unscoped harborport_sync"
	if s.scope != "" {
		who = fmt.Sprintf("the harborport_sync with scope %q", s.scope)
	}
	return who + " (blueprints " + strings.Join(s.blueprints, ", ") + ")"
}

// register records a sync and returns an error when it may not share the
// catalog with one recorded before: a blueprint written by both, with either
// of them unscoped (an unscoped sync owns the whole blueprint) or both with
// the same scope (each would delete what the other writes).
func (r *syncRegistry) register(identity string, me syncInfo) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.syncs == nil {
		r.syncs = map[string]syncInfo{}
	}
	for id, other := range r.syncs {
		if id == identity {
			continue
		}
		var shared []string
		for _, bp := range me.blueprints {
			if slices.Contains(other.blueprints, bp) {
				shared = append(shared, bp)
			}
		}
		if len(shared) == 0 {
			continue
		}
		switch {
		case me.scope == "" || other.scope == "":
			return fmt.Errorf("%s and %s of this configuration both write to %s. An unscoped sync owns every entity of its "+
				"blueprints and would delete the other's: give every sync that shares blueprints a scope (and set "+
				"scope_property = true on harborport_blueprints)", me, other, strings.Join(shared, ", "))
		case me.scope == other.scope:
			return fmt.Errorf("%s and %s of this configuration have the same scope and both write to %s: each would "+
				"delete what the other writes. Give each sync its own scope", me, other, strings.Join(shared, ", "))
		}
	}
	r.syncs[identity] = me
	return nil
}
