package serve

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/harborport/terraform-provider-harborport/internal/auditfeed"
	"github.com/harborport/terraform-provider-harborport/internal/catalog"
	"github.com/harborport/terraform-provider-harborport/internal/harbor"
	"github.com/harborport/terraform-provider-harborport/internal/mapping"
	"github.com/harborport/terraform-provider-harborport/internal/port"
	"github.com/harborport/terraform-provider-harborport/internal/sandbox/harborsim"
	"github.com/harborport/terraform-provider-harborport/internal/sandbox/portsim"
	"github.com/harborport/terraform-provider-harborport/internal/testenv"
	"github.com/harborport/terraform-provider-harborport/internal/testenv/synccheck"
)

// The listener runs as its own process (the real binary, `serve`) between
// the Harbor simulator, which delivers webhooks, and the Port simulator.

const e2eSecret = "Bearer e2e-webhook-secret"

type e2e struct {
	t        *testing.T
	hs       *harborsim.Server
	ps       *portsim.Server
	hc       *harbor.Client
	harbor   string
	port     string
	lis      *testenv.Listener
	listener string // the listener's URL, where Harbor's policy points
	engine   *catalog.Engine
}

func newE2E(t *testing.T, delivery harborsim.DeliveryOptions) *e2e {
	t.Helper()
	return newE2EWith(t, harborsim.Options{Delivery: delivery})
}

// newE2EWith is newE2E with more Harbor simulator options (a version
// profile, say) and more listener flags.
func newE2EWith(t *testing.T, hopts harborsim.Options, args ...string) *e2e {
	t.Helper()
	e := newSimsWith(t, hopts, nil)
	e.lis.Args = append(e.lis.Args, args...)
	testenv.SetDefaultBlueprints(t, e.ps)
	// The first full sync, as terraform apply of harborport_sync does it.
	rep, err := e.engine.Compute(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.engine.Apply(context.Background(), rep.Changeset); err != nil {
		t.Fatal(err)
	}
	e.start()
	_, err = e.hc.CreateWebhookPolicy(context.Background(), "apps", harbor.WebhookPolicy{Name: "harborport", Enabled: true,
		EventTypes: []string{"PUSH_ARTIFACT", "DELETE_ARTIFACT", "PULL_ARTIFACT", "SCANNING_COMPLETED", "SCANNING_FAILED"},
		Targets:    []harbor.WebhookTarget{{Type: "http", Address: e.listener + "/integration/webhook", AuthHeader: e2eSecret, PayloadFormat: "CloudEvents"}}})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// newSims starts the simulators (Harbor with a project "apps") and builds a
// catalog engine on them for invariant checks; the listener is not started.
func newSims(t *testing.T, delivery harborsim.DeliveryOptions) *e2e {
	t.Helper()
	return newSimsWith(t, harborsim.Options{Delivery: delivery}, nil)
}

// newSimsWith is newSims with more Harbor simulator options (the clock is
// always the wall clock: the listener is another process) and, when not nil,
// a front on the Port simulator (to observe its requests).
func newSimsWith(t *testing.T, hopts harborsim.Options, portFront func(http.Handler) http.Handler) *e2e {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end: builds and runs the binary")
	}
	hopts.Delivery.BackoffScale = 0.001
	hopts.Clock = time.Now
	sims := testenv.StartSims(t, hopts,
		portsim.Options{ClientID: "e2e-id", ClientSecret: "e2e-port-secret"}, portFront)
	sims.Harbor.CreateProject("apps", false)
	hc, err := harbor.New(harbor.Config{URL: sims.HarborURL, Username: "admin", Password: "Harbor12345"})
	if err != nil {
		t.Fatal(err)
	}
	pc, err := port.New(port.Config{BaseURL: sims.PortURL, ClientID: "e2e-id", ClientSecret: "e2e-port-secret"})
	if err != nil {
		t.Fatal(err)
	}
	eng, err := catalog.New(hc, pc, mapping.Default(mapping.DefaultIDs()))
	if err != nil {
		t.Fatal(err)
	}
	lis := &testenv.Listener{Bin: testenv.ProviderBinary(t), StartTimeout: 20 * time.Second,
		Args: []string{"--data-dir", t.TempDir(), "--log-format", "text", "--log-level", "debug"},
		Env: append(os.Environ(), "HARBOR_URL="+sims.HarborURL, "HARBOR_USERNAME=admin", "HARBOR_PASSWORD=Harbor12345",
			"PORT_BASE_URL="+sims.PortURL, "PORT_CLIENT_ID=e2e-id", "PORT_CLIENT_SECRET=e2e-port-secret",
			"HARBORPORT_WEBHOOK_SECRET="+e2eSecret)}
	return &e2e{t: t, hs: sims.Harbor, ps: sims.Port, hc: hc, harbor: sims.HarborURL, port: sims.PortURL, lis: lis, engine: eng}
}

// start runs the listener process (again, on the same address and spool)
// and waits until it listens.
func (e *e2e) start() {
	e.t.Helper()
	e.lis.Start(e.t)
	e.listener = e.lis.URL()
}

func (e *e2e) stop(sig syscall.Signal) { e.lis.Stop(sig) }

func (e *e2e) log() string { return e.lis.Log() }

func (e *e2e) waitFor(what string, timeout time.Duration, cond func() bool) {
	e.t.Helper()
	testenv.WaitFor(e.t, what, timeout, cond, func() string { return "\nlistener log:\n" + e.log() })
}

// inSync reports whether Port holds exactly what a full sync would write.
func (e *e2e) inSync() (bool, string) {
	return synccheck.InSync(context.Background(), e.engine)
}

// syncCheck waits until Port equals what the mapping says Harbor holds.
func (e *e2e) syncCheck(timeout time.Duration) {
	e.t.Helper()
	var diff string
	deadline := time.Now().Add(timeout)
	for {
		ok, d := e.inSync()
		if ok {
			return
		}
		diff = d
		if time.Now().After(deadline) {
			e.t.Fatalf("catalog differs from Harbor after %s: %s", timeout, diff)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (e *e2e) artifact(repo, digest string) (map[string]any, bool) {
	return e.ps.Entity("harborArtifact", "apps/"+repo+"@"+digest)
}

// The listener's main path on every Harbor profile: webhooks bring pushes,
// scans and deletes; the audit-log feed brings a tag added through the API
// (from /auditlog-exts on 2.15, from /audit-logs on 2.11, where /readyz says
// that user changes wait for the resync).
func TestE2E_pushTagScanDelete(t *testing.T) {
	for _, v := range harborsim.Profiles {
		t.Run(harborsim.ProfileName(v), func(t *testing.T) { e2ePushTagScanDelete(t, v) })
	}
}

func e2ePushTagScanDelete(t *testing.T, version string) {
	e := newE2EWith(t, harborsim.Options{Version: version}, "--audit-poll-interval", "1s")
	wantFeed, wantSource := "ok", "auditlog-exts"
	if version == harborsim.Version211 {
		wantFeed, wantSource = "partial", "audit-logs"
	}
	e.waitFor("the feed running on "+wantSource, 20*time.Second, func() bool {
		_, rz := e.readyz()
		feed, _ := rz["audit_feed"].(map[string]any)
		details, _ := feed["details"].(map[string]any)
		kinds, _ := rz["harbor_kinds"].(map[string]any)
		return feed["state"] == wantFeed && details["source"] == wantSource && kinds["state"] == "ok"
	})
	if _, rz := e.readyz(); version == harborsim.Version211 {
		if feed, _ := rz["audit_feed"].(map[string]any); feed["reason"] != auditfeed.ReasonLegacy {
			t.Fatalf("/readyz audit_feed on 2.11: %v", feed)
		}
	}
	d, err := e.hs.PushArtifact("apps", "web", []string{"1.0"}, harborsim.PushOptions{})
	if err != nil {
		t.Fatal(err)
	}
	e.waitFor("pushed artifact in Port", 10*time.Second, func() bool { _, ok := e.artifact("web", d); return ok })

	// A tag added by pushing the same digest again (Harbor sends no event for
	// tag API calls, internal/harbor/API-NOTES.md
	// "Events Harbor does not deliver").
	if _, err := e.hs.PushArtifact("apps", "web", []string{"stable"}, harborsim.PushOptions{Digest: d}); err != nil {
		t.Fatal(err)
	}
	e.waitFor("tags updated", 10*time.Second, func() bool {
		ent, _ := e.artifact("web", d)
		tags, _ := ent["properties"].(map[string]any)["tags"].([]any)
		return len(tags) == 2
	})

	// A tag added through Harbor's API: no webhook, only the audit log says it.
	e.harborAPIOK(http.MethodPost, artifactPath("apps", "web", d)+"/tags", map[string]string{"name": "prod"})
	e.waitFor("the API tag in Port through the feed", 10*time.Second, func() bool {
		return slices.Contains(e.portTags("apps/web@"+d), "prod")
	})

	if err := e.hs.ScanArtifact("apps", "web", d, map[string]int{"Critical": 3}); err != nil {
		t.Fatal(err)
	}
	e.waitFor("scan summary in Port", 10*time.Second, func() bool {
		ent, _ := e.artifact("web", d)
		so, _ := ent["properties"].(map[string]any)["scanOverview"].(map[string]any)
		return so != nil && so["severity"] == "Critical"
	})

	if err := e.hs.DeleteArtifact("apps", "web", d); err != nil {
		t.Fatal(err)
	}
	e.waitFor("deleted artifact gone", 10*time.Second, func() bool { _, ok := e.artifact("web", d); return !ok })
	e.syncCheck(10 * time.Second)

	// Unauthenticated deliveries are refused.
	for _, auth := range []string{"", "Bearer wrong"} {
		req, _ := http.NewRequest(http.MethodPost, e.listener+"/integration/webhook", strings.NewReader(`{}`))
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("Authorization %q: %d, want 401", auth, resp.StatusCode)
		}
	}
	if strings.Contains(e.log(), "e2e-webhook-secret") || strings.Contains(e.log(), "e2e-port-secret") {
		t.Error("a secret appears in the listener's log")
	}
}

// Events spooled while Port is down survive kill -9; after restart every
// one is applied and the catalog equals Harbor.
func TestE2E_killDashNineWithSpooledEvents(t *testing.T) {
	e := newE2E(t, harborsim.DeliveryOptions{})
	e.ps.SetFaults(portsim.Faults{FailNext: 1 << 30, FailStatus: 503})
	var digests []string
	for i := range 5 {
		d, err := e.hs.PushArtifact("apps", fmt.Sprintf("svc-%d", i), []string{"v1"}, harborsim.PushOptions{})
		if err != nil {
			t.Fatal(err)
		}
		digests = append(digests, d)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := e.hs.WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}
	for _, a := range e.hs.DeliveryLog() {
		if !a.OK() {
			t.Fatalf("a delivery failed: %+v", a)
		}
	}
	// The log is read by a goroutine: wait for it rather than race it.
	e.waitFor("5 accepted deliveries in the listener log", 5*time.Second, func() bool { return strings.Count(e.log(), "webhook accepted") >= 5 })
	if n := strings.Count(e.log(), "webhook accepted"); n != 5 {
		t.Fatalf("%d deliveries accepted before the kill, want 5", n)
	}
	if n := e.ps.EntityCount("harborArtifact"); n != 0 {
		t.Fatalf("%d artifacts reached Port during the outage", n)
	}
	e.stop(syscall.SIGKILL)
	e.ps.SetFaults(portsim.Faults{})
	e.start()
	for i, d := range digests {
		e.waitFor("spooled artifact applied after restart", 20*time.Second, func() bool { _, ok := e.artifact(fmt.Sprintf("svc-%d", i), d); return ok })
	}
	e.syncCheck(20 * time.Second)
}

// A Port outage is ridden out: nothing is lost.
func TestE2E_portOutage(t *testing.T) {
	outage := 5 * time.Second
	if os.Getenv("HARBORPORT_E2E_LONG") != "" {
		outage = 60 * time.Second
	}
	e := newE2E(t, harborsim.DeliveryOptions{})
	e.ps.SetFaults(portsim.Faults{FailNext: 1 << 30, FailStatus: 503})
	start := time.Now()
	for i := range 10 {
		if _, err := e.hs.PushArtifact("apps", "burst", []string{fmt.Sprintf("b%d", i)}, harborsim.PushOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(time.Until(start.Add(outage)))
	e.ps.SetFaults(portsim.Faults{})
	e.waitFor("catch-up after the outage", 3*time.Minute, func() bool { return e.ps.EntityCount("harborArtifact") == 10 })
	e.syncCheck(30 * time.Second)
	t.Logf("Port down %s; caught up %s after it came back", outage, time.Since(start)-outage)
}

// Shuffled and duplicated deliveries end in the same catalog.
func TestE2E_outOfOrderAndDuplicates(t *testing.T) {
	e := newE2E(t, harborsim.DeliveryOptions{Shuffle: true, Duplicates: 2, Workers: 4})
	var digests []string
	for i := range 8 {
		d, err := e.hs.PushArtifact("apps", "churn", []string{fmt.Sprintf("t%d", i)}, harborsim.PushOptions{})
		if err != nil {
			t.Fatal(err)
		}
		digests = append(digests, d)
		if err := e.hs.ScanArtifact("apps", "churn", d, map[string]int{"High": i}); err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range digests[:3] {
		if err := e.hs.DeleteArtifact("apps", "churn", d); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := e.hs.WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}
	e.syncCheck(30 * time.Second)
	if n := e.ps.EntityCount("harborArtifact"); n != 5 {
		t.Errorf("Port holds %d artifacts, want 5", n)
	}
}
