package listener

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/harborport/terraform-provider-harborport/internal/catalog"
)

// Spool is the durable queue of keys to reconcile (bbolt, fsync per
// transaction). One record per key: a repeated event coalesces into it. Each
// Put bumps the record's Seq, and Done removes a record only if Seq is still
// the one the worker started with — so an event arriving during a reconcile
// causes another reconcile instead of being lost.
type Spool struct{ db *bolt.DB }

var (
	bucketPending = []byte("pending")
	bucketDead    = []byte("dead")
)

// Record is one spooled key.
type Record struct {
	Key       catalog.Key `json:"key"`
	Seq       uint64      `json:"seq"`
	Attempts  int         `json:"attempts"`
	NextAt    time.Time   `json:"next_at"`
	FirstSeen time.Time   `json:"first_seen"` // oldest unreconciled event for the key (latency metric)
	LastError string      `json:"last_error,omitempty"`
}

// OpenSpool opens (creating) the spool in dir.
func OpenSpool(dir string) (*Spool, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("spool directory %s: %w", dir, err)
	}
	path := filepath.Join(dir, "spool.db")
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 2 * time.Second})
	if err != nil {
		if errors.Is(err, bolt.ErrTimeout) {
			return nil, fmt.Errorf("spool %s is locked by another process: give each listener replica its own --data-dir", path)
		}
		return nil, fmt.Errorf("spool %s: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketPending, bucketDead} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("spool %s: %w", path, err)
	}
	return &Spool{db: db}, nil
}

func (s *Spool) Close() error { return s.db.Close() }

func spoolKey(k catalog.Key) []byte {
	return []byte(string(k.Kind) + "\x00" + k.Project + "\x00" + k.Repository + "\x00" + k.Digest)
}

// Put stores keys, due now, durably; it returns how many coalesced into
// records already pending. Concurrent Puts share one transaction and one
// fsync (bbolt's Batch), which is what lets intake outrun the disk's sync rate.
func (s *Spool) Put(keys []catalog.Key, now time.Time) (coalesced int, err error) {
	err = s.db.Batch(func(tx *bolt.Tx) error {
		coalesced = 0 // Batch may run the function again alone after a failure
		b := tx.Bucket(bucketPending)
		for _, k := range keys {
			id := spoolKey(k)
			rec := Record{Key: k, FirstSeen: now}
			if old := b.Get(id); old != nil {
				coalesced++
				if err := json.Unmarshal(old, &rec); err != nil {
					return err
				}
				rec.Key.CheckListed = rec.Key.CheckListed && k.CheckListed
				rec.Attempts, rec.LastError = 0, ""
			}
			rec.Seq++
			rec.NextAt = now
			v, err := json.Marshal(rec)
			if err != nil {
				return err
			}
			if err := b.Put(id, v); err != nil {
				return err
			}
		}
		return nil
	})
	return coalesced, err
}

// Due returns up to n records due at now, soonest first, skipping busy keys.
func (s *Spool) Due(now time.Time, n int, busy func(catalog.Key) bool) ([]Record, time.Time, error) {
	var out []Record
	var next time.Time
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketPending).ForEach(func(_, v []byte) error {
			var r Record
			if err := json.Unmarshal(v, &r); err != nil {
				return err
			}
			if busy(r.Key) {
				return nil
			}
			if r.NextAt.After(now) {
				if next.IsZero() || r.NextAt.Before(next) {
					next = r.NextAt
				}
				return nil
			}
			out = append(out, r)
			return nil
		})
	})
	sort.Slice(out, func(i, j int) bool { return out[i].NextAt.Before(out[j].NextAt) })
	if len(out) > n {
		out = out[:n]
	}
	return out, next, err
}

// Done removes the record if no event arrived since the worker read it.
func (s *Spool) Done(r Record) (stillPending bool, err error) {
	err = s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketPending)
		cur, ok, err := get(b, r.Key)
		if err != nil || !ok {
			return err
		}
		if cur.Seq != r.Seq {
			stillPending = true
			return nil
		}
		return b.Delete(spoolKey(r.Key))
	})
	return stillPending, err
}

// Retry reschedules the record, unless a newer event already made it due.
func (s *Spool) Retry(r Record, nextAt time.Time, cause error) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketPending)
		cur, ok, err := get(b, r.Key)
		if err != nil || !ok {
			return err
		}
		if cur.Seq != r.Seq {
			return nil // a new event: due now already
		}
		cur.Attempts++
		cur.NextAt = nextAt
		cur.LastError = cause.Error()
		v, err := json.Marshal(cur)
		if err != nil {
			return err
		}
		return b.Put(spoolKey(r.Key), v)
	})
}

// Bury moves the record to the dead bucket (a permanent error).
func (s *Spool) Bury(r Record, cause error) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketPending)
		cur, ok, err := get(b, r.Key)
		if err != nil || !ok {
			return err
		}
		if cur.Seq != r.Seq {
			return nil // a new event deserves a new try
		}
		cur.LastError = cause.Error()
		v, err := json.Marshal(cur)
		if err != nil {
			return err
		}
		if err := tx.Bucket(bucketDead).Put(spoolKey(r.Key), v); err != nil {
			return err
		}
		return b.Delete(spoolKey(r.Key))
	})
}

// Depth counts pending records.
func (s *Spool) Depth() (n int) {
	_ = s.db.View(func(tx *bolt.Tx) error {
		n = tx.Bucket(bucketPending).Stats().KeyN
		return nil
	})
	return n
}

// Dead lists records that failed permanently.
func (s *Spool) Dead() ([]Record, error) {
	var out []Record
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketDead).ForEach(func(_, v []byte) error {
			var r Record
			if err := json.Unmarshal(v, &r); err != nil {
				return err
			}
			out = append(out, r)
			return nil
		})
	})
	return out, err
}

func get(b *bolt.Bucket, k catalog.Key) (Record, bool, error) {
	v := b.Get(spoolKey(k))
	if v == nil {
		return Record{}, false, nil
	}
	var r Record
	err := json.Unmarshal(v, &r)
	return r, err == nil, err
}
