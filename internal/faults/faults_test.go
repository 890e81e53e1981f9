package faults

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

// scenario is one row of the table.
type scenario struct {
	name string
	run  func(t *testing.T, rep *report)
}

// scenarios in the order they run (and are printed).
func scenarios() []scenario {
	return []scenario{
		{"port-429-storm/x-ratelimit-reset-relative", func(t *testing.T, r *report) { portRateLimitStorm(t, r, false) }},
		{"port-429-storm/x-ratelimit-reset-epoch", func(t *testing.T, r *report) { portRateLimitStorm(t, r, true) }},
		{"port-5xx-burst/before-write", func(t *testing.T, r *report) { port5xxBurst(t, r, false) }},
		{"port-5xx-burst/after-write", func(t *testing.T, r *report) { port5xxBurst(t, r, true) }},
		{"port-token-expiry-mid-sync", portTokenExpiry},
		{"port-207-partial-bulk-failure", portPartialBulk},
		{"port-413-oversized-batch", portOversizedBatch},
		{"harbor-5xx-burst", harbor5xxBurst},
		{"harbor-hanging-connections", harborHang},
		{"harbor-credentials-revoked-mid-run", harborCredentialsRevoked},
		{"listener-sigkill-mid-burst-full-spool", listenerKillMidBurst},
		{"spool-disk-full", spoolDiskFull},
		{"terraform-apply-sigint-then-rerun", terraformInterrupted},
	}
}

// TestFaults runs every scenario as a subtest and prints the summary table.
func TestFaults(t *testing.T) {
	skipUnlessFaults(t)
	type row struct {
		name, result, requests string
		took                   time.Duration
		notes                  []string
	}
	var rows []row
	start := time.Now()
	for _, sc := range scenarios() {
		rep := &report{}
		began := time.Now()
		var skipped, ran bool
		ok := t.Run(sc.name, func(t *testing.T) {
			ran = true
			defer func() { skipped = t.Skipped() }()
			sc.run(t, rep)
		})
		result := "PASS"
		switch {
		case !ran:
			continue // filtered out by -run
		case skipped:
			result = "SKIP"
		case !ok:
			result = "FAIL"
		}
		rows = append(rows, row{sc.name, result, rep.requests(), time.Since(began), rep.notes})
	}

	var b strings.Builder
	w0, w2 := len("scenario"), len("requests (H = Harbor, P = Port; non-2xx in brackets)")
	for _, r := range rows {
		w0 = max(w0, len(r.name))
		w2 = max(w2, len([]rune(r.requests)))
	}
	line := func(a, b2, c, d string) string {
		return fmt.Sprintf("| %-*s | %-6s | %s%s | %8s |\n", w0, a, b2, c, strings.Repeat(" ", w2-len([]rune(c))), d)
	}
	fmt.Fprintf(&b, "\nharborport fault suite (%s total)\n", time.Since(start).Round(100*time.Millisecond))
	b.WriteString(line("scenario", "result", "requests (H = Harbor, P = Port; non-2xx in brackets)", "time"))
	fmt.Fprintf(&b, "|%s|%s|%s|%s|\n", strings.Repeat("-", w0+2), strings.Repeat("-", 8), strings.Repeat("-", w2+2), strings.Repeat("-", 10))
	for _, r := range rows {
		b.WriteString(line(r.name, r.result, r.requests, r.took.Round(100*time.Millisecond).String()))
	}
	var notes []string
	for _, r := range rows {
		for _, n := range r.notes {
			notes = append(notes, "  "+r.name+": "+n)
		}
	}
	if len(notes) > 0 {
		b.WriteString("notes:\n" + strings.Join(notes, "\n") + "\n")
	}
	if _, err := fmt.Fprint(os.Stdout, b.String()); err != nil {
		t.Errorf("writing the fault suite report: %v", err)
	}
}
