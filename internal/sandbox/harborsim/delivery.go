package harborsim

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// DeliveryAttempt is one HTTP attempt to deliver a webhook (or one that could not be made).
// It never holds the Authorization value.
type DeliveryAttempt struct {
	PolicyID   int64  `json:"policy_id"`
	PolicyName string `json:"policy_name"`
	ProjectID  int64  `json:"project_id"`
	EventType  string `json:"event_type"`
	Address    string `json:"address"`
	Format     string `json:"payload_format"` // Default | CloudEvents
	// EventID is the CloudEvents id ("" for Default); retries and duplicates repeat it.
	EventID string `json:"event_id,omitempty"`
	// Attempt counts from 1 up to DeliveryOptions.MaxAttempts.
	Attempt int `json:"attempt"`
	// Final is true when no further attempt follows: success, or the job was given up.
	Final bool `json:"final"`
	// StatusCode is the response status, 0 when none was received.
	StatusCode int `json:"status_code"`
	// Error is "" on success, else the transport error or Harbor's
	// "abnormal response code: <code>, body: <body>".
	Error string `json:"error,omitempty"`
	// Duplicate marks a copy injected by DeliveryOptions.Duplicates/DuplicateRate.
	Duplicate bool          `json:"duplicate,omitempty"`
	Payload   string        `json:"payload"`
	Start     time.Time     `json:"start"` // wall clock
	Duration  time.Duration `json:"duration_ns"`
}

// OK reports whether the attempt got a 2xx reply.
func (a DeliveryAttempt) OK() bool { return a.Error == "" }

// ErrDeliveriesPaused is returned by Flush when deliveries are pending while paused.
var ErrDeliveriesPaused = errors.New("webhook deliveries are paused with deliveries pending: call ResumeDeliveries first, or use WaitIdle with a deadline")

// deliveryJob is one policy target × event, formatted once before queueing so that retries and
// duplicates send identical bytes (HTTPHandler.process, internal/harbor/API-NOTES.md
// "Webhook payloads").
type deliveryJob struct {
	policy      WebhookPolicy
	target      WebhookTarget
	eventType   string
	eventID     string
	body        []byte
	contentType string
	fails       int
	duplicate   bool
	ready       bool
	timer       *time.Timer
}

type deliverer struct {
	opts     DeliveryOptions
	secure   *http.Client
	insecure *http.Client
	ctx      context.Context
	cancel   context.CancelFunc
	host     atomic.Value // string: Host of the latest API request

	mu         sync.Mutex
	cond       *sync.Cond
	queue      []*deliveryJob
	inflight   int
	paused     bool
	closed     bool
	started    bool
	idle       chan struct{} // closed while nothing is pending
	idleClosed bool
	rng        *rand.Rand
	log        []DeliveryAttempt
	dropped    int // DeliveryOptions.DropRate
	wg         sync.WaitGroup
	// execs is each policy's delivery execution (executions.go).
	execs map[int64]*execution
}

func newDeliverer(opts DeliveryOptions) *deliverer {
	d := &deliverer{opts: opts, paused: opts.StartPaused, idle: make(chan struct{}), idleClosed: true,
		rng: rand.New(rand.NewPCG(opts.Seed, opts.Seed^0x5DEECE66D))}
	close(d.idle)
	d.cond = sync.NewCond(&d.mu)
	d.ctx, d.cancel = context.WithCancel(context.Background())
	d.secure = newDeliveryClient(opts, false)
	d.insecure = newDeliveryClient(opts, true)
	return d
}

// newDeliveryClient mirrors src/common/http/transport.go: proxy from the environment, 10 s TLS
// handshake, and an insecure variant for skip_cert_verify targets
// (internal/harbor/API-NOTES.md "Webhook delivery"). User-Agent and Accept-Encoding are left
// to net/http, which yields the captured "Go-http-client/1.1" and "gzip".
func newDeliveryClient(opts DeliveryOptions, insecure bool) *http.Client {
	base, ok := http.DefaultTransport.(*http.Transport)
	if !ok {
		panic(fmt.Sprintf("harborsim: http.DefaultTransport is %T, want *http.Transport", http.DefaultTransport))
	}
	tr := base.Clone()
	tr.Proxy = http.ProxyFromEnvironment
	tr.TLSHandshakeTimeout = 10 * time.Second
	tr.TLSClientConfig = &tls.Config{RootCAs: opts.RootCAs, InsecureSkipVerify: insecure} //nolint:gosec // skip_cert_verify is the user's explicit choice
	tr.ForceAttemptHTTP2 = false                                                          // Harbor's jobservice speaks HTTP/1.1 (captured UA Go-http-client/1.1)
	return &http.Client{Transport: tr, Timeout: opts.Timeout}
}

// enqueue adds jobs; it starts the workers on first use so an idle simulator costs nothing.
func (d *deliverer) enqueue(jobs []*deliveryJob) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed || len(jobs) == 0 {
		return
	}
	for _, j := range jobs {
		j.ready = true
		d.queue = append(d.queue, j)
		d.execStartLocked(j.policy.ID)
	}
	if !d.started {
		d.started = true
		for i := 0; i < d.opts.Workers; i++ {
			d.wg.Add(1)
			go d.worker()
		}
	}
	d.updateIdleLocked()
	d.cond.Broadcast()
}

func (d *deliverer) pendingLocked() int { return len(d.queue) + d.inflight }

func (d *deliverer) updateIdleLocked() {
	switch idle := d.pendingLocked() == 0; {
	case idle && !d.idleClosed:
		close(d.idle)
		d.idleClosed = true
	case !idle && d.idleClosed:
		d.idle = make(chan struct{})
		d.idleClosed = false
	}
}

// takeLocked removes the next ready job: the oldest, or a random one with Shuffle.
func (d *deliverer) takeLocked() *deliveryJob {
	var ready []int
	for i, j := range d.queue {
		if j.ready {
			ready = append(ready, i)
			if !d.opts.Shuffle {
				break
			}
		}
	}
	if len(ready) == 0 {
		return nil
	}
	i := ready[0]
	if d.opts.Shuffle {
		i = ready[d.rng.IntN(len(ready))]
	}
	j := d.queue[i]
	d.queue = append(d.queue[:i], d.queue[i+1:]...)
	return j
}

func (d *deliverer) worker() {
	defer d.wg.Done()
	for {
		d.mu.Lock()
		var j *deliveryJob
		for {
			if d.closed {
				d.mu.Unlock()
				return
			}
			if !d.paused {
				if j = d.takeLocked(); j != nil {
					break
				}
			}
			d.cond.Wait()
		}
		d.inflight++
		d.mu.Unlock()

		att := d.attempt(j)

		d.mu.Lock()
		d.inflight--
		j.fails += btoi(!att.OK())
		att.Final = att.OK() || j.fails >= d.opts.MaxAttempts || d.closed
		d.log = append(d.log, att)
		if att.Final {
			d.execEndLocked(j.policy.ID)
		} else {
			d.retryLocked(j)
		}
		d.updateIdleLocked()
		d.cond.Broadcast()
		d.mu.Unlock()
	}
}

// retryLocked requeues a failed job after Harbor's backoff; gocraft/work keeps failed jobs
// in its retry set until the delay passes, so they count as pending for WaitIdle.
func (d *deliverer) retryLocked(j *deliveryJob) {
	delay := harborBackoff(j.fails, d.rng.IntN(30), d.opts.BackoffScale)
	d.queue = append(d.queue, j)
	if delay <= 0 {
		j.ready = true
		return
	}
	j.ready = false
	j.timer = time.AfterFunc(delay, func() {
		d.mu.Lock()
		j.ready, j.timer = true, nil
		d.cond.Broadcast()
		d.mu.Unlock()
	})
}

// attempt performs one POST (webhook_job.go): Content-Type per format, Authorization verbatim
// only when set, success = any 2xx.
func (d *deliverer) attempt(j *deliveryJob) DeliveryAttempt {
	att := DeliveryAttempt{PolicyID: j.policy.ID, PolicyName: j.policy.Name, ProjectID: j.policy.ProjectID,
		EventType: j.eventType, Address: j.target.Address, Format: j.target.PayloadFormat, EventID: j.eventID,
		Attempt: j.fails + 1, Duplicate: j.duplicate, Payload: string(j.body), Start: time.Now()}
	defer func() { att.Duration = time.Since(att.Start) }()
	req, err := http.NewRequestWithContext(d.ctx, http.MethodPost, j.target.Address, bytes.NewReader(j.body))
	if err != nil {
		att.Error = "building request: " + err.Error()
		return att
	}
	req.Header.Set("Content-Type", j.contentType)
	if j.target.AuthHeader != "" {
		req.Header.Set("Authorization", j.target.AuthHeader)
	}
	client := d.secure
	if j.target.SkipCertVerify {
		client = d.insecure
	}
	resp, err := client.Do(req)
	if err != nil {
		// Stored addresses carry no userinfo or query (stripped on create), so the URL inside
		// the error holds no secret.
		att.Error = err.Error()
		return att
	}
	// The body is drained below; a Close error cannot change the attempt's outcome.
	defer func() { _ = resp.Body.Close() }()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	att.StatusCode = resp.StatusCode
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		att.Error = fmt.Sprintf("abnormal response code: %d, body: %s", resp.StatusCode, body)
	}
	return att
}

func (d *deliverer) setPaused(p bool) {
	d.mu.Lock()
	d.paused = p
	d.cond.Broadcast()
	d.mu.Unlock()
}

func (d *deliverer) waitIdle(ctx context.Context) error {
	d.mu.Lock()
	ch := d.idle
	d.mu.Unlock()
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		d.mu.Lock()
		n, paused := d.pendingLocked(), d.paused
		d.mu.Unlock()
		if paused {
			return fmt.Errorf("waiting for %d webhook deliveries (paused): %w", n, ctx.Err())
		}
		return fmt.Errorf("waiting for %d webhook deliveries: %w", n, ctx.Err())
	}
}

func (d *deliverer) close() {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return
	}
	d.closed = true
	for _, j := range d.queue {
		if j.timer != nil {
			j.timer.Stop()
		}
	}
	d.queue = nil
	d.execs = nil
	d.cancel() // aborts in-flight requests
	d.cond.Broadcast()
	d.mu.Unlock()
	d.wg.Wait()
	d.mu.Lock()
	d.updateIdleLocked()
	d.mu.Unlock()
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
