package soak

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/harborport/terraform-provider-harborport/internal/testenv"
)

// tfStats counts terraform runs by kind, their failures (by first error
// summary: expected ones come from the injected Port faults) and the
// planned changes conditional apply skipped.
type tfStats struct {
	mu       sync.Mutex
	runs     map[string]int
	failures map[string]int
	skipped  int
	took     time.Duration
}

func (s *tfStats) add(kind string, res testenv.TFResult) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.runs == nil {
		s.runs, s.failures = map[string]int{}, map[string]int{}
	}
	s.runs[kind]++
	s.took += res.Took
	for _, d := range res.Find("Planned Changes Skipped") {
		if n, err := strconv.Atoi(strings.Fields(d.Detail)[0]); err == nil {
			s.skipped += n
		}
	}
	if res.ExitCode != 0 {
		why := "exit " + strconv.Itoa(res.ExitCode)
		for _, d := range res.Diags {
			if d.Severity == "error" {
				why = d.Summary
				break
			}
		}
		s.failures[kind+": "+why]++
	}
}

// report prints the soak's table.
func (s *soak) report(out io.Writer) {
	var w strings.Builder
	defer func() { _, _ = io.WriteString(out, w.String()) }()
	m := s.mon
	m.mu.Lock()
	defer m.mu.Unlock()
	fmt.Fprintf(&w, "\n=== convergence soak: seed %d, %s of operations, quiescence %s ===\n", s.seed, *durationFlag, s.quiesced.Round(time.Millisecond))
	fmt.Fprintf(&w, "%-34s %6s %9s %6s %9s %9s %9s\n", "operation", "count", "reflected", "late", "p50", "p99", "max")
	byType := map[string][]*opRec{}
	for _, o := range m.ops {
		byType[o.typ] = append(byType[o.typ], o)
	}
	var all []time.Duration
	for _, typ := range sortedKeys(byType) {
		var lat []time.Duration
		late := 0
		for _, o := range byType[typ] {
			if o.late {
				late++
				continue
			}
			if o.reflected > 0 {
				lat = append(lat, o.reflected)
			}
		}
		all = append(all, lat...)
		fmt.Fprintf(&w, "%-34s %6d %9d %6d %9s %9s %9s\n", typ, len(byType[typ]), len(lat), late, pct(lat, 50), pct(lat, 99), pct(lat, 100))
	}
	fmt.Fprintf(&w, "%-34s %6d %9d %6s %9s %9s %9s\n", "all", len(m.ops), len(all), "", pct(all, 50), pct(all, 99), pct(all, 100))
	fmt.Fprintf(&w, "(reflected: Port showed the operation's Harbor version (or a later one) within the run; late: only after\n"+
		" quiescence and the final apply. Staleness is measured by a monitor polling Port every 100 ms.)\n")
	fmt.Fprintf(&w, "regressions observed: %d (%d polls, %d entity observations, %d ambiguous absences skipped)\n",
		len(m.regressions), m.polls, m.observed, m.ambiguous)
	for i, r := range m.regressions {
		if i == 5 {
			fmt.Fprintf(&w, "  … and %d more\n", len(m.regressions)-5)
			break
		}
		fmt.Fprintf(&w, "  %s\n", r)
	}
	yes := map[bool]string{true: "yes", false: "NO"}
	fmt.Fprintf(&w, "final invariant: apply after quiescence ok: %s; Port equals a fresh full sync: %s; next plan empty: %s\n",
		yes[s.final.applyOK], yes[s.final.inSync], yes[s.final.planEmpty])
	s.tfStats.mu.Lock()
	var runs []string
	for _, k := range sortedKeys(s.tfStats.runs) {
		runs = append(runs, fmt.Sprintf("%s %d", k, s.tfStats.runs[k]))
	}
	fmt.Fprintf(&w, "terraform: %s; planned changes skipped by conditional apply: %d; terraform time %s\n",
		strings.Join(runs, ", "), s.tfStats.skipped, s.tfStats.took.Round(time.Second))
	for _, k := range sortedKeys(s.tfStats.failures) {
		fmt.Fprintf(&w, "  failed run: %s ×%d\n", k, s.tfStats.failures[k])
	}
	s.tfStats.mu.Unlock()
	s.statsMu.Lock()
	var chaos []string
	for _, k := range sortedKeys(s.chaosN) {
		chaos = append(chaos, fmt.Sprintf("%s ×%d", k, s.chaosN[k]))
	}
	s.statsMu.Unlock()
	fmt.Fprintf(&w, "faults: %s; webhook deliveries: %d attempts, %d dropped (DropRate 3%%), shuffled, 5%% duplicated\n",
		strings.Join(chaos, ", "), len(s.hs.DeliveryLog()), s.hs.Dropped())
	fmt.Fprintf(&w, "listener: %d periodic resyncs (--resync-interval 1m), audit-log feed (--audit-poll-interval 1s): %d commits of records, %d full resyncs for lost records (all runs' log)\n",
		s.lis.Count("periodic resync done"), s.lis.Count(`msg="audit records spooled"`), s.lis.Count("full resync (audit records lost) done"))
}

func pct(d []time.Duration, p int) string {
	if len(d) == 0 {
		return "-"
	}
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	i := (len(s)*p + 99) / 100
	i = min(max(i-1, 0), len(s)-1)
	return s[i].Round(10 * time.Millisecond).String()
}
