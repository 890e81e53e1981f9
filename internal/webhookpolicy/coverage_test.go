package webhookpolicy

import (
	"context"
	"fmt"
	"testing"
)

// Coverage names the projects without an enabled policy of the name: none,
// another name, disabled; a project with one is covered.
func TestCoverage(t *testing.T) {
	ctx := context.Background()
	sim, hc, c := surveyHarbor(t)
	sim.CreateProject("other", false)
	sim.CreateProject("off", false)
	sp := surveySpec("tfdemo", "other", "off")
	sv, _ := c.Survey(ctx, sp, nil)
	if _, diags := c.Execute(ctx, sp.Policy, sv.Ops, sv.Kept); diags.HasError() {
		t.Fatal(diags)
	}
	p := named(t, hc, "other")[0]
	p.Name = "someone-else"
	must(t, hc.UpdateWebhookPolicy(ctx, "other", p))
	p = named(t, hc, "off")[0]
	p.Enabled = false
	must(t, hc.UpdateWebhookPolicy(ctx, "off", p))

	un, checked, err := c.Coverage(ctx, "harborport")
	must(t, err)
	got := fmt.Sprint(un)
	want := `[{2024 no webhook policy named "harborport"} {off policy "harborport" is disabled} {other no webhook policy named "harborport"}]`
	if checked != 4 || got != want {
		t.Fatalf("Coverage = %d checked, %s\nwant 4, %s", checked, got, want)
	}
}
