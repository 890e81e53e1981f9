package faults

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/harborport/terraform-provider-harborport/internal/sandbox/harborsim"
	"github.com/harborport/terraform-provider-harborport/internal/sandbox/portsim"
)

// Listener scenarios: the listener process itself dies or its spool's file
// system fills up. Harbor's retries are scaled to 1/10 of the real timing
// (2nd attempt 1.6-7.4 s after the 1st, 3rd 3.1-11.8 s later), which is the
// window a restart has to come back in; with real timing it is 16-118 s.
var slowRetries = harborsim.DeliveryOptions{BackoffScale: 0.1}

// portDown makes every Port API call answer 503 (the token route still
// works, as it is exempt from injected faults).
func portDown(w *world) { w.ps.SetFaults(portsim.Faults{FailNext: 1 << 30, FailStatus: 503}) }

// Port is down, so the spool only grows; a burst of pushes is being
// delivered when the listener gets SIGKILL. Events acknowledged before the
// kill are on disk; deliveries cut by the kill are retried by Harbor into
// the restarted listener. Every pushed artifact ends up in Port.
func listenerKillMidBurst(t *testing.T, rep *report) {
	skipUnlessFaults(t)
	w := newWorld(t, rep, worldOpts{delivery: slowRetries})
	l := w.startListener(harborAdmin, harborPassword)
	portDown(w)
	const burst = 40
	digests := make([]string, burst)
	for i := range burst {
		d, err := w.hs.PushArtifact("apps", fmt.Sprintf("burst-%d", i%8), []string{fmt.Sprintf("b%d", i)}, harborsim.PushOptions{})
		if err != nil {
			t.Fatal(err)
		}
		digests[i] = d
	}
	w.waitFor("a third of the burst acknowledged", 30*time.Second, func() bool { return l.count("webhook accepted") >= burst/3 })
	l.stop(syscall.SIGKILL)
	accepted := l.count("webhook accepted")
	pending := w.hs.PendingDeliveries()
	if pending == 0 {
		t.Fatal("the kill came after the burst: no delivery was pending")
	}
	w.ps.SetFaults(portsim.Faults{})
	l.start("")
	for i, d := range digests {
		w.waitFor("every artifact of the burst in Port", 90*time.Second, func() bool { return w.inPort(fmt.Sprintf("burst-%d", i%8), d) })
	}
	attempts, failed := w.noLostEvents(90 * time.Second)
	if failed == 0 {
		t.Fatal("no delivery failed: the kill did not happen mid-burst")
	}
	rep.note("SIGKILL with %d of %d deliveries acknowledged (spooled, Port down) and %d pending; %d attempts, %d failed and retried, none lost",
		accepted, burst, pending, attempts, failed)
	w.invariant(60 * time.Second)
}

// The spool's file system is full: the listener runs under a file-size limit
// (ulimit -f) of twice the spool's current size, so bbolt can grow the file
// once, and then not (EFBIG; Go ignores SIGXFSZ). With Port down the spool only grows. The
// listener must answer 503 so Harbor retries, say why in its log, and after
// space returns (a restart without the limit) every event must land.
func spoolDiskFull(t *testing.T, rep *report) {
	skipUnlessFaults(t)
	w := newWorld(t, rep, worldOpts{delivery: slowRetries})
	l := w.startListener(harborAdmin, harborPassword)
	l.stop(syscall.SIGTERM)
	fi, err := os.Stat(filepath.Join(l.dataDir, "spool.db"))
	if err != nil {
		t.Fatal(err)
	}
	// Room for the file to grow once (bbolt doubles it): a few dozen events
	// are spooled before the disk is full.
	limitKB := 2 * fi.Size() / 1024
	l.start(fmt.Sprint(limitKB))
	portDown(w)

	var digests []string
	full := func() bool {
		for _, a := range w.hs.DeliveryLog() {
			if a.StatusCode == 503 {
				return true
			}
		}
		return false
	}
	for i := 0; !full(); i++ {
		if i == 2000 {
			t.Fatalf("2000 events fit in a %d KiB spool: the limit did not bite%s", limitKB, w.listenerLogTail())
		}
		d, err := w.hs.PushArtifact("apps", fmt.Sprintf("disk-%d", i), []string{"v1"}, harborsim.PushOptions{})
		if err != nil {
			t.Fatal(err)
		}
		digests = append(digests, d)
		// One push at a time, so the burst stops right after the disk fills.
		w.waitFor("the delivery of the push", 30*time.Second, func() bool { return w.hs.PendingDeliveries() == 0 || full() })
	}
	// A few more while the disk is full: refused with 503, not acknowledged.
	for i := range 3 {
		d, err := w.hs.PushArtifact("apps", fmt.Sprintf("disk-full-%d", i), []string{"v1"}, harborsim.PushOptions{})
		if err != nil {
			t.Fatal(err)
		}
		digests = append(digests, d)
	}
	w.waitFor("deliveries during the full disk answered 503", 30*time.Second, func() bool {
		n := 0
		for _, a := range w.hs.DeliveryLog() {
			if a.StatusCode == 503 {
				n++
			}
		}
		return n >= 4
	})
	var logged string
	w.waitFor("the spool error in the listener log", 10*time.Second, func() bool {
		for _, line := range strings.Split(l.log(), "\n") {
			if strings.Contains(line, "spool write failed") {
				logged = line
				return true
			}
		}
		return false
	})
	if !strings.Contains(logged, "file too large") && !strings.Contains(logged, "no space") {
		t.Fatalf("the log does not say the disk is full: %s", logged)
	}
	for _, a := range w.hs.DeliveryLog() {
		if a.StatusCode == 503 && a.Final {
			t.Fatalf("Harbor gave up on an event already: %+v", a)
		}
	}
	accepted := l.count("webhook accepted")
	refused := l.count("spool write failed")

	// Space returns: the listener restarts without the limit, Port is back.
	l.stop(syscall.SIGKILL)
	w.ps.SetFaults(portsim.Faults{})
	l.start("")
	for i, d := range digests {
		repo := fmt.Sprintf("disk-%d", i)
		if i >= len(digests)-3 {
			repo = fmt.Sprintf("disk-full-%d", i-(len(digests)-3))
		}
		w.waitFor("every event of the burst in Port", 90*time.Second, func() bool { return w.inPort(repo, d) })
	}
	attempts, failed := w.noLostEvents(90 * time.Second)
	rep.note("spool limited to %d KiB: %d events acknowledged, then %d answered 503 (%s); after restart all %d landed (%d attempts, %d failed, none lost)",
		limitKB, accepted, refused, errorField(logged, ""), len(digests), attempts, failed)
	w.invariant(60 * time.Second)
}
