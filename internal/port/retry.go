package port

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-retryablehttp"
)

// Retry policy.
//
// Retried: transport errors, 408, 429, 500, 502, 503, 504.
//   - 429/502/503/504 are Port's documented "slow down / try again" answers
//     (internal/port/API-NOTES.md "Rate limits"; Ocean retries
//     429/408/502/503/504, helpers/retry.py).
//   - 500 is retried as well: every request this client sends is safe to
//     repeat (GET/PUT/PATCH/DELETE; bulk upsert with upsert=true writes the same
//     final state twice; search and bulk delete are naturally idempotent;
//     blueprint create turns a post-retry 409 into a read, see CreateBlueprint),
//     and a 500 from Port is usually a transient backend failure. A 500 caused
//     by the request itself costs at most MaxRetries bounded backoffs.
//
// Not retried: other 4xx (the request itself is wrong; repeating it cannot
// help) and 401, which the caller handles by refreshing the token once.
//
// Budgets (per request): MaxRetries for failures, and throttledRetries more
// for 429s that say when to come back (Retry-After, or an exhausted
// x-ratelimit window). Being told to wait is not a failure: Port's limits
// are per organisation, so other tools can keep a large sync waiting for
// several windows, and giving up then would fail an apply that only had to
// wait. Each wait is capped by MaxWait and the context's deadline.
func (c *Client) checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	b, _ := ctx.Value(budgetKey).(*retryBudget)
	if err != nil {
		// Delegate the "is this transport error permanent" rules (bad TLS cert,
		// bad scheme, too many redirects) to retryablehttp.
		retry, perr := retryablehttp.ErrorPropagatedRetryPolicy(ctx, nil, err)
		if retry && b != nil {
			retry = b.fail(c.maxRetries)
		}
		return retry, perr
	}
	switch resp.StatusCode {
	case http.StatusRequestTimeout, http.StatusTooManyRequests, http.StatusInternalServerError,
		http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		if b == nil {
			return true, nil
		}
		if resp.StatusCode == http.StatusTooManyRequests {
			if _, told := serverWait(resp, c.now()); told {
				b.throttled++
				return b.throttled <= throttledRetries, nil
			}
		}
		return b.fail(c.maxRetries), nil
	}
	return false, nil
}

// throttledRetries is the per-request budget of retries after a 429 that
// named its wait; they do not count against MaxRetries.
const throttledRetries = 64

// retryBudget counts one request's retries (checkRetry runs sequentially
// for a request, so no lock).
type retryBudget struct{ failures, throttled int }

// fail counts a failed attempt and reports whether another is allowed.
func (b *retryBudget) fail(maxRetries int) bool {
	b.failures++
	return b.failures <= maxRetries
}

// backoff is the retryablehttp.Backoff: exponential backoff with jitter
// capped at hi.
//
// Server-directed waits (Retry-After on 429/503, x-ratelimit-reset when the
// window is exhausted) are not slept here: the transport records them as a
// client-wide throttle (see throttle), which delays this retry and every
// other request until then, since Port's limits are per organization
// (internal/port/API-NOTES.md "Rate limits"). Only the minimum backoff is added
// on top.
func (c *Client) backoff(lo, hi time.Duration, attempt int, resp *http.Response) time.Duration {
	if resp != nil {
		if _, ok := serverWait(resp, c.now()); ok {
			return lo
		}
	}
	return expBackoff(lo, hi, attempt)
}

// serverWait returns until when the server asked us to hold off: the later
// of Retry-After (on 429/503, RFC 9110 §10.2.3) and an exhausted window's
// x-ratelimit-reset.
func serverWait(resp *http.Response, now time.Time) (time.Time, bool) {
	var until time.Time
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
		if d, ok := retryAfter(resp.Header.Get("Retry-After"), now); ok {
			until = now.Add(d)
		}
	}
	if reset, ok := rateLimitReset(resp.Header, now); ok && reset.After(until) {
		until = reset
	}
	return until, !until.IsZero()
}

// expBackoff returns a duration in [b/2, b] with b = lo·2^attempt capped at
// hi ("equal jitter": spreads concurrent retries but never retries at once).
func expBackoff(lo, hi time.Duration, attempt int) time.Duration {
	b := float64(lo) * math.Pow(2, float64(attempt))
	if b > float64(hi) || math.IsInf(b, 0) || math.IsNaN(b) {
		b = float64(hi)
	}
	half := b / 2
	return time.Duration(half + rand.Float64()*half)
}

// withJitter adds up to frac·d, so clients released by the same reset do not
// all hit Port in the same instant (Port's Terraform provider uses 1..1.1,
// internal/port/API-NOTES.md "Port's Terraform provider").
func withJitter(d time.Duration, frac float64) time.Duration {
	if d <= 0 {
		return 0
	}
	return d + time.Duration(rand.Float64()*frac*float64(d))
}

func (c *Client) capWait(d time.Duration) time.Duration {
	if d > c.maxWait {
		return c.maxWait
	}
	return d
}

// retryAfter parses a Retry-After header: delay-seconds or an HTTP-date
// (RFC 9110 §10.2.3).
func retryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseFloat(v, 64); err == nil {
		if secs < 0 || math.IsNaN(secs) || math.IsInf(secs, 0) {
			return 0, false
		}
		return time.Duration(secs * float64(time.Second)), true
	}
	if t, err := http.ParseTime(v); err == nil {
		d := t.Sub(now)
		if d < 0 {
			d = 0
		}
		return d, true
	}
	return 0, false
}

// epochThreshold separates the two readings of x-ratelimit-reset: Port's docs
// say "UTC epoch seconds", the TF provider treats it as relative seconds; Ocean
// reads values above 10000 as epoch and smaller ones as seconds
// (internal/port/API-NOTES.md "Rate limits").
const epochThreshold = 10000

// rateLimitReset returns when the current rate-limit window resets, if the
// response says the window is exhausted (x-ratelimit-remaining: 0).
func rateLimitReset(h http.Header, now time.Time) (time.Time, bool) {
	rem := strings.TrimSpace(h.Get("x-ratelimit-remaining"))
	if rem == "" {
		return time.Time{}, false
	}
	if n, err := strconv.ParseFloat(rem, 64); err != nil || n > 0 {
		return time.Time{}, false
	}
	reset, err := strconv.ParseFloat(strings.TrimSpace(h.Get("x-ratelimit-reset")), 64)
	if err != nil || reset < 0 || math.IsNaN(reset) || math.IsInf(reset, 0) {
		return time.Time{}, false
	}
	if reset > epochThreshold {
		sec, frac := math.Modf(reset)
		return time.Unix(int64(sec), int64(frac*1e9)), true
	}
	return now.Add(time.Duration(reset * float64(time.Second))), true
}

// throttle is the proactive client-wide pause: once Port reports the window
// exhausted, every later request waits for the reset instead of collecting
// a 429 first.
type throttle struct {
	mu    sync.Mutex
	until time.Time
}

func (t *throttle) observe(resp *http.Response, now time.Time, pacing bool) (time.Time, bool) {
	if pacing && resp.StatusCode < 300 {
		// An exhausted window announced on a 2xx: the pacer holds requests
		// until its (tighter) end; the throttle is for 429s and Retry-After.
		return time.Time{}, false
	}
	until, ok := serverWait(resp, now)
	if !ok {
		return time.Time{}, false
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if until.After(t.until) {
		t.until = until
	}
	return t.until, true
}

// waitThrottle blocks until the recorded time (plus up to 10% jitter, capped
// at maxWait), or fails at once if ctx would expire first: sleeping into a
// deadline only hides the cause.
func (c *Client) waitThrottle(ctx context.Context) error {
	c.throttle.mu.Lock()
	until := c.throttle.until
	c.throttle.mu.Unlock()
	if until.IsZero() {
		return nil
	}
	d := c.capWait(withJitter(until.Sub(c.now()), 0.1))
	if d > 0 {
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < d {
			return fmt.Errorf("Port asked to hold off until %s (rate limit or Retry-After), later than the operation deadline: %w",
				until.UTC().Format(time.RFC3339), context.DeadlineExceeded)
		}
		if c.log != nil {
			c.log.Info("Port rate limit reached or Retry-After received; pausing requests", "wait", d.String())
		}
		if err := c.sleep(ctx, d); err != nil {
			return err
		}
		c.pace.rolled(until)
	}
	// Clear only if no later reset was recorded meanwhile.
	c.throttle.mu.Lock()
	if c.throttle.until.Equal(until) {
		c.throttle.until = time.Time{}
	}
	c.throttle.mu.Unlock()
	return nil
}

// sleepCtx sleeps for d or until ctx is done.
func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
