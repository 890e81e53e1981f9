package provider

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/harborport/terraform-provider-harborport/internal/sandbox/harborsim"
)

// terraform destroy right after Harbor delivered to the policy: Harbor
// answers the delete with 412 while the delivery's execution is not final
// (the simulator keeps it so for 3 s, as Harbor does until it refreshes
// execution statuses); destroy waits it out and succeeds. On both releases.
func TestAccWebhook_destroyRightAfterDelivery(t *testing.T) {
	for _, v := range harborsim.Profiles {
		t.Run(harborsim.ProfileName(v), func(t *testing.T) {
			var got atomic.Int32
			rcv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { got.Add(1) }))
			t.Cleanup(rcv.Close)
			_, portURL := testPort(t)
			hsim := harborsim.New(harborsim.Options{Version: v, Clock: time.Now,
				Delivery: harborsim.DeliveryOptions{BackoffScale: 0.001}}) // ExecutionSettle: the default 3 s
			t.Cleanup(func() { _ = hsim.Close() })
			hsrv := httptest.NewServer(hsim)
			t.Cleanup(hsrv.Close)
			hsim.CreateProject("apps", false)
			w := newTFWorkdir(t)
			cfg := providerBlockHarbor(portURL, hsrv.URL) + fmt.Sprintf(`
resource "harborport_webhook" "listener" {
  endpoint = %q
  secret   = %q
}
`, rcv.URL+"/integration/webhook", webhookSecret)
			if errs := errorsOf(w.apply(cfg)); len(errs) > 0 {
				t.Fatalf("apply: %v", errs)
			}
			ps := named(t, adminHarbor(t, hsrv.URL), "apps", "harborport")
			if len(ps) != 1 {
				t.Fatalf("%d policies after apply", len(ps))
			}
			if _, err := hsim.PushArtifact("apps", "web", []string{"v1"}, harborsim.PushOptions{}); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			must(t, hsim.WaitIdle(ctx))
			if got.Load() == 0 || !hsim.PolicyExecutionBusy(ps[0].ID) {
				t.Fatalf("no delivery (%d) or its execution is already final: the test would prove nothing", got.Load())
			}
			hsim.ResetRequests()
			start := time.Now()
			if errs := errorsOf(w.destroy()); len(errs) > 0 {
				t.Fatalf("destroy right after a delivery: %v", errs)
			}
			refused := 0
			for _, r := range hsim.RequestLog() {
				if r.Method == http.MethodDelete && r.Status == http.StatusPreconditionFailed {
					refused++
				}
			}
			if refused == 0 {
				t.Fatal("Harbor never answered 412: the destroy did not meet the window")
			}
			if n := len(named(t, adminHarbor(t, hsrv.URL), "apps", "harborport")); n != 0 {
				t.Fatalf("%d policies after destroy", n)
			}
			t.Logf("Harbor %s: destroy met %d × 412 and succeeded after %s", v, refused, time.Since(start).Round(100*time.Millisecond))
		})
	}
}
