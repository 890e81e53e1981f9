package harborsim

import (
	"crypto/x509"
	"time"
)

// DeliveryOptions configures webhook delivery. The zero value behaves like Harbor v2.15.2's
// jobservice: asynchronous, 3 s HTTP timeout, 3 attempts with gocraft/work's backoff
// (internal/harbor/API-NOTES.md "Webhook delivery"). The remaining knobs exist to make tests
// fast and to inject the disorder a real Harbor produces (concurrent jobs, retries of slow
// 2xx replies).
type DeliveryOptions struct {
	// Disabled turns delivery off: events still reach Subscribe callbacks, nothing is POSTed.
	Disabled bool
	// Workers is the number of concurrent deliveries (default 4). Harbor runs webhook jobs
	// concurrently, so order across events is not guaranteed.
	Workers int
	// Timeout is the HTTP client timeout per attempt (default 3 s,
	// JOBSERVICE_WEBHOOK_JOB_HTTP_CLIENT_TIMEOUT).
	Timeout time.Duration
	// MaxAttempts is the total number of attempts including the first (default 3,
	// JOBSERVICE_WEBHOOK_JOB_MAX_RETRY: "max retry has the same meaning as max fails").
	MaxAttempts int
	// BackoffScale multiplies Harbor's retry delay fails⁴ + 15 + rand(30)·(fails+1) seconds
	// (16–74 s before the 2nd attempt, 31–118 s before the 3rd). 0 means 1 (real timing);
	// tests use e.g. 0.001 (16–118 ms). Negative values are treated as 0 delay.
	BackoffScale float64
	// Shuffle makes workers take a random queued delivery instead of the oldest one.
	Shuffle bool
	// Duplicates sends every delivery this many extra times (same bytes, like Harbor retrying
	// a 2xx that arrived after the timeout).
	Duplicates int
	// DuplicateRate is the probability (0..1) that a delivery is sent one extra time.
	DuplicateRate float64
	// DropRate is the probability (0..1) that a delivery is never sent: what a listener sees
	// when Harbor gave up after its retries or its jobservice lost the job (Dropped counts them).
	DropRate float64
	// Seed seeds the generator behind backoff jitter, Shuffle, DuplicateRate, DropRate and the
	// CloudEvents id/requestid values (default 1), so runs are reproducible.
	Seed uint64
	// StartPaused queues deliveries until ResumeDeliveries is called.
	StartPaused bool
	// RootCAs verifies https targets whose skip_cert_verify is false (default: system roots).
	RootCAs *x509.CertPool
	// ExecutionSettle is how long a policy's execution stays non-final after its last delivery
	// attempt ended (default 3 s; negative: 0). Harbor marks the execution final only when it
	// refreshes stale execution statuses, so a DELETE of the policy meanwhile answers 412
	// (internal/harbor/API-NOTES.md "Webhook policies"; observed: about 20 s, up to a minute).
	// While any delivery of the policy is queued, running or waiting to be retried, its
	// execution is not final either.
	ExecutionSettle time.Duration
	// ExternalHost is the host[:port] used in resource_url. Default: the host of
	// Options.ExternalURL, else the Host of the latest API request, else "localhost".
	ExternalHost string
}

// defaultExecutionSettle is DeliveryOptions.ExecutionSettle's default: long enough that a
// policy deleted right after a delivery meets the 412, short enough for tests.
const defaultExecutionSettle = 3 * time.Second

func (o DeliveryOptions) withDefaults() DeliveryOptions {
	if o.Workers <= 0 {
		o.Workers = 4
	}
	if o.Timeout <= 0 {
		o.Timeout = 3 * time.Second
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 3
	}
	if o.BackoffScale == 0 {
		o.BackoffScale = 1
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
	switch {
	case o.ExecutionSettle == 0:
		o.ExecutionSettle = defaultExecutionSettle
	case o.ExecutionSettle < 0:
		o.ExecutionSettle = 0
	}
	return o
}

// harborBackoff is gocraft/work's defaultBackoffCalculator (goharbor/work@v0.5.1-patch
// worker.go): fails⁴ + 15 + rand(30)·(fails+1) seconds, fails counting the failed attempts so
// far (internal/harbor/API-NOTES.md "Webhook delivery"). r is rand(30), i.e. 0..29.
func harborBackoff(fails, r int, scale float64) time.Duration {
	if scale <= 0 {
		return 0
	}
	secs := fails*fails*fails*fails + 15 + r*(fails+1)
	return time.Duration(float64(secs) * scale * float64(time.Second))
}
