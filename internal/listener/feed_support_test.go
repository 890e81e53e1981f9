package listener

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/harborport/terraform-provider-harborport/internal/catalog"
	"github.com/harborport/terraform-provider-harborport/internal/mapping"
)

// Keys the audit-log feed adds: users (named by username), a repository's
// artifacts; malformed ones are refused.
func TestSpool_userAndRepositoryArtifactKeys(t *testing.T) {
	dir := t.TempDir()
	sp := openTestSpool(t, dir)
	user := catalog.Key{Kind: mapping.KindUser, User: "alice"}
	batch := catalog.Key{Kind: catalog.KindRepositoryArtifacts, Project: "p", Repository: "p/r"}
	if _, err := sp.Put([]catalog.Key{user, batch, {Kind: mapping.KindUser, User: "bob"}}, t0); err != nil {
		t.Fatal(err)
	}
	if n, err := sp.Put([]catalog.Key{user}, t0); err != nil || n != 1 {
		t.Fatalf("a second event for alice coalesces: %d %v", n, err)
	}
	for _, bad := range []catalog.Key{{Kind: mapping.KindUser}, {Kind: mapping.KindUser, User: "a", Project: "p"},
		{Kind: catalog.KindRepositoryArtifacts, Project: "p"}, {Kind: mapping.KindUser, User: "a\x00b"}} {
		if _, err := sp.Put([]catalog.Key{bad}, t0); err == nil {
			t.Errorf("accepted %+v", bad)
		}
	}
	recs := due(t, sp, t0, 10)
	got := map[string]bool{}
	for _, r := range recs {
		got[r.Key.String()] = true
		if k, ok := parseSpoolKey(spoolKey(r.Key)); !ok || k.String() != r.Key.String() {
			t.Errorf("spool key of %s does not parse back: %+v", r.Key, k)
		}
	}
	if len(recs) != 3 || !got["user alice"] || !got["user bob"] || !got["artifacts of repository p/r"] {
		t.Fatalf("due: %v", got)
	}
}

// PutWithState commits the keys and the source's position together; State
// reads it back after a reopen.
func TestSpool_putWithState(t *testing.T) {
	dir := t.TempDir()
	sp := openTestSpool(t, dir)
	if v, err := sp.State("feed"); err != nil || v != nil {
		t.Fatalf("no state yet: %q %v", v, err)
	}
	if _, err := sp.PutWithState([]catalog.Key{artKey("sha256:a")}, t0, "feed", []byte(`{"max_id":7}`)); err != nil {
		t.Fatal(err)
	}
	if _, err := sp.PutWithState([]catalog.Key{{Kind: mapping.KindUser}}, t0, "feed", []byte(`{"max_id":9}`)); err == nil {
		t.Fatal("a malformed key was accepted")
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(sp.Close())
	sp = openTestSpool(t, dir)
	v, err := sp.State("feed")
	if err != nil || string(v) != `{"max_id":7}` || sp.Depth() != 1 {
		t.Fatalf("after reopen: %q %v depth %d (the failed call must have changed nothing)", v, err, sp.Depth())
	}
}

// Again: a reconcile that asks to look again later keeps the key, due after
// the delay, with FollowUps counting up in the context; a new push that asks
// to follow starts the count again.
func TestWorkers_again(t *testing.T) {
	var (
		mu   sync.Mutex
		seen []int
	)
	rec := &recorder{fn: func(ctx context.Context, k catalog.Key, n int) error {
		if k.Kind != mapping.KindArtifact {
			return nil
		}
		mu.Lock()
		seen = append(seen, FollowUps(ctx))
		mu.Unlock()
		if n <= 3 {
			return Again(20*time.Millisecond, "scan Running")
		}
		return nil
	}}
	s := newTestServer(t, t.TempDir(), rec)
	k := catalog.Key{Kind: mapping.KindArtifact, Project: "p", Repository: "p/r", Digest: digestN(1), FollowScan: true}
	if _, err := s.Enqueue([]catalog.Key{k}, "feed", []byte("1")); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	run(t, s, time.Second)
	eventually(t, "spool drained", func() bool { return s.Spool().Depth() == 0 })
	if took := time.Since(start); took < 60*time.Millisecond {
		t.Errorf("three follow-ups 20 ms apart took %s", took)
	}
	mu.Lock()
	got := append([]int(nil), seen...)
	mu.Unlock()
	if len(got) != 4 || got[0] != 0 || got[3] != 3 {
		t.Fatalf("FollowUps seen %v, want [0 1 2 3]", got)
	}
	m := metricsText(t, s.Handler())
	if !strings.Contains(m, `harborport_reconcile_follow_ups_total{kind="artifact"} 3`) ||
		!strings.Contains(m, `harborport_keys_enqueued_total{kind="artifact"} 1`) {
		t.Errorf("metrics:\n%s", grepLines(m, "follow_ups", "enqueued"))
	}
	if v, _ := s.Spool().State("feed"); string(v) != "1" {
		t.Errorf("state %q", v)
	}
}

// A record that follows a scan: a coalesced event that asks to follow resets
// the count, one that does not keeps it.
func TestSpool_followScanCoalescing(t *testing.T) {
	sp := openTestSpool(t, t.TempDir())
	k := artKey("sha256:a")
	k.FollowScan = true
	if _, err := sp.Put([]catalog.Key{k}, t0); err != nil {
		t.Fatal(err)
	}
	r := due(t, sp, t0, 1)[0]
	if err := sp.Again(r, t0.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	if recs := due(t, sp, t0, 1); len(recs) != 0 {
		t.Fatal("due before the follow-up time")
	}
	r = due(t, sp, t0.Add(time.Second), 1)[0]
	if r.FollowUps != 1 || !r.Key.FollowScan {
		t.Fatalf("after Again: %+v", r)
	}
	if _, err := sp.Put([]catalog.Key{artKey("sha256:a")}, t0); err != nil { // a webhook for the same artifact
		t.Fatal(err)
	}
	if r = due(t, sp, t0, 1)[0]; r.FollowUps != 1 || !r.Key.FollowScan {
		t.Fatalf("a plain event lost the follow-up: %+v", r)
	}
	if _, err := sp.Put([]catalog.Key{k}, t0); err != nil { // pushed again
		t.Fatal(err)
	}
	if r = due(t, sp, t0, 1)[0]; r.FollowUps != 0 {
		t.Fatalf("a new push kept the count: %+v", r)
	}
}

// /readyz names the parts and their state, and stays 200 when one is degraded.
func TestReadyz_parts(t *testing.T) {
	s := newTestServer(t, t.TempDir(), &recorder{}, func(c *Config) {
		c.Parts = func() map[string]PartStatus {
			return map[string]PartStatus{"audit_feed": {State: "degraded", Reason: "no audit-log:list"}}
		}
	})
	w := serve(s.Handler(), http.MethodGet, "/readyz", "", "", nil)
	var out map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil || w.Code != 200 || out["status"] != "ready" {
		t.Fatalf("/readyz: %d %s", w.Code, w.Body)
	}
	feed, _ := out["audit_feed"].(map[string]any)
	if feed["state"] != "degraded" || feed["reason"] != "no audit-log:list" {
		t.Fatalf("/readyz: %s", w.Body)
	}
}

// A repository's wide keys (its artifacts as a batch, an artifact by tag)
// never run beside another key writing its artifacts; artifacts by digest run
// beside each other, and other repositories' run on.
func TestWorkers_wideKeysRunAlone(t *testing.T) {
	var (
		mu                 sync.Mutex
		wideRun, narrowRun int // running now, for repository p/r
		overlaps, maxArts  int
		other              int
	)
	wideKey := func(k catalog.Key) bool {
		return k.Kind == catalog.KindRepositoryArtifacts || (k.Kind == mapping.KindArtifact && !strings.Contains(k.Digest, ":"))
	}
	rec := &recorder{fn: func(_ context.Context, k catalog.Key, _ int) error {
		mu.Lock()
		switch {
		case k.Repository != "p/r":
			other++
		case wideKey(k):
			wideRun++
		default:
			narrowRun++
			maxArts = max(maxArts, narrowRun)
		}
		if wideRun > 1 || (wideRun > 0 && narrowRun > 0) {
			overlaps++
		}
		mu.Unlock()
		d := 30 * time.Millisecond
		if k == artKey(digestN(1)) {
			d = 200 * time.Millisecond // still running when the others are done
		}
		time.Sleep(d)
		mu.Lock()
		switch {
		case k.Repository != "p/r":
		case wideKey(k):
			wideRun--
		default:
			narrowRun--
		}
		mu.Unlock()
		return nil
	}}
	s := newTestServer(t, t.TempDir(), rec, func(c *Config) { c.Workers = 4 })
	batch := catalog.Key{Kind: catalog.KindRepositoryArtifacts, Project: "p", Repository: "p/r"}
	byTag := []catalog.Key{artKey("prod"), artKey("stable")}
	keys := []catalog.Key{artKey(digestN(0)), artKey(digestN(1)), batch, byTag[0], byTag[1]}
	for i := 2; i < 4; i++ {
		keys = append(keys, artKey(digestN(i)))
	}
	for i := range 4 {
		keys = append(keys, catalog.Key{Kind: mapping.KindArtifact, Project: "p", Repository: "p/other", Digest: digestN(i)})
	}
	if _, err := s.Enqueue(keys, "feed", nil); err != nil {
		t.Fatal(err)
	}
	run(t, s, time.Second)
	eventually(t, "spool drained", func() bool { return s.Spool().Depth() == 0 })
	mu.Lock()
	defer mu.Unlock()
	if overlaps != 0 || rec.count(batch) != 1 || rec.count(byTag[0]) != 1 || rec.count(byTag[1]) != 1 || other != 4 {
		t.Fatalf("overlaps %d, batch ran %d times, tags %d %d, other %d", overlaps, rec.count(batch), rec.count(byTag[0]), rec.count(byTag[1]), other)
	}
	if maxArts < 2 {
		t.Errorf("artifacts of one repository no longer run together (at most %d at once)", maxArts)
	}
}
