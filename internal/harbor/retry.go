package harbor

import (
	"context"
	"errors"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/hashicorp/go-retryablehttp"
)

// Retry policy.
//
// GET (idempotent reads): retried on transport errors (timeouts, resets, refused connections,
// a body cut short), on 5xx except 501, and on 429 (Harbor core has no rate limit, but a proxy in
// front may; internal/harbor/API-NOTES.md "Rate limits").
//
// POST/PUT/DELETE: retried only when the connection could not be opened (a dial error such as
// "connection refused"): then no byte of the request reached Harbor, so a retry cannot repeat a
// write. After a 5xx, a timeout or a reset the write may already be committed (Harbor maps any
// internal error to 500 after the DB work), and a blind retry could create a duplicate policy
// (409 at best) or act on stale input; the caller's plan/refresh loop re-reads and reconciles.
//
// Never retried: certificate and TLS-mismatch errors, redirects, 4xx — retrying cannot fix them.

type metaKey struct{}

// reqMeta travels in the request context so the retry hooks know the method and route.
type reqMeta struct {
	method, route string
	attempts      atomic.Int32
}

func withMeta(ctx context.Context, m *reqMeta) context.Context {
	return context.WithValue(ctx, metaKey{}, m)
}

func metaFrom(ctx context.Context) *reqMeta {
	m, _ := ctx.Value(metaKey{}).(*reqMeta)
	return m
}

func newRetryClient(cfg Config, hc *http.Client, count func(*reqMeta)) *retryablehttp.Client {
	rc := &retryablehttp.Client{
		HTTPClient:   hc,
		RetryWaitMin: cfg.MinBackoff,
		RetryWaitMax: cfg.MaxBackoff,
		RetryMax:     cfg.MaxRetries,
		CheckRetry:   checkRetry,
		Backoff:      backoff,
		// Hand back the last response (e.g. the final 503) so its Harbor error body is reported.
		ErrorHandler: func(resp *http.Response, err error, _ int) (*http.Response, error) {
			if err != nil {
				if resp != nil {
					_ = resp.Body.Close() // discarded response; err is what is reported
				}
				return nil, err
			}
			return resp, nil
		},
		RequestLogHook: func(_ retryablehttp.Logger, req *http.Request, _ int) {
			if m := metaFrom(req.Context()); m != nil {
				m.attempts.Add(1)
				count(m)
			}
		},
	}
	if cfg.Logger != nil {
		rc.Logger = cfg.Logger
	}
	if rc.RetryWaitMin <= 0 {
		rc.RetryWaitMin = defaultMinBackoff
	}
	if rc.RetryWaitMax <= 0 {
		rc.RetryWaitMax = defaultMaxBackoff
	}
	if rc.RetryWaitMax < rc.RetryWaitMin {
		rc.RetryWaitMax = rc.RetryWaitMin
	}
	switch {
	case rc.RetryMax == 0:
		rc.RetryMax = defaultMaxRetries
	case rc.RetryMax < 0:
		rc.RetryMax = 0
	}
	return rc
}

func checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	method := http.MethodGet
	if m := metaFrom(ctx); m != nil {
		method = m.method
	}
	idempotent := method == http.MethodGet || method == http.MethodHead
	if err != nil {
		if !retryableTransportError(err) {
			return false, nil
		}
		return idempotent || isDialError(err), nil
	}
	if !idempotent {
		return false, nil
	}
	s := resp.StatusCode
	return s == http.StatusTooManyRequests || (s >= 500 && s != http.StatusNotImplemented), nil
}

// retryableTransportError excludes failures a retry cannot fix.
func retryableTransportError(err error) bool {
	msg := err.Error()
	var dnsErr *net.DNSError
	switch {
	case errors.Is(err, context.Canceled):
		return false
	case errors.As(err, &dnsErr) && dnsErr.IsNotFound:
		return false // the name does not exist; temporary DNS failures are retried
	case strings.Contains(msg, "x509:") || strings.Contains(msg, "tls: ") ||
		strings.Contains(msg, "certificate") ||
		strings.Contains(msg, "server gave HTTP response to HTTPS client") ||
		strings.Contains(msg, "unsupported protocol scheme"):
		return false
	}
	return true
}

// isDialError: the connection was never established, so the request was never sent.
func isDialError(err error) bool {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	return errors.Is(err, syscall.ECONNREFUSED)
}

// backoff is exponential (lo·2^n, capped at hi) with jitter in [d/2, d], honouring a
// Retry-After on 429/503 within [lo, hi].
func backoff(lo, hi time.Duration, attempt int, resp *http.Response) time.Duration {
	if resp != nil && (resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable) {
		if d, ok := retryAfter(resp.Header.Get("Retry-After")); ok {
			return min(max(d, lo), hi)
		}
	}
	d := hi
	if attempt < 30 {
		if e := lo << uint(attempt); e > 0 && e < hi {
			d = e
		}
	}
	half := d / 2
	if half <= 0 {
		return d
	}
	return half + time.Duration(rand.Int64N(int64(half)+1))
}

func retryAfter(v string) (time.Duration, bool) {
	if v == "" {
		return 0, false
	}
	if s, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && s >= 0 {
		return time.Duration(s) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(time.Until(t), 0), true
	}
	return 0, false
}
