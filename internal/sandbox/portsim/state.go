package portsim

import (
	"errors"
	"fmt"
)

// Direct state access for tests and drift injection. These bypass HTTP
// (no auth, faults or request log) but not validation.

const driftActor = "portsim-drift"

// Blueprint returns a blueprint as GET /v1/blueprints/{id} would.
func (s *Server) Blueprint(id string) (map[string]any, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	bp := s.st.bps[id]
	if bp == nil {
		return nil, false
	}
	return bp.json(), true
}

// BlueprintIDs returns the blueprint identifiers, sorted.
func (s *Server) BlueprintIDs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return sortedKeys(s.st.bps)
}

// SetBlueprint inserts or replaces a blueprint, validated like POST/PUT
// (relation targets must exist). Meta fields in bp are ignored.
func (s *Server) SetBlueprint(bp map[string]any) error {
	def, err := parseBlueprintBody(deepCopy(bp), modeCreate)
	if err != nil {
		return plainError(err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	_, err = s.saveBlueprint(withDefaults(def), s.now(), driftActor)
	return plainError(err)
}

// RemoveBlueprint deletes a blueprint and its entities, as if someone did so
// outside Terraform. Relations of other blueprints that targeted it are
// removed too, with their entity values.
func (s *Server) RemoveBlueprint(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	bp := s.st.bps[id]
	if bp == nil {
		return
	}
	now := s.now()
	s.dropEntities(bp, now, driftActor)
	delete(s.st.bps, id)
	for _, other := range s.st.bps {
		def := deepCopy(other.def)
		rels, _ := def["relations"].(map[string]any)
		changed := false
		for rid, r := range rels {
			if r, _ := r.(map[string]any); r["target"] == id {
				delete(rels, rid)
				changed = true
			}
		}
		if changed {
			if _, err := s.saveBlueprint(def, now, driftActor); err != nil {
				panic(fmt.Sprintf("portsim: RemoveBlueprint(%q): re-saving %q: %v", id, other.spec.id, err))
			}
		}
	}
}

// Entities returns a blueprint's entities as GET returns them, sorted by identifier.
func (s *Server) Entities(blueprint string) []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	bp := s.st.bps[blueprint]
	if bp == nil {
		return nil
	}
	out := make([]map[string]any, 0, len(bp.ents))
	for _, id := range bp.idx.ids(bp.ents) {
		if e := bp.ents[id]; e != nil {
			out = append(out, e.json(blueprint))
		}
	}
	return out
}

// Entity returns one entity as GET returns it.
func (s *Server) Entity(blueprint, id string) (map[string]any, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	bp := s.st.bps[blueprint]
	if bp == nil || bp.ents[id] == nil {
		return nil, false
	}
	return bp.ents[id].json(blueprint), true
}

// SetEntity writes an entity (replacing any existing one) with the same
// validation as POST …/entities?upsert=true; relation targets must exist.
func (s *Server) SetEntity(blueprint string, e map[string]any) error {
	in, err := parseEntityInput("entity", deepCopy(e), false)
	if err != nil {
		return plainError(err)
	}
	if in.id == "" {
		return errors.New("portsim: SetEntity needs an entity with a string identifier")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	bp := s.st.bps[blueprint]
	if bp == nil {
		return plainError(blueprintNotFound(blueprint))
	}
	_, _, err = s.writeEntity(bp, in, writeOpts{upsert: true}, "entity", s.now(), driftActor)
	return plainError(err)
}

// RemoveEntity deletes an entity regardless of dependents; their relation
// values pointing at it are cleared.
func (s *Server) RemoveEntity(blueprint, id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	bp := s.st.bps[blueprint]
	if bp == nil || bp.ents[id] == nil {
		return
	}
	s.st.remove(bp, id)
	s.st.detach(entKey{blueprint, id}, s.now(), driftActor)
}

// ClearEntities deletes every entity of a blueprint, as RemoveEntity does
// one by one (scale scripts use it to make every entity pending again), and
// returns how many there were.
func (s *Server) ClearEntities(blueprint string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	bp := s.st.bps[blueprint]
	if bp == nil {
		return 0
	}
	ids := make([]string, 0, len(bp.ents))
	for id := range bp.ents {
		ids = append(ids, id)
	}
	now := s.now()
	for _, id := range ids {
		s.st.remove(bp, id)
		s.st.detach(entKey{blueprint, id}, now, driftActor)
	}
	return len(ids)
}

// EntityCount returns how many entities a blueprint holds.
func (s *Server) EntityCount(blueprint string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if bp := s.st.bps[blueprint]; bp != nil {
		return len(bp.ents)
	}
	return 0
}

// plainError turns an apiError into an error that says what Port would answer.
func plainError(err error) error {
	var ae *apiError
	if errors.As(err, &ae) {
		return fmt.Errorf("portsim: Port would answer %d %s: %s", ae.status, ae.code, ae.message)
	}
	return err
}
