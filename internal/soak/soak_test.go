package soak

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/harborport/terraform-provider-harborport/internal/catalog"
	"github.com/harborport/terraform-provider-harborport/internal/harbor"
	"github.com/harborport/terraform-provider-harborport/internal/mapping"
	"github.com/harborport/terraform-provider-harborport/internal/port"
	"github.com/harborport/terraform-provider-harborport/internal/sandbox/harborsim"
	"github.com/harborport/terraform-provider-harborport/internal/sandbox/portsim"
	"github.com/harborport/terraform-provider-harborport/internal/testenv"
	"github.com/harborport/terraform-provider-harborport/internal/testenv/synccheck"
)

var (
	seedFlag     = flag.Uint64("soak.seed", 0, "seed of every random choice (0: picked from the clock and printed)")
	durationFlag = flag.Duration("soak.duration", 3*time.Minute, "how long operations run before quiescence")
)

const (
	webhookSecret = "Bearer soak-webhook-secret"
	portID        = "soak-id"
	portSecret    = "soak-port-secret"
	versionProp   = "harborVersion"
)

// TestSoak is the convergence soak (package doc). A failure prints the seed
// that reproduces its sequence of decisions (timing still varies: the
// listener and terraform are real processes).
func TestSoak(t *testing.T) {
	if os.Getenv("HARBORPORT_SOAK") == "" {
		t.Skip("convergence soak: run it with make test-soak (HARBORPORT_SOAK=1)")
	}
	seed := *seedFlag
	if seed == 0 {
		seed = uint64(time.Now().UnixNano()%1_000_000) + 1
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("convergence soak FAILED; reproduce with: make test-soak SOAK_SEED=%d SOAK_DURATION=%s", seed, *durationFlag)
		}
	})
	t.Logf("convergence soak: seed %d, %s of operations", seed, *durationFlag)
	s := newSoak(t, seed)
	s.start()
	s.run(*durationFlag)
	s.quiesce()
	s.report(os.Stdout)
	s.verdict()
}

type soak struct {
	t    *testing.T
	seed uint64
	ctx  context.Context

	hs   *harborsim.Server
	ps   *portsim.Server
	sims *testenv.Sims
	lis  *testenv.Listener
	tf   *testenv.Terraform
	eng  *catalog.Engine // the soak mapping, for the final invariant

	world *world
	mon   *monitor

	stop     atomic.Bool
	wg       sync.WaitGroup
	bgErrs   chan error
	lisMu    sync.Mutex // the listener is restarted by chaos, checked by quiesce
	chaosN   map[string]int
	tfStats  tfStats
	statsMu  sync.Mutex
	quiesced time.Duration
	final    struct {
		inSync    bool
		diff      string
		planEmpty bool
		planOut   string
		applyOK   bool
		applyErr  string
	}
}

func newSoak(t *testing.T, seed uint64) *soak {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	s := &soak{t: t, seed: seed, ctx: ctx, bgErrs: make(chan error, 64), chaosN: map[string]int{}}
	s.sims = testenv.StartSims(t, harborsim.Options{
		Clock: time.Now, StampVersions: true, NoLibraryProject: false,
		Delivery: harborsim.DeliveryOptions{Shuffle: true, DuplicateRate: 0.05, DropRate: 0.03, BackoffScale: 0.002, Seed: seed},
	}, portsim.Options{ClientID: portID, ClientSecret: portSecret}, nil)
	s.hs, s.ps = s.sims.Harbor, s.sims.Port
	s.world = newWorld(s.hs, rand.New(rand.NewPCG(seed, 1)))
	s.mon = newMonitor(s.hs, s.ps)

	dir := t.TempDir()
	mappingFile := filepath.Join(dir, "soak-mapping.yaml")
	must(t, os.WriteFile(mappingFile, []byte(soakMapping()), 0o600))
	m, err := mapping.Parse(soakMapping(), "soak mapping")
	must(t, err)
	hc, err := harbor.New(harbor.Config{URL: s.sims.HarborURL, Username: "admin", Password: "Harbor12345"})
	must(t, err)
	pc, err := port.New(port.Config{BaseURL: s.sims.PortURL, ClientID: portID, ClientSecret: portSecret})
	must(t, err)
	if s.eng, err = catalog.New(hc, pc, m); err != nil {
		t.Fatal(err)
	}

	bin := testenv.ProviderBinary(t)
	s.lis = &testenv.Listener{Bin: bin, StartTimeout: 30 * time.Second,
		Args: []string{"--data-dir", filepath.Join(dir, "spool"), "--mapping", mappingFile, "--log-format", "text",
			"--log-level", "info", "--resync-interval", "1m", "--audit-poll-interval", "1s"},
		Env: append(os.Environ(), "HARBOR_URL="+s.sims.HarborURL, "HARBOR_USERNAME=admin", "HARBOR_PASSWORD=Harbor12345",
			"PORT_BASE_URL="+s.sims.PortURL, "PORT_CLIENT_ID="+portID, "PORT_CLIENT_SECRET="+portSecret,
			"HARBORPORT_WEBHOOK_SECRET="+webhookSecret)}
	s.tf = testenv.NewTerraform(t, bin)
	return s
}

// soakMapping is the built-in mapping with every kind's Harbor version stamp
// copied into Port (the monitor reads it there).
func soakMapping() string {
	y := mapping.DefaultYAML(mapping.DefaultIDs())
	return strings.ReplaceAll(y, "          properties:\n", "          properties:\n            "+versionProp+": .x_harborport_version\n")
}

func (s *soak) config() string {
	extra := `{ extra_properties = { ` + versionProp + ` = { type = "number", title = "Harbor version (soak)" } } }`
	format := []string{"CloudEvents", "Default"}[s.seed%2]
	return fmt.Sprintf(`
provider "harborport" {
  port_base_url      = %q
  port_client_id     = %q
  port_client_secret = %q
  harbor_url         = %q
  harbor_username    = "admin"
  harbor_password    = "Harbor12345"
}

resource "harborport_blueprints" "harbor" {
  delete_entities = true
  project         = %s
  user            = %s
  repository      = %s
  artifact        = %s
}

resource "harborport_sync" "harbor" {
  blueprints = harborport_blueprints.harbor.identifiers
  mapping    = file("${path.module}/soak-mapping.yaml")
}

resource "harborport_webhook" "listener" {
  endpoint       = "%s/integration/webhook"
  secret         = %q
  payload_format = %q
  depends_on     = [harborport_sync.harbor]
}
`, s.sims.PortURL, portID, portSecret, s.sims.HarborURL, extra, extra, extra, extra, s.lis.URL(), webhookSecret, format)
}

// start builds the first registry, starts the listener and applies the
// configuration once (blueprints, first sync, webhooks).
func (s *soak) start() {
	t := s.t
	s.world.initial()
	s.lis.Start(t)
	s.tf.WriteConfig(s.config())
	must(t, os.WriteFile(filepath.Join(s.tf.Dir, "soak-mapping.yaml"), []byte(soakMapping()), 0o600))
	res := s.tf.Run(s.ctx, "apply", "-auto-approve", "-input=false", "-json")
	if res.ExitCode != 0 {
		t.Fatalf("first apply: %s", res.Errors())
	}
	s.mon.poll()
}

// run lets the driver, chaos and terraform loops and the monitor go for d.
func (s *soak) run(d time.Duration) {
	s.loop("monitor", func() { s.mon.poll(); time.Sleep(100 * time.Millisecond) })
	drv := rand.New(rand.NewPCG(s.seed, 2))
	s.loop("driver", func() {
		s.world.step(s.mon)
		time.Sleep(time.Duration(20+drv.IntN(180)) * time.Millisecond)
	})
	chaos := rand.New(rand.NewPCG(s.seed, 3))
	s.loop("chaos", func() {
		s.sleep(time.Duration(1500+chaos.IntN(4000)) * time.Millisecond)
		s.chaos(chaos)
	})
	tfr := rand.New(rand.NewPCG(s.seed, 4))
	s.loop("terraform", func() {
		s.sleep(time.Duration(1000+tfr.IntN(3000)) * time.Millisecond)
		s.terraform(tfr)
	})
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) && !s.t.Failed() {
		select {
		case err := <-s.bgErrs:
			s.t.Fatalf("background: %v", err)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// loop runs fn until stop, turning a panic into a test failure.
func (s *soak) loop(name string, fn func()) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer func() {
			if p := recover(); p != nil {
				s.bgErrs <- fmt.Errorf("%s: %v", name, p)
			}
		}()
		for !s.stop.Load() {
			fn()
		}
	}()
}

// sleep waits d, or less when the soak stops.
func (s *soak) sleep(d time.Duration) {
	end := time.Now().Add(d)
	for !s.stop.Load() && time.Now().Before(end) {
		time.Sleep(min(50*time.Millisecond, time.Until(end)))
	}
}

// chaos injects one fault: a listener SIGKILL and restart, a delivery pause,
// or a burst of Port 429s or 5xx.
func (s *soak) chaos(r *rand.Rand) {
	if s.stop.Load() {
		return
	}
	kind := []string{"listener SIGKILL", "delivery pause", "Port 429 burst", "Port 5xx burst"}[r.IntN(4)]
	s.statsMu.Lock()
	s.chaosN[kind]++
	s.statsMu.Unlock()
	switch kind {
	case "listener SIGKILL":
		s.lisMu.Lock()
		s.lis.Kill()
		time.Sleep(time.Duration(200+r.IntN(1800)) * time.Millisecond)
		s.startListener()
		s.lisMu.Unlock()
	case "delivery pause":
		s.hs.PauseDeliveries()
		s.sleep(time.Duration(1000+r.IntN(3000)) * time.Millisecond)
		s.hs.ResumeDeliveries()
	case "Port 429 burst":
		s.ps.SetFaults(portsim.Faults{RateLimitNext: 3 + r.IntN(12), RetryAfter: time.Second, ResetEpoch: r.IntN(2) == 0})
	case "Port 5xx burst":
		s.ps.SetFaults(portsim.Faults{FailNext: 2 + r.IntN(6), FailStatus: []int{500, 502, 503}[r.IntN(3)], FailAfterWrite: r.IntN(2) == 0})
	}
}

// startListener starts the listener from a background goroutine, where
// testing.T's Fatal must not be called.
func (s *soak) startListener() {
	tb := &bgTB{TB: s.t}
	func() {
		defer func() {
			if p := recover(); p != nil && p != errBgFatal {
				panic(p)
			}
		}()
		s.lis.Start(tb)
	}()
	if tb.err != nil {
		s.bgErrs <- fmt.Errorf("restarting the listener: %w", tb.err)
	}
}

// terraform runs one plain apply, or a saved plan applied a little later
// (while operations and chaos go on).
func (s *soak) terraform(r *rand.Rand) {
	if s.stop.Load() {
		return
	}
	ctx, cancel := context.WithTimeout(s.ctx, 5*time.Minute)
	defer cancel()
	if r.IntN(2) == 0 {
		s.tfStats.add("apply", s.tf.Run(ctx, "apply", "-auto-approve", "-input=false", "-json"))
		return
	}
	res := s.tf.Run(ctx, "plan", "-input=false", "-json", "-out=soak.tfplan")
	s.tfStats.add("plan -out", res)
	if res.ExitCode != 0 {
		return
	}
	s.sleep(time.Duration(500+r.IntN(6000)) * time.Millisecond)
	s.tfStats.add("apply saved plan", s.tf.Run(ctx, "apply", "-input=false", "-json", "soak.tfplan"))
}

// quiesce stops operations and faults, lets deliveries and the listener
// drain, runs one apply, and checks Port against a fresh full sync.
func (s *soak) quiesce() {
	t := s.t
	s.stop.Store(true)
	s.wg.Wait()
	select {
	case err := <-s.bgErrs:
		t.Fatalf("background: %v", err)
	default:
	}
	start := time.Now()
	s.ps.SetFaults(portsim.Faults{})
	s.hs.ResumeDeliveries()
	ctx, cancel := context.WithTimeout(s.ctx, 2*time.Minute)
	defer cancel()
	must(t, s.hs.WaitIdle(ctx))
	testenv.WaitFor(t, "the listener's spool to drain", time.Minute, func() bool { return s.spoolDepth() == 0 },
		func() string { return "\nlistener log tail:\n" + s.lis.LogTail(40) })
	res := s.tf.Run(ctx, "apply", "-auto-approve", "-input=false", "-json")
	s.tfStats.add("final apply", res)
	s.final.applyOK = res.ExitCode == 0
	if !s.final.applyOK {
		s.final.applyErr = res.Errors()
	}
	s.final.inSync, s.final.diff = synccheck.InSync(ctx, s.eng)
	plan := s.tf.Run(ctx, "plan", "-input=false", "-detailed-exitcode", "-no-color")
	s.final.planEmpty = plan.ExitCode == 0
	if !s.final.planEmpty {
		s.final.planOut = plan.Stdout + plan.Stderr
	}
	s.quiesced = time.Since(start)
	s.mon.poll()
	s.mon.finish()
}

var depthRE = regexp.MustCompile(`(?m)^harborport_spool_depth ([0-9.e+]+)$`)

// spoolDepth scrapes the listener's spool depth (-1 when unreachable).
func (s *soak) spoolDepth() int {
	resp, err := http.Get(s.lis.URL() + "/metrics")
	if err != nil {
		return -1
	}
	defer func() { _ = resp.Body.Close() }()
	b, _ := io.ReadAll(resp.Body)
	m := depthRE.FindSubmatch(b)
	if m == nil {
		return -1
	}
	f, _ := strconv.ParseFloat(string(m[1]), 64)
	return int(f)
}

func (s *soak) verdict() {
	t := s.t
	if n := len(s.mon.regressions); n > 0 {
		t.Errorf("%d regressions observed (Port went back to an older Harbor state); first: %v", n, s.mon.regressions[0])
	}
	if !s.final.applyOK {
		t.Errorf("the apply after quiescence failed: %s", s.final.applyErr)
	}
	if !s.final.inSync {
		t.Errorf("after quiescence Port differs from a full sync: %s", s.final.diff)
	}
	if !s.final.planEmpty {
		t.Errorf("after quiescence the next plan is not empty:\n%s", s.final.planOut)
	}
}

// bgTB lets testenv helpers that call Fatal run on a background goroutine:
// Fatal records the error and unwinds with errBgFatal.
type bgTB struct {
	testing.TB
	err error
}

var errBgFatal = fmt.Errorf("background fatal")

func (b *bgTB) Helper() {}
func (b *bgTB) Fatal(args ...any) {
	b.err = fmt.Errorf("%s", fmt.Sprint(args...))
	panic(errBgFatal)
}
func (b *bgTB) Fatalf(format string, args ...any) {
	b.err = fmt.Errorf(format, args...)
	panic(errBgFatal)
}
func (b *bgTB) FailNow() { b.Fatal("FailNow") }
func (b *bgTB) Errorf(format string, args ...any) {
	if b.err == nil {
		b.err = fmt.Errorf(format, args...)
	}
}
func (b *bgTB) Error(args ...any) {
	if b.err == nil {
		b.err = fmt.Errorf("%s", fmt.Sprint(args...))
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
