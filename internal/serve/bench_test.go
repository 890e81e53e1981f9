package serve

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/harborport/terraform-provider-harborport/internal/harbor"
	"github.com/harborport/terraform-provider-harborport/internal/sandbox/harborsim"
	"github.com/harborport/terraform-provider-harborport/internal/sandbox/portsim"
	"github.com/harborport/terraform-provider-harborport/internal/testenv"
)

// benchEnv runs the real `serve` path in-process between the simulators;
// Harbor delivers its webhooks over HTTP to it.
type benchEnv struct {
	hs     *harborsim.Server
	ps     *portsim.Server
	cancel context.CancelFunc
	done   chan error
}

func newBenchEnv(b *testing.B) *benchEnv {
	b.Helper()
	sims := testenv.StartSims(b, harborsim.Options{Clock: time.Now, Delivery: harborsim.DeliveryOptions{Workers: 16, BackoffScale: 0.001}},
		portsim.Options{ClientID: "bench-id", ClientSecret: "bench-secret"}, nil)
	hs, ps := sims.Harbor, sims.Port
	testenv.SetDefaultBlueprints(b, ps)
	hs.CreateProject("bench", true)
	o := Options{Listen: "127.0.0.1:0", DataDir: b.TempDir(), WebhookSecret: "Bearer bench-secret-0123456789", Concurrency: 8,
		HarborURL: sims.HarborURL, HarborUsername: "admin", HarborPassword: "Harbor12345",
		PortBaseURL: sims.PortURL, PortClientID: "bench-id", PortClientSecret: "bench-secret"}
	ctx, cancel := context.WithCancel(context.Background())
	addr := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, o, slog.New(slog.NewTextHandler(io.Discard, nil)), func(a string) { addr <- a })
	}()
	var listenerURL string
	select {
	case a := <-addr:
		listenerURL = "http://" + a
	case err := <-done:
		b.Fatal(err)
	}
	hc, err := harbor.New(harbor.Config{URL: sims.HarborURL, Username: "admin", Password: "Harbor12345"})
	if err != nil {
		b.Fatal(err)
	}
	_, err = hc.CreateWebhookPolicy(ctx, "bench", harbor.WebhookPolicy{Name: "harborport", Enabled: true,
		EventTypes: []string{"PUSH_ARTIFACT", "DELETE_ARTIFACT", "SCANNING_COMPLETED"},
		Targets:    []harbor.WebhookTarget{{Type: "http", Address: listenerURL + "/integration/webhook", AuthHeader: o.WebhookSecret, PayloadFormat: "CloudEvents"}}})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { // before the simulators close (StartSims's cleanups run after this one)
		cancel()
		if err := <-done; err != nil {
			b.Errorf("listener: %v", err)
		}
	})
	return &benchEnv{hs: hs, ps: ps, cancel: cancel, done: done}
}

// BenchmarkListenerIntake pushes a burst of artifacts and measures how fast
// the listener accepts Harbor's deliveries (durably spooled, 2xx answered),
// and how long until Port holds every artifact.
func BenchmarkListenerIntake(b *testing.B) {
	const n = 2000
	for range b.N {
		b.StopTimer()
		e := newBenchEnv(b)
		b.StartTimer()
		start := time.Now()
		for i := range n {
			if _, err := e.hs.PushArtifact("bench", fmt.Sprintf("repo-%02d", i%20), []string{fmt.Sprintf("t%d", i)}, harborsim.PushOptions{}); err != nil {
				b.Fatal(err)
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		if err := e.hs.WaitIdle(ctx); err != nil {
			b.Fatal(err)
		}
		accepted := time.Since(start)
		for e.ps.EntityCount("harborArtifact") < n {
			if ctx.Err() != nil {
				b.Fatalf("only %d of %d artifacts reached Port", e.ps.EntityCount("harborArtifact"), n)
			}
			time.Sleep(5 * time.Millisecond)
		}
		cancel()
		all := time.Since(start)
		failed := 0
		for _, a := range e.hs.DeliveryLog() {
			if !a.OK() {
				failed++
			}
		}
		if failed > 0 {
			b.Fatalf("%d deliveries failed", failed)
		}
		b.ReportMetric(float64(n)/accepted.Seconds(), "accepted_events/s")
		b.ReportMetric(float64(n)/all.Seconds(), "events_in_port/s")
	}
}

// BenchmarkListenerLatency pushes artifacts at a steady 100 per second and
// measures push → entity in Port.
func BenchmarkListenerLatency(b *testing.B) {
	const n, rate = 500, 100
	for range b.N {
		b.StopTimer()
		e := newBenchEnv(b)
		b.StartTimer()
		var mu sync.Mutex
		var lat []time.Duration
		var wg sync.WaitGroup
		tick := time.NewTicker(time.Second / rate)
		for i := range n {
			<-tick.C
			t0 := time.Now()
			d, err := e.hs.PushArtifact("bench", fmt.Sprintf("repo-%02d", i%20), []string{fmt.Sprintf("t%d", i)}, harborsim.PushOptions{})
			if err != nil {
				b.Fatal(err)
			}
			id := fmt.Sprintf("bench/repo-%02d@%s", i%20, d)
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					if _, ok := e.ps.Entity("harborArtifact", id); ok {
						mu.Lock()
						lat = append(lat, time.Since(t0))
						mu.Unlock()
						return
					}
					if time.Since(t0) > time.Minute {
						b.Errorf("%s never reached Port", id)
						return
					}
					time.Sleep(time.Millisecond)
				}
			}()
		}
		tick.Stop()
		wg.Wait()
		sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
		pct := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000 }
		b.ReportMetric(pct(0.50), "p50_ms")
		b.ReportMetric(pct(0.99), "p99_ms")
		b.ReportMetric(pct(1.0), "max_ms")
	}
}
