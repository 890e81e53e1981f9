package portsim

import (
	"net/http"
)

// Single-entity routes (internal/port/API-NOTES.md "Writing entities",
// "Deleting entities").

// blueprintOf looks up the URL's blueprint. Caller holds s.mu.
func (s *Server) blueprintOf(c *call) (*bpRec, error) {
	id := c.r.PathValue("blueprint")
	bp := s.st.bps[id]
	if bp == nil {
		return nil, blueprintNotFound(id)
	}
	return bp, nil
}

// upsertOpts reads upsert / merge / create_missing_related_entities / validation_only.
func (c *call) upsertOpts() (writeOpts, error) {
	var o writeOpts
	var err error
	// upsert is "required: true" in the spec. INFERRED strictness: real Port
	// may default it to false; harborport must always send it explicitly.
	if o.upsert, err = c.boolParam("upsert", true, false); err != nil {
		return o, err
	}
	if o.merge, err = c.boolParam("merge", false, false); err != nil {
		return o, err
	}
	if o.createMissing, err = c.boolParam("create_missing_related_entities", false, false); err != nil {
		return o, err
	}
	if o.validationOnly, err = c.boolParam("validation_only", false, false); err != nil {
		return o, err
	}
	// merge only applies together with upsert (spec: "If true and upsert is also true").
	o.merge = o.merge && o.upsert
	return o, nil
}

func (s *Server) postEntity(c *call) (int, any, error) {
	o, err := c.upsertOpts()
	if err != nil {
		return 0, nil, err
	}
	body, err := c.object()
	if err != nil {
		return 0, nil, err
	}
	in, err := parseEntityInput("body", body, false)
	if err != nil {
		return 0, nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	bp, err := s.blueprintOf(c)
	if err != nil {
		return 0, nil, err
	}
	e, _, err := s.writeEntity(bp, in, o, "body", c.now, c.actor)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, okBody("entity", e.json(bp.spec.id)), nil
}

// putEntity replaces the entity named in the URL (upsert without merge).
func (s *Server) putEntity(c *call) (int, any, error) {
	createMissing, err := c.boolParam("create_missing_related_entities", false, false)
	if err != nil {
		return 0, nil, err
	}
	body, err := c.object()
	if err != nil {
		return 0, nil, err
	}
	in, err := parseEntityInput("body", body, false)
	if err != nil {
		return 0, nil, err
	}
	id := c.r.PathValue("entity")
	if in.idQuery != nil || (in.id != "" && in.id != id) {
		return 0, nil, invalid("body/identifier must equal the entity in the URL (%q); portsim does not support renaming entities", id)
	}
	in.id = id
	s.mu.Lock()
	defer s.mu.Unlock()
	bp, err := s.blueprintOf(c)
	if err != nil {
		return 0, nil, err
	}
	e, _, err := s.writeEntity(bp, in, writeOpts{upsert: true, createMissing: createMissing}, "body", c.now, c.actor)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, okBody("entity", e.json(bp.spec.id)), nil
}

func (s *Server) patchEntity(c *call) (int, any, error) {
	createMissing, err := c.boolParam("create_missing_related_entities", false, false)
	if err != nil {
		return 0, nil, err
	}
	body, err := c.object()
	if err != nil {
		return 0, nil, err
	}
	in, err := parseEntityInput("body", body, true)
	if err != nil {
		return 0, nil, err
	}
	id := c.r.PathValue("entity")
	if in.id != "" && in.id != id {
		return 0, nil, invalid("body/identifier %q differs from the entity in the URL (%q); portsim does not support renaming entities", in.id, id)
	}
	in.id = id
	s.mu.Lock()
	defer s.mu.Unlock()
	bp, err := s.blueprintOf(c)
	if err != nil {
		return 0, nil, err
	}
	e, _, err := s.writeEntity(bp, in, writeOpts{patch: true, createMissing: createMissing}, "body", c.now, c.actor)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, okBody("entity", e.json(bp.spec.id)), nil
}

func (s *Server) getEntity(c *call) (int, any, error) {
	sel, err := c.selection()
	if err != nil {
		return 0, nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	bp, err := s.blueprintOf(c)
	if err != nil {
		return 0, nil, err
	}
	id := c.r.PathValue("entity")
	e := bp.ents[id]
	if e == nil {
		return 0, nil, entityNotFound(bp.spec.id, id)
	}
	return http.StatusOK, okBody("entity", sel.project(e, bp.spec.id)), nil
}

// listEntities: GET /v1/blueprints/{bp}/entities returns every entity,
// unpaginated (internal/port/API-NOTES.md "Search").
func (s *Server) listEntities(c *call) (int, any, error) {
	sel, err := c.selection()
	if err != nil {
		return 0, nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	bp, err := s.blueprintOf(c)
	if err != nil {
		return 0, nil, err
	}
	out := make([]any, 0, len(bp.ents))
	for _, id := range bp.idx.ids(bp.ents) {
		if e := bp.ents[id]; e != nil {
			out = append(out, sel.project(e, bp.spec.id))
		}
	}
	return http.StatusOK, okBody("entities", out), nil
}

func (s *Server) countEntities(c *call) (int, any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	bp, err := s.blueprintOf(c)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, okBody("count", float64(len(bp.ents))), nil
}

// deleteEntity: DELETE …/entities/{id}?delete_dependents=. The spec marks
// delete_dependents required with default false; the TF provider omits it
// and works (internal/port/API-NOTES.md "Port's Terraform provider"), so absent means
// false.
func (s *Server) deleteEntity(c *call) (int, any, error) {
	cascade, err := c.boolParam("delete_dependents", false, false)
	if err != nil {
		return 0, nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	bp, err := s.blueprintOf(c)
	if err != nil {
		return 0, nil, err
	}
	id := c.r.PathValue("entity")
	if bp.ents[id] == nil {
		return 0, nil, entityNotFound(bp.spec.id, id)
	}
	victims, err := s.deletionSet(bp.spec.id, []string{id}, cascade)
	if err != nil {
		return 0, nil, err
	}
	s.removeAll(victims)
	return http.StatusOK, okBody(), nil
}

// deletionSet returns the entities to delete for ids of blueprint bpID. With
// cascade, dependents are added transitively (INFERRED: Port follows the
// chain); without, any dependent outside the set fails the whole operation.
func (s *Server) deletionSet(bpID string, ids []string, cascade bool) ([]entKey, error) {
	set := map[entKey]bool{}
	var order []entKey
	for _, id := range ids {
		k := entKey{bpID, id}
		if !set[k] {
			set[k] = true
			order = append(order, k)
		}
	}
	for i := 0; i < len(order); i++ {
		for _, d := range s.st.dependentsOf(order[i]) {
			if set[d] {
				continue
			}
			if !cascade {
				return nil, hasDependents("Entity %q of blueprint %q has dependent entities (e.g. %q of blueprint %q); delete them first or send delete_dependents=true",
					order[i].id, order[i].bp, d.id, d.bp)
			}
			set[d] = true
			order = append(order, d)
		}
	}
	return order, nil
}

func (s *Server) removeAll(keys []entKey) {
	for _, k := range keys {
		if b := s.st.bps[k.bp]; b != nil {
			s.st.remove(b, k.id)
		}
	}
}
