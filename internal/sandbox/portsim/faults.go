package portsim

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"
)

// Faults are injected misbehaviours. The zero value injects nothing.
// FailNext, RateLimitNext, Error5xxRate and the steady RateLimit apply to
// every request except POST /v1/auth/access_token, so a client's token fetch
// never hides the fault under test.
type Faults struct {
	Latency        time.Duration // added to every request
	FailNext       int           // next N requests answer FailStatus with Port's error shape
	FailStatus     int           // default 503
	FailAfterWrite bool          // with FailNext: perform the write, then answer the 5xx
	RateLimitNext  int           // next N requests answer 429 + Retry-After + x-ratelimit-* headers
	RetryAfter     time.Duration // default 1s (headers carry whole seconds, min 1)
	// ResetEpoch sends x-ratelimit-reset as UTC epoch seconds, as Port's docs
	// say; otherwise relative seconds, as Port's Terraform provider assumes
	// (internal/port/API-NOTES.md "Rate limits").
	ResetEpoch bool
	// OmitRetryAfter leaves Retry-After off 429s, so only x-ratelimit-*
	// tell the client when to come back (whether Port sends Retry-After is
	// UNCONFIRMED, internal/port/API-NOTES.md "Rate limits").
	OmitRetryAfter bool
	Error5xxRate   float64 // random fraction of requests answering 5xx (seeded)
	// BulkFailNext refuses the next N entities of bulk upserts one by one:
	// the request answers 207 with those entities in errors[] (statusCode
	// BulkFailStatus, default 500) and writes the others, as Port reports
	// per-entity failures (internal/port/API-NOTES.md "Bulk upsert"). INFERRED:
	// which per-entity failures are transient is not documented.
	BulkFailNext   int
	BulkFailStatus int
	// BodyLimit lowers the request body limit below Port's 1 MiB (a proxy in
	// front with a smaller limit, or a change on Port's side): larger bodies
	// answer 413 like Port's own limit. 0 = 1 MiB.
	BodyLimit int
	// RateLimit requests per RateLimitPeriod (a fixed window); 0 = unlimited.
	// When set, x-ratelimit-{limit,remaining,reset,period} go on every response.
	RateLimit       int
	RateLimitPeriod time.Duration
}

type rateWindow struct {
	start time.Time
	count int
}

// SetFaults replaces the injected faults (and restarts the rate window).
func (s *Server) SetFaults(f Faults) {
	s.ctl.Lock()
	defer s.ctl.Unlock()
	s.faults = f
	s.window = rateWindow{}
}

func (f *Faults) failStatus() int {
	if f.FailStatus == 0 {
		return http.StatusServiceUnavailable
	}
	return f.FailStatus
}

func (f *Faults) period() time.Duration {
	if f.RateLimitPeriod <= 0 {
		return 5 * time.Minute // Port's published window (internal/port/API-NOTES.md "Rate limits")
	}
	return f.RateLimitPeriod
}

// wholeSeconds rounds up to whole seconds, at least 1.
func wholeSeconds(d time.Duration) int64 {
	s := int64(math.Ceil(d.Seconds()))
	if s < 1 {
		s = 1
	}
	return s
}

// admit decides the request's fate before the handler runs: pre is answered
// instead of running the handler; post is answered after it ran. exempt
// requests (auth, unknown routes) only get the rate-limit headers.
func (s *Server) admit(w http.ResponseWriter, now time.Time, exempt bool) (pre, post *apiError) {
	s.ctl.Lock()
	defer s.ctl.Unlock()
	f := &s.faults
	if exempt {
		s.rateHeadersLocked(w, now)
		return nil, nil
	}
	if f.RateLimitNext > 0 {
		f.RateLimitNext--
		retry := f.RetryAfter
		if retry <= 0 {
			retry = time.Second
		}
		limit := f.RateLimit
		if limit == 0 {
			limit = 15000 // last published "other APIs" budget per 5 min (internal/port/API-NOTES.md "Rate limits")
		}
		s.writeRateHeaders(w, now, limit, 0, retry, f.period())
		if !f.OmitRetryAfter {
			w.Header().Set("Retry-After", strconv.FormatInt(wholeSeconds(retry), 10))
		}
		return rateLimited(), nil
	}
	if f.RateLimit > 0 {
		if s.window.start.IsZero() || !now.Before(s.window.start.Add(f.period())) {
			s.window = rateWindow{start: now}
		}
		s.window.count++
		if s.window.count > f.RateLimit {
			left := s.window.start.Add(f.period()).Sub(now)
			s.writeRateHeaders(w, now, f.RateLimit, 0, left, f.period())
			if !f.OmitRetryAfter {
				w.Header().Set("Retry-After", strconv.FormatInt(wholeSeconds(left), 10))
			}
			return rateLimited(), nil
		}
		s.rateHeadersLocked(w, now)
	}
	if f.FailNext > 0 {
		f.FailNext--
		e := &apiError{status: f.failStatus(), code: codeInternal, message: fmt.Sprintf("portsim: injected failure (HTTP %d)", f.failStatus())}
		if f.FailAfterWrite {
			return nil, e
		}
		return e, nil
	}
	if f.Error5xxRate > 0 && s.rng.Float64() < f.Error5xxRate {
		return &apiError{status: f.failStatus(), code: codeInternal, message: fmt.Sprintf("portsim: injected random failure (HTTP %d)", f.failStatus())}, nil
	}
	return nil, nil
}

func rateLimited() *apiError {
	// INFERRED: Port's docs describe the headers but not a 429 body
	// (internal/port/API-NOTES.md "Rate limits").
	return &apiError{status: http.StatusTooManyRequests, code: codeRateLimited, message: "Rate limit exceeded; retry after the number of seconds in Retry-After / x-ratelimit-reset"}
}

func (s *Server) rateHeaders(w http.ResponseWriter, now time.Time) {
	s.ctl.Lock()
	defer s.ctl.Unlock()
	s.rateHeadersLocked(w, now)
}

// rateHeadersLocked writes the steady window's headers when a limit is set.
func (s *Server) rateHeadersLocked(w http.ResponseWriter, now time.Time) {
	f := &s.faults
	if f.RateLimit <= 0 {
		return
	}
	if s.window.start.IsZero() || !now.Before(s.window.start.Add(f.period())) {
		s.window = rateWindow{start: now}
	}
	remaining := f.RateLimit - s.window.count
	if remaining < 0 {
		remaining = 0
	}
	s.writeRateHeaders(w, now, f.RateLimit, remaining, s.window.start.Add(f.period()).Sub(now), f.period())
}

func (s *Server) writeRateHeaders(w http.ResponseWriter, now time.Time, limit, remaining int, reset, period time.Duration) {
	h := w.Header()
	h.Set("x-ratelimit-limit", strconv.Itoa(limit))
	h.Set("x-ratelimit-remaining", strconv.Itoa(remaining))
	h.Set("x-ratelimit-period", strconv.FormatInt(wholeSeconds(period), 10))
	if s.faults.ResetEpoch {
		h.Set("x-ratelimit-reset", strconv.FormatInt(now.Add(time.Duration(wholeSeconds(reset))*time.Second).Unix(), 10))
	} else {
		h.Set("x-ratelimit-reset", strconv.FormatInt(wholeSeconds(reset), 10))
	}
}

// bodyLimit is the request body limit in force.
func (s *Server) bodyLimit() int {
	s.ctl.Lock()
	defer s.ctl.Unlock()
	if s.faults.BodyLimit > 0 && s.faults.BodyLimit < maxBody {
		return s.faults.BodyLimit
	}
	return maxBody
}

// takeBulkFailures consumes up to n of BulkFailNext and returns how many
// entities of this bulk request to refuse, and with which status.
func (s *Server) takeBulkFailures(n int) (int, int) {
	s.ctl.Lock()
	defer s.ctl.Unlock()
	k := min(n, s.faults.BulkFailNext)
	s.faults.BulkFailNext -= k
	status := s.faults.BulkFailStatus
	if status == 0 {
		status = http.StatusInternalServerError
	}
	return k, status
}
