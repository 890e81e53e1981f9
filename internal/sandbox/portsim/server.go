package portsim

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"mime"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Options configures a Server.
type Options struct {
	ClientID, ClientSecret string        // the one valid credential pair
	TokenTTL               time.Duration // default 3h (internal/port/API-NOTES.md "Authentication and token lifetime")
	Clock                  func() time.Time
	Seed                   int64 // for any randomness (5xx rate, ids)
	// MigrationPolls is how many GETs an all-entities migration answers
	// RUNNING before COMPLETED (default 1).
	MigrationPolls int
}

// maxBody is Port's request body limit (internal/port/API-NOTES.md
// "Base URLs and request limits").
const maxBody = 1 << 20

const authRoute = "POST /v1/auth/access_token"

// Server is the simulator. It implements http.Handler; all routes live under /v1.
type Server struct {
	opts Options
	mux  *http.ServeMux

	// ctl guards the control plane: tokens, faults, rate window, request log, rng.
	ctl      sync.Mutex
	auth     authState
	faults   Faults
	window   rateWindow
	rng      *rand.Rand
	log      []LoggedRequest
	counts   map[string]int
	traceSeq uint64

	// mu guards the catalog (blueprints, entities, migrations).
	mu sync.Mutex
	st *store
}

// New returns a Server with an empty catalog.
func New(opts Options) *Server {
	if opts.TokenTTL <= 0 {
		opts.TokenTTL = 3 * time.Hour
	}
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	if opts.MigrationPolls <= 0 {
		opts.MigrationPolls = 1
	}
	s := &Server{
		opts:   opts,
		mux:    http.NewServeMux(),
		rng:    rand.New(rand.NewSource(opts.Seed)),
		counts: map[string]int{},
		st:     newStore(),
	}
	s.auth.ttl = opts.TokenTTL
	s.routes()
	return s
}

func (s *Server) now() time.Time { return s.opts.Clock().UTC() }

// handler answers one routed request: a status and a JSON body, or an error
// (an *apiError, or anything else as a 500).
type handler func(c *call) (int, any, error)

func (s *Server) routes() {
	s.handle(authRoute, s.postAccessToken)
	s.handle("GET /v1/blueprints", s.listBlueprints)
	s.handle("POST /v1/blueprints", s.createBlueprint)
	s.handle("GET /v1/blueprints/{blueprint}", s.getBlueprint)
	s.handle("PUT /v1/blueprints/{blueprint}", s.putBlueprint)
	s.handle("PATCH /v1/blueprints/{blueprint}", s.patchBlueprint)
	s.handle("DELETE /v1/blueprints/{blueprint}", s.deleteBlueprint)
	s.handle("DELETE /v1/blueprints/{blueprint}/all-entities", s.deleteAllEntities)
	s.handle("GET /v1/migrations/{migration}", s.getMigration)
	s.handle("GET /v1/blueprints/{blueprint}/entities", s.listEntities)
	s.handle("POST /v1/blueprints/{blueprint}/entities", s.postEntity)
	s.handle("GET /v1/blueprints/{blueprint}/entities/{entity}", s.getEntity)
	s.handle("PUT /v1/blueprints/{blueprint}/entities/{entity}", s.putEntity)
	s.handle("PATCH /v1/blueprints/{blueprint}/entities/{entity}", s.patchEntity)
	s.handle("DELETE /v1/blueprints/{blueprint}/entities/{entity}", s.deleteEntity)
	s.handle("POST /v1/blueprints/{blueprint}/entities/bulk", s.bulkUpsert)
	s.handle("POST /v1/blueprints/{blueprint}/bulk/entities/delete", s.bulkDelete)
	s.handle("POST /v1/blueprints/{blueprint}/entities/search", s.searchBlueprint)
	s.handle("GET /v1/blueprints/{blueprint}/entities-count", s.countEntities)
	s.handle("POST /v1/entities/search", s.searchGlobal)
}

func (s *Server) handle(pattern string, h handler) {
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) { s.serve(w, r, pattern, h) })
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if _, pattern := s.mux.Handler(r); pattern == "" {
		// Unknown route or method: Port's JSON error shape, never the mux's text.
		s.serve(w, r, "", func(c *call) (int, any, error) {
			return 0, nil, notFound("Route %s:%s not found", r.Method, r.URL.Path)
		})
		return
	}
	s.mux.ServeHTTP(w, r)
}

// call is one request as handlers see it.
type call struct {
	r     *http.Request
	body  []byte
	actor string // clientId behind the bearer token
	now   time.Time
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request, pattern string, h handler) {
	start := s.now()
	route := pattern
	if route == "" {
		route = r.Method + " (no route)"
	}

	s.ctl.Lock()
	s.traceSeq++
	trace := fmt.Sprintf("portsim-%016x", s.traceSeq)
	latency := s.faults.Latency
	s.ctl.Unlock()
	// Every response carries X-Trace-Id (internal/port/API-NOTES.md
	// "Base URLs and request limits").
	w.Header().Set("X-Trace-Id", trace)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")

	if latency > 0 {
		t := time.NewTimer(latency)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
		}
	}

	status, body, bodyLen := s.run(w, r, pattern, h, start)
	buf, err := json.Marshal(body)
	if err != nil {
		status = http.StatusInternalServerError
		buf, _ = json.Marshal((&apiError{code: codeInternal, message: "portsim: cannot encode response: " + err.Error()}).body())
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(buf)))
	w.WriteHeader(status)
	_, _ = w.Write(buf)

	s.ctl.Lock()
	s.counts[route]++
	s.log = append(s.log, LoggedRequest{Method: r.Method, Route: route, Path: r.URL.EscapedPath(), Query: r.URL.RawQuery,
		Status: status, BodyBytes: bodyLen, Time: start})
	s.ctl.Unlock()
}

// run applies, in order: authentication, injected faults and rate limits,
// the body size limit, then the handler. It returns status, body and the
// number of request body bytes read.
func (s *Server) run(w http.ResponseWriter, r *http.Request, pattern string, h handler, now time.Time) (int, any, int) {
	isAuth := pattern == authRoute
	c := &call{r: r, now: now}
	if pattern != "" && !isAuth {
		actor, aerr := s.authenticate(r, now)
		if aerr != nil {
			s.rateHeaders(w, now)
			return aerr.status, aerr.body(), 0
		}
		c.actor = actor
	}
	pre, post := s.admit(w, now, isAuth || pattern == "")
	if pre != nil {
		return pre.status, pre.body(), 0
	}

	limit := s.bodyLimit()
	body, err := io.ReadAll(io.LimitReader(r.Body, int64(limit)+1))
	if err != nil {
		e := invalid("cannot read request body: %v", err)
		return e.status, e.body(), len(body)
	}
	if len(body) > limit {
		// Wording from the spec's 413 responses (internal/port/API-NOTES.md
		// "Base URLs and request limits").
		msg := "Request body is too large (limit is 1MiB)"
		if limit != maxBody {
			msg = fmt.Sprintf("Request body is too large (limit is %d bytes)", limit)
		}
		e := &apiError{status: http.StatusRequestEntityTooLarge, code: codeTooLarge, message: msg}
		return e.status, e.body(), len(body)
	}
	c.body = body
	if len(bytes.TrimSpace(body)) > 0 {
		// INFERRED from Fastify, which Port runs on: a body that is not
		// declared JSON is refused with 415 before validation.
		if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
			e := &apiError{status: http.StatusUnsupportedMediaType, code: "unsupported_media_type",
				message: fmt.Sprintf("Unsupported Media Type %q; send the body with Content-Type: application/json", r.Header.Get("Content-Type"))}
			return e.status, e.body(), len(body)
		}
	}

	status, out, herr := h(c)
	if post != nil {
		// FailAfterWrite: the handler ran (and wrote), the client sees a 5xx.
		return post.status, post.body(), len(body)
	}
	if herr != nil {
		var ae *apiError
		if !errors.As(herr, &ae) {
			ae = &apiError{status: http.StatusInternalServerError, code: codeInternal, message: herr.Error()}
		}
		return ae.status, ae.body(), len(body)
	}
	return status, out, len(body)
}

// object decodes the body as a JSON object; an empty body is an error.
func (c *call) object() (map[string]any, error) {
	if len(bytes.TrimSpace(c.body)) == 0 {
		return nil, invalid("body must be object")
	}
	dec := json.NewDecoder(bytes.NewReader(c.body))
	var v any
	if err := dec.Decode(&v); err != nil {
		// INFERRED: Fastify answers unparsable JSON with 400.
		return nil, &apiError{status: http.StatusBadRequest, code: codeBadJSON, message: "Body is not valid JSON: " + err.Error()}
	}
	if dec.More() {
		return nil, &apiError{status: http.StatusBadRequest, code: codeBadJSON, message: "Body is not valid JSON: trailing data after the first value"}
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, invalid("body must be object, got %s", jsonType(v))
	}
	return m, nil
}

// boolParam reads a boolean query parameter ("true" or "false" only).
func (c *call) boolParam(name string, required bool, def bool) (bool, error) {
	q := c.r.URL.Query()
	vals, present := q[name]
	if !present {
		if required {
			return false, invalid("querystring must have required property '%s' (send %s=true or %s=false)", name, name, name)
		}
		return def, nil
	}
	if len(vals) != 1 {
		return false, invalid("querystring/%s must be boolean (given %d times)", name, len(vals))
	}
	switch vals[0] {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, invalid("querystring/%s must be boolean, got %q", name, vals[0])
}

func okBody(kv ...any) map[string]any {
	m := map[string]any{"ok": true}
	for i := 0; i+1 < len(kv); i += 2 {
		if k, isStr := kv[i].(string); isStr {
			m[k] = kv[i+1]
		}
	}
	return m
}

func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case float64:
		return "number"
	case bool:
		return "boolean"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}
