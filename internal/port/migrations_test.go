package port

import (
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
)

func TestDeleteAllEntitiesPollsMigration(t *testing.T) {
	tests := []struct {
		name     string
		statuses []string
		errHas   string
	}{
		{"completes", []string{"INITIALIZING", "RUNNING", "COMPLETED"}, ""},
		{"fails", []string{"PENDING", "FAILURE"}, "ended with status FAILURE"},
		{"cancelled", []string{"CANCELLED"}, "ended with status CANCELLED"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t)
			f.handle("DELETE /v1/blueprints/{blueprint}/all-entities", func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Query().Get("delete_blueprint") != "true" {
					t.Errorf("query = %q", r.URL.RawQuery)
				}
				writeJSON(w, 200, map[string]any{"ok": true, "migrationId": "mig-1"})
			})
			var polls atomic.Int32
			f.handle("GET /v1/migrations/{migration}", func(w http.ResponseWriter, r *http.Request) {
				i := int(polls.Add(1)) - 1
				writeJSON(w, 200, map[string]any{"ok": true, "migration": map[string]any{"id": r.PathValue("migration"), "status": tt.statuses[i]}})
			})
			c := f.client(t)
			sleeps := recordSleeps(c)
			err := c.DeleteAllEntities(t.Context(), "bp", true)
			if tt.errHas == "" && err != nil || tt.errHas != "" && (err == nil || !strings.Contains(err.Error(), tt.errHas)) {
				t.Fatalf("err = %v, want %q", err, tt.errHas)
			}
			if int(polls.Load()) != len(tt.statuses) || len(*sleeps) != len(tt.statuses)-1 {
				t.Errorf("polls = %d, sleeps = %d", polls.Load(), len(*sleeps))
			}
		})
	}
}

// The spec documents {ok:true} without a migration id: fall back to counting.
func TestDeleteAllEntitiesWithoutMigrationID(t *testing.T) {
	f := newFake(t)
	f.handle("DELETE /v1/blueprints/{blueprint}/all-entities", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, map[string]any{"ok": true})
	})
	var counts atomic.Int32
	f.handle("GET /v1/blueprints/{blueprint}/entities-count", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, map[string]any{"ok": true, "count": max(0, 2-int(counts.Add(1)))})
	})
	c := f.client(t)
	recordSleeps(c)
	if err := c.DeleteAllEntities(t.Context(), "bp", false); err != nil {
		t.Fatal(err)
	}
	if counts.Load() != 2 {
		t.Errorf("count polls = %d, want 2", counts.Load())
	}
}
