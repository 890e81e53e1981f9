package webhookpolicy

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/harborport/terraform-provider-harborport/internal/harbor"
	"github.com/harborport/terraform-provider-harborport/internal/sandbox/harborsim"
)

// busyHarbor is a Harbor simulator whose policy executions stay non-final for
// settle after a delivery, with project tfdemo holding our policy (pointing
// at a receiver that answers 200) and one push delivered to it.
func busyHarbor(t *testing.T, settle time.Duration) (*harborsim.Server, *Client, Spec, int64) {
	t.Helper()
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
	t.Cleanup(rcv.Close)
	sim := harborsim.New(harborsim.Options{NoLibraryProject: true, Clock: time.Now,
		Delivery: harborsim.DeliveryOptions{BackoffScale: 0.001, ExecutionSettle: settle}})
	t.Cleanup(func() { _ = sim.Close() })
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	sim.CreateProject("tfdemo", false)
	hc, err := harbor.New(harbor.Config{URL: srv.URL, Username: "admin", Password: "Harbor12345", MaxRetries: -1})
	must(t, err)
	c := &Client{Harbor: hc, User: "admin", BusyRetry: 20 * time.Millisecond}
	spec := surveySpec("tfdemo")
	spec.Policy.Targets[0].Address = rcv.URL
	ctx := context.Background()
	sv, diags := c.Survey(ctx, spec, nil)
	if diags.HasError() {
		t.Fatal(diags)
	}
	managed, diags := c.Execute(ctx, spec.Policy, sv.Ops, nil)
	if diags.HasError() {
		t.Fatal(diags)
	}
	if _, err := sim.PushArtifact("tfdemo", "web", []string{"v1"}, harborsim.PushOptions{}); err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	must(t, sim.WaitIdle(wctx))
	if !sim.PolicyExecutionBusy(managed["tfdemo"]) {
		t.Fatal("the policy's execution is final right after the delivery")
	}
	return sim, c, spec, managed["tfdemo"]
}

// A delete planned right after a delivery waits out Harbor's 412 and
// succeeds once the execution is final; so does destroy (DeleteAll).
func TestDeleteWaitsOutUnfinishedExecutions(t *testing.T) {
	ctx := context.Background()
	sim, c, spec, id := busyHarbor(t, 500*time.Millisecond)
	c.BusyWait = 10 * time.Second
	sim.ResetRequests()
	start := time.Now()
	out, diags := c.Execute(ctx, spec.Policy, []Op{{Project: "tfdemo", ProjectID: 1, Op: OpDelete, ID: id}}, map[string]int64{"tfdemo": id})
	if diags.HasError() || len(out) != 0 {
		t.Fatalf("delete after a delivery: %v, managed %v", diags, out)
	}
	if n := sim.Requests()["DELETE /api/v2.0/projects/{project_name_or_id}/webhook/policies/{webhook_policy_id}"]; n < 2 {
		t.Fatalf("%d DELETE requests: the 412 was not met (the test proves nothing)", n)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("took %s", d)
	}

	sim2, c2, _, id2 := busyHarbor(t, 500*time.Millisecond)
	c2.BusyWait = 10 * time.Second
	if failed := c2.DeleteAll(ctx, map[string]int64{"tfdemo": id2}, "harborport"); len(failed) > 0 {
		t.Fatalf("destroy after a delivery: %v", failed)
	}
	if named(t, c2.Harbor, "tfdemo") != nil || sim2.PolicyExecutionBusy(id2) {
		t.Fatal("the policy survived the destroy")
	}
}

// Past BusyWait the delete fails with an error naming the policy, the
// project, Harbor's answer and what to do; the policy stays.
func TestDeleteGivesUpAfterBusyWait(t *testing.T) {
	ctx := context.Background()
	_, c, spec, id := busyHarbor(t, time.Minute)
	c.BusyWait = 300 * time.Millisecond
	start := time.Now()
	_, diags := c.Execute(ctx, spec.Policy, []Op{{Project: "tfdemo", ProjectID: 1, Op: OpDelete, ID: id}}, map[string]int64{"tfdemo": id})
	if !diags.HasError() {
		t.Fatal("the delete succeeded while Harbor refused it")
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("gave up after %s, BusyWait is 300ms", d)
	}
	msg := diags.Errors()[0].Detail
	for _, want := range []string{`Could not delete policy "harborport" (id `, `in Harbor project "tfdemo"`,
		"Harbor still refuses: the policy's delivery executions are not final: Harbor refused to delete webhook policy",
		"apply or destroy again later", "412 UNKNOWN: failed to delete executions for webhook of policy",
		"contains executions that aren't in final status"} {
		if !strings.Contains(msg, want) {
			t.Errorf("the error lacks %q:\n%s", want, msg)
		}
	}
	failed := c.DeleteAll(ctx, map[string]int64{"tfdemo": id}, "harborport")
	if err := failed["tfdemo"]; !errors.Is(err, ErrExecutionsNotFinal) {
		t.Fatalf("DeleteAll: %v", failed)
	}
	if len(named(t, c.Harbor, "tfdemo")) != 1 {
		t.Fatal("the policy is gone although Harbor refused")
	}
}

// An update right after a delivery goes through: Harbor's update does not
// touch executions.
func TestUpdateAfterDelivery(t *testing.T) {
	ctx := context.Background()
	_, c, spec, id := busyHarbor(t, time.Minute)
	c.BusyWait = 300 * time.Millisecond
	want := spec.Policy
	want.Enabled = false
	if _, diags := c.Execute(ctx, want, []Op{{Project: "tfdemo", ProjectID: 1, Op: OpUpdate, ID: id, Fields: []string{"enabled"}}},
		map[string]int64{"tfdemo": id}); diags.HasError() {
		t.Fatal(diags)
	}
	if ps := named(t, c.Harbor, "tfdemo"); len(ps) != 1 || ps[0].Enabled {
		t.Fatalf("policies %+v", ps)
	}
}

// docs/guides/troubleshooting.md quotes the error word for word.
func TestTroubleshootingGuideBusy(t *testing.T) {
	raw, err := os.ReadFile("../../docs/guides/troubleshooting.md")
	if err != nil {
		t.Fatalf("the troubleshooting guide is missing (make docs renders templates/guides/troubleshooting.md.tmpl): %v", err)
	}
	doc := strings.Join(strings.Fields(string(raw)), " ")
	for _, w := range []string{ErrExecutionsNotFinal.Error() + ": Harbor refused to delete webhook policy", BusyAdvice,
		"412 UNKNOWN: failed to delete executions for webhook of policy", "contains executions that aren't in final status, stop the execution first"} {
		if !strings.Contains(doc, strings.Join(strings.Fields(w), " ")) {
			t.Errorf("docs/guides/troubleshooting.md does not quote %q", w)
		}
	}
}
