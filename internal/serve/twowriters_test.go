package serve

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/harborport/terraform-provider-harborport/internal/sandbox/harborsim"
	"github.com/harborport/terraform-provider-harborport/internal/testenv"
)

// Two writers, one catalog: terraform (a saved plan, applied later by a
// provider process of its own) and the listener (a process of its own) on
// the same Port. A saved plan applied after the listener wrote newer data
// leaves that data alone and says so; the same for a delete planned before
// the artifact came back, and for a fix made by hand in Port. Each time the
// next plan shows exactly what remains.
func TestAccTwoWriters_savedPlans(t *testing.T) {
	if os.Getenv("TF_ACC") == "" {
		t.Skip("acceptance test: set TF_ACC=1 (make test does)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	e := newSims(t, harborsim.DeliveryOptions{})
	e.start()
	tf := testenv.NewTerraform(t, testenv.ProviderBinary(t))
	tf.WriteConfig(fmt.Sprintf(`
provider "harborport" {
  port_base_url      = %q
  port_client_id     = "e2e-id"
  port_client_secret = "e2e-port-secret"
  harbor_url         = %q
  harbor_username    = "admin"
  harbor_password    = "Harbor12345"
}

resource "harborport_blueprints" "harbor" {
  delete_entities = true
}

resource "harborport_sync" "harbor" {
  blueprints = harborport_blueprints.harbor.identifiers
}

resource "harborport_webhook" "listener" {
  endpoint   = "%s/integration/webhook"
  secret     = %q
  depends_on = [harborport_sync.harbor]
}
`, e.port, e.harbor, e.listener, e2eSecret))
	tf.RunOK(ctx, nil, "apply", "-auto-approve", "-input=false", "-json")

	const sync = "harborport_sync.harbor"
	planOut := func(file string) map[string]any {
		t.Helper()
		tf.RunOK(ctx, []int{2}, "plan", "-input=false", "-detailed-exitcode", "-json", "-out="+file)
		return testenv.PlannedAfter(tf.ShowJSON(ctx, file), sync)
	}
	planned := func(after map[string]any) map[string]string {
		out := map[string]string{}
		ch, _ := after["changes"].(map[string]any)
		for k, v := range ch {
			out[k], _ = v.(string)
		}
		return out
	}
	applyPlan := func(file string) testenv.TFResult {
		t.Helper()
		return tf.RunOK(ctx, nil, "apply", "-input=false", "-json", file)
	}
	skippedIn := func(res testenv.TFResult) string {
		t.Helper()
		w := res.Find("Planned Changes Skipped")
		if len(w) != 1 || w[0].Severity != "warning" {
			t.Fatalf("want one Planned Changes Skipped warning; diagnostics:\n%v", res.Diags)
		}
		return w[0].Detail
	}
	stateSkipped := func() any {
		counts, _ := testenv.StateValues(tf.ShowJSON(ctx, ""), sync)["change_counts"].(map[string]any)
		return counts["skipped"]
	}
	emptyPlan := func(what string) {
		t.Helper()
		res := tf.Run(ctx, "plan", "-input=false", "-detailed-exitcode", "-json")
		if res.ExitCode != 0 {
			t.Fatalf("%s: the next plan is not empty (exit %d):\n%s", what, res.ExitCode, res.Stdout)
		}
	}
	prop := func(id, name string) any {
		ent, ok := e.ps.Entity("harborArtifact", id)
		if !ok {
			return nil
		}
		props, _ := ent["properties"].(map[string]any)
		return props[name]
	}
	severity := func(id string) any {
		so, _ := prop(id, "scanOverview").(map[string]any)
		return so["severity"]
	}

	// 1. Pushed while the listener heard nothing, planned (saved); then the
	// listener learns of the push and of the scan, and writes them.
	e.hs.PauseDeliveries()
	web, err := e.hs.PushArtifact("apps", "web", []string{"1.0"}, harborsim.PushOptions{})
	must(t, err)
	webID := "apps/web@" + web
	if got := planned(planOut("push.tfplan"))["harborArtifact/"+webID]; got != "create" {
		t.Fatalf("the saved plan does not create %s: %v", webID, got)
	}
	e.hs.ResumeDeliveries()
	must(t, e.hs.ScanArtifact("apps", "web", web, map[string]int{"Critical": 3}))
	e.waitFor("the listener's scan in Port", 15*time.Second, func() bool { return severity(webID) == "Critical" })
	res := applyPlan("push.tfplan")
	if d := skippedIn(res); !strings.Contains(d, "create harborArtifact/"+webID+": changed in Port since the plan") ||
		!strings.Contains(d, "the listener or another writer") {
		t.Fatalf("the warning does not name %s:\n%s", webID, d)
	}
	if got := severity(webID); got != "Critical" {
		t.Fatalf("Port went back: severity %v after applying the saved plan, the listener wrote Critical", got)
	}
	if got := stateSkipped(); fmt.Sprint(got) == "0" || got == nil {
		t.Fatalf("change_counts.skipped = %v after a skip", got)
	}
	emptyPlan("after the saved push plan")

	// 2. A delete planned before the artifact came back.
	must(t, e.hs.WaitIdle(ctx))
	e.hs.PauseDeliveries()
	must(t, e.hs.DeleteArtifact("apps", "web", web))
	if got := planned(planOut("delete.tfplan"))["harborArtifact/"+webID]; got != "delete" {
		t.Fatalf("the saved plan does not delete %s: %v", webID, got)
	}
	oldPush := prop(webID, "pushTime")
	_, err = e.hs.PushArtifact("apps", "web", []string{"1.0"}, harborsim.PushOptions{Digest: web})
	must(t, err)
	e.hs.ResumeDeliveries()
	e.waitFor("the re-pushed artifact in Port", 15*time.Second, func() bool {
		p := prop(webID, "pushTime")
		return p != nil && p != oldPush
	})
	must(t, e.hs.WaitIdle(ctx))
	res = applyPlan("delete.tfplan")
	if d := skippedIn(res); !strings.Contains(d, "delete harborArtifact/"+webID+": changed in Port since the plan") {
		t.Fatalf("the warning does not name the delete of %s:\n%s", webID, d)
	}
	if _, ok := e.ps.Entity("harborArtifact", webID); !ok {
		t.Fatal("the saved plan deleted an artifact that came back")
	}
	emptyPlan("after the saved delete plan")

	// 3. A fix made by hand in Port after the plan.
	e.hs.PauseDeliveries()
	must(t, e.hs.ScanArtifact("apps", "web", web, map[string]int{"Low": 1}))
	if got := planned(planOut("scan.tfplan"))["harborArtifact/"+webID]; got != "update: scanOverview" {
		t.Fatalf("the saved plan does not update the scan of %s: %v", webID, got)
	}
	ent, _ := e.ps.Entity("harborArtifact", webID)
	props, _ := ent["properties"].(map[string]any)
	props["size"] = 1.0
	must(t, e.ps.SetEntity("harborArtifact", ent))
	res = applyPlan("scan.tfplan")
	if d := skippedIn(res); !strings.Contains(d, "update harborArtifact/"+webID+": changed in Port since the plan") {
		t.Fatalf("the warning does not name the update of %s:\n%s", webID, d)
	}
	if got := prop(webID, "size"); fmt.Sprint(got) != "1" {
		t.Fatalf("size = %v: the saved plan overwrote the hand edit", got)
	}
	// Harbor is the truth: the next plan shows the entity again, with both
	// fields; applying it converges.
	if got := planned(planOut("repair.tfplan")); !slices.Equal([]string{got["harborArtifact/"+webID]}, []string{"update: scanOverview, size"}) {
		t.Fatalf("the next plan = %v, want the hand-edited artifact's update", got)
	}
	if res := applyPlan("repair.tfplan"); len(res.Find("Planned Changes Skipped")) != 0 {
		t.Fatalf("nothing changed since the repair plan, yet: %v", res.Diags)
	}
	e.hs.ResumeDeliveries()
	must(t, e.hs.WaitIdle(ctx))
	e.syncCheck(15 * time.Second)
	emptyPlan("at the end")
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
