package serve

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/harborport/terraform-provider-harborport/internal/blueprint"
	"github.com/harborport/terraform-provider-harborport/internal/catalog"
	"github.com/harborport/terraform-provider-harborport/internal/harbor"
	"github.com/harborport/terraform-provider-harborport/internal/mapping"
	"github.com/harborport/terraform-provider-harborport/internal/port"
	"github.com/harborport/terraform-provider-harborport/internal/sandbox/harborsim"
	"github.com/harborport/terraform-provider-harborport/internal/sandbox/portsim"
)

// The listener runs as its own process (the real binary, `serve`) between
// the Harbor simulator, which delivers webhooks, and the Port simulator.

const e2eSecret = "Bearer e2e-webhook-secret"

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

func providerBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "harborport-e2e")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "terraform-provider-harborport")
		out, err := exec.Command("go", "build", "-o", binPath, "github.com/harborport/terraform-provider-harborport").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

type e2e struct {
	t        *testing.T
	hs       *harborsim.Server
	ps       *portsim.Server
	hc       *harbor.Client
	harbor   string
	port     string
	dataDir  string
	proc     *exec.Cmd
	listener string
	logs     *strings.Builder
	logMu    sync.Mutex
	engine   *catalog.Engine
}

func newE2E(t *testing.T, delivery harborsim.DeliveryOptions) *e2e {
	t.Helper()
	e := newSims(t, delivery)
	set := blueprint.Desired(nil)
	toMap := func(v any) map[string]any {
		b, _ := json.Marshal(v)
		var m map[string]any
		_ = json.Unmarshal(b, &m)
		return m
	}
	for _, pass := range []bool{true, false} {
		for _, k := range blueprint.Kinds {
			bp := set[k]
			if pass {
				bp = blueprint.Bare(bp)
			}
			if err := e.ps.SetBlueprint(toMap(bp)); err != nil {
				t.Fatal(err)
			}
		}
	}
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
	if testing.Short() {
		t.Skip("end-to-end: builds and runs the binary")
	}
	delivery.BackoffScale = 0.001
	hs := harborsim.New(harborsim.Options{Delivery: delivery, Clock: time.Now})
	t.Cleanup(func() { hs.Close() })
	hsrv := httptest.NewServer(hs)
	t.Cleanup(hsrv.Close)
	ps := portsim.New(portsim.Options{ClientID: "e2e-id", ClientSecret: "e2e-port-secret"})
	psrv := httptest.NewServer(ps)
	t.Cleanup(psrv.Close)
	hs.CreateProject("apps", false)
	hc, err := harbor.New(harbor.Config{URL: hsrv.URL, Username: "admin", Password: "Harbor12345"})
	if err != nil {
		t.Fatal(err)
	}
	pc, err := port.New(port.Config{BaseURL: psrv.URL, ClientID: "e2e-id", ClientSecret: "e2e-port-secret"})
	if err != nil {
		t.Fatal(err)
	}
	eng, err := catalog.New(hc, pc, mapping.Default(mapping.DefaultIDs()))
	if err != nil {
		t.Fatal(err)
	}
	return &e2e{t: t, hs: hs, ps: ps, hc: hc, harbor: hsrv.URL, port: psrv.URL, dataDir: t.TempDir(), logs: &strings.Builder{}, engine: eng}
}

// start runs the listener process and waits until it listens.
func (e *e2e) start() {
	t := e.t
	listen := "127.0.0.1:0"
	if e.listener != "" {
		listen = strings.TrimPrefix(e.listener, "http://") // Harbor's policy points there
	}
	cmd := exec.Command(providerBinary(t), "serve", "--listen", listen, "--data-dir", e.dataDir, "--log-format", "text", "--log-level", "debug")
	cmd.Env = append(os.Environ(), "HARBOR_URL="+e.harbor, "HARBOR_USERNAME=admin", "HARBOR_PASSWORD=Harbor12345",
		"PORT_BASE_URL="+e.port, "PORT_CLIENT_ID=e2e-id", "PORT_CLIENT_SECRET=e2e-port-secret",
		"HARBORPORT_WEBHOOK_SECRET="+e2eSecret)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	e.proc = cmd
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			e.logMu.Lock()
			e.logs.WriteString(line + "\n")
			e.logMu.Unlock()
			if i := strings.Index(line, "msg=listening addr="); i >= 0 {
				f := strings.Fields(line[i+len("msg=listening addr="):])
				addr <- f[0]
			}
		}
	}()
	select {
	case a := <-addr:
		if e.listener != "" && e.listener != "http://"+a {
			// Harbor's policy points at the first address; keep it stable.
			t.Fatalf("listener restarted on %s, policy points at %s", a, e.listener)
		}
		e.listener = "http://" + a
	case <-time.After(20 * time.Second):
		t.Fatalf("listener did not start:\n%s", e.log())
	}
	t.Cleanup(func() { e.stop(syscall.SIGTERM) })
}

func (e *e2e) stop(sig syscall.Signal) {
	if e.proc == nil || e.proc.ProcessState != nil {
		return
	}
	_ = e.proc.Process.Signal(sig)
	_ = e.proc.Wait()
}

func (e *e2e) log() string {
	e.logMu.Lock()
	defer e.logMu.Unlock()
	return e.logs.String()
}

func (e *e2e) waitFor(what string, timeout time.Duration, cond func() bool) {
	e.t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			e.t.Fatalf("timed out after %s waiting for %s\nlistener log:\n%s", timeout, what, e.log())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// inSync reports whether Port holds exactly what a full sync would write.
func (e *e2e) inSync() (bool, string) {
	rep, err := e.engine.Compute(context.Background())
	if err != nil {
		return false, err.Error()
	}
	if rep.Changeset.Empty() {
		return true, ""
	}
	return false, fmt.Sprint(rep.Changeset.Preview(10))
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

func TestE2E_pushTagScanDelete(t *testing.T) {
	e := newE2E(t, harborsim.DeliveryOptions{})
	d, err := e.hs.PushArtifact("apps", "web", []string{"1.0"}, harborsim.PushOptions{})
	if err != nil {
		t.Fatal(err)
	}
	e.waitFor("pushed artifact in Port", 10*time.Second, func() bool { _, ok := e.artifact("web", d); return ok })

	// A tag added by pushing the same digest again (Harbor sends no event for tag API calls, harbor-api.md §6.3).
	if _, err := e.hs.PushArtifact("apps", "web", []string{"stable"}, harborsim.PushOptions{Digest: d}); err != nil {
		t.Fatal(err)
	}
	e.waitFor("tags updated", 10*time.Second, func() bool {
		ent, _ := e.artifact("web", d)
		tags, _ := ent["properties"].(map[string]any)["tags"].([]any)
		return len(tags) == 2
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
		resp.Body.Close()
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
