package catalog

import (
	"bufio"
	"context"
	"os"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/harborport/terraform-provider-harborport/internal/harbor"
	"github.com/harborport/terraform-provider-harborport/internal/port"
	"github.com/harborport/terraform-provider-harborport/internal/sandbox/harborsim"
	"github.com/harborport/terraform-provider-harborport/internal/sandbox/portsim"
)

// Benchmarks of a full resync and of a no-op plan against the simulators
// with a fixed per-request latency, so the figures show how close the engine
// gets to what its request count allows (results: BENCHMARKS.md).
//
//	go test ./internal/catalog -run '^$' -bench . -benchtime 1x                          # 1k
//	HARBORPORT_BENCH_LARGE=1 go test ./internal/catalog -run '^$' -bench . -benchtime 1x # + 100k
//
// Metrics per op: requests per endpoint group, ideal_ms = minimum request
// count × latency ÷ concurrency (every request overlapped perfectly), ratio =
// wall ÷ ideal, and the process's peak RSS (VmHWM: process-wide, so it
// includes both simulators holding the whole catalog).

const (
	benchLatency     = 5 * time.Millisecond
	benchConcurrency = 8 // the provider's max_concurrency default
	largeEnv         = "HARBORPORT_BENCH_LARGE"
)

type benchSize struct {
	name  string
	seed  harborsim.SeedConfig
	large bool
}

// Harbor's seed leaves every 6th project empty and counts index children
// (hidden from listings) in ArtifactsPerRepo, hence these numbers:
// 1k = 10 non-empty projects × 10 repositories → 1,048 listed artifacts;
// 100k = 20 × 100 = 2,000 repositories → 100,622 listed artifacts.
var benchSizes = []benchSize{
	{name: "1k", seed: harborsim.SeedConfig{Projects: 12, ReposPerProject: 10, ArtifactsPerRepo: 13, Users: 5, Seed: 1}},
	{name: "100k", seed: harborsim.SeedConfig{Projects: 24, ReposPerProject: 100, ArtifactsPerRepo: 61, Users: 5, Seed: 1}, large: true},
}

func (s benchSize) skip(b *testing.B) {
	if s.large && os.Getenv(largeEnv) != "1" {
		b.Skipf("the %s case is heavy (minutes, ~1 GB): set %s=1 to run it", s.name, largeEnv)
	}
}

// BenchmarkResync times Compute + Apply into an empty Port.
func BenchmarkResync(b *testing.B) {
	for _, size := range benchSizes {
		b.Run(size.name, func(b *testing.B) {
			size.skip(b)
			o := envOptions{noLibrary: true}.withDefaults()
			hsim, hc, closeH := startHarbor(b, o)
			defer closeH()
			hsim.Seed(size.seed)
			hsim.SetFaults(harborsim.Faults{Latency: benchLatency})
			var min minRequests
			var got requestCounts
			var cpu time.Duration

			b.ResetTimer()
			b.StopTimer()
			for range b.N {
				psim, pc, closeP := startPort(b, o) // a fresh, empty Port each time
				psim.SetFaults(portFaults(benchLatency))
				eng, err := newEngine(hc, pc)
				if err != nil {
					b.Fatal(err)
				}
				h0, p0 := hc.Stats(), pc.Stats()

				var rep *Report
				var res Result
				cpu0 := cpuTime()
				b.StartTimer()
				pprof.Do(context.Background(), timedLabel, func(ctx context.Context) {
					if rep, err = eng.Compute(ctx); err != nil {
						b.Fatal(err)
					}
					res, err = eng.Apply(ctx, rep.Changeset)
				})
				b.StopTimer()
				cpu += cpuTime() - cpu0

				if err != nil || res.Created != len(rep.Changeset.Changes) {
					b.Fatalf("apply: %v (%+v of %d)", err, res, len(rep.Changeset.Changes))
				}
				got = countRequests(hc, pc, h0, p0)
				min = minimumRequests(rep, nil)
				closeP()
			}
			reportBench(b, got, min, cpu)
		})
	}
}

// BenchmarkNoopPlan times Compute after a full apply: it must find nothing
// to do, write nothing and read each blueprint in ceil(n/1000) pages.
func BenchmarkNoopPlan(b *testing.B) {
	for _, size := range benchSizes {
		b.Run(size.name, func(b *testing.B) {
			size.skip(b)
			o := envOptions{noLibrary: true}.withDefaults()
			hsim, hc, closeH := startHarbor(b, o)
			defer closeH()
			psim, pc, closeP := startPort(b, o)
			defer closeP()
			hsim.Seed(size.seed)
			eng, err := newEngine(hc, pc)
			if err != nil {
				b.Fatal(err)
			}
			first, err := eng.Compute(context.Background())
			if err != nil {
				b.Fatal(err)
			}
			if _, err := eng.Apply(context.Background(), first.Changeset); err != nil {
				b.Fatal(err)
			}
			hsim.SetFaults(harborsim.Faults{Latency: benchLatency})
			psim.SetFaults(portFaults(benchLatency))
			var min minRequests
			var got requestCounts
			var cpu time.Duration

			b.ResetTimer()
			for range b.N {
				h0, p0 := hc.Stats(), pc.Stats()
				var rep *Report
				cpu0 := cpuTime()
				pprof.Do(context.Background(), timedLabel, func(ctx context.Context) {
					if rep, err = eng.Compute(ctx); err != nil {
						b.Fatal(err)
					}
				})
				b.StopTimer()
				cpu += cpuTime() - cpu0
				if !rep.Changeset.Empty() {
					b.Fatalf("a no-op plan found %d changes: %v", len(rep.Changeset.Changes), rep.Changeset.Preview(5))
				}
				got = countRequests(hc, pc, h0, p0)
				min = minimumRequests(rep, first)
				if got.portWrite != 0 {
					b.Fatalf("a no-op plan wrote to Port %d times", got.portWrite)
				}
				if got.portSearch > min.portSearch {
					b.Fatalf("a no-op plan read %d search pages, want at most %d (ceil(n/1000) per blueprint)", got.portSearch, min.portSearch)
				}
				b.StartTimer()
			}
			b.StopTimer()
			reportBench(b, got, min, cpu)
		})
	}
}

// requestCounts are the requests one op sent, by endpoint group.
type requestCounts struct {
	harborList, harborArtifacts     int
	portSearch, portWrite, portAuth int
	portOther                       int
}

func (c requestCounts) total() int {
	return c.harborList + c.harborArtifacts + c.portSearch + c.portWrite + c.portAuth + c.portOther
}

// countRequests groups the clients' request counts since h0/p0 (the
// clients count every attempt, and unlike the simulators' logs they are
// complete the moment a call returns).
func countRequests(hc *harbor.Client, pc *port.Client, h0, p0 map[string]int) requestCounts {
	var c requestCounts
	for route, n := range hc.Stats() {
		n -= h0[route]
		if strings.HasSuffix(route, "/artifacts") {
			c.harborArtifacts += n
		} else {
			c.harborList += n
		}
	}
	for route, n := range pc.Stats() {
		n -= p0[route]
		switch {
		case route == routeSearch:
			c.portSearch += n
		case route == routeAuth:
			c.portAuth += n
		case strings.HasPrefix(route, "GET "):
			c.portOther += n
		case strings.Contains(route, "/entities"):
			c.portWrite += n
		default:
			c.portOther += n
		}
	}
	return c
}

// minRequests is the fewest requests the op could make with Harbor's page
// size 100, Port's search limit 1000 and bulk sizes 20 (upsert) / 100 (delete).
type minRequests struct {
	harbor, portSearch, portWrite int
}

func (m minRequests) total() int { return m.harbor + m.portSearch + m.portWrite }

func minimumRequests(rep *Report, applied *Report) minRequests {
	var m minRequests
	pages := func(n, size int) int { return max(1, (n+size-1)/size) }
	items := rep.Items
	m.harbor = pages(items["project"], 100) + pages(items["user"], 100) + pages(items["repository"], 100)
	// One artifact listing per repository (none of the seeded repositories
	// holds more than 100 artifacts).
	m.harbor += items["repository"]
	perBP := map[string]int{}
	for _, ch := range rep.Changeset.Changes {
		perBP[ch.Blueprint]++
	}
	for _, bp := range []string{"harborProject", "harborUser", "harborRepository", "harborArtifact"} {
		inPort := 0
		if applied != nil {
			for _, ch := range applied.Changeset.Changes {
				if ch.Blueprint == bp {
					inPort++
				}
			}
		}
		m.portSearch += pages(inPort, 1000)
		if n := perBP[bp]; n > 0 {
			m.portWrite += pages(n, 20)
		}
	}
	return m
}

// timedLabel marks the timed work in CPU profiles: goroutines of the
// engine and both clients inherit it, the simulators' server goroutines do
// not, so `go tool pprof -tagfocus phase=timed` shows harborport's own share.
var timedLabel = pprof.Labels("phase", "timed")

// cpuTime is the process's user+system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func reportBench(b *testing.B, got requestCounts, min minRequests, cpu time.Duration) {
	wallMS := float64(b.Elapsed().Milliseconds()) / float64(b.N)
	idealMS := float64(min.total()) * float64(benchLatency.Milliseconds()) / benchConcurrency
	b.ReportMetric(float64(got.harborList), "harbor-list-req/op")
	b.ReportMetric(float64(got.harborArtifacts), "harbor-artifact-req/op")
	b.ReportMetric(float64(got.portSearch), "port-search-req/op")
	b.ReportMetric(float64(got.portWrite), "port-bulk-req/op")
	b.ReportMetric(float64(got.portAuth+got.portOther), "port-other-req/op")
	b.ReportMetric(float64(min.total()), "min-req/op")
	b.ReportMetric(idealMS, "ideal_ms")
	b.ReportMetric(wallMS, "wall_ms")
	b.ReportMetric(wallMS/idealMS, "ratio")
	// Process CPU in the timed part (clients, engine, both simulators, GC):
	// near wall × cores means the op is CPU-bound, not latency-bound.
	b.ReportMetric(float64(cpu.Milliseconds())/float64(b.N), "cpu_ms")
	if hwm := peakRSSMB(); hwm > 0 {
		b.ReportMetric(hwm, "peak-RSS-MB")
	}
}

// peakRSSMB reads VmHWM, the process's peak resident set (Linux only; 0
// elsewhere). It is process-wide: simulators and earlier benchmarks count.
func peakRSSMB() float64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return kb / 1024
		}
	}
	return 0
}

func portFaults(latency time.Duration) portsim.Faults { return portsim.Faults{Latency: latency} }
