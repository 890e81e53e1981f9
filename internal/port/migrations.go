package port

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
)

// Migration statuses (port-openapi.yaml GET /v1/migrations; the TF provider's
// terminal set is COMPLETED/FAILURE/CANCELLED, internal/port/API-NOTES.md
// "Migrations").
const (
	MigrationCompleted = "COMPLETED"
	MigrationFailure   = "FAILURE"
	MigrationCancelled = "CANCELLED"
)

// DeleteAllEntities deletes every entity of bp (and the blueprint itself when
// deleteBlueprint) with DELETE /v1/blueprints/{bp}/all-entities, which runs
// asynchronously, and waits for it: it polls GET /v1/migrations/{id} every
// Config.PollInterval until COMPLETED; FAILURE or CANCELLED is an error.
// Unknown statuses keep it polling (as the TF provider does); ctx bounds it.
//
// The spec documents only {ok:true}; real Port returns a migrationId
// (internal/port/API-NOTES.md "Migrations"). Without one, it polls the entity
// count (or the blueprint's existence) instead.
func (c *Client) DeleteAllEntities(ctx context.Context, bp string, deleteBlueprint bool) error {
	r := request{method: http.MethodDelete, route: "/blueprints/{blueprint}/all-entities",
		path:  "/blueprints/" + seg(bp) + "/all-entities",
		query: url.Values{"delete_blueprint": {strconv.FormatBool(deleteBlueprint)}}}
	resp, err := c.do(ctx, r)
	if err != nil {
		return err
	}
	var out struct {
		MigrationID string `json:"migrationId"`
	}
	if err := decode(r, resp, &out); err != nil {
		return err
	}
	if out.MigrationID == "" {
		return c.pollUntilEmpty(ctx, bp, deleteBlueprint)
	}
	return c.waitMigration(ctx, out.MigrationID)
}

func (c *Client) waitMigration(ctx context.Context, id string) error {
	r := request{method: http.MethodGet, route: "/migrations/{migration}", path: "/migrations/" + seg(id)}
	for {
		resp, err := c.do(ctx, r)
		if err != nil {
			return err
		}
		var out struct {
			Migration struct {
				Status        string `json:"status"`
				FailureReason string `json:"failureReason"`
			} `json:"migration"`
		}
		if err := decode(r, resp, &out); err != nil {
			return err
		}
		switch s := out.Migration.Status; s {
		case MigrationCompleted:
			return nil
		case MigrationFailure, MigrationCancelled:
			msg := fmt.Sprintf("migration %s ended with status %s", id, s)
			if out.Migration.FailureReason != "" {
				msg += ": " + out.Migration.FailureReason
			}
			return &APIError{Status: resp.status, Code: "migration_" + s, Message: msg, TraceID: resp.traceID,
				Method: r.method, Path: "/v1" + r.path, Hint: "see the migration in Port's UI (Builder → Migrations) and retry"}
		}
		if err := c.sleep(ctx, c.pollInterval); err != nil {
			return fmt.Errorf("waiting for Port migration %s: %w", id, err)
		}
	}
}

func (c *Client) pollUntilEmpty(ctx context.Context, bp string, deleteBlueprint bool) error {
	for {
		n, err := c.CountEntities(ctx, bp)
		switch {
		case IsNotFound(err) && deleteBlueprint:
			return nil
		case err != nil:
			return err
		case n == 0 && !deleteBlueprint:
			return nil
		}
		if err := c.sleep(ctx, c.pollInterval); err != nil {
			return fmt.Errorf("waiting for Port to delete the entities of %q: %w", bp, err)
		}
	}
}
