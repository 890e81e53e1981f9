package webhookpolicy

import (
	"context"
	"errors"
	"fmt"
	"strconv"
)

// Uncovered is a project whose changes no harborport webhook reports.
type Uncovered struct {
	Project string
	Reason  string // "no policy named …", "policy … is disabled"
}

// Coverage lists the projects visible to the Harbor user that have no
// enabled webhook policy called name: Harbor sends the listener nothing from
// them (policies are per project, internal/harbor/API-NOTES.md "Webhook
// policies"), so only the audit-log feed and resyncs keep them current. It
// also returns how many projects it checked. A project whose policies cannot
// be read counts as uncovered, with the error as its reason.
func (c *Client) Coverage(ctx context.Context, name string) (uncovered []Uncovered, checked int, err error) {
	targets, _, diags := c.Targets(ctx, nil)
	if diags.HasError() {
		return nil, 0, errors.New(diags.Errors()[0].Detail)
	}
	lists := make([][]string, len(targets))
	errs := make([]error, len(targets))
	forEach(len(targets), c.concurrency(), func(i int) {
		ps, err := c.Harbor.ListWebhookPolicies(ctx, strconv.FormatInt(targets[i].ID, 10))
		if err != nil {
			errs[i] = err
			return
		}
		for _, p := range ps {
			if p.Name != name {
				continue
			}
			if !p.Enabled {
				lists[i] = append(lists[i], fmt.Sprintf("policy %q is disabled", name))
				continue
			}
			lists[i] = append(lists[i], "")
		}
	})
	if err := ctx.Err(); err != nil {
		return nil, 0, err
	}
	for i, t := range targets {
		reason := fmt.Sprintf("no webhook policy named %q", name)
		switch {
		case errs[i] != nil:
			reason = "its webhook policies cannot be read: " + errs[i].Error()
		case len(lists[i]) > 0 && lists[i][0] == "":
			continue // covered
		case len(lists[i]) > 0:
			reason = lists[i][0]
		}
		uncovered = append(uncovered, Uncovered{Project: t.Name, Reason: reason})
	}
	return uncovered, len(targets), nil
}
