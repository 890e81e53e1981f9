package port

import (
	"context"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// pacer keeps the client inside Port's rate-limit window before Port has to
// say no (internal/port/API-NOTES.md "Rate limits"). Port puts
// x-ratelimit-limit, -remaining and -reset on its responses; every request
// sent counts against the window whether or not it is answered 429, so a
// 429 is already a wasted request. The pacer lets a request go only while
// the last known remaining count exceeds the requests in flight (which the
// server may not have counted yet): as remaining nears 0 the requests in
// flight shrink to it, and at 0 nothing is sent until the window resets.
// Without rate-limit headers it does nothing.
//
// The throttle (retry.go) stays the fallback for 429s and Retry-After.
type pacer struct {
	mu        sync.Mutex
	known     bool      // a response carried the headers
	limit     int       // x-ratelimit-limit of the latest window
	remaining int       // lowest x-ratelimit-remaining seen in the current window
	reset     time.Time // when the current window ends (the tightest bound known)
	hdrReset  time.Time // the window's end as x-ratelimit-reset says it (whole seconds, rounded up)
	inflight  int       // requests sent and not answered
	changed   chan struct{}
	waits     int // times a request had to wait (for tests and logs)
}

// resetMargin is slept past a window's end before the next request (the
// end is already an upper bound, see observeLocked).
const resetMargin = 20 * time.Millisecond

func newPacer() *pacer { return &pacer{changed: make(chan struct{})} }

// acquire waits until a request may be sent and counts it in flight. Every
// successful acquire must be matched by exactly one release. While requests
// are in flight it waits for their answers (which update the window); with
// none in flight only time helps, and it sleeps (sleep: the client's, so
// tests can drive a fake clock) until the window resets.
func (p *pacer) acquire(ctx context.Context, now func() time.Time, sleep func(context.Context, time.Duration) error) error {
	for {
		p.mu.Lock()
		t := now()
		if p.known && !p.reset.IsZero() && !t.Before(p.reset) {
			// The window rolled over: a fresh allowance until a response
			// tells the new window's figures.
			p.remaining, p.reset, p.hdrReset = p.limit, time.Time{}, time.Time{}
		}
		if !p.known || p.limit <= 0 || p.remaining-p.inflight > 0 {
			p.inflight++
			p.mu.Unlock()
			return nil
		}
		p.waits++
		ch, inflight, reset := p.changed, p.inflight, p.reset
		p.mu.Unlock()
		switch {
		case inflight > 0:
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-ch: // an answer arrived: remaining or in-flight changed
			}
		case !reset.IsZero():
			if err := sleep(ctx, max(reset.Add(resetMargin).Sub(t), time.Millisecond)); err != nil {
				return err
			}
			// Slept past the reset: the window rolled over, whatever the
			// clock says now (unless an answer meanwhile told a new one).
			p.mu.Lock()
			if p.reset.Equal(reset) {
				p.remaining, p.reset, p.hdrReset = p.limit, time.Time{}, time.Time{}
			}
			p.mu.Unlock()
		default:
			// Exhausted, nothing in flight, no reset known: let one request
			// through to learn the window (its answer is a 429 at worst,
			// which the throttle then waits out).
			p.mu.Lock()
			p.inflight++
			p.mu.Unlock()
			return nil
		}
	}
}

// paceSlot ties one request's pacer slot to its attempts: acquired before
// an attempt (send, prepareRetry), released by the attempt's response in
// the transport, or at the end of send if no attempt took it.
type paceSlot struct{ held bool }

func (c *Client) paceAcquire(ctx context.Context) error {
	s, _ := ctx.Value(slotKey).(*paceSlot)
	if s == nil || s.held {
		return nil
	}
	if err := c.pace.acquire(ctx, c.now, c.sleep); err != nil {
		return err
	}
	s.held = true
	return nil
}

func (c *Client) paceRelease(ctx context.Context, h http.Header) {
	if s, _ := ctx.Value(slotKey).(*paceSlot); s != nil && s.held {
		s.held = false
		c.pace.release(h, c.now)
	}
}

// rolled tells the pacer the throttle slept until until (an exhausted
// window's reset, or Retry-After): a window ending by then has rolled over,
// so the pacer does not wait for it a second time.
func (p *pacer) rolled(until time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.known && !p.reset.IsZero() && !p.reset.After(until.Add(1500*time.Millisecond)) {
		p.remaining, p.reset, p.hdrReset = p.limit, time.Time{}, time.Time{}
	}
}

// release ends a request: it leaves flight, and its response (nil after a
// transport error) updates the window.
func (p *pacer) release(h http.Header, now func() time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.inflight--
	if h != nil {
		p.observeLocked(h, now())
	}
	close(p.changed)
	p.changed = make(chan struct{})
}

func (p *pacer) observeLocked(h http.Header, now time.Time) {
	limit, ok1 := headerInt(h, "x-ratelimit-limit")
	rem, ok2 := headerInt(h, "x-ratelimit-remaining")
	if !ok1 || !ok2 {
		return
	}
	var reset time.Time
	if v, err := strconv.ParseFloat(strings.TrimSpace(h.Get("x-ratelimit-reset")), 64); err == nil && v >= 0 && !math.IsInf(v, 0) {
		if v > epochThreshold {
			sec, frac := math.Modf(v)
			reset = time.Unix(int64(sec), int64(frac*1e9))
		} else {
			reset = now.Add(time.Duration(v * float64(time.Second)))
		}
	}
	// x-ratelimit-reset has whole seconds, rounded one way or the other
	// (and an epoch comes from Port's clock), so only reset + 1 s is an upper
	// bound of the window's end. The window began before this answer
	// arrived, so it also ends before now + x-ratelimit-period: that bound,
	// from our own clock, is exact to a round trip and immune to clock skew.
	var bound time.Time
	if !reset.IsZero() {
		bound = reset.Add(time.Second)
	}
	if period, ok := headerInt(h, "x-ratelimit-period"); ok && period > 0 {
		if b := now.Add(time.Duration(period) * time.Second); bound.IsZero() || b.Before(bound) {
			bound = b
		}
	}
	// A new window: the first answer after the pacer saw the last one end,
	// or a reset later by more than the seconds' rounding. A higher
	// remaining count alone is not one: answers come back out of order, so
	// within a window the lowest count is the truth, and the earliest bound.
	newWindow := !p.known || p.hdrReset.IsZero() ||
		(!reset.IsZero() && reset.Sub(p.hdrReset) > 1500*time.Millisecond)
	p.known, p.limit = true, limit
	if newWindow {
		p.remaining, p.reset, p.hdrReset = rem, bound, reset
		return
	}
	p.remaining = min(p.remaining, rem)
	if !bound.IsZero() && (p.reset.IsZero() || bound.Before(p.reset)) {
		p.reset = bound
	}
}

// pacing reports whether the pacer steers by rate-limit headers (so the
// throttle need not act on an exhausted 2xx).
func (p *pacer) pacing() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.known && p.limit > 0
}

func headerInt(h http.Header, name string) (int, bool) {
	v := strings.TrimSpace(h.Get(name))
	if v == "" {
		return 0, false
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f < 0 || math.IsNaN(f) || math.IsInf(f, 0) || f > math.MaxInt32 {
		return 0, false
	}
	return int(f), true
}
