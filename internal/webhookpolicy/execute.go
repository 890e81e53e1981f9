package webhookpolicy

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/harborport/terraform-provider-harborport/internal/harbor"
)

// Execute performs ops for the wanted policy, starting from the managed
// policies in base, and returns the managed policies afterwards. Every op is
// attempted; failures are reported per project and the rest stays for the
// next survey. Ops whose policy changed in Harbor since the survey are left
// alone and named in one warning (conditional apply, internal/DESIGN.md
// "Conditional apply (two writers)").
func (c *Client) Execute(ctx context.Context, want harbor.WebhookPolicy, ops []Op, base map[string]int64) (map[string]int64, Diags) {
	ids := make([]int64, len(ops))
	skips := make([]string, len(ops))
	errs := make([]error, len(ops))
	forEach(len(ops), c.concurrency(), func(i int) {
		ids[i], skips[i], errs[i] = c.executeOne(ctx, want, ops[i])
	})
	out := maps.Clone(base)
	if out == nil {
		out = map[string]int64{}
	}
	var diags Diags
	var skipped []string
	for i, o := range ops {
		if errs[i] != nil {
			what := fmt.Sprintf("policy %q", want.Name)
			if o.ID > 0 {
				what += fmt.Sprintf(" (id %d)", o.ID)
			}
			diags.errorf("Unable to Apply a Webhook Policy",
				fmt.Sprintf("Could not %s %s in Harbor project %q: %s.%s The other projects were handled; run terraform plan to see what is left.",
					o.Op, what, o.Project, errs[i], c.RightsHint(o.Project, errs[i])))
			continue
		}
		if skips[i] != "" {
			skipped = append(skipped, fmt.Sprintf("%s %s: %s", o.Project, o.Op, skips[i]))
		}
		if o.Op == OpDelete || ids[i] == 0 {
			delete(out, o.Project)
		} else {
			out[o.Project] = ids[i]
		}
	}
	if len(skipped) > 0 {
		n := len(skipped)
		if len(skipped) > 10 {
			skipped = append(skipped[:10], fmt.Sprintf("… and %d more", len(skipped)-10))
		}
		diags.warnf("Webhook Policies Changed Since the Plan",
			fmt.Sprintf("%d planned policy changes skipped: the policy changed in Harbor since the plan (a person or another apply edited, "+
				"created or deleted it), so applying the plan would have overwritten that blindly. The next plan shows what remains.\n  %s",
				n, strings.Join(skipped, "\n  ")))
	}
	return out, diags
}

// executeOne performs one op and returns the policy id it leaves in place,
// or why it left the policy alone (skip), checking first that Harbor still
// holds the policy the survey saw.
func (c *Client) executeOne(ctx context.Context, want harbor.WebhookPolicy, o Op) (id int64, skip string, err error) {
	hc := c.Harbor
	switch o.Op {
	case OpCreate:
		// A project deleted since the plan answers 404 to both the listing
		// and the create: nothing to create any more.
		const projectGone = "the project was deleted in Harbor since the plan"
		if id, skip, found, err := c.sameNamed(ctx, o.ref(), want); found || err != nil {
			if harbor.IsNotFound(err) {
				return 0, projectGone, nil
			}
			return id, skip, err
		}
		id, err := hc.CreateWebhookPolicy(ctx, o.ref(), want)
		if harbor.IsNotFound(err) {
			return 0, projectGone, nil
		}
		if !harbor.IsConflict(err) {
			return id, "", err
		}
		// Created meanwhile by someone else (Harbor's UNIQUE(name, project_id),
		// internal/harbor/API-NOTES.md "Webhook policies").
		if id, skip, found, lerr := c.sameNamed(ctx, o.ref(), want); found || lerr != nil {
			if lerr != nil {
				return 0, "", fmt.Errorf("%w; then listing the policies to find the existing one failed: %v", err, lerr)
			}
			return id, skip, nil
		}
		return 0, "", err
	case OpUpdate, OpAdopt:
		cur, err := hc.GetWebhookPolicy(ctx, o.ref(), o.ID)
		switch {
		case harbor.IsNotFound(err):
			return o.ID, "deleted in Harbor since the plan", nil
		case err != nil:
			return o.ID, "", err
		case cur.Name != want.Name:
			return o.ID, "renamed in Harbor since the plan", nil
		case len(Differences(*cur, want)) == 0:
			return o.ID, "", nil // already as wanted (nothing to write, or someone did it)
		case o.Before != "" && Fingerprint(*cur) != o.Before:
			return o.ID, "edited in Harbor since the plan", nil
		}
		want.ID = o.ID
		return o.ID, "", c.updatePolicy(ctx, o.ref(), want)
	case OpDelete:
		cur, err := hc.GetWebhookPolicy(ctx, o.ref(), o.ID)
		switch {
		case harbor.IsNotFound(err):
			return 0, "", nil
		case err != nil:
			return 0, "", err
		case cur.Name != want.Name:
			return 0, "", nil // renamed: no longer ours to delete
		case o.Before != "" && Fingerprint(*cur) != o.Before:
			return 0, "edited in Harbor since the plan; left in place and no longer managed", nil
		}
		if err := c.deletePolicy(ctx, o.ref(), o.ID); err != nil && !harbor.IsNotFound(err) {
			return 0, "", err
		}
		return 0, "", nil
	}
	return 0, "", fmt.Errorf("unknown operation %q; this is a bug in harborport", o.Op)
}

// sameNamed looks for a policy named like want in the project: one that
// appeared since the survey (found). If it is already as wanted it is
// adopted; otherwise it is adopted unchanged and skip says so, and the next
// survey shows the update it needs, for review.
func (c *Client) sameNamed(ctx context.Context, project string, want harbor.WebhookPolicy) (id int64, skip string, found bool, err error) {
	list, err := c.Harbor.ListWebhookPolicies(ctx, project)
	if err != nil {
		return 0, "", false, err
	}
	for _, p := range list {
		if p.Name != want.Name {
			continue
		}
		if len(Differences(p, want)) > 0 {
			return p.ID, "a policy with this name appeared in Harbor since the plan; adopted unchanged", true, nil
		}
		return p.ID, "", true, nil
	}
	return 0, "", false, nil
}

// DeleteManaged deletes policy id of the project (name or id) if it still
// carries name: an id whose policy was renamed in Harbor is no longer ours.
func (c *Client) DeleteManaged(ctx context.Context, project string, id int64, name string) error {
	p, err := c.Harbor.GetWebhookPolicy(ctx, project, id)
	if harbor.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if p.Name != name {
		return nil
	}
	if err := c.deletePolicy(ctx, project, id); err != nil && !harbor.IsNotFound(err) {
		return err
	}
	return nil
}

// DeleteAll deletes the managed policies (project → id) that still carry
// name; other policies in the same projects stay. A project that is gone
// took its policies with it. It returns the failures by project.
func (c *Client) DeleteAll(ctx context.Context, managed map[string]int64, name string) map[string]error {
	projects := slices.Sorted(maps.Keys(managed))
	errs := make([]error, len(projects))
	forEach(len(projects), c.concurrency(), func(i int) {
		p := projects[i]
		it, err := c.Harbor.GetProjectByName(ctx, p)
		switch {
		case harbor.IsNotFound(err):
			return // the project is gone, and its policies with it
		case err != nil:
			errs[i] = err
			return
		}
		errs[i] = c.DeleteManaged(ctx, strconv.FormatInt(ProjectID(it), 10), managed[p], name)
	})
	out := map[string]error{}
	for i, p := range projects {
		if errs[i] != nil {
			out[p] = errs[i]
		}
	}
	return out
}
