package catalog

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/harborport/terraform-provider-harborport/internal/harbor"
	"github.com/harborport/terraform-provider-harborport/internal/mapping"
	"github.com/harborport/terraform-provider-harborport/internal/port"
	"github.com/harborport/terraform-provider-harborport/internal/sandbox/harborsim"
	"github.com/harborport/terraform-provider-harborport/internal/sandbox/portsim"
	"github.com/harborport/terraform-provider-harborport/internal/testenv"
)

// Test wiring: the strict simulators behind httptest, driven through the
// real harbor and port clients, exactly as the provider wires them.

const (
	simClientID     = "catalog-test"
	simClientSecret = "catalog-test-secret"
	harborAdmin     = "admin"
	harborPassword  = "Harbor12345"

	routeBulk       = "POST /v1/blueprints/{blueprint}/entities/bulk"
	routeBulkDelete = "POST /v1/blueprints/{blueprint}/bulk/entities/delete"
	routeSearch     = "POST /v1/blueprints/{blueprint}/entities/search"
	routeAuth       = "POST /v1/auth/access_token"
)

// envOptions tunes newEnv.
type envOptions struct {
	latency     time.Duration // fixed per-request latency on both simulators
	concurrency int           // both clients; 0 = the provider default 8
	retries     int           // both clients; 0 = 2 (fast tests), negative = none
	noLibrary   bool          // start Harbor without the default "library" project
	scoped      bool          // blueprints with the scope property (scope_test.go)
	// portFront, when set, wraps the Port simulator (to fail requests at a
	// chosen point of an apply).
	portFront func(*portsim.Server, http.Handler) http.Handler
}

// env is one Harbor + Port pair with clients and the default blueprints.
type env struct {
	t      testing.TB
	hsim   *harborsim.Server
	psim   *portsim.Server
	hc     *harbor.Client
	pc     *port.Client
	offset int // port client requests sent before the last resetRequests
}

func newEnv(t testing.TB, o envOptions) *env {
	t.Helper()
	o = o.withDefaults()
	hsim, hc, closeH := startHarbor(t, o)
	t.Cleanup(closeH)
	psim, pc, closeP := startPort(t, o)
	t.Cleanup(closeP)
	e := &env{t: t, hsim: hsim, psim: psim, hc: hc, pc: pc}
	e.setLatency(o.latency)
	e.resetRequests()
	return e
}

func (o envOptions) withDefaults() envOptions {
	if o.concurrency == 0 {
		o.concurrency = 8
	}
	if o.retries == 0 {
		o.retries = 2
	}
	return o
}

// setLatency sets the fixed per-request latency of both simulators.
func (e *env) setLatency(d time.Duration) {
	e.hsim.SetFaults(harborsim.Faults{Latency: d})
	e.psim.SetFaults(portsim.Faults{Latency: d})
}

// startHarbor starts a Harbor simulator and a client for it (as admin).
func startHarbor(t testing.TB, o envOptions) (*harborsim.Server, *harbor.Client, func()) {
	t.Helper()
	hsim := harborsim.New(harborsim.Options{NoLibraryProject: o.noLibrary})
	hsrv := httptest.NewServer(hsim)
	hc, err := harbor.New(harbor.Config{URL: hsrv.URL, Username: harborAdmin, Password: harborPassword,
		MaxConcurrency: o.concurrency, UserAgent: "harborport/test",
		MaxRetries: o.retries, MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond, Timeout: 30 * time.Second})
	if err != nil {
		hsrv.Close()
		t.Fatal(err)
	}
	return hsim, hc, hsrv.Close
}

// startPort starts a Port simulator with the four default blueprints and an
// authenticated client for it.
func startPort(t testing.TB, o envOptions) (*portsim.Server, *port.Client, func()) {
	t.Helper()
	psim := portsim.New(portsim.Options{ClientID: simClientID, ClientSecret: simClientSecret, MigrationPolls: 1})
	var ph http.Handler = psim
	if o.portFront != nil {
		ph = o.portFront(psim, psim)
	}
	psrv := httptest.NewServer(ph)
	pc, err := port.New(port.Config{BaseURL: psrv.URL, ClientID: simClientID, ClientSecret: simClientSecret,
		UserAgent: "harborport/test", Concurrency: o.concurrency,
		MaxRetries: o.retries, MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond, MaxWait: 20 * time.Millisecond,
		PollInterval: time.Millisecond})
	if err != nil {
		psrv.Close()
		t.Fatal(err)
	}
	create := testenv.CreateDefaultBlueprints
	if o.scoped {
		create = testenv.CreateScopedBlueprints
	}
	if err := create(context.Background(), pc); err != nil {
		psrv.Close()
		t.Fatal(err)
	}
	return psim, pc, psrv.Close
}

// engine builds an engine for the default mapping, or for yaml when given.
func (e *env) engine(yaml ...string) *Engine {
	e.t.Helper()
	eng, err := newEngine(e.hc, e.pc, yaml...)
	if err != nil {
		e.t.Fatal(err)
	}
	return eng
}

func newEngine(hc *harbor.Client, pc *port.Client, yaml ...string) (*Engine, error) {
	m := mapping.Default(mapping.DefaultIDs())
	if len(yaml) > 0 {
		var err error
		if m, err = mapping.Parse(yaml[0], "test mapping"); err != nil {
			return nil, fmt.Errorf("mapping: %w", err)
		}
	}
	return New(hc, pc, m)
}

// settle waits until portsim has logged every request the client sent:
// portsim logs a request after writing the answer, so counts read right after
// a call can miss it.
func (e *env) settle() {
	e.t.Helper()
	want := sum(e.pc.Stats()) - e.offset
	for range 2000 {
		if sum(e.psim.Requests()) >= want {
			return
		}
		time.Sleep(time.Millisecond)
	}
	e.t.Fatalf("portsim logged %d requests, the client sent %d", sum(e.psim.Requests()), want)
}

// resetRequests clears both simulators' request logs.
func (e *env) resetRequests() {
	e.settle()
	e.psim.ResetRequests()
	e.hsim.ResetRequests()
	e.offset = sum(e.pc.Stats())
}

// portRequests returns portsim's per-route counts once settled.
func (e *env) portRequests() map[string]int {
	e.settle()
	return e.psim.Requests()
}

// portWrites lists the entity-writing requests Port received since the last reset.
func (e *env) portWrites() []string {
	e.settle()
	var out []string
	for _, r := range e.psim.RequestLog() {
		if r.Method != "GET" && r.Route != routeSearch && r.Route != routeAuth &&
			strings.Contains(r.Route, "/entities") {
			out = append(out, r.Method+" "+r.Path)
		}
	}
	return out
}

func sum(m map[string]int) (n int) {
	for _, v := range m {
		n += v
	}
	return n
}

func (e *env) compute(eng *Engine) *Report {
	e.t.Helper()
	rep, err := eng.Compute(context.Background())
	if err != nil {
		e.t.Fatalf("Compute: %v", err)
	}
	return rep
}

func (e *env) apply(eng *Engine, cs *Changeset) Result {
	e.t.Helper()
	res, err := eng.Apply(context.Background(), cs)
	if err != nil {
		e.t.Fatalf("Apply: %v (result %+v)", err, res)
	}
	return res
}

// sync computes and applies, and checks a second compute is empty.
func (e *env) sync(eng *Engine) {
	e.t.Helper()
	rep := e.compute(eng)
	e.apply(eng, rep.Changeset)
	if again := e.compute(eng); !again.Changeset.Empty() {
		e.t.Fatalf("after apply, Compute still has %d changes: %v", len(again.Changeset.Changes), again.Changeset.Preview(10))
	}
}

// describe renders changes as "op blueprint/identifier [fields]" for messages.
func describe(chs []Change) []string {
	out := make([]string, len(chs))
	for i, c := range chs {
		out[i] = string(c.Op) + " " + c.key()
		if len(c.Fields) > 0 {
			out[i] += " [" + strings.Join(c.Fields, ",") + "]"
		}
	}
	return out
}

// keysOf returns the sorted keys of a map.
func keysOf[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// smallHarbor fills Harbor with a small, hand-made registry: two projects,
// three repositories (one nested), five artifacts, one extra user.
func (e *env) smallHarbor() {
	e.t.Helper()
	e.hsim.CreateProject("alpha", true)
	e.hsim.CreateProject("beta", false)
	e.hsim.AddUser("dev", "Passw0rd-1", false)
	for _, p := range []struct {
		project, repo string
		tags          []string
	}{
		{"alpha", "web", []string{"latest", "v1"}},
		{"alpha", "web", []string{"v0"}},
		{"alpha", "team/api", []string{"1.0"}},
		{"beta", "db", []string{"15"}},
		{"beta", "db", nil},
	} {
		_, err := e.hsim.PushArtifact(p.project, p.repo, p.tags, harborsim.PushOptions{})
		must(e.t, err)
	}
}

// fieldsOf builds the compared-field set of a resource.
func fieldsOf(title, team bool, props, rels []string) *mapping.Fields {
	return &mapping.Fields{Title: title, Team: team, Properties: props, Relations: rels}
}
