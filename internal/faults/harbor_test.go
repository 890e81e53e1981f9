package faults

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/harborport/terraform-provider-harborport/internal/harbor"
	"github.com/harborport/terraform-provider-harborport/internal/sandbox/harborsim"
)

// Harbor scenarios: Harbor failing while a full sync reads it, and while
// the listener reconciles events.

// A burst of 503s while the sync reads Harbor (GETs are retried), then a
// burst of 500s while the listener re-reads the objects its events name.
func harbor5xxBurst(t *testing.T, rep *report) {
	skipUnlessFaults(t)
	w := newWorld(t, rep, worldOpts{seed: syncSeed})
	w.drift(30, 10, 8)
	eng := w.engine(harbor.Config{})
	w.hs.SetFaults(harborsim.Faults{FailNext: 3, FailStatus: http.StatusServiceUnavailable})
	out, err := w.sync(eng, 90*time.Second)
	w.hs.SetFaults(harborsim.Faults{})
	checkApplied(t, out.cs, out.res, err)
	if n := harborStatuses(w)[http.StatusServiceUnavailable]; n != 3 {
		t.Fatalf("Harbor answered %d×503, want 3", n)
	}
	w.mustInSync("after the sync through Harbor's 503s")

	w.startListener(harborAdmin, harborPassword)
	w.hs.SetFaults(harborsim.Faults{FailNext: 3, FailStatus: http.StatusInternalServerError})
	var digests []string
	for i := range 3 {
		d, err := w.hs.PushArtifact("apps", "events", []string{fmt.Sprintf("e%d", i)}, harborsim.PushOptions{})
		if err != nil {
			t.Fatal(err)
		}
		digests = append(digests, d)
	}
	for _, d := range digests {
		w.waitFor("event applied through Harbor's 500s", 60*time.Second, func() bool { return w.inPort("events", d) })
	}
	if n := harborStatuses(w)[http.StatusInternalServerError]; n != 3 {
		t.Fatalf("Harbor answered %d×500, want 3", n)
	}
	attempts, _ := w.noLostEvents(30 * time.Second)
	rep.note("sync: 3×503 while reading; listener: 3×500 while reconciling, %d deliveries, none lost", attempts)
	w.invariant(30 * time.Second)
}

func harborStatuses(w *world) map[int]int {
	m := map[int]int{}
	for _, r := range w.hs.RequestLog() {
		m[r.Status]++
	}
	return m
}

// Harbor accepts the connection and never answers (two requests hang for an
// hour): the per-attempt timeout cuts them, the GETs are retried, and the
// sync finishes in bounded time. The timeout is set to 2 s here; the
// product's default is 30 s per attempt (harbor.Config.Timeout).
func harborHang(t *testing.T, rep *report) {
	skipUnlessFaults(t)
	w := newWorld(t, rep, worldOpts{seed: syncSeed})
	w.drift(30, 10, 8)
	const timeout = 2 * time.Second
	eng := w.engine(harbor.Config{Timeout: timeout})
	w.hs.SetFaults(harborsim.Faults{FailNext: 2, Hang: time.Hour})
	start := time.Now()
	out, err := w.sync(eng, 90*time.Second)
	took := time.Since(start)
	w.hs.SetFaults(harborsim.Faults{})
	checkApplied(t, out.cs, out.res, err)
	cut := 0
	for _, r := range w.hs.RequestLog() {
		if r.Status == 0 {
			cut++
		}
	}
	if cut != 2 {
		t.Fatalf("%d Harbor requests were cut by the client, want the 2 that hung", cut)
	}
	if took < timeout || took > 8*timeout {
		t.Fatalf("the sync took %s with 2 requests hanging and a %s timeout; want between %s and %s", took, timeout, timeout, 8*timeout)
	}
	rep.note("2 requests hung for 1h; cut at the %s timeout and retried; sync took %s", timeout, took.Round(100*time.Millisecond))
	w.invariant(30 * time.Second)
}

// The listener's Harbor robot account is revoked while events keep coming:
// Harbor still delivers them (2xx, spooled), every reconcile fails with a
// clear error and is retried, and nothing is deleted from Port on the
// strength of an unauthorized answer. After the credentials are rotated and
// the listener restarted, every event lands.
func harborCredentialsRevoked(t *testing.T, rep *report) {
	skipUnlessFaults(t)
	w := newWorld(t, rep, worldOpts{})
	var before []string
	for i := range 3 {
		d, err := w.hs.PushArtifact("apps", "svc", []string{fmt.Sprintf("old%d", i)}, harborsim.PushOptions{})
		if err != nil {
			t.Fatal(err)
		}
		before = append(before, d)
	}
	if _, err := w.sync(w.checker, time.Minute); err != nil {
		t.Fatal(err)
	}
	const robot, secret1, secret2 = "robot$harborport", "robot-secret-one-1234", "robot-secret-two-5678"
	w.hs.AddRobot("harborport", secret1, false)
	l := w.startListener(robot, secret1)
	d, err := w.hs.PushArtifact("apps", "svc", []string{"live"}, harborsim.PushOptions{})
	if err != nil {
		t.Fatal(err)
	}
	w.waitFor("a push before the revocation", 30*time.Second, func() bool { return w.inPort("svc", d) })

	w.hs.RevokeUser(robot)
	artifactsBefore := w.ps.EntityCount("harborArtifact")
	var after []string
	for i := range 4 {
		d, err := w.hs.PushArtifact("apps", "svc", []string{fmt.Sprintf("new%d", i)}, harborsim.PushOptions{})
		if err != nil {
			t.Fatal(err)
		}
		after = append(after, d)
	}
	if err := w.hs.DeleteArtifact("apps", "svc", before[0]); err != nil {
		t.Fatal(err)
	}
	if err := w.hs.ScanArtifact("apps", "svc", before[1], map[string]int{"Critical": 1}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := w.hs.WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}
	w.waitFor("reconciles failing on the revoked credentials", 30*time.Second, func() bool {
		return l.count("reconcile failed; will retry") >= 6
	})
	// A 401 is not a 404: nothing was deleted, nothing new was written.
	if !w.inPort("svc", before[0]) {
		t.Fatal("an artifact was deleted from Port on the strength of an unauthorized answer")
	}
	if n := w.ps.EntityCount("harborArtifact"); n != artifactsBefore {
		t.Fatalf("Port went from %d to %d artifacts while Harbor refused the listener", artifactsBefore, n)
	}
	var failure string
	for _, line := range strings.Split(l.log(), "\n") {
		if strings.Contains(line, "reconcile failed; will retry") {
			failure = line
			break
		}
	}
	if !strings.Contains(failure, "401") {
		t.Fatalf("the reconcile error does not say Harbor answered 401: %s", failure)
	}
	rep.note("revoked: %d reconciles failed and were retried, logging %q", l.count("reconcile failed; will retry"), errorField(failure, "401"))

	// Rotation: a new robot account, the listener restarted with it.
	w.hs.AddRobot("harborport-2", secret2, false)
	l.stop(syscall.SIGTERM)
	l.user, l.pass = "robot$harborport-2", secret2
	l.start("")
	for _, d := range after {
		w.waitFor("events spooled during the revocation applied", 60*time.Second, func() bool { return w.inPort("svc", d) })
	}
	w.waitFor("the delete applied", 60*time.Second, func() bool { return !w.inPort("svc", before[0]) })
	w.noLostEvents(30 * time.Second)
	for _, s := range []string{secret1, secret2, portClientSecret, strings.TrimPrefix(webhookSecret, "Bearer ")} {
		if strings.Contains(l.log(), s) {
			t.Fatal("a secret appears in the listener's log")
		}
	}
	w.invariant(60 * time.Second)
}

// errorField extracts the error="…" value of a text log line from the
// first occurrence of from, shortened.
func errorField(line, from string) string {
	i := strings.Index(line, "error=")
	if i < 0 {
		return line
	}
	s := strings.Trim(line[i+len("error="):], `"`)
	if j := strings.Index(s, from); j >= 0 {
		s = s[j:]
	}
	if r := []rune(s); len(r) > 140 {
		s = string(r[:140]) + "…"
	}
	return s
}
