package listener

import (
	"errors"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/harborport/terraform-provider-harborport/internal/catalog"
	"github.com/harborport/terraform-provider-harborport/internal/mapping"
)

var t0 = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)

func artKey(d string) catalog.Key {
	return catalog.Key{Kind: mapping.KindArtifact, Project: "p", Repository: "p/r", Digest: d}
}

func notBusy(catalog.Key) bool { return false }

func openTestSpool(t *testing.T, dir string) *Spool {
	t.Helper()
	sp, err := OpenSpool(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { // Close is idempotent: a test may have closed sp already
		if err := sp.Close(); err != nil {
			t.Errorf("closing the spool: %v", err)
		}
	})
	return sp
}

func due(t *testing.T, sp *Spool, now time.Time, n int) []Record {
	t.Helper()
	recs, _, err := sp.Due(now, n, notBusy)
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

func TestSpool_persistsAcrossReopen(t *testing.T) {
	dir := t.TempDir()
	sp := openTestSpool(t, dir)
	if _, err := sp.Put([]catalog.Key{artKey("sha256:a"), artKey("sha256:b")}, t0); err != nil {
		t.Fatal(err)
	}
	recs := due(t, sp, t0, 10)
	if err := sp.Retry(recs[0], t0.Add(time.Minute), errors.New("port 503")); err != nil {
		t.Fatal(err)
	}
	if _, err := sp.Bury(recs[1], Permanent(errors.New("bad mapping")), t0); err != nil {
		t.Fatal(err)
	}
	if err := sp.Close(); err != nil {
		t.Fatal(err)
	}

	sp2 := openTestSpool(t, dir)
	if sp2.Depth() != 1 || sp2.DeadCount() != 1 {
		t.Fatalf("after reopen depth=%d dead=%d, want 1 and 1", sp2.Depth(), sp2.DeadCount())
	}
	if got := due(t, sp2, t0, 10); len(got) != 0 {
		t.Fatalf("a record retrying in a minute is due now: %+v", got)
	}
	got := due(t, sp2, t0.Add(time.Minute), 10)
	if len(got) != 1 || got[0].Key.Digest != "sha256:a" || got[0].Attempts != 1 || got[0].LastError != "port 503" {
		t.Fatalf("after reopen: %+v", got)
	}
	dead, err := sp2.Dead()
	if err != nil || len(dead) != 1 || dead[0].Key.Digest != "sha256:b" || dead[0].DeadAt.IsZero() {
		t.Fatalf("dead after reopen: %+v %v", dead, err)
	}
}

func TestSpool_coalesces(t *testing.T) {
	sp := openTestSpool(t, t.TempDir())
	k := catalog.Key{Kind: mapping.KindArtifact, Project: "p", Repository: "p/r", Digest: "sha256:a", CheckListed: true}
	total := 0
	for i := range 10 {
		c, err := sp.Put([]catalog.Key{k}, t0.Add(time.Duration(i)*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		total += c
	}
	if total != 9 || sp.Depth() != 1 {
		t.Fatalf("coalesced %d, depth %d; want 9 and 1", total, sp.Depth())
	}
	recs := due(t, sp, t0.Add(time.Hour), 10)
	if len(recs) != 1 || !recs[0].FirstSeen.Equal(t0) || !recs[0].NextAt.Equal(t0.Add(9*time.Second)) || !recs[0].Key.CheckListed {
		t.Fatalf("record %+v: want FirstSeen of the first event, NextAt of the last", recs)
	}
	// One mention without CheckListed (the artifact was also pushed with a tag) clears it.
	k.CheckListed = false
	if _, err := sp.Put([]catalog.Key{k}, t0); err != nil {
		t.Fatal(err)
	}
	if recs = due(t, sp, t0.Add(time.Hour), 10); recs[0].Key.CheckListed {
		t.Fatal("CheckListed survived a mention without it")
	}
}

// An event during a reconcile makes the record outlive Done (no lost update),
// keeps Retry from pushing it back, and keeps Bury from burying it.
func TestSpool_eventDuringReconcile(t *testing.T) {
	sp := openTestSpool(t, t.TempDir())
	put := func() {
		t.Helper()
		if _, err := sp.Put([]catalog.Key{artKey("sha256:a")}, t0); err != nil {
			t.Fatal(err)
		}
	}
	put()
	held := due(t, sp, t0, 1)[0]
	put() // arrives while held is being reconciled
	if again, err := sp.Done(held); err != nil || !again || sp.Depth() != 1 {
		t.Fatalf("Done after a newer event: again=%v err=%v depth=%d", again, err, sp.Depth())
	}
	held = due(t, sp, t0, 1)[0]
	put()
	if err := sp.Retry(held, t0.Add(time.Hour), errors.New("x")); err != nil {
		t.Fatal(err)
	}
	if recs := due(t, sp, t0, 1); len(recs) != 1 || recs[0].Attempts != 1 {
		t.Fatalf("Retry pushed back a record a newer event made due: %+v", recs)
	}
	held = due(t, sp, t0, 1)[0]
	put()
	if buried, err := sp.Bury(held, errors.New("bad"), t0); err != nil || buried || sp.DeadCount() != 0 {
		t.Fatalf("Bury after a newer event: buried=%v err=%v", buried, err)
	}
	held = due(t, sp, t0, 1)[0]
	if again, err := sp.Done(held); err != nil || again || sp.Depth() != 0 {
		t.Fatalf("plain Done: again=%v err=%v depth=%d", again, err, sp.Depth())
	}
}

func TestSpool_dueOrderLimitAndBusy(t *testing.T) {
	sp := openTestSpool(t, t.TempDir())
	for i, d := range []string{"sha256:c", "sha256:a", "sha256:b"} {
		if _, err := sp.Put([]catalog.Key{artKey(d)}, t0.Add(time.Duration(i)*time.Second)); err != nil {
			t.Fatal(err)
		}
	}
	recs, next, err := sp.Due(t0.Add(time.Second), 10, func(k catalog.Key) bool { return k.Digest == "sha256:c" })
	if err != nil || len(recs) != 1 || recs[0].Key.Digest != "sha256:a" || !next.Equal(t0.Add(2*time.Second)) {
		t.Fatalf("busy c skipped, a due, b next at +2s: got %+v next=%v err=%v", recs, next, err)
	}
	recs = due(t, sp, t0.Add(time.Hour), 2)
	if len(recs) != 2 || recs[0].Key.Digest != "sha256:c" || recs[1].Key.Digest != "sha256:a" {
		t.Fatalf("want the 2 soonest in time order, got %+v", recs)
	}
}

func TestSpool_deadRevivedByEvent(t *testing.T) {
	sp := openTestSpool(t, t.TempDir())
	if _, err := sp.Put([]catalog.Key{artKey("sha256:a")}, t0); err != nil {
		t.Fatal(err)
	}
	if buried, err := sp.Bury(due(t, sp, t0, 1)[0], errors.New("bad mapping"), t0); !buried || err != nil {
		t.Fatalf("bury: %v %v", buried, err)
	}
	if sp.Depth() != 0 || sp.DeadCount() != 1 {
		t.Fatalf("depth=%d dead=%d", sp.Depth(), sp.DeadCount())
	}
	if c, err := sp.Put([]catalog.Key{artKey("sha256:a")}, t0); err != nil || c != 0 {
		t.Fatalf("put: %d %v", c, err)
	}
	if dead, _ := sp.Dead(); sp.Depth() != 1 || sp.DeadCount() != 0 || len(dead) != 0 {
		t.Fatalf("a new event must revive a dead key: depth=%d dead=%d %+v", sp.Depth(), sp.DeadCount(), dead)
	}
	if r := due(t, sp, t0, 1)[0]; r.Attempts != 0 || r.LastError != "" {
		t.Fatalf("revived record keeps old failures: %+v", r)
	}
}

func TestSpool_refusesMalformedKeys(t *testing.T) {
	sp := openTestSpool(t, t.TempDir())
	for _, k := range []catalog.Key{
		{Kind: mapping.KindArtifact, Project: "p", Repository: "p/r"},
		{Kind: mapping.KindRepository, Project: "p"},
		{Kind: mapping.KindProject},
		{Kind: mapping.KindUser, Project: "p"},
		{Kind: mapping.KindProject, Project: "p\x00x"},
	} {
		if _, err := sp.Put([]catalog.Key{k}, t0); err == nil {
			t.Errorf("Put(%+v) accepted", k)
		}
	}
	if sp.Depth() != 0 {
		t.Fatalf("depth %d", sp.Depth())
	}
}

// A record that cannot be decoded goes to the dead bucket instead of
// blocking every other key; at open, and while running.
func TestSpool_corruptRecords(t *testing.T) {
	dir := t.TempDir()
	sp := openTestSpool(t, dir)
	if _, err := sp.Put([]catalog.Key{artKey("sha256:a"), artKey("sha256:b")}, t0); err != nil {
		t.Fatal(err)
	}
	corrupt := func(d string) {
		t.Helper()
		err := sp.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketPending).Put(spoolKey(artKey(d)), []byte("{not json")) })
		if err != nil {
			t.Fatal(err)
		}
	}
	corrupt("sha256:a")
	recs, _, err := sp.Due(t0, 10, notBusy)
	if err == nil || !strings.Contains(err.Error(), "undecodable") || len(recs) != 1 || recs[0].Key.Digest != "sha256:b" {
		t.Fatalf("running: recs=%+v err=%v", recs, err)
	}
	if sp.Depth() != 1 || sp.DeadCount() != 1 {
		t.Fatalf("depth=%d dead=%d", sp.Depth(), sp.DeadCount())
	}
	corrupt("sha256:b")
	if err := sp.Close(); err != nil {
		t.Fatal(err)
	}
	sp = openTestSpool(t, dir)
	dead, err := sp.Dead()
	if err != nil || sp.Depth() != 0 || sp.DeadCount() != 2 || len(dead) != 2 || dead[1].Key != artKey("sha256:b") {
		t.Fatalf("at open: depth=%d dead=%+v err=%v", sp.Depth(), dead, err)
	}
}

func TestSpool_secondProcessRefused(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for bbolt's 2 s lock timeout")
	}
	dir := t.TempDir()
	openTestSpool(t, dir)
	if _, err := OpenSpool(dir); err == nil || !strings.Contains(err.Error(), "locked by another process") {
		t.Fatalf("second open: %v", err)
	}
}
