package harborsim

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"net/http"
	"time"
)

// LoggedRequest is one served API request.
type LoggedRequest struct {
	Method    string
	Path      string // r.URL.Path (decoded)
	RawQuery  string
	Route     string // "GET /api/v2.0/projects/{project_name}/repositories", or "GET <no route>"
	Status    int
	User      string // authenticated username; "" for anonymous (never the password)
	RequestID string
	Time      time.Time // wall clock
}

// recorder wraps the ResponseWriter to capture the status and add Harbor's common headers.
type recorder struct {
	http.ResponseWriter
	s      *Server
	r      *http.Request
	status int
	route  string
	user   string
	reqID  string
}

func (rec *recorder) WriteHeader(code int) {
	if rec.status == 0 {
		rec.status = code
	}
	rec.ResponseWriter.WriteHeader(code)
}

func (rec *recorder) Write(b []byte) (int, error) {
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	return rec.ResponseWriter.Write(b)
}

// begin sets X-Request-Id (the client's, or a generated UUID) and the `sid` session cookie that
// Harbor sends on every response, basic-auth ones included (real-api-error-401.txt).
func (s *Server) begin(w http.ResponseWriter, r *http.Request) *recorder {
	s.logMu.Lock()
	s.reqSeq++
	seq := s.reqSeq
	s.logMu.Unlock()
	rec := &recorder{ResponseWriter: w, s: s, r: r, route: r.Method + " <no route>"}
	rec.reqID = r.Header.Get("X-Request-Id")
	if rec.reqID == "" {
		rec.reqID = uuidFrom("req", seq)
	}
	h := w.Header()
	h.Set("X-Request-Id", rec.reqID)
	sum := sha256.Sum256([]byte(fmt.Sprintf("sid/%d", seq)))
	h.Set("Set-Cookie", "sid="+hex.EncodeToString(sum[:16])+"; Path=/; HttpOnly")
	return rec
}

func (rec *recorder) finish() {
	s := rec.s
	s.logMu.Lock()
	defer s.logMu.Unlock()
	s.log = append(s.log, LoggedRequest{Method: rec.r.Method, Path: rec.r.URL.Path, RawQuery: rec.r.URL.RawQuery,
		Route: rec.route, Status: rec.status, User: rec.user, RequestID: rec.reqID, Time: time.Now()})
}

func (s *Server) count(route string) {
	s.logMu.Lock()
	s.counts[route]++
	s.logMu.Unlock()
}

// Requests returns request counts keyed by "METHOD route-template", e.g.
// "GET /api/v2.0/projects/{project_name}/repositories".
func (s *Server) Requests() map[string]int {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	out := make(map[string]int, len(s.counts))
	for k, v := range s.counts {
		out[k] = v
	}
	return out
}

// RequestLog returns a copy of every API request served since the last ResetRequests.
func (s *Server) RequestLog() []LoggedRequest {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	return append([]LoggedRequest(nil), s.log...)
}

// ResetRequests clears counts and the log.
func (s *Server) ResetRequests() {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	s.counts = map[string]int{}
	s.log = nil
}

// uuidFrom derives a deterministic RFC 4122-shaped (version 4 layout) id.
func uuidFrom(kind string, n uint64) string {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], n)
	sum := sha256.Sum256(append([]byte(kind+"/"), b[:]...))
	u := sum[:16]
	u[6] = (u[6] & 0x0f) | 0x40
	u[8] = (u[8] & 0x3f) | 0x80
	x := hex.EncodeToString(u)
	return x[0:8] + "-" + x[8:12] + "-" + x[12:16] + "-" + x[16:20] + "-" + x[20:32]
}
