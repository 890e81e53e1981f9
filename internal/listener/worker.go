package listener

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/harborport/terraform-provider-harborport/internal/catalog"
	"github.com/harborport/terraform-provider-harborport/internal/mapping"
)

// Reconciler makes Port match Harbor for one key (catalog.Engine.Reconcile):
// re-read the key from Harbor, upsert, or delete when Harbor says 404. It
// must be idempotent: a key may be reconciled again after a crash.
type Reconciler interface {
	Reconcile(ctx context.Context, k catalog.Key) error
}

// ReconcileFunc adapts a function to Reconciler.
type ReconcileFunc func(ctx context.Context, k catalog.Key) error

func (f ReconcileFunc) Reconcile(ctx context.Context, k catalog.Key) error { return f(ctx, k) }

type permanentError struct{ err error }

func (p permanentError) Error() string { return p.err.Error() }
func (p permanentError) Unwrap() error { return p.err }

// Permanent marks err as one retrying cannot fix (a mapping error, say): the
// key goes to the dead records (Spool.Dead) and a metric counts it. Any
// other error is retried with backoff, forever. Permanent(nil) is nil.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return permanentError{err}
}

// IsPermanent reports whether err (or an error it wraps) was marked Permanent.
func IsPermanent(err error) bool {
	var p permanentError
	return errors.As(err, &p)
}

type againError struct {
	after time.Duration
	why   string
}

func (a againError) Error() string { return "look again in " + a.after.String() + ": " + a.why }

// Again is what a reconcile returns when it succeeded but the key must be
// looked at again after a while (an artifact whose scan is still running):
// the record stays spooled, due after `after`, across restarts, and its
// FollowUps count grows (FollowUps reads it in the next reconcile). A new
// event for the key makes it due at once and, if it asks to follow, starts
// the count again.
func Again(after time.Duration, why string) error { return againError{after: after, why: why} }

type followUpsKey struct{}

// FollowUps is how many times the key being reconciled was already looked at
// again (Again) since its last event; 0 outside a reconcile.
func FollowUps(ctx context.Context) int {
	n, _ := ctx.Value(followUpsKey{}).(int)
	return n
}

func (s *Server) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// dispatch hands due records to at most Workers goroutines, never two for
// the same key, until stop ends; then it waits for running reconciles (which
// work's cancellation cuts short).
func (s *Server) dispatch(stop, work context.Context) {
	var wg sync.WaitGroup
	defer wg.Wait()
	running := 0
	done := make(chan struct{}, s.cfg.Workers)
	for {
		for free := true; free; {
			select {
			case <-done:
				running--
			default:
				free = false
			}
		}
		var recs []Record
		var next time.Time
		if n := s.cfg.Workers - running; n > 0 {
			var err error
			recs, next, err = s.spool.Due(s.cfg.Now(), n, s.isBusy)
			if err != nil {
				s.log.Error("reading the spool", "error", err.Error())
			}
		}
		for _, rec := range recs {
			if s.isBusy(rec.Key) {
				continue // overlaps a key handed out just before (isBusy); due again when that one ends
			}
			s.setBusy(rec.Key, true)
			running++
			wg.Add(1)
			go func(rec Record) {
				defer wg.Done()
				defer func() { s.setBusy(rec.Key, false); done <- struct{}{}; s.poke() }()
				s.process(work, rec)
			}(rec)
		}
		wait := s.cfg.PollInterval
		if !next.IsZero() {
			wait = min(wait, max(next.Sub(s.cfg.Now()), time.Millisecond))
		}
		t := time.NewTimer(wait)
		select {
		case <-stop.Done():
			t.Stop()
			return
		case <-s.wake:
		case <-done:
			running--
		case <-t.C:
		}
		t.Stop()
	}
}

// repoScope says which of a repository's artifact entities a key may write:
// one artifact named by digest (narrow), or any of them (wide: a
// repository's artifacts as a batch, catalog.KindRepositoryArtifacts, or an
// artifact named by tag, which may resolve to any of them).
func repoScope(k catalog.Key) (repo string, wide, ok bool) {
	switch k.Kind {
	case catalog.KindRepositoryArtifacts:
		return k.Repository, true, true
	case mapping.KindArtifact:
		return k.Repository, !strings.Contains(k.Digest, ":"), true // tags never hold ':', digests always do
	}
	return "", false, false
}

// isBusy: the key is being reconciled, or it overlaps one that is: a wide
// key of a repository (repoScope) never runs beside another key writing that
// repository's artifacts, since both would read and write the same entities
// (two writes of the same new state, or one from an older read); artifacts
// named by digest run beside each other.
func (s *Server) isBusy(k catalog.Key) bool {
	s.busyMu.Lock()
	defer s.busyMu.Unlock()
	if s.busy[string(spoolKey(k))] {
		return true
	}
	if repo, wide, ok := repoScope(k); ok {
		return s.busyWide[repo] > 0 || (wide && s.busyNarrow[repo] > 0)
	}
	return false
}

func (s *Server) setBusy(k catalog.Key, b bool) {
	s.busyMu.Lock()
	defer s.busyMu.Unlock()
	if b {
		s.busy[string(spoolKey(k))] = true
	} else {
		delete(s.busy, string(spoolKey(k)))
	}
	repo, wide, ok := repoScope(k)
	if !ok {
		return
	}
	m := s.busyNarrow
	if wide {
		m = s.busyWide
	}
	if b {
		m[repo]++
	} else if m[repo]--; m[repo] <= 0 {
		delete(m, repo)
	}
}

// reconcile calls the reconciler with the per-key timeout; a panic becomes an
// error (retried), so one bad key cannot kill the process.
func (s *Server) reconcile(ctx context.Context, k catalog.Key) (err error) {
	rctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	defer func() {
		if p := recover(); p != nil {
			s.log.Error("reconciler panicked", "key", k.String(), "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			err = fmt.Errorf("reconciler panicked: %v", p)
		}
	}()
	return s.cfg.Reconciler.Reconcile(rctx, k)
}

func (s *Server) process(work context.Context, rec Record) {
	s.m.inFlight.Inc()
	defer s.m.inFlight.Dec()
	kind, key := string(rec.Key.Kind), rec.Key.String()
	start := s.cfg.Now()
	err := s.reconcile(context.WithValue(work, followUpsKey{}, rec.FollowUps), rec.Key)
	took := s.cfg.Now().Sub(start).Seconds()
	var again againError
	switch {
	case errors.As(err, &again):
		s.m.duration.WithLabelValues(kind, "ok").Observe(took)
		s.m.processed.WithLabelValues(kind).Inc()
		s.m.followUps.WithLabelValues(kind).Inc()
		if aerr := s.spool.Again(rec, s.cfg.Now().Add(again.after)); aerr != nil {
			s.log.Error("spool update failed", "key", key, "error", aerr.Error())
		}
		s.log.Debug("reconciled; will look again", "key", key, "in", again.after.String(), "reason", again.why, "follow_ups", rec.FollowUps+1)
	case err == nil:
		s.m.duration.WithLabelValues(kind, "ok").Observe(took)
		s.m.processed.WithLabelValues(kind).Inc()
		s.m.latency.Observe(s.cfg.Now().Sub(rec.FirstSeen).Seconds())
		again, derr := s.spool.Done(rec)
		if derr != nil {
			s.log.Error("spool update failed; the key will be reconciled again", "key", key, "error", derr.Error())
		}
		s.log.Debug("reconciled", "key", key, "attempt", rec.Attempts+1, "again", again)
	case work.Err() != nil:
		// Shutting down past the drain budget: not the key's fault. The record
		// is untouched, so it is due at the next start.
		s.m.duration.WithLabelValues(kind, "error").Observe(took)
		s.log.Warn("reconcile cut short by shutdown; the key stays spooled", "key", key)
	case IsPermanent(err):
		s.m.duration.WithLabelValues(kind, "permanent").Observe(took)
		buried, berr := s.spool.Bury(rec, err, s.cfg.Now())
		switch {
		case berr != nil:
			s.log.Error("spool update failed", "key", key, "error", berr.Error())
		case buried:
			s.m.failed.WithLabelValues(kind).Inc()
			s.log.Error("reconcile failed permanently; moved to the dead records (a new event for the key retries it)",
				"key", key, "attempt", rec.Attempts+1, "error", err.Error())
		default:
			s.log.Warn("reconcile failed permanently, but an event arrived meanwhile; trying again", "key", key, "error", err.Error())
		}
	default:
		s.m.duration.WithLabelValues(kind, "error").Observe(took)
		s.m.retried.WithLabelValues(kind).Inc()
		delay := backoffDelay(s.cfg.MinBackoff, s.cfg.MaxBackoff, rec.Attempts, s.cfg.Jitter)
		s.log.Warn("reconcile failed; will retry", "key", key, "attempt", rec.Attempts+1, "retry_in", delay.String(), "error", err.Error())
		if rerr := s.spool.Retry(rec, s.cfg.Now().Add(delay), err); rerr != nil {
			s.log.Error("spool update failed", "key", key, "error", rerr.Error())
		}
	}
}

// backoffDelay is the wait after the (failures+1)-th failure: exponential
// from lo, capped at hi, with jitter so keys failing together spread out.
// Always within [lo, hi]: d·[1, 1.5), and below the cap [¾hi, hi].
func backoffDelay(lo, hi time.Duration, failures int, jitter func(int64) int64) time.Duration {
	d := hi
	if failures < 62 {
		if x := lo << failures; x > 0 && x < hi {
			d = x
		}
	}
	from, to := d, min(d+d/2, hi)
	if to == from {
		from = max(lo, hi-hi/4)
	}
	if to <= from {
		return from
	}
	return from + time.Duration(jitter(int64(to-from)))
}
