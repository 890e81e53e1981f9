package portsim

import (
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"
)

// Blueprint routes (internal/port/API-NOTES.md "Blueprints").

func (s *Server) listBlueprints(c *call) (int, any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []any{}
	for _, id := range sortedKeys(s.st.bps) {
		out = append(out, s.st.bps[id].json())
	}
	return http.StatusOK, okBody("blueprints", out), nil
}

func (s *Server) getBlueprint(c *call) (int, any, error) {
	if _, err := c.boolParam("exclude_calculated_properties", false, false); err != nil {
		return 0, nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	id := c.r.PathValue("blueprint")
	bp := s.st.bps[id]
	if bp == nil {
		return 0, nil, blueprintNotFound(id)
	}
	return http.StatusOK, okBody("blueprint", bp.json()), nil
}

func (s *Server) createBlueprint(c *call) (int, any, error) {
	if _, err := c.boolParam("create_catalog_page", false, true); err != nil {
		return 0, nil, err
	}
	body, err := c.object()
	if err != nil {
		return 0, nil, err
	}
	def, err := parseBlueprintBody(body, modeCreate)
	if err != nil {
		return 0, nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	id, _ := def["identifier"].(string)
	if s.st.bps[id] != nil {
		return 0, nil, taken("Blueprint with identifier %q already exists; update it with PUT or PATCH /v1/blueprints/%s", id, id)
	}
	bp, err := s.saveBlueprint(withDefaults(def), c.now, c.actor)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, okBody("blueprint", bp.json()), nil
}

func (s *Server) putBlueprint(c *call) (int, any, error)   { return s.updateBlueprint(c, modeReplace) }
func (s *Server) patchBlueprint(c *call) (int, any, error) { return s.updateBlueprint(c, modePatch) }

func (s *Server) updateBlueprint(c *call, mode bpMode) (int, any, error) {
	body, err := c.object()
	if err != nil {
		return 0, nil, err
	}
	parsed, err := parseBlueprintBody(body, mode)
	if err != nil {
		return 0, nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	id := c.r.PathValue("blueprint")
	old := s.st.bps[id]
	if old == nil {
		return 0, nil, blueprintNotFound(id)
	}
	if newID, present := parsed["identifier"]; present && newID != id {
		return 0, nil, invalid("body/identifier %q differs from the blueprint in the URL (%q); portsim does not support renaming blueprints", newID, id)
	}
	var def map[string]any
	if mode == modeReplace {
		def = parsed
	} else {
		def = deepCopy(old.def)
		for k, v := range parsed {
			def[k] = v
		}
	}
	def["identifier"] = id
	bp, err := s.saveBlueprint(withDefaults(def), c.now, c.actor)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, okBody("blueprint", bp.json()), nil
}

// saveBlueprint compiles def and inserts or replaces the blueprint. Entity
// data that no longer fits (removed or retyped properties, removed or
// reshaped relations) is dropped, as Port drops it (the TF provider's
// "type change protection" exists because of this: internal/port/API-NOTES.md
// "Blueprints").
func (s *Server) saveBlueprint(def map[string]any, now time.Time, actor string) (*bpRec, error) {
	id, _ := def["identifier"].(string)
	spec, err := compileBlueprint(def, func(t string) bool { return s.st.bps[t] != nil })
	if err != nil {
		return nil, err
	}
	bp := s.st.bps[id]
	if bp == nil {
		bp = &bpRec{createdAt: now, createdBy: actor, ents: map[string]*entity{}}
		bp.def, bp.spec, bp.updatedAt, bp.updatedBy = def, spec, now, actor
		s.st.bps[id] = bp
		return bp, nil
	}
	dropProps, dropRels := specDiff(bp.spec, spec)
	if len(dropProps)+len(dropRels) > 0 {
		for _, e := range bp.ents {
			s.st.unlink(bp, e)
		}
		for _, e := range bp.ents {
			for _, p := range dropProps {
				delete(e.props, p)
			}
			for _, r := range dropRels {
				delete(e.rels, r)
			}
		}
		bp.spec = spec
		for _, e := range bp.ents {
			s.st.link(bp, e)
		}
	}
	bp.def, bp.spec, bp.updatedAt, bp.updatedBy = def, spec, now, actor
	return bp, nil
}

// specDiff lists the properties and relations whose stored values become invalid.
func specDiff(old, cur *bpSpec) (props, rels []string) {
	for id, p := range old.props {
		if n := cur.props[id]; n == nil || n.typ != p.typ {
			props = append(props, id)
		}
	}
	for id, r := range old.relations {
		if n, still := cur.relations[id]; !still || n.target != r.target || n.many != r.many {
			rels = append(rels, id)
		}
	}
	return props, rels
}

func (s *Server) deleteBlueprint(c *call) (int, any, error) {
	if _, err := c.boolParam("delete_actions", false, false); err != nil {
		return 0, nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	id := c.r.PathValue("blueprint")
	bp := s.st.bps[id]
	if bp == nil {
		return 0, nil, blueprintNotFound(id)
	}
	if n := len(bp.ents); n > 0 {
		// internal/port/API-NOTES.md "Blueprints": "Before deleting a blueprint, make
		// sure all associated entities have been deleted" → has_dependents.
		return 0, nil, hasDependents("Blueprint %q still has %d entities; delete them first, or use DELETE /v1/blueprints/%s/all-entities?delete_blueprint=true", id, n, id)
	}
	if refs := s.relationsTargeting(id); len(refs) > 0 {
		// INFERRED: Port refuses to leave other blueprints' relations dangling.
		return 0, nil, hasDependents("Blueprint %q is the target of relations %s; remove those relations first", id, strings.Join(refs, ", "))
	}
	delete(s.st.bps, id)
	return http.StatusOK, okBody(), nil
}

// relationsTargeting lists "<blueprint>.<relation>" of other blueprints pointing at id.
func (s *Server) relationsTargeting(id string) []string {
	var refs []string
	for bid, b := range s.st.bps {
		if bid == id {
			continue
		}
		for rid, r := range b.spec.relations {
			if r.target == id {
				refs = append(refs, fmt.Sprintf("%q", bid+"."+rid))
			}
		}
	}
	sort.Strings(refs)
	return refs
}
