package webhookpolicy

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/harborport/terraform-provider-harborport/internal/harbor"
)

// Client surveys and changes the policies of one Harbor.
type Client struct {
	Harbor      *harbor.Client
	Concurrency int    // Harbor requests at once; default 8
	User        string // the Harbor user, named in permission hints
	// BusyWait bounds how long a delete (or update) waits out Harbor's 412
	// for unfinished delivery executions (busy.go); default 90 s. BusyRetry
	// is the first pause between tries (default 1 s, doubling up to 10 s).
	BusyWait, BusyRetry time.Duration
}

// Spec is what the policies should be.
type Spec struct {
	// Policy is the wanted policy: name, description, enabled, event types
	// sorted, one target whose address is normalised (NormalizeEndpoint).
	Policy harbor.WebhookPolicy
	// Projects names the projects that get a policy; nil means every
	// project the Harbor user can see.
	Projects []string
	// HaveSecret is false when the policy's secret is not at hand (a
	// write-only secret during a refresh): secret drift is then not reported.
	HaveSecret bool
}

// Survey is the work that makes Harbor match a Spec, and the managed
// policies confirmed in Harbor (same id, same name).
type Survey struct {
	Ops  []Op
	Kept map[string]int64
}

// Project is a Harbor project, addressed by id in API paths.
type Project struct {
	Name string
	ID   int64
}

func (c *Client) concurrency() int {
	if c.Concurrency < 1 {
		return 8
	}
	return c.Concurrency
}

// forEach runs fn(0..n-1) with at most limit calls at once. Callers store
// results by index and read them in order, so diagnostics stay deterministic.
func forEach(n, limit int, fn func(i int)) {
	sem := make(chan struct{}, max(limit, 1))
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			fn(i)
		}()
	}
	wg.Wait()
}

// RightsHint says what a 401/403 on a project means for managing its
// policies ("" for other errors).
func (c *Client) RightsHint(project string, err error) string {
	if !harbor.IsForbidden(err) {
		return ""
	}
	return fmt.Sprintf(" The Harbor user %q needs the Project Admin role in project %q to manage its webhook policies "+
		"(a robot account needs the notification-policy permissions there); or leave the project out of `projects`.", c.User, project)
}

// Targets resolves the selected projects (nil: every project visible).
// Explicit names Harbor does not show become warnings (unresolved), so one
// stale name does not block the rest.
func (c *Client) Targets(ctx context.Context, projects []string) (out []Project, unresolved map[string]bool, diags Diags) {
	hc := c.Harbor
	unresolved = map[string]bool{}
	if projects == nil {
		items, err := hc.ListProjects(ctx, harbor.ProjectQuery{})
		if err != nil {
			diags.errorf("Unable to List Harbor Projects", fmt.Sprintf("Listing the projects that get a webhook policy failed: %s. "+
				"Set `projects` to name them instead, or give the Harbor user %q the right to list projects.", err, c.User))
			return nil, nil, diags
		}
		for _, it := range items {
			if n, _ := it["name"].(string); n != "" && ProjectID(it) > 0 {
				out = append(out, Project{Name: n, ID: ProjectID(it)})
			}
		}
	} else {
		names := slices.Clone(projects)
		slices.Sort(names)
		ids := make([]int64, len(names))
		errs := make([]error, len(names))
		forEach(len(names), c.concurrency(), func(i int) {
			it, err := hc.GetProjectByName(ctx, names[i])
			ids[i], errs[i] = ProjectID(it), err
		})
		for i, n := range names {
			switch err := errs[i]; {
			case harbor.IsNotFound(err) || harbor.IsForbidden(err):
				// Harbor answers 403 to non-admins for projects that do not
				// exist (internal/harbor/API-NOTES.md "Errors").
				unresolved[n] = true
				diags.attrWarnf("projects", "Harbor Project Not Found",
					fmt.Sprintf("Project %q does not exist in Harbor, or the Harbor user %q cannot see it, so it gets no webhook policy. "+
						"Create it (or add the user to it), or remove it from `projects`.", n, c.User))
			case err != nil:
				diags.errorf("Unable to Read a Harbor Project", fmt.Sprintf("Project %q: %s.", n, err))
			case ids[i] <= 0:
				diags.errorf("Unexpected Harbor Response", fmt.Sprintf("Harbor returned project %q without a project_id. This is a bug in harborport or an unsupported Harbor version.", n))
			default:
				out = append(out, Project{Name: n, ID: ids[i]})
			}
		}
	}
	slices.SortFunc(out, func(a, b Project) int { return strings.Compare(a.Name, b.Name) })
	return out, unresolved, diags
}

// Survey reads Harbor and computes the work that makes it match spec.
// managed is project → id of the policies already managed (from state).
func (c *Client) Survey(ctx context.Context, spec Spec, managed map[string]int64) (Survey, Diags) {
	hc := c.Harbor
	want := spec.Policy
	res := Survey{Kept: map[string]int64{}}
	targets, unresolved, diags := c.Targets(ctx, spec.Projects)
	if diags.HasError() {
		return res, diags
	}

	lists := make([][]harbor.WebhookPolicy, len(targets))
	errs := make([]error, len(targets))
	forEach(len(targets), c.concurrency(), func(i int) {
		lists[i], errs[i] = hc.ListWebhookPolicies(ctx, strconv.FormatInt(targets[i].ID, 10))
	})
	selected := map[string]bool{}
	for i, t := range targets {
		selected[t.Name] = true
		if harbor.IsNotFound(errs[i]) {
			continue // deleted since it was listed: nothing to manage there
		}
		if errs[i] != nil {
			diags.errorf("Unable to Read Webhook Policies",
				fmt.Sprintf("Listing the webhook policies of project %q failed: %s.%s", t.Name, errs[i], c.RightsHint(t.Name, errs[i])))
			continue
		}
		var found *harbor.WebhookPolicy
		for j := range lists[i] {
			if lists[i][j].Name == want.Name {
				found = &lists[i][j]
				break
			}
		}
		id, isManaged := managed[t.Name]
		switch {
		case found == nil:
			res.Ops = append(res.Ops, Op{Project: t.Name, ProjectID: t.ID, Op: OpCreate})
		case isManaged && id == found.ID:
			res.Kept[t.Name] = id
			if f := secretBlind(Differences(*found, want), spec.HaveSecret, false); len(f) > 0 {
				res.Ops = append(res.Ops, Op{Project: t.Name, ProjectID: t.ID, Op: OpUpdate, ID: id, Fields: f, Before: Fingerprint(*found)})
			}
		default: // same name, not ours (yet): adopt it rather than hit Harbor's 409 (internal/harbor/API-NOTES.md "Webhook policies")
			res.Ops = append(res.Ops, Op{Project: t.Name, ProjectID: t.ID, Op: OpAdopt, ID: found.ID,
				Fields: secretBlind(Differences(*found, want), spec.HaveSecret, true), Before: Fingerprint(*found)})
		}
	}
	if diags.HasError() {
		return res, diags
	}

	// Managed policies of projects no longer selected are deleted, if they
	// still exist and still carry the name.
	var leftovers []string
	for _, p := range slices.Sorted(maps.Keys(managed)) {
		if !selected[p] && !unresolved[p] {
			leftovers = append(leftovers, p)
		}
	}
	gone := make([]bool, len(leftovers))
	pids := make([]int64, len(leftovers))
	befores := make([]string, len(leftovers))
	errs = make([]error, len(leftovers))
	forEach(len(leftovers), c.concurrency(), func(i int) {
		p := leftovers[i]
		it, err := hc.GetProjectByName(ctx, p)
		if harbor.IsNotFound(err) || (err == nil && ProjectID(it) <= 0) {
			gone[i] = true // the project, and its policies with it, was deleted
			return
		}
		if err != nil {
			errs[i] = err
			return
		}
		pids[i] = ProjectID(it)
		pol, err := hc.GetWebhookPolicy(ctx, strconv.FormatInt(pids[i], 10), managed[p])
		switch {
		case harbor.IsNotFound(err):
			gone[i] = true
		case err != nil:
			errs[i] = err
		case pol.Name != want.Name:
			gone[i] = true // renamed in Harbor: no longer ours to delete
		default:
			befores[i] = Fingerprint(*pol)
		}
	})
	for i, p := range leftovers {
		switch {
		case gone[i]:
		case harbor.IsForbidden(errs[i]):
			diags.warnf("Webhook Policy No Longer Visible",
				fmt.Sprintf("Project %q is no longer selected, but its policy %q (id %d) cannot be checked: %s. It is no longer managed; "+
					"if it still exists, delete it in Harbor.", p, want.Name, managed[p], errs[i]))
		case errs[i] != nil:
			diags.errorf("Unable to Read a Webhook Policy",
				fmt.Sprintf("Checking policy %q (id %d) of project %q, which is no longer selected, failed: %s.", want.Name, managed[p], p, errs[i]))
		default:
			res.Kept[p] = managed[p]
			res.Ops = append(res.Ops, Op{Project: p, ProjectID: pids[i], Op: OpDelete, ID: managed[p], Before: befores[i]})
		}
	}
	slices.SortFunc(res.Ops, func(a, b Op) int { return strings.Compare(a.Project, b.Project) })
	return res, diags
}

// FindNamed looks for the policies called name in every visible project (an
// import): found is project → policy id, sample the first one in project
// order, all the projects looked at.
func (c *Client) FindNamed(ctx context.Context, name string) (found map[string]int64, sample *harbor.WebhookPolicy, all []Project, diags Diags) {
	all, _, diags = c.Targets(ctx, nil)
	if diags.HasError() {
		return nil, nil, nil, diags
	}
	lists := make([][]harbor.WebhookPolicy, len(all))
	errs := make([]error, len(all))
	forEach(len(all), c.concurrency(), func(i int) {
		lists[i], errs[i] = c.Harbor.ListWebhookPolicies(ctx, strconv.FormatInt(all[i].ID, 10))
	})
	found = map[string]int64{}
	for i, p := range all {
		if errs[i] != nil {
			diags.errorf("Unable to Read Webhook Policies",
				fmt.Sprintf("Listing the webhook policies of project %q failed: %s.%s", p.Name, errs[i], c.RightsHint(p.Name, errs[i])))
			return nil, nil, nil, diags
		}
		for j := range lists[i] {
			if lists[i][j].Name == name {
				found[p.Name] = lists[i][j].ID
				if sample == nil {
					sample = &lists[i][j]
				}
			}
		}
	}
	return found, sample, all, diags
}
