package catalog

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
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
	"github.com/harborport/terraform-provider-harborport/internal/testenv"
)

// Benchmarks of a full resync and of a no-op plan against the simulators
// with a fixed per-request latency, so the figures show how close the engine
// gets to what its request count allows (results: BENCHMARKS.md).
//
//	go test ./internal/catalog -run '^$' -bench . -benchtime 1x                          # 1k
//	HARBORPORT_BENCH_LARGE=1 go test ./internal/catalog -run '^$' -bench . -benchtime 1x # + 100k
//
// The simulators run in a separate process (the sandbox command, built once
// per test run), so the test process's CPU time and peak RSS are the
// engine's and its clients' alone; the sandbox's are reported separately.
//
// Metrics per op: requests per endpoint group, ideal_ms = minimum request
// count × latency ÷ concurrency (every request overlapped perfectly), ratio =
// wall ÷ ideal, cpu_ms (this process, getrusage), peak-RSS-MB (this
// process's VmHWM, reset before each benchmark), sandbox-cpu_ms and
// sandbox-RSS-MB (the simulators' process, from /proc/<pid>).

const (
	benchLatency     = 5 * time.Millisecond
	benchConcurrency = 8 // the provider's max_concurrency default
	largeEnv         = "HARBORPORT_BENCH_LARGE"
	benchClientID    = "bench-client"
	benchSecret      = "bench-secret"
)

type benchSize struct {
	name  string
	seed  string // the sandbox's -harbor-seed PROJECTSxREPOSxARTIFACTS
	large bool
}

// Harbor's seed leaves every 6th project empty and counts index children
// (hidden from listings) in ArtifactsPerRepo, hence these numbers:
// 1k = 10 non-empty projects × 10 repositories → 1,048 listed artifacts;
// 100k = 20 × 100 = 2,000 repositories → 100,622 listed artifacts.
var benchSizes = []benchSize{
	{name: "1k", seed: "12x10x13"},
	{name: "100k", seed: "24x100x61", large: true},
}

func (s benchSize) skip(b *testing.B) {
	if s.large && os.Getenv(largeEnv) != "1" {
		b.Skipf("the %s case is heavy (about a minute, ~1 GB across both processes): set %s=1 to run it", s.name, largeEnv)
	}
}

// benchGC runs a benchmark with the provider process's GC settings (gc.go).
func benchGC(b *testing.B) {
	old := debug.SetGCPercent(gcPercent)
	oldLimit := debug.SetMemoryLimit(memoryLimit)
	b.Cleanup(func() { debug.SetGCPercent(old); debug.SetMemoryLimit(oldLimit) })
}

// BenchmarkResync times Compute + Apply into an empty Port.
func BenchmarkResync(b *testing.B) {
	benchGC(b)
	bin := testenv.Build(b, testenv.ModulePath+"/internal/sandbox/cmd/sandbox")
	for _, size := range benchSizes {
		b.Run(size.name, func(b *testing.B) {
			size.skip(b)
			var least minRequests
			var got requestCounts
			var cpu time.Duration
			var sb *sandbox

			b.ResetTimer()
			b.StopTimer()
			for range b.N {
				if sb != nil {
					sb.stop()
				}
				sb = startSandbox(b, bin, size.seed) // a fresh, empty Port each time
				hc, pc := sb.clients(b)
				eng, err := newEngine(hc, pc)
				if err != nil {
					b.Fatal(err)
				}
				h0, p0 := hc.Stats(), pc.Stats()
				resetPeakRSS()
				sb.markCPU()

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
				sb.addCPU()

				if err != nil || res.Created != len(rep.Changeset.Changes) {
					b.Fatalf("apply: %v (%+v of %d)", err, res, len(rep.Changeset.Changes))
				}
				got = countRequests(hc, pc, h0, p0)
				least = minimumRequests(rep, nil)
			}
			reportBench(b, got, least, cpu, sb)
			sb.stop()
		})
	}
}

// BenchmarkNoopPlan times Compute after a full apply: it must find nothing
// to do, write nothing and read each blueprint in ceil(n/1000) pages.
func BenchmarkNoopPlan(b *testing.B) {
	benchGC(b)
	bin := testenv.Build(b, testenv.ModulePath+"/internal/sandbox/cmd/sandbox")
	for _, size := range benchSizes {
		b.Run(size.name, func(b *testing.B) {
			size.skip(b)
			sb := startSandbox(b, bin, size.seed)
			defer sb.stop()
			hc, pc := sb.clients(b)
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
			inPort := map[string]int{}
			for _, ch := range first.Changeset.Changes {
				inPort[ch.Blueprint]++
			}
			first = nil // not counted in the peak RSS
			var least minRequests
			var got requestCounts
			var cpu time.Duration
			resetPeakRSS()

			b.ResetTimer()
			for range b.N {
				h0, p0 := hc.Stats(), pc.Stats()
				var rep *Report
				sb.markCPU()
				cpu0 := cpuTime()
				pprof.Do(context.Background(), timedLabel, func(ctx context.Context) {
					if rep, err = eng.Compute(ctx); err != nil {
						b.Fatal(err)
					}
				})
				b.StopTimer()
				cpu += cpuTime() - cpu0
				sb.addCPU()
				if !rep.Changeset.Empty() {
					b.Fatalf("a no-op plan found %d changes: %v", len(rep.Changeset.Changes), rep.Changeset.Preview(5))
				}
				got = countRequests(hc, pc, h0, p0)
				least = minimumRequests(rep, inPort)
				if got.portWrite != 0 {
					b.Fatalf("a no-op plan wrote to Port %d times", got.portWrite)
				}
				if got.portSearch > least.portSearch {
					b.Fatalf("a no-op plan read %d search pages, want at most %d (ceil(n/1000) per blueprint)", got.portSearch, least.portSearch)
				}
				b.StartTimer()
			}
			b.StopTimer()
			reportBench(b, got, least, cpu, sb)
		})
	}
}

// sandbox is a running simulators process.
type sandbox struct {
	cmd                *exec.Cmd
	harborURL, portURL string
	cpuMark, cpu       time.Duration
	exited             chan struct{}
}

// startSandbox starts the sandbox seeded with seed and the benchmark's
// latency, and waits until it has written its addresses (it seeds first).
func startSandbox(b *testing.B, bin, seed string) *sandbox {
	b.Helper()
	dir := b.TempDir()
	addrFile := filepath.Join(dir, "addr")
	logf, err := os.Create(filepath.Join(dir, "sandbox.log"))
	if err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command(bin, "-demo-data=false", "-harbor-no-library", "-harbor-seed", seed, "-harbor-seed-users", "5",
		"-latency", benchLatency.String(), "-port-client-id", benchClientID, "-port-client-secret", benchSecret,
		"-addr-file", addrFile)
	if prof := os.Getenv("HARBORPORT_BENCH_SANDBOX_CPUPROFILE"); prof != "" {
		cmd.Args = append(cmd.Args, "-cpuprofile", prof) // the last sandbox's run wins
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		b.Fatalf("starting the sandbox: %v", err)
	}
	sb := &sandbox{cmd: cmd, exited: make(chan struct{})}
	go func() { _ = cmd.Wait(); _ = logf.Close(); close(sb.exited) }() // the log is best effort
	deadline := time.Now().Add(3 * time.Minute)
	for {
		raw, _ := os.ReadFile(addrFile)
		for _, line := range strings.Split(string(raw), "\n") {
			if v, ok := strings.CutPrefix(line, "HARBOR_URL="); ok {
				sb.harborURL = v
			}
			if v, ok := strings.CutPrefix(line, "PORT_BASE_URL="); ok {
				sb.portURL = v
			}
		}
		if sb.harborURL != "" && sb.portURL != "" && strings.HasSuffix(string(raw), "\n") {
			return sb
		}
		select {
		case <-sb.exited:
			out, _ := os.ReadFile(logf.Name())
			b.Fatalf("the sandbox exited before listening:\n%s", out)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			sb.stop()
			b.Fatalf("the sandbox did not write %s within 3 minutes", addrFile)
		}
	}
}

// clients connects the real clients as the provider would, and creates the
// default blueprints (outside the timer).
func (sb *sandbox) clients(b *testing.B) (*harbor.Client, *port.Client) {
	b.Helper()
	hc, err := harbor.New(harbor.Config{URL: sb.harborURL, Username: harborAdmin, Password: harborPassword,
		MaxConcurrency: benchConcurrency, UserAgent: "harborport/bench",
		MaxRetries: 2, MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond, Timeout: 60 * time.Second})
	if err != nil {
		b.Fatal(err)
	}
	pc, err := port.New(port.Config{BaseURL: sb.portURL, ClientID: benchClientID, ClientSecret: benchSecret,
		UserAgent: "harborport/bench", Concurrency: benchConcurrency,
		MaxRetries: 2, MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond, MaxWait: 20 * time.Millisecond,
		PollInterval: 10 * time.Millisecond})
	if err != nil {
		b.Fatal(err)
	}
	if err := testenv.CreateDefaultBlueprints(context.Background(), pc); err != nil {
		b.Fatal(err)
	}
	return hc, pc
}

func (sb *sandbox) stop() {
	if sb == nil {
		return
	}
	_ = sb.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-sb.exited:
	case <-time.After(10 * time.Second):
		_ = sb.cmd.Process.Kill()
		<-sb.exited
	}
}

func (sb *sandbox) markCPU() { sb.cpuMark = procCPU(sb.cmd.Process.Pid) }
func (sb *sandbox) addCPU()  { sb.cpu += procCPU(sb.cmd.Process.Pid) - sb.cpuMark }

// procCPU is a process's user+system time from /proc/<pid>/stat (fields 14
// and 15, in clock ticks; Linux's USER_HZ is 100 on every common build).
func procCPU(pid int) time.Duration {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(raw)
	if i := strings.LastIndexByte(s, ')'); i >= 0 { // the command name may hold spaces
		s = s[i+2:]
	}
	f := strings.Fields(s) // f[0] is field 3 (state)
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * 10 * time.Millisecond
}

// requestCounts are the requests one op sent, by endpoint group.
type requestCounts struct {
	harborList, harborArtifacts     int
	portSearch, portWrite, portAuth int
	portOther                       int
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

// minimumRequests: inPort counts the entities Port holds per blueprint
// before the op (nil: none).
func minimumRequests(rep *Report, inPort map[string]int) minRequests {
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
		m.portSearch += pages(inPort[bp], 1000)
		if n := perBP[bp]; n > 0 {
			m.portWrite += pages(n, 20)
		}
	}
	return m
}

// timedLabel marks the timed work in CPU profiles (`go tool pprof
// -tagfocus phase=timed`): the engine's and both clients' goroutines
// inherit it; setup work and the runtime's background GC do not.
var timedLabel = pprof.Labels("phase", "timed")

// cpuTime is this process's user+system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func reportBench(b *testing.B, got requestCounts, least minRequests, cpu time.Duration, sb *sandbox) {
	wallMS := float64(b.Elapsed().Milliseconds()) / float64(b.N)
	idealMS := float64(least.total()) * float64(benchLatency.Milliseconds()) / benchConcurrency
	b.ReportMetric(float64(got.harborList), "harbor-list-req/op")
	b.ReportMetric(float64(got.harborArtifacts), "harbor-artifact-req/op")
	b.ReportMetric(float64(got.portSearch), "port-search-req/op")
	b.ReportMetric(float64(got.portWrite), "port-bulk-req/op")
	b.ReportMetric(float64(got.portAuth+got.portOther), "port-other-req/op")
	b.ReportMetric(float64(least.total()), "least-req/op")
	b.ReportMetric(idealMS, "ideal_ms")
	b.ReportMetric(wallMS, "wall_ms")
	b.ReportMetric(wallMS/idealMS, "ratio")
	// CPU in the timed part: near wall × cores means the op is CPU-bound,
	// not latency-bound (the machine's cores are shared with the sandbox).
	b.ReportMetric(float64(cpu.Milliseconds())/float64(b.N), "cpu_ms")
	b.ReportMetric(float64(sb.cpu.Milliseconds())/float64(b.N), "sandbox-cpu_ms")
	if hwm := peakRSSMB("self"); hwm > 0 {
		b.ReportMetric(hwm, "peak-RSS-MB")
	}
	if hwm := peakRSSMB(strconv.Itoa(sb.cmd.Process.Pid)); hwm > 0 {
		b.ReportMetric(hwm, "sandbox-RSS-MB")
	}
}

// resetPeakRSS returns freed memory to the OS and resets VmHWM (writing 5
// to clear_refs, Linux ≥ 4.0), so the peak reported is this benchmark's,
// not an earlier one's in the same process. Elsewhere it does nothing.
func resetPeakRSS() {
	runtime.GC()
	debug.FreeOSMemory()
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
}

// peakRSSMB reads VmHWM, a process's peak resident set (Linux only; 0
// elsewhere).
func peakRSSMB(pid string) float64 {
	f, err := os.Open("/proc/" + pid + "/status")
	if err != nil {
		return 0
	}
	defer func() { _ = f.Close() }() // read-only
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return kb / 1024
		}
	}
	return 0
}

// BenchmarkConditionalApply times Apply alone (the plan is computed outside
// the timer) of a first sync into an empty Port, and reports what the
// conditional apply (internal/DESIGN.md "Conditional apply (two writers)")
// adds to the writes: the Port searches that re-read each chunk
// (check-search-req/op, bound ceil(changes/1000) per blueprint) and the
// Harbor requests that re-derive the bodies (rederive-req/op).
func BenchmarkConditionalApply(b *testing.B) {
	benchGC(b)
	bin := testenv.Build(b, testenv.ModulePath+"/internal/sandbox/cmd/sandbox")
	for _, size := range benchSizes {
		b.Run(size.name, func(b *testing.B) {
			size.skip(b)
			var got requestCounts
			var changes, bound int
			var cpu time.Duration
			var sb *sandbox
			b.ResetTimer()
			b.StopTimer()
			for range b.N {
				if sb != nil {
					sb.stop()
				}
				sb = startSandbox(b, bin, size.seed)
				hc, pc := sb.clients(b)
				eng, err := newEngine(hc, pc)
				if err != nil {
					b.Fatal(err)
				}
				rep, err := eng.Compute(context.Background())
				if err != nil {
					b.Fatal(err)
				}
				cs := rep.Changeset
				changes, bound = len(cs.Changes), 0
				perBP := map[string]int{}
				for _, ch := range cs.Changes {
					perBP[ch.Blueprint]++
				}
				for _, n := range perBP {
					bound += (n + applyChunk - 1) / applyChunk
				}
				h0, p0 := hc.Stats(), pc.Stats()
				resetPeakRSS()
				sb.markCPU()
				cpu0 := cpuTime()
				var res Result
				b.StartTimer()
				pprof.Do(context.Background(), timedLabel, func(ctx context.Context) { res, err = eng.Apply(ctx, cs) })
				b.StopTimer()
				cpu += cpuTime() - cpu0
				sb.addCPU()
				if err != nil || res.Created != changes {
					b.Fatalf("apply: %v (%+v of %d)", err, res, changes)
				}
				got = countRequests(hc, pc, h0, p0)
				if got.portSearch > bound {
					b.Fatalf("apply re-read Port with %d searches, bound %d", got.portSearch, bound)
				}
			}
			b.ReportMetric(float64(changes), "changes/op")
			b.ReportMetric(float64(got.portSearch), "check-search-req/op")
			b.ReportMetric(float64(bound), "check-search-bound/op")
			b.ReportMetric(float64(got.harborList+got.harborArtifacts), "rederive-req/op")
			b.ReportMetric(float64(got.portWrite), "port-bulk-req/op")
			b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "wall_ms")
			b.ReportMetric(float64(cpu.Milliseconds())/float64(b.N), "cpu_ms")
			if hwm := peakRSSMB("self"); hwm > 0 {
				b.ReportMetric(hwm, "peak-RSS-MB")
			}
			sb.stop()
		})
	}
}

// BenchmarkRateLimitedSync is a first sync of ~10k artifacts into a Port
// that allows 100 requests per 10 s in fixed windows, with Port's
// x-ratelimit-* headers (the limit the ratio is judged by). The client paces
// itself from the headers (internal/port/pace.go): the target is 0 × 429 and
// a wall time within 1.05 × the fixed-window floor, (ceil(requests/100) − 1)
// × 10 s. About a minute: HARBORPORT_BENCH_LARGE=1.
func BenchmarkRateLimitedSync(b *testing.B) {
	if os.Getenv(largeEnv) != "1" {
		b.Skipf("about a minute of waiting for rate-limit windows: set %s=1", largeEnv)
	}
	const limit, window = 100, 10 * time.Second
	for range b.N {
		b.StopTimer()
		e := newEnv(b, envOptions{noLibrary: true})
		e.hsim.Seed(harborsim.SeedConfig{Projects: 12, ReposPerProject: 10, ArtifactsPerRepo: 120, Users: 5, Seed: 3})
		eng := e.engine()
		e.psim.SetFaults(portsim.Faults{RateLimit: limit, RateLimitPeriod: window, ResetEpoch: true})
		e.resetRequests()
		b.StartTimer()
		start := time.Now()
		rep := e.compute(eng)
		res := e.apply(eng, rep.Changeset)
		wall := time.Since(start)
		b.StopTimer()
		e.settle()
		ok, n429 := 0, 0
		for _, r := range e.psim.RequestLog() {
			switch {
			case r.Route == routeAuth:
			case r.Status == 429:
				n429++
			default:
				ok++
			}
		}
		floor := time.Duration((ok+limit-1)/limit-1) * window
		b.ReportMetric(float64(res.Created), "entities/op")
		b.ReportMetric(float64(ok), "port-req/op")
		b.ReportMetric(float64(n429), "429/op")
		b.ReportMetric(wall.Seconds(), "wall_s")
		b.ReportMetric(floor.Seconds(), "floor_s")
		b.ReportMetric(wall.Seconds()/floor.Seconds(), "ratio")
		e.psim.SetFaults(portsim.Faults{})
	}
}
