package harborsim

import (
	"net/http"
	"time"
)

// Faults injects failures into /api/v2.0 requests (never into /_sim/).
type Faults struct {
	// Latency delays every request.
	Latency time.Duration
	// FailNext makes the next N requests fail with FailStatus (default 500).
	FailNext int
	// FailStatus is the status for FailNext and Error5xxRate failures (default 500).
	FailStatus int
	// Hang makes the next FailNext requests block this long (or until the client gives up)
	// before failing, to exercise client timeouts.
	Hang time.Duration
	// Error5xxRate fails this fraction (0..1) of requests with FailStatus (or 500), chosen by a
	// deterministic generator.
	Error5xxRate float64
}

// SetFaults replaces the fault configuration.
func (s *Server) SetFaults(f Faults) {
	s.faultsMu.Lock()
	s.faults = f
	s.faultsMu.Unlock()
}

// injectFault applies the configured faults; it returns true when it wrote the response.
func (s *Server) injectFault(w http.ResponseWriter, r *http.Request) bool {
	s.faultsMu.Lock()
	f := s.faults
	fail := false
	if s.faults.FailNext > 0 {
		s.faults.FailNext--
		fail = true
	} else if f.Error5xxRate > 0 {
		s.faultRNG ^= s.faultRNG << 13
		s.faultRNG ^= s.faultRNG >> 7
		s.faultRNG ^= s.faultRNG << 17
		fail = float64(s.faultRNG%1_000_000)/1_000_000 < f.Error5xxRate
	}
	s.faultsMu.Unlock()

	wait := f.Latency
	if fail && f.Hang > 0 {
		wait += f.Hang
	}
	if wait > 0 {
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return true
		}
	}
	if !fail {
		return false
	}
	status := f.FailStatus
	if status == 0 {
		status = http.StatusInternalServerError
	}
	code := "UNKNOWN"
	if status != http.StatusInternalServerError {
		code = statusCode(status)
	}
	writeError(w, &apiError{status: status, code: code, message: http.StatusText(status)})
	return true
}

// statusCode turns a status into Harbor's go-swagger style code, e.g. 503 → SERVICE_UNAVAILABLE.
func statusCode(status int) string {
	b := []byte(http.StatusText(status))
	for i, c := range b {
		switch {
		case c == ' ' || c == '-':
			b[i] = '_'
		case c >= 'a' && c <= 'z':
			b[i] = c - 32
		}
	}
	return string(b)
}
