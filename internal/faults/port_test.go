package faults

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/harborport/terraform-provider-harborport/internal/catalog"
	"github.com/harborport/terraform-provider-harborport/internal/harbor"
	"github.com/harborport/terraform-provider-harborport/internal/mapping"
	"github.com/harborport/terraform-provider-harborport/internal/sandbox/harborsim"
	"github.com/harborport/terraform-provider-harborport/internal/sandbox/portsim"
)

// Port scenarios: a full sync (compute, then apply: what terraform apply of
// harborport_sync runs) against a Port that misbehaves during the apply.
// Harbor drifted since the last sync, so the apply creates, updates and
// deletes.

var syncSeed = &harborsim.SeedConfig{Projects: 4, ReposPerProject: 3, ArtifactsPerRepo: 6, Seed: 11}

// driftedWorld is a synced world whose Harbor then changed, and the plan
// (changeset) a sync would apply, computed before any fault.
func driftedWorld(t *testing.T, rep *report) (*world, *catalog.Engine, *catalog.Changeset) {
	t.Helper()
	w := newWorld(t, rep, worldOpts{seed: syncSeed})
	w.drift(30, 10, 8)
	eng := w.engine(harbor.Config{})
	w.hs.ResetRequests() // the table counts the plan and the apply
	w.ps.ResetRequests()
	cs := w.plan()
	c := cs.Counts()
	if c.Create == 0 || c.Update == 0 || c.Delete == 0 {
		t.Fatalf("drift should need creates, updates and deletes: %+v", c)
	}
	return w, eng, cs
}

// checkApplied asserts that every change was confirmed and counted as its kind.
func checkApplied(t *testing.T, cs *catalog.Changeset, res catalog.Result, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("apply failed: %v (failed: %v)", err, res.Failed)
	}
	c := cs.Counts()
	if res.Created != c.Create || res.Updated != c.Update || res.Deleted != c.Delete || len(res.Failed) != 0 {
		t.Fatalf("apply reported %d created, %d updated, %d deleted, %d failed; the plan had %+v", res.Created, res.Updated, res.Deleted, len(res.Failed), c)
	}
}

// A 429 storm whose only guidance is x-ratelimit-* (no Retry-After): the
// client must read x-ratelimit-reset (epoch seconds as Port documents it, or
// relative seconds as the TF provider assumes) and hold every request until
// then. Reading epoch as relative would wait decades (the operation deadline
// fails it); reading relative as epoch would not wait, and the storm would
// exhaust the retries.
func portRateLimitStorm(t *testing.T, rep *report, epoch bool) {
	skipUnlessFaults(t)
	w, eng, cs := driftedWorld(t, rep)
	// In a row, so one request (the first run of the apply is the project
	// blueprint's single batch) may take the whole storm. 12 is more than
	// the 8 retries a request has for failures: 429s that name their wait
	// have their own budget (internal/port/retry.go), so the apply waits the
	// storm out instead of failing.
	storm := 12
	// Epoch resets are whole seconds: 2 s ahead is 1-2 s of waiting; a
	// shorter storm keeps the suite's time down.
	wait := time.Second
	if epoch {
		storm, wait = 6, 2*time.Second
	}
	w.ps.SetFaults(portsim.Faults{RateLimitNext: storm, RetryAfter: wait, ResetEpoch: epoch, OmitRetryAfter: true})
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	start := time.Now()
	out, err := w.apply(ctx, eng, cs)
	took := time.Since(start)
	w.ps.SetFaults(portsim.Faults{})
	checkApplied(t, cs, out.res, err)

	log := w.ps.RequestLog()
	var limited []time.Time
	for _, r := range log {
		if r.Status == http.StatusTooManyRequests {
			limited = append(limited, r.Time)
		}
	}
	if len(limited) != storm {
		t.Fatalf("%d requests were rate limited, want the whole storm (%d)", len(limited), storm)
	}
	// After each 429, nothing may be sent until its reset (requests already
	// on their way may still arrive: 400 ms of grace; the client's jitter
	// only delays).
	for _, at := range limited {
		reset := at.Add(wait)
		if epoch {
			reset = time.Unix(at.Add(wait).Unix(), 0) // what the header said, in whole seconds
		}
		for _, r := range log {
			if r.Route == routeAuth || r.Time.Before(at.Add(400*time.Millisecond)) || !r.Time.Before(reset.Add(-100*time.Millisecond)) {
				continue
			}
			t.Fatalf("%s sent %s after a 429 whose x-ratelimit-reset said %s: the reset was not honoured",
				r.Route, r.Time.Sub(at).Round(time.Millisecond), reset.Sub(at).Round(time.Millisecond))
		}
	}
	rep.note("%d×429 without Retry-After; apply held off and finished in %s, %d changes", storm, took.Round(100*time.Millisecond), len(cs.Changes))
	w.invariant(30 * time.Second)
}

// 5xx bursts, either before the write (Port refused it) or after it took
// effect (the answer was lost): retries must converge and count every
// change once, deletes included (a retried bulk delete whose first attempt
// deleted everything is confirmed by a search).
func port5xxBurst(t *testing.T, rep *report, afterWrite bool) {
	skipUnlessFaults(t)
	w, eng, cs := driftedWorld(t, rep)
	status := http.StatusBadGateway
	if afterWrite {
		status = http.StatusInternalServerError // Port's DB committed, then it failed
	}
	w.ps.SetFaults(portsim.Faults{FailNext: 4, FailStatus: status, FailAfterWrite: afterWrite})
	var deletes atomic.Int32
	w.setPortHook(func(r *http.Request) {
		if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/bulk/entities/delete") && deletes.Add(1) == 1 {
			w.ps.SetFaults(portsim.Faults{FailNext: 1, FailStatus: status, FailAfterWrite: afterWrite})
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	out, err := w.apply(ctx, eng, cs)
	w.setPortHook(nil)
	w.ps.SetFaults(portsim.Faults{})
	checkApplied(t, cs, out.res, err)
	if n := w.portStatuses("")[status]; n != 5 {
		t.Fatalf("%d responses with %d, want 5 (4 at the start, 1 on the first bulk delete)", n, status)
	}
	if n := w.portStatuses(routeBulkDelete)[status]; n != 1 {
		t.Fatalf("the bulk delete saw %d×%d, want 1", n, status)
	}
	rep.note("%d×%d (after the write: %v), %d changes each counted once", 5, status, afterWrite, len(cs.Changes))
	w.invariant(30 * time.Second)
}

// Port revokes the access token in the middle of the sync: while reading
// (search) and twice while writing (bulk). The client fetches a new token
// and carries on.
func portTokenExpiry(t *testing.T, rep *report) {
	skipUnlessFaults(t)
	w, eng, _ := driftedWorld(t, rep)
	var searches, bulks atomic.Int32
	w.setPortHook(func(r *http.Request) {
		if r.Method != http.MethodPost {
			return
		}
		switch {
		case strings.HasSuffix(r.URL.Path, "/entities/search") && searches.Add(1) == 2:
			w.ps.ExpireTokens()
		case strings.HasSuffix(r.URL.Path, "/entities/bulk"):
			if n := bulks.Add(1); n == 2 || n == 5 {
				w.ps.ExpireTokens()
			}
		}
	})
	out, err := w.sync(eng, 90*time.Second)
	w.setPortHook(nil)
	checkApplied(t, out.cs, out.res, err)
	if n := w.portStatuses("")[http.StatusUnauthorized]; n < 3 {
		t.Fatalf("%d×401, want at least 3 (one per expiry)", n)
	}
	if n := w.portStatuses(routeAuth)[http.StatusOK]; n < 3 {
		t.Fatalf("%d token requests, want a new token after each expiry", n)
	}
	rep.note("token revoked 3 times (1 search, 2 bulk writes); %d token requests", w.portStatuses(routeAuth)[http.StatusOK])
	w.invariant(30 * time.Second)
}

// Port refuses some entities of a bulk upsert (207): the apply reports
// exactly those, keeps the rest, and the next plan shows exactly those;
// applying it converges.
func portPartialBulk(t *testing.T, rep *report) {
	skipUnlessFaults(t)
	w, eng, cs := driftedWorld(t, rep)
	const refused = 5
	w.ps.SetFaults(portsim.Faults{BulkFailNext: refused})
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	out, err := w.apply(ctx, eng, cs)
	w.ps.SetFaults(portsim.Faults{})
	if !errors.Is(err, catalog.ErrPartial) || len(out.res.Failed) != refused {
		t.Fatalf("apply: err %v, %d failed; want ErrPartial with %d failures", err, len(out.res.Failed), refused)
	}
	if got := out.res.Done() + refused; got != len(cs.Changes) {
		t.Fatalf("%d confirmed + %d failed, plan had %d changes", out.res.Done(), refused, len(cs.Changes))
	}
	if n := w.portStatuses(routeBulkUpsert)[http.StatusMultiStatus]; n == 0 {
		t.Fatal("no 207 was answered")
	}
	var failed, next []string
	for _, f := range out.res.Failed {
		failed = append(failed, f.Change.Blueprint+"/"+f.Change.Identifier)
	}
	again := w.plan()
	for _, ch := range again.Changes {
		next = append(next, ch.Blueprint+"/"+ch.Identifier)
	}
	sort.Strings(failed)
	sort.Strings(next)
	if strings.Join(failed, ",") != strings.Join(next, ",") {
		t.Fatalf("the next plan has %v, want exactly the failed %v", next, failed)
	}
	out2, err := w.apply(ctx, eng, again)
	checkApplied(t, again, out2.res, err)
	rep.note("207: %d entities refused, the next plan had exactly them, the second apply wrote them", refused)
	w.invariant(30 * time.Second)
}

// A body limit below the documented 1 MiB (a proxy in front, or Port
// lowering it): batches the client packed for 1 MiB get 413 and are split
// until they fit.
func portOversizedBatch(t *testing.T, rep *report) {
	skipUnlessFaults(t)
	w, eng, cs := driftedWorld(t, rep)
	// The bodies apply will write: the changed artifacts, mapped (a stored
	// changeset carries no bodies; apply derives them from Harbor).
	biggest, batch, n := 0, 0, 0
	for _, ch := range cs.Changes {
		src := ch.Source
		if src == nil || src.Kind != mapping.KindArtifact {
			continue
		}
		it, err := w.admin.GetArtifact(context.Background(), src.Project, src.Repository, src.Digest,
			harbor.ArtifactQuery{WithTag: true, WithScanOverview: true})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range eng.Mapping().KindResources(mapping.KindArtifact) {
			ents, _, err := r.Entities(it)
			if err != nil {
				t.Fatal(err)
			}
			for _, ent := range ents {
				b, err := json.Marshal(ent)
				if err != nil {
					t.Fatal(err)
				}
				biggest = max(biggest, len(b))
				if n < 20 {
					batch += len(b)
				}
				n++
			}
		}
	}
	limit := biggest*3 + 64 // every single entity fits; a full batch of 20 does not
	if batch <= limit {
		t.Fatalf("miscalibrated: a batch of 20 is %d bytes, the limit %d", batch, limit)
	}
	w.ps.SetFaults(portsim.Faults{BodyLimit: limit})
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	out, err := w.apply(ctx, eng, cs)
	w.ps.SetFaults(portsim.Faults{})
	checkApplied(t, cs, out.res, err)
	n413 := w.portStatuses(routeBulkUpsert)[http.StatusRequestEntityTooLarge]
	if n413 == 0 {
		t.Fatal("no batch was refused with 413")
	}
	for _, r := range w.ps.RequestLog() {
		if r.Status < 300 && r.BodyBytes > limit {
			t.Fatalf("Port accepted a %d-byte body over the %d-byte limit", r.BodyBytes, limit)
		}
	}
	rep.note("body limit %d B (largest entity %d B): %d×413, batches split until they fit", limit, biggest, n413)
	w.invariant(30 * time.Second)
}
