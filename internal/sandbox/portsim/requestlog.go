package portsim

import (
	"maps"
	"slices"
	"time"
)

// LoggedRequest is one request as the simulator saw it.
type LoggedRequest struct {
	Method    string
	Route     string // "METHOD /v1/route/{template}", or "METHOD (no route)"
	Path      string // escaped path as sent
	Query     string // raw query
	Status    int
	BodyBytes int
	Time      time.Time
}

// Requests counts requests per route template, e.g.
// "POST /v1/blueprints/{blueprint}/entities/bulk".
func (s *Server) Requests() map[string]int {
	s.ctl.Lock()
	defer s.ctl.Unlock()
	return maps.Clone(s.counts)
}

// RequestLog returns every request since the last ResetRequests, in order.
func (s *Server) RequestLog() []LoggedRequest {
	s.ctl.Lock()
	defer s.ctl.Unlock()
	return slices.Clone(s.log)
}

// ResetRequests clears the request log and counts.
func (s *Server) ResetRequests() {
	s.ctl.Lock()
	defer s.ctl.Unlock()
	s.log = nil
	s.counts = map[string]int{}
}
