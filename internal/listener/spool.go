package listener

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/harborport/terraform-provider-harborport/internal/catalog"
	"github.com/harborport/terraform-provider-harborport/internal/mapping"
)

// Spool is the durable queue of keys to reconcile: a bbolt file, fsynced on
// every committed write. One record per key, so repeated events coalesce.
// Every Put gives the record a new Seq; Done, Retry and Bury act only if the
// Seq is still the one the worker started with, so an event that arrives
// during a reconcile causes another reconcile instead of being lost.
//
// Buckets: "pending" spool key → Record (JSON); "due" 8-byte big-endian
// NextAt (Unix ns) + spool key → nothing, so the due records are read in
// time order without decoding the backlog; "dead" spool key → Record;
// "state" name → bytes, for event sources that keep a position (the
// audit-log feed's cursor), written in the same transaction as the keys it
// produced (PutWithState).
//
// The spool key is kind NUL project NUL repository NUL digest-or-tag (empty
// fields for project and repository keys); a user key is kind NUL NUL NUL NUL
// username. Names never contain NUL: the parser checks them against Harbor's
// grammar (names.go) and the feed checks what it reads.
type Spool struct {
	db      *bolt.DB
	path    string
	pending atomic.Int64
	dead    atomic.Int64
	closed  atomic.Bool
}

var (
	bucketPending = []byte("pending")
	bucketDue     = []byte("due")
	bucketDead    = []byte("dead")
	bucketState   = []byte("state")
)

// Record is one spooled key.
type Record struct {
	Key       catalog.Key `json:"key"`
	Seq       uint64      `json:"seq"`      // changes on every Put
	Attempts  int         `json:"attempts"` // failed reconciles so far
	NextAt    time.Time   `json:"next_at"`
	FirstSeen time.Time   `json:"first_seen"` // oldest unreconciled event for the key (latency metric)
	LastError string      `json:"last_error,omitempty"`
	DeadAt    time.Time   `json:"dead_at,omitzero"`
	// FollowUps counts the looks taken since the key asked to be looked at
	// again (Again); a new event resets it.
	FollowUps int `json:"follow_ups,omitempty"`
}

// OpenSpool opens (creating) the spool file spool.db in dir. A second
// process on the same dir gets a clear error instead of waiting forever.
func OpenSpool(dir string) (*Spool, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("spool directory %s: %w", dir, err)
	}
	path := filepath.Join(dir, "spool.db")
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 2 * time.Second})
	if err != nil {
		if errors.Is(err, berrors.ErrTimeout) {
			return nil, fmt.Errorf("spool %s is locked by another process: give each listener replica its own --data-dir", path)
		}
		return nil, fmt.Errorf("spool %s: %w", path, err)
	}
	s := &Spool{db: db, path: path}
	if err := db.Update(s.recover); err != nil {
		_ = db.Close() // the recover error is the one to report
		return nil, fmt.Errorf("spool %s: %w", path, err)
	}
	return s, nil
}

// recover creates the buckets and rebuilds the due index from the records
// (self-healing, and it upgrades spools written before the index existed).
// Undecodable records move to the dead bucket.
func (s *Spool) recover(tx *bolt.Tx) error {
	for _, b := range [][]byte{bucketPending, bucketDead, bucketState} {
		if _, err := tx.CreateBucketIfNotExists(b); err != nil {
			return err
		}
	}
	if tx.Bucket(bucketDue) != nil {
		if err := tx.DeleteBucket(bucketDue); err != nil {
			return err
		}
	}
	due, err := tx.CreateBucket(bucketDue)
	if err != nil {
		return err
	}
	pend, dead := tx.Bucket(bucketPending), tx.Bucket(bucketDead)
	var corrupt [][]byte
	var n int64
	err = pend.ForEach(func(k, v []byte) error {
		var r Record
		if json.Unmarshal(v, &r) != nil {
			// Not an error for the walk: undecodable records are collected
			// and moved to the dead bucket below.
			corrupt = append(corrupt, bytes.Clone(k))
			return nil //nolint:nilerr // intended: a corrupt record is buried, not fatal (see above)
		}
		n++
		return due.Put(dueKey(r.NextAt, k), nil)
	})
	if err != nil {
		return err
	}
	for _, k := range corrupt {
		if err := buryCorrupt(pend, dead, k, time.Now()); err != nil {
			return err
		}
	}
	// Counted by iteration: Stats() reads committed pages and would miss the
	// records this transaction just moved.
	var nDead int64
	if err := dead.ForEach(func(_, _ []byte) error { nDead++; return nil }); err != nil {
		return err
	}
	s.pending.Store(n)
	s.dead.Store(nDead)
	return nil
}

// Close closes the file; closing again is a no-op. Other calls after Close
// fail with bbolt's "database not open".
func (s *Spool) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	return s.db.Close()
}

// Open reports whether the spool can take writes (for /readyz).
func (s *Spool) Open() bool { return !s.closed.Load() }

// Path is the spool file.
func (s *Spool) Path() string { return s.path }

// Depth counts pending records.
func (s *Spool) Depth() int { return int(s.pending.Load()) }

// DeadCount counts records that failed permanently.
func (s *Spool) DeadCount() int { return int(s.dead.Load()) }

func spoolKey(k catalog.Key) []byte {
	id := string(k.Kind) + "\x00" + k.Project + "\x00" + k.Repository + "\x00" + k.Digest
	if k.Kind == mapping.KindUser {
		id += "\x00" + k.User
	}
	return []byte(id)
}

func parseSpoolKey(b []byte) (catalog.Key, bool) {
	p := strings.Split(string(b), "\x00")
	switch {
	case len(p) == 5 && mapping.Kind(p[0]) == mapping.KindUser:
		return catalog.Key{Kind: mapping.KindUser, User: p[4]}, true
	case len(p) != 4:
		return catalog.Key{}, false
	}
	return catalog.Key{Kind: mapping.Kind(p[0]), Project: p[1], Repository: p[2], Digest: p[3]}, true
}

func validSpoolKey(k catalog.Key) error {
	ok := k.Project != "" && !strings.ContainsRune(k.Project+k.Repository+k.Digest+k.User, 0)
	switch k.Kind {
	case mapping.KindProject:
	case mapping.KindRepository, catalog.KindRepositoryArtifacts:
		ok = ok && k.Repository != ""
	case mapping.KindArtifact:
		ok = ok && k.Repository != "" && k.Digest != ""
	case mapping.KindUser:
		ok = k.User != "" && k.Project == "" && k.Repository == "" && k.Digest == "" && !strings.ContainsRune(k.User, 0)
	default:
		ok = false
	}
	if !ok {
		return fmt.Errorf("spool: refusing malformed key %+v", k)
	}
	return nil
}

func dueKey(at time.Time, key []byte) []byte {
	ns := at.UnixNano()
	if ns < 0 || at.IsZero() {
		ns = 0
	}
	out := make([]byte, 8, 8+len(key))
	binary.BigEndian.PutUint64(out, uint64(ns))
	return append(out, key...)
}

func putRecord(pend, due *bolt.Bucket, id []byte, r Record) error {
	v, err := json.Marshal(r)
	if err != nil {
		return err
	}
	if err := pend.Put(id, v); err != nil {
		return err
	}
	return due.Put(dueKey(r.NextAt, id), nil)
}

// Put stores keys, due now, durably (committed and fsynced when it returns
// nil). A key already pending coalesces: it becomes due now and gets a new
// Seq, keeping its attempt count, so a key that keeps failing keeps its
// backoff growth even under a stream of events. A key in the dead bucket is
// revived: a new event is a new hint. Concurrent Puts share one transaction
// and one fsync (bbolt's Batch).
func (s *Spool) Put(keys []catalog.Key, now time.Time) (coalesced int, err error) {
	for _, k := range keys {
		if err := validSpoolKey(k); err != nil {
			return 0, err
		}
	}
	var n putCounts
	err = s.db.Batch(func(tx *bolt.Tx) error {
		var err error
		n, err = putTx(tx, keys, now) // Batch may run this again alone after a failure
		return err
	})
	if err == nil {
		s.pending.Add(n.added)
		s.dead.Add(-n.revived)
	}
	return n.coalesced, err
}

// PutWithState is Put, and sets the state name to value in the same
// transaction: an event source that advances its position only here can
// neither lose the keys of what it read (a crash before the commit keeps the
// old position) nor read them twice (a crash after it keeps both).
func (s *Spool) PutWithState(keys []catalog.Key, now time.Time, name string, value []byte) (coalesced int, err error) {
	for _, k := range keys {
		if err := validSpoolKey(k); err != nil {
			return 0, err
		}
	}
	if name == "" {
		return 0, errors.New("spool: PutWithState needs a state name")
	}
	var n putCounts
	err = s.db.Update(func(tx *bolt.Tx) error {
		var err error
		if n, err = putTx(tx, keys, now); err != nil {
			return err
		}
		return tx.Bucket(bucketState).Put([]byte(name), value)
	})
	if err == nil {
		s.pending.Add(n.added)
		s.dead.Add(-n.revived)
	}
	return n.coalesced, err
}

// State returns the value PutWithState stored under name (nil if none).
func (s *Spool) State(name string) ([]byte, error) {
	var out []byte
	err := s.db.View(func(tx *bolt.Tx) error {
		out = bytes.Clone(tx.Bucket(bucketState).Get([]byte(name)))
		return nil
	})
	return out, err
}

type putCounts struct {
	coalesced      int
	added, revived int64
}

func putTx(tx *bolt.Tx, keys []catalog.Key, now time.Time) (n putCounts, err error) {
	pend, due, dead := tx.Bucket(bucketPending), tx.Bucket(bucketDue), tx.Bucket(bucketDead)
	for _, k := range keys {
		id := spoolKey(k)
		rec := Record{Key: k, FirstSeen: now}
		if old := pend.Get(id); old != nil {
			n.coalesced++
			if json.Unmarshal(old, &rec) != nil {
				rec = Record{Key: k, FirstSeen: now} // undecodable: replaced; its index entry is dropped as stale
			} else if err := due.Delete(dueKey(rec.NextAt, id)); err != nil {
				return n, err
			}
			rec.Key.CheckListed = rec.Key.CheckListed && k.CheckListed
			if k.FollowScan {
				rec.Key.FollowScan, rec.FollowUps = true, 0 // a new push: follow its scan from the start
			}
		} else {
			n.added++
			if dead.Get(id) != nil {
				n.revived++
				if err := dead.Delete(id); err != nil {
					return n, err
				}
			}
		}
		seq, err := pend.NextSequence()
		if err != nil {
			return n, err
		}
		rec.Seq, rec.NextAt = seq, now
		if err := putRecord(pend, due, id, rec); err != nil {
			return n, err
		}
	}
	return n, nil
}

// Due returns up to n records due at now, soonest first, skipping busy keys
// (being reconciled). next is when the earliest record not returned falls
// due (zero if none, or if n records were returned). Records that cannot be
// decoded are moved to the dead bucket rather than blocking the queue.
func (s *Spool) Due(now time.Time, n int, busy func(catalog.Key) bool) (out []Record, next time.Time, err error) {
	limit := uint64(max(now.UnixNano(), 0))
	var corrupt, stale [][]byte
	err = s.db.View(func(tx *bolt.Tx) error {
		pend := tx.Bucket(bucketPending)
		c := tx.Bucket(bucketDue).Cursor()
		for k, _ := c.First(); k != nil; k, _ = c.Next() {
			if len(k) < 8 {
				stale = append(stale, bytes.Clone(k))
				continue
			}
			id := k[8:]
			if pk, ok := parseSpoolKey(id); ok && busy(pk) {
				continue
			}
			at := binary.BigEndian.Uint64(k[:8])
			if at > limit || len(out) == n {
				if at > limit {
					next = time.Unix(0, int64(at))
				}
				return nil
			}
			v := pend.Get(id)
			if v == nil {
				stale = append(stale, bytes.Clone(k))
				continue
			}
			var r Record
			if json.Unmarshal(v, &r) != nil {
				corrupt = append(corrupt, bytes.Clone(id))
				continue
			}
			out = append(out, r)
		}
		return nil
	})
	if err == nil && len(corrupt)+len(stale) > 0 {
		var newDead int64
		err = s.db.Update(func(tx *bolt.Tx) error {
			newDead = 0
			due := tx.Bucket(bucketDue)
			for _, k := range stale {
				if err := due.Delete(k); err != nil {
					return err
				}
			}
			for _, id := range corrupt {
				hadDead := tx.Bucket(bucketDead).Get(id) != nil
				if err := buryCorrupt(tx.Bucket(bucketPending), tx.Bucket(bucketDead), id, now); err != nil {
					return err
				}
				if !hadDead {
					newDead++
				}
			}
			return nil
		})
		if err == nil {
			s.pending.Add(-int64(len(corrupt)))
			s.dead.Add(newDead)
		}
		if err == nil && len(corrupt) > 0 {
			err = fmt.Errorf("spool: moved %d undecodable records to the dead bucket", len(corrupt))
		}
	}
	return out, next, err
}

// buryCorrupt moves an undecodable record to dead, keeping its key (decoded
// from the spool key) and leaving its due index entry to be dropped as stale.
func buryCorrupt(pend, dead *bolt.Bucket, id []byte, now time.Time) error {
	if dead.Get(id) != nil {
		return pend.Delete(id) // a dead record for the key exists already; keep it
	}
	k, _ := parseSpoolKey(id)
	v, err := json.Marshal(Record{Key: k, DeadAt: now, LastError: "spool record could not be decoded; it was dropped"})
	if err != nil {
		return err
	}
	if err := dead.Put(id, v); err != nil {
		return err
	}
	return pend.Delete(id)
}

// update runs fn on the current record for r's key. fn is not called when the
// record is gone. Update, not Batch: each worker waits for its own write,
// and Batch would hold it up to MaxBatchDelay (10 ms) for company that a
// few workers rarely provide — that halved the listener's throughput
// (BenchmarkListenerIntake: 585 → 1,093 events in Port/s).
func (s *Spool) update(r Record, fn func(tx *bolt.Tx, cur Record, id []byte) error) error {
	id := spoolKey(r.Key)
	return s.db.Update(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketPending).Get(id)
		if v == nil {
			return nil
		}
		var cur Record
		if err := json.Unmarshal(v, &cur); err != nil {
			return fmt.Errorf("spool record %s: %w", r.Key, err)
		}
		return fn(tx, cur, id)
	})
}

func (s *Spool) remove(tx *bolt.Tx, cur Record, id []byte) error {
	if err := tx.Bucket(bucketDue).Delete(dueKey(cur.NextAt, id)); err != nil {
		return err
	}
	return tx.Bucket(bucketPending).Delete(id)
}

// Done removes the record after a successful reconcile, unless an event
// arrived since the worker read it (stillPending: it is due again).
func (s *Spool) Done(r Record) (stillPending bool, err error) {
	var removed bool
	err = s.update(r, func(tx *bolt.Tx, cur Record, id []byte) error {
		stillPending, removed = cur.Seq != r.Seq, false
		if stillPending {
			return nil
		}
		removed = true
		return s.remove(tx, cur, id)
	})
	if err == nil && removed {
		s.pending.Add(-1)
	}
	return stillPending, err
}

// Retry counts a failed attempt and reschedules the record at nextAt; if an
// event arrived meanwhile it stays due now (the event asked for a new look).
func (s *Spool) Retry(r Record, nextAt time.Time, cause error) error {
	return s.update(r, func(tx *bolt.Tx, cur Record, id []byte) error {
		cur.Attempts++
		cur.LastError = cause.Error()
		if err := tx.Bucket(bucketDue).Delete(dueKey(cur.NextAt, id)); err != nil {
			return err
		}
		if cur.Seq == r.Seq {
			cur.NextAt = nextAt
		}
		return putRecord(tx.Bucket(bucketPending), tx.Bucket(bucketDue), id, cur)
	})
}

// Again reschedules the record at nextAt after a successful look that asked
// for another (a scan still running): FollowUps grows, Attempts and the last
// error are cleared. If an event arrived meanwhile the record stays due now.
func (s *Spool) Again(r Record, nextAt time.Time) error {
	return s.update(r, func(tx *bolt.Tx, cur Record, id []byte) error {
		if err := tx.Bucket(bucketDue).Delete(dueKey(cur.NextAt, id)); err != nil {
			return err
		}
		if cur.Seq == r.Seq {
			cur.NextAt = nextAt
			cur.FollowUps++
			cur.Attempts, cur.LastError = 0, ""
		}
		return putRecord(tx.Bucket(bucketPending), tx.Bucket(bucketDue), id, cur)
	})
}

// Bury moves the record to the dead bucket (a permanent error), unless an
// event arrived meanwhile: that deserves a new try.
func (s *Spool) Bury(r Record, cause error, now time.Time) (buried bool, err error) {
	err = s.update(r, func(tx *bolt.Tx, cur Record, id []byte) error {
		buried = false
		if cur.Seq != r.Seq {
			return nil
		}
		cur.Attempts++
		cur.LastError, cur.DeadAt = cause.Error(), now
		v, err := json.Marshal(cur)
		if err != nil {
			return err
		}
		if err := tx.Bucket(bucketDead).Put(id, v); err != nil {
			return err
		}
		buried = true
		return s.remove(tx, cur, id)
	})
	if err == nil && buried {
		s.pending.Add(-1)
		s.dead.Add(1)
	}
	return buried, err
}

// Dead lists records that failed permanently, by key. They stay until an
// event for the same key revives them.
func (s *Spool) Dead() ([]Record, error) { return s.list(bucketDead) }

// Pending lists pending records, by key (operators, tests).
func (s *Spool) Pending() ([]Record, error) { return s.list(bucketPending) }

func (s *Spool) list(bucket []byte) ([]Record, error) {
	var out []Record
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucket).ForEach(func(k, v []byte) error {
			var r Record
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("spool record %q: %w", k, err)
			}
			out = append(out, r)
			return nil
		})
	})
	return out, err
}
