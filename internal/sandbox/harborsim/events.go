package harborsim

import "time"

// Event types Harbor can deliver to webhooks (real-api-webhook-events.json).
var webhookEventTypes = []string{"PUSH_ARTIFACT", "PULL_ARTIFACT", "DELETE_ARTIFACT", "QUOTA_EXCEED",
	"QUOTA_WARNING", "SCANNING_FAILED", "SCANNING_STOPPED", "SCANNING_COMPLETED", "REPLICATION", "TAG_RETENTION"}

// Event is an artifact event raised by an admin operation. It is the hook point for webhook
// delivery: subscribers receive every event; MatchingPolicies says which stored policies want it.
type Event struct {
	Type        string // PUSH_ARTIFACT, PULL_ARTIFACT, DELETE_ARTIFACT, SCANNING_COMPLETED|FAILED|STOPPED
	OccurAt     time.Time
	Operator    string
	ProjectID   int64
	ProjectName string
	Public      bool
	RepoName    string    // full name incl. project
	RepoCreated time.Time // zero when the repository row no longer exists
	Digest      string
	// Tag is the first tag of the event, or the digest when there is none (artifact events,
	// internal/harbor/API-NOTES.md "Webhook payloads"); for scans it is the scanned tag or ""
	// when scanned by digest.
	Tag  string
	Tags []string
	// ScanOverview is set for SCANNING_* events, keyed by report MIME type.
	ScanOverview map[string]any
}

// Subscribe registers fn to receive every event, synchronously and outside the store lock, in
// the order the operations happened. It is safe to call Server methods from fn.
func (s *Server) Subscribe(fn func(Event)) {
	s.subsMu.Lock()
	s.subs = append(s.subs, fn)
	s.subsMu.Unlock()
}

func (s *Server) emit(evs []Event) {
	if len(evs) == 0 {
		return
	}
	s.subsMu.RLock()
	subs := append([]func(Event){}, s.subs...)
	s.subsMu.RUnlock()
	for _, ev := range evs {
		for _, fn := range subs {
			fn(ev)
		}
	}
}

// WebhookPolicy is a read-only view of a stored policy, for delivery code.
type WebhookPolicy struct {
	ID          int64
	ProjectID   int64
	Name        string
	Enabled     bool
	EventTypes  []string
	Targets     []WebhookTarget
	Description string
	Creator     string
}

// WebhookTarget is one policy target as stored (address already normalised).
type WebhookTarget struct {
	Type, Address, AuthHeader, PayloadFormat string
	SkipCertVerify                           bool
}

// MatchingPolicies returns the enabled policies of the event's project whose event_types contain
// the event type. It returns nil when notification is disabled: Harbor then sends nothing
// (internal/harbor/API-NOTES.md "Credential check").
func (s *Server) MatchingPolicies(ev Event) []WebhookPolicy {
	if !*s.opts.NotificationEnable {
		return nil
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	p := s.projects[ev.ProjectID]
	if p == nil {
		return nil
	}
	var out []WebhookPolicy
	for _, pol := range p.policies {
		if !pol.enabled {
			continue
		}
		for _, et := range pol.eventTypes {
			if et == ev.Type {
				out = append(out, pol.view())
				break
			}
		}
	}
	return out
}

func (pol *webhookPolicy) view() WebhookPolicy {
	v := WebhookPolicy{ID: pol.id, ProjectID: pol.projectID, Name: pol.name, Enabled: pol.enabled,
		EventTypes: append([]string(nil), pol.eventTypes...), Description: pol.description, Creator: pol.creator}
	for _, t := range pol.targets {
		v.Targets = append(v.Targets, WebhookTarget{Type: t.Type, Address: t.Address, AuthHeader: t.AuthHeader,
			PayloadFormat: t.PayloadFormat, SkipCertVerify: t.SkipCertVerify})
	}
	return v
}
