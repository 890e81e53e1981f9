package webhookpolicy

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/harborport/terraform-provider-harborport/internal/harbor"
)

// Harbor deletes a policy's delivery executions before the policy and refuses
// while one is not final: 412 "contains executions that aren't in final
// status" (internal/harbor/API-NOTES.md "Webhook policies"). An execution
// turns final some time after its last delivery attempt, when Harbor
// refreshes stale statuses (observed: about 20 s; up to about a minute), so a
// destroy right after a delivery meets it. The refusal is definite — nothing
// was deleted — so the request is simply made again, with backoff, for a
// bounded time (internal/DESIGN.md "Webhook policies").

// Defaults of Client.BusyWait and Client.BusyRetry.
const (
	DefaultBusyWait  = 90 * time.Second
	DefaultBusyRetry = time.Second
	busyRetryMax     = 10 * time.Second
)

// BusyAdvice ends the error given up with: why, and what to do
// (docs/guides/troubleshooting.md quotes it).
const BusyAdvice = "Harbor marks a delivery execution final some time after its last attempt, up to about a minute, " +
	"longer while Harbor still retries a failing delivery): apply or destroy again later"

// ErrExecutionsNotFinal is returned (wrapped, with the last answer) when
// Harbor still refused after Client.BusyWait.
var ErrExecutionsNotFinal = errors.New("Harbor still refuses: the policy's delivery executions are not final")

func (c *Client) busyWait() time.Duration {
	if c.BusyWait > 0 {
		return c.BusyWait
	}
	return DefaultBusyWait
}

// waitOutBusy runs write until Harbor stops answering the 412 for unfinished
// executions, for at most busyWait: 1 s, then doubling up to 10 s between
// tries (Client.BusyRetry sets the first step).
func (c *Client) waitOutBusy(ctx context.Context, what string, write func() error) error {
	step := c.BusyRetry
	if step <= 0 {
		step = DefaultBusyRetry
	}
	limit := c.busyWait()
	start := time.Now()
	for tries := 1; ; tries++ {
		err := write()
		if !harbor.IsExecutionsNotFinal(err) {
			return err
		}
		waited := time.Since(start)
		if waited+step > limit {
			return fmt.Errorf("%w: Harbor refused to %s for %s (%d tries; %s; the last answer was: %w",
				ErrExecutionsNotFinal, what, waited.Round(time.Second), tries, BusyAdvice, err)
		}
		t := time.NewTimer(step)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("waiting for Harbor to let %s: %w (last answer: %w)", what, ctx.Err(), err)
		case <-t.C:
		}
		step = min(2*step, busyRetryMax)
	}
}

// deletePolicy deletes policy id of project (name or id), waiting out the 412.
func (c *Client) deletePolicy(ctx context.Context, project string, id int64) error {
	return c.waitOutBusy(ctx, fmt.Sprintf("delete webhook policy %d", id), func() error {
		return c.Harbor.DeleteWebhookPolicy(ctx, project, id)
	})
}

// updatePolicy replaces policy p of project. Harbor's update does not touch
// executions (src/controller/webhook/controller.go UpdatePolicy), but a 412 of
// the same kind is waited out all the same.
func (c *Client) updatePolicy(ctx context.Context, project string, p harbor.WebhookPolicy) error {
	return c.waitOutBusy(ctx, fmt.Sprintf("update webhook policy %d", p.ID), func() error {
		return c.Harbor.UpdateWebhookPolicy(ctx, project, p)
	})
}
