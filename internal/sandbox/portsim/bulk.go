package portsim

import (
	"errors"
	"fmt"
	"net/http"
)

// bulkUpsert: POST /v1/blueprints/{bp}/entities/bulk
// (internal/port/API-NOTES.md "Bulk upsert"). Body {entities: [1..20]}
// (additionalProperties false); each item must pass the route schema or the
// whole request is 422. Blueprint-level failures are per entity: 207 with
// entities[] and errors[] keyed by request index; all succeeded → 200.
func (s *Server) bulkUpsert(c *call) (int, any, error) {
	o, err := c.upsertOpts()
	if err != nil {
		return 0, nil, err
	}
	body, err := c.object()
	if err != nil {
		return 0, nil, err
	}
	if err := onlyKeys("body", body, "entities"); err != nil {
		return 0, nil, err
	}
	v, present := body["entities"]
	if !present {
		return 0, nil, invalid("body must have required property 'entities'")
	}
	items, isArr := v.([]any)
	if !isArr {
		return 0, nil, invalid("body/entities must be array, got %s", jsonType(v))
	}
	if len(items) < 1 || len(items) > 20 {
		return 0, nil, invalid("body/entities must have 1 to 20 items (\"No more than 20 entities per request\"), got %d; split the batch", len(items))
	}
	inputs := make([]*entityInput, len(items))
	for i, it := range items {
		path := fmt.Sprintf("body/entities/%d", i)
		m, isObj := it.(map[string]any)
		if !isObj {
			return 0, nil, invalid("%s must be object, got %s", path, jsonType(it))
		}
		if inputs[i], err = parseEntityInput(path, m, false); err != nil {
			return 0, nil, err
		}
	}

	nFail, failStatus := s.takeBulkFailures(len(inputs))
	s.mu.Lock()
	defer s.mu.Unlock()
	bp, err := s.blueprintOf(c)
	if err != nil {
		return 0, nil, err
	}
	okList, errList := []any{}, []any{}
	for i, in := range inputs {
		if i < nFail { // Faults.BulkFailNext: refused, not written
			ident := in.id
			if ident == "" {
				ident = "unknown"
			}
			errList = append(errList, map[string]any{"identifier": ident, "index": float64(i), "statusCode": float64(failStatus),
				"error": codeInternal, "message": "portsim: injected per-entity failure"})
			continue
		}
		e, created, werr := s.writeEntity(bp, in, o, fmt.Sprintf("body/entities/%d", i), c.now, c.actor)
		if werr != nil {
			var ae *apiError
			if !errors.As(werr, &ae) {
				return 0, nil, werr
			}
			ident := in.id
			if ident == "" {
				ident = "unknown" // as Port reports unresolved search identifiers (internal/port/API-NOTES.md "Bulk upsert")
			}
			errList = append(errList, map[string]any{"identifier": ident, "index": float64(i),
				"statusCode": float64(ae.status), "error": ae.code, "message": ae.message})
			continue
		}
		okList = append(okList, map[string]any{"created": created, "identifier": e.id, "index": float64(i), "additionalData": map[string]any{}})
	}
	status := http.StatusOK
	if len(errList) > 0 {
		status = http.StatusMultiStatus
	}
	return status, map[string]any{"ok": len(errList) == 0, "entities": okList, "errors": errList}, nil
}

// bulkDelete: POST /v1/blueprints/{bp}/bulk/entities/delete
// (internal/port/API-NOTES.md "Deleting entities"). Body {entities: [1..100
// identifiers]}. "If any entity has dependent entities and delete_dependents is
// false, the entire operation will fail and no entities will be deleted."
// Unknown identifiers are skipped: only deletedEntities is authoritative.
func (s *Server) bulkDelete(c *call) (int, any, error) {
	cascade, err := c.boolParam("delete_dependents", false, false)
	if err != nil {
		return 0, nil, err
	}
	body, err := c.object()
	if err != nil {
		return 0, nil, err
	}
	if err := onlyKeys("body", body, "entities"); err != nil {
		return 0, nil, err
	}
	v, present := body["entities"]
	if !present {
		return 0, nil, invalid("body must have required property 'entities'")
	}
	items, isArr := v.([]any)
	if !isArr {
		return 0, nil, invalid("body/entities must be array, got %s", jsonType(v))
	}
	if len(items) < 1 || len(items) > 100 {
		return 0, nil, invalid("body/entities must have 1 to 100 items, got %d; split the batch", len(items))
	}
	ids := make([]string, 0, len(items))
	for i, it := range items {
		id, isStr := it.(string)
		if !isStr {
			return 0, nil, invalid("body/entities/%d must be string, got %s", i, jsonType(it))
		}
		ids = append(ids, id)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	bp, err := s.blueprintOf(c)
	if err != nil {
		return 0, nil, err
	}
	var existing []string
	seen := map[string]bool{}
	for _, id := range ids {
		if bp.ents[id] != nil && !seen[id] {
			seen[id] = true
			existing = append(existing, id)
		}
	}
	// INFERRED: dependents that are deleted by the same request do not block it.
	victims, err := s.deletionSet(bp.spec.id, existing, cascade)
	if err != nil {
		return 0, nil, err
	}
	s.removeAll(victims)
	deleted := make([]any, len(existing))
	for i, id := range existing {
		deleted[i] = id
	}
	return http.StatusOK, okBody("deletedEntities", deleted), nil
}
