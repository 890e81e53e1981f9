package harborsim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// deliverEvent turns one event into delivery jobs: one per enabled, matching policy × http
// target (SendHookWithPolicies, internal/harbor/API-NOTES.md "Webhook delivery"). Slack
// targets are not simulated.
func (s *Server) deliverEvent(ev Event) {
	pols := s.MatchingPolicies(ev)
	if len(pols) == 0 {
		return
	}
	d := s.delivery
	payload := buildPayload(ev, s.externalHost())
	def, err := formatDefault(payload)
	if err != nil {
		panic("harborsim: marshal webhook payload: " + err.Error()) // a bug in the payload types
	}
	d.mu.Lock()
	requestID := randomUUID(d.rng.Uint64(), d.rng.Uint64())
	d.mu.Unlock()
	var jobs []*deliveryJob
	for _, pol := range pols {
		for _, t := range pol.Targets {
			if t.Type != "http" {
				continue
			}
			j := &deliveryJob{policy: pol, target: t, eventType: ev.Type, body: def, contentType: contentTypeDefault}
			if t.PayloadFormat == "CloudEvents" {
				d.mu.Lock()
				j.eventID = randomUUID(d.rng.Uint64(), d.rng.Uint64())
				d.mu.Unlock()
				if j.body, err = formatCloudEvents(payload, pol.ProjectID, pol.ID, j.eventID, requestID); err != nil {
					panic("harborsim: " + err.Error()) // every deliverable type has a mapping
				}
				j.contentType = contentTypeCloudEvents
			}
			if d.drop() {
				continue
			}
			jobs = append(jobs, j)
			for n := d.duplicates(); n > 0; n-- {
				c := *j
				c.duplicate = true
				jobs = append(jobs, &c)
			}
		}
	}
	d.enqueue(jobs)
}

// drop decides DeliveryOptions.DropRate for one delivery.
func (d *deliverer) drop() bool {
	if d.opts.DropRate <= 0 {
		return false
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.rng.Float64() < d.opts.DropRate {
		d.dropped++
		return true
	}
	return false
}

// Dropped counts the deliveries DeliveryOptions.DropRate dropped.
func (s *Server) Dropped() int {
	s.delivery.mu.Lock()
	defer s.delivery.mu.Unlock()
	return s.delivery.dropped
}

func (d *deliverer) duplicates() int {
	n := d.opts.Duplicates
	if d.opts.DuplicateRate > 0 {
		d.mu.Lock()
		if d.rng.Float64() < d.opts.DuplicateRate {
			n++
		}
		d.mu.Unlock()
	}
	return n
}

// externalHost is config.ExtURL without scheme, used in resource_url.
func (s *Server) externalHost() string {
	if h := s.opts.Delivery.ExternalHost; h != "" {
		return h
	}
	if ext := s.opts.ExternalURL; ext != "" {
		if _, rest, ok := strings.Cut(ext, "://"); ok {
			ext = rest
		}
		return strings.TrimSuffix(ext, "/")
	}
	if h, _ := s.delivery.host.Load().(string); h != "" {
		return h
	}
	return "localhost"
}

func randomUUID(hi, lo uint64) string {
	hi = hi&^0xF000 | 0x4000     // version 4
	lo = lo&^(0xC<<60) | 0x8<<60 // RFC 4122 variant
	return fmt.Sprintf("%08x-%04x-%04x-%04x-%012x", hi>>32, hi>>16&0xFFFF, hi&0xFFFF, lo>>48, lo&0xFFFFFFFFFFFF)
}

// DeliveryLog returns every delivery attempt made since the last ResetDeliveryLog, in the order
// the attempts finished.
func (s *Server) DeliveryLog() []DeliveryAttempt {
	s.delivery.mu.Lock()
	defer s.delivery.mu.Unlock()
	return append([]DeliveryAttempt(nil), s.delivery.log...)
}

// ResetDeliveryLog clears the delivery log.
func (s *Server) ResetDeliveryLog() {
	s.delivery.mu.Lock()
	s.delivery.log = nil
	s.delivery.mu.Unlock()
}

// PendingDeliveries is the number of queued, backing-off and in-flight deliveries.
func (s *Server) PendingDeliveries() int {
	s.delivery.mu.Lock()
	defer s.delivery.mu.Unlock()
	return s.delivery.pendingLocked()
}

// PauseDeliveries stops starting new attempts (in-flight ones finish); events keep queueing.
func (s *Server) PauseDeliveries() { s.delivery.setPaused(true) }

// ResumeDeliveries undoes PauseDeliveries.
func (s *Server) ResumeDeliveries() { s.delivery.setPaused(false) }

// WaitIdle blocks until no delivery is queued, backing off or in flight, or ctx ends. Failed
// deliveries count as pending until their last attempt, so with real backoff (BackoffScale 1)
// this can take minutes.
func (s *Server) WaitIdle(ctx context.Context) error { return s.delivery.waitIdle(ctx) }

// Flush is WaitIdle without a deadline; it fails fast with ErrDeliveriesPaused instead of
// blocking forever when deliveries are paused with work pending.
func (s *Server) Flush() error {
	d := s.delivery
	d.mu.Lock()
	stuck := d.paused && d.pendingLocked() > 0
	d.mu.Unlock()
	if stuck {
		return ErrDeliveriesPaused
	}
	return d.waitIdle(context.Background())
}

// Close stops the delivery workers, aborts in-flight attempts and drops pending deliveries;
// later events are not delivered; automatic scans still running never finish. The HTTP API keeps working. Close is idempotent.
func (s *Server) Close() error {
	s.stopScans()
	s.delivery.close()
	return nil
}

// serveDeliveryAdmin serves the webhook part of the admin API:
//
//	GET  /_sim/webhooks/log         → [DeliveryAttempt...]
//	POST /_sim/webhooks/log/reset
//	POST /_sim/webhooks/pause | /_sim/webhooks/resume
//	POST /_sim/webhooks/wait        {"timeout_ms"} (default 10000) → 200, 409 paused, 504 timeout
func (s *Server) serveDeliveryAdmin(w http.ResponseWriter, r *http.Request, op string) {
	if op == "webhooks/log" && r.Method == http.MethodGet {
		log := s.DeliveryLog()
		if log == nil {
			log = []DeliveryAttempt{}
		}
		adminJSON(w, http.StatusOK, log)
		return
	}
	if r.Method != http.MethodPost {
		adminJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "use POST for /_sim/" + op + " (GET only for /_sim/webhooks/log)"})
		return
	}
	okBody := map[string]string{"status": "ok"}
	switch op {
	case "webhooks/log/reset":
		s.ResetDeliveryLog()
	case "webhooks/pause":
		s.PauseDeliveries()
	case "webhooks/resume":
		s.ResumeDeliveries()
	case "webhooks/wait":
		var in struct {
			TimeoutMS int64 `json:"timeout_ms"`
		}
		dec := json.NewDecoder(io.LimitReader(r.Body, 1<<16))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&in); err != nil && !errors.Is(err, io.EOF) {
			adminJSON(w, http.StatusBadRequest, map[string]string{"error": "bad JSON body for /_sim/webhooks/wait (want {\"timeout_ms\":N}): " + err.Error()})
			return
		}
		if in.TimeoutMS <= 0 {
			in.TimeoutMS = 10_000
		}
		d := s.delivery
		d.mu.Lock()
		stuck := d.paused && d.pendingLocked() > 0
		d.mu.Unlock()
		if stuck {
			adminJSON(w, http.StatusConflict, map[string]string{"error": ErrDeliveriesPaused.Error()})
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), time.Duration(in.TimeoutMS)*time.Millisecond)
		defer cancel()
		if err := s.WaitIdle(ctx); err != nil {
			adminJSON(w, http.StatusGatewayTimeout, map[string]string{"error": err.Error()})
			return
		}
	default:
		adminJSON(w, http.StatusNotFound, map[string]string{"error": "unknown admin operation /_sim/" + op})
		return
	}
	adminJSON(w, http.StatusOK, okBody)
}
