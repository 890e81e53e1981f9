package portsim

import (
	"fmt"
	"net/http"
	"time"
)

// all-entities deletion and its migration (internal/port/API-NOTES.md
// "Migrations").

type migration struct {
	id, blueprint, actor string
	createdAt, updatedAt time.Time
	pollsLeft            int // GETs still answering RUNNING
}

func (m *migration) json() map[string]any {
	status := "COMPLETED"
	if m.pollsLeft > 0 {
		status = "RUNNING"
	}
	return map[string]any{"id": m.id, "status": status, "actor": m.actor, "sourceBlueprint": m.blueprint,
		"blueprint": m.blueprint, "createdAt": iso(m.createdAt), "updatedAt": iso(m.updatedAt)}
}

// deleteAllEntities: DELETE /v1/blueprints/{bp}/all-entities?delete_blueprint=.
// Port runs it asynchronously and returns a migrationId (TF
// DeleteBlueprintWithAllEntities; Ocean mixins/blueprints.py). The simulator
// deletes at once and lets the migration report RUNNING for
// Options.MigrationPolls GETs, so clients must poll.
func (s *Server) deleteAllEntities(c *call) (int, any, error) {
	dropBP, err := c.boolParam("delete_blueprint", false, false)
	if err != nil {
		return 0, nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	bp, err := s.blueprintOf(c)
	if err != nil {
		return 0, nil, err
	}
	id := bp.spec.id
	if dropBP {
		if refs := s.relationsTargeting(id); len(refs) > 0 {
			return 0, nil, hasDependents("Blueprint %q is the target of relations %s; remove those relations before deleting it", id, fmt.Sprint(refs))
		}
	}
	s.dropEntities(bp, c.now, c.actor)
	if dropBP {
		delete(s.st.bps, id)
	}
	s.ctl.Lock()
	mid := fmt.Sprintf("migration_%012x", s.rng.Uint64()&0xffffffffffff)
	s.ctl.Unlock()
	s.st.migrations[mid] = &migration{id: mid, blueprint: id, actor: c.actor, createdAt: c.now, updatedAt: c.now, pollsLeft: s.opts.MigrationPolls}
	return http.StatusOK, okBody("migrationId", mid), nil
}

// dropEntities deletes every entity of bp, detaching relations of other
// blueprints' entities that point at them.
func (s *Server) dropEntities(bp *bpRec, now time.Time, actor string) {
	for _, id := range bp.idx.ids(bp.ents) {
		if bp.ents[id] == nil {
			continue
		}
		s.st.remove(bp, id)
	}
	// Relations inside bp pointed at bp's own entities; those are gone too.
	var targets []entKey
	for k := range s.st.dependents {
		if k.bp == bp.spec.id {
			targets = append(targets, k)
		}
	}
	for _, k := range targets {
		s.st.detach(k, now, actor)
	}
	bp.idx.reset()
}

func (s *Server) getMigration(c *call) (int, any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := c.r.PathValue("migration")
	m := s.st.migrations[id]
	if m == nil {
		return 0, nil, notFound("Migration with identifier %q was not found", id)
	}
	out := m.json()
	if m.pollsLeft > 0 {
		m.pollsLeft--
		m.updatedAt = c.now
	}
	return http.StatusOK, okBody("migration", out), nil
}
