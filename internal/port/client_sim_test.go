package port

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/harborport/terraform-provider-harborport/internal/sandbox/portsim"
)

// Integration tests against the strict Port simulator.

const (
	bulkRoute   = "POST /v1/blueprints/{blueprint}/entities/bulk"
	authRoute   = "POST /v1/auth/access_token"
	searchRoute = "POST /v1/blueprints/{blueprint}/entities/search"
)

type simEnv struct {
	sim    *portsim.Server
	c      *Client
	offset int // client requests sent before the last reset
}

func newSim(t *testing.T, opts portsim.Options, mods ...func(*Config)) *simEnv {
	t.Helper()
	opts.ClientID, opts.ClientSecret = testID, testSecret
	sim := portsim.New(opts)
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	cfg := Config{BaseURL: srv.URL + "/", ClientID: testID, ClientSecret: testSecret, UserAgent: "harborport/test",
		MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond, MaxWait: 20 * time.Millisecond,
		PollInterval: time.Millisecond, Clock: opts.Clock}
	for _, m := range mods {
		m(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &simEnv{sim: sim, c: c}
}

// settle waits until the simulator has logged every request the client sent:
// portsim records a request after writing its response, so a count read
// right after a call may miss that call.
func (e *simEnv) settle(t *testing.T) {
	t.Helper()
	want := sumCounts(e.c.Stats()) - e.offset
	for range 1000 {
		if sumCounts(e.sim.Requests()) >= want {
			return
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatalf("simulator logged %d requests, client sent %d", sumCounts(e.sim.Requests()), want)
}

func sumCounts(m map[string]int) (n int) {
	for _, v := range m {
		n += v
	}
	return n
}

// reset clears the simulator's request log.
func (e *simEnv) reset(t *testing.T) {
	t.Helper()
	e.settle(t)
	e.sim.ResetRequests()
	e.offset = sumCounts(e.c.Stats())
}

// requests returns the simulator's per-route counts once settled.
func (e *simEnv) requests(t *testing.T) map[string]int {
	t.Helper()
	e.settle(t)
	return e.sim.Requests()
}

// log returns the simulator's request log once settled.
func (e *simEnv) log(t *testing.T) []portsim.LoggedRequest {
	t.Helper()
	e.settle(t)
	return e.sim.RequestLog()
}

func projectBlueprint() Blueprint {
	return Blueprint{Identifier: "harborProject", Title: "Harbor Project", Icon: "Harbor",
		Schema: BlueprintSchema{Properties: map[string]Property{
			"public":    {Type: "boolean", Title: "Public"},
			"repoCount": {Type: "number", Title: "Repositories"},
		}}}
}

func artifactBlueprint() Blueprint {
	return Blueprint{Identifier: "harborArtifact", Title: "Harbor Artifact",
		Schema: BlueprintSchema{Properties: map[string]Property{
			"digest": {Type: "string", Title: "Digest"},
			"size":   {Type: "number"},
		}},
		Relations: map[string]Relation{"project": {Target: "harborProject", Title: "Project"}}}
}

func (e *simEnv) createBlueprints(t *testing.T, bps ...Blueprint) {
	t.Helper()
	for _, bp := range bps {
		if _, err := e.c.CreateBlueprint(t.Context(), bp); err != nil {
			t.Fatal(err)
		}
	}
}

func projects(n int) []Entity {
	out := make([]Entity, n)
	for i := range out {
		title := fmt.Sprintf("Project %d", i)
		out[i] = Entity{Identifier: fmt.Sprintf("proj-%04d", i), Title: &title,
			Properties: map[string]any{"public": i%2 == 0, "repoCount": i}}
	}
	return out
}

func requireAllOK(t *testing.T, res []EntityResult, n int) {
	t.Helper()
	if len(res) != n {
		t.Fatalf("results = %d, want %d", len(res), n)
	}
	for i, r := range res {
		if r.Err != nil || r.Index != i {
			t.Fatalf("result %d = %+v (%v)", i, r, r.Err)
		}
	}
}

func TestSimBlueprintCRUD(t *testing.T) {
	e := newSim(t, portsim.Options{MigrationPolls: 3})
	ctx := t.Context()
	e.createBlueprints(t, projectBlueprint(), artifactBlueprint())

	if _, err := e.c.CreateBlueprint(ctx, projectBlueprint()); !IsConflict(err) {
		t.Errorf("duplicate create = %v, want conflict", err)
	}
	got, err := e.c.GetBlueprint(ctx, "harborArtifact")
	if err != nil || got.Relations["project"].Target != "harborProject" || got.CreatedAt == "" {
		t.Fatalf("get = %+v, %v", got, err)
	}
	// A read blueprint can be written back: read-only fields are dropped.
	got.Title = "Artifact"
	got.Schema.Properties["tags"] = Property{Type: "array", Title: "Tags"}
	if got, err = e.c.ReplaceBlueprint(ctx, *got); err != nil || got.Title != "Artifact" || got.Schema.Properties["tags"].Type != "array" {
		t.Fatalf("replace = %+v, %v", got, err)
	}
	if got, err = e.c.PatchBlueprint(ctx, "harborArtifact", map[string]any{"description": "OCI artifacts"}); err != nil || got.Description != "OCI artifacts" || got.Title != "Artifact" {
		t.Fatalf("patch = %+v, %v", got, err)
	}
	list, err := e.c.ListBlueprints(ctx)
	if err != nil || len(list) != 2 {
		t.Fatalf("list = %d, %v", len(list), err)
	}
	if _, err := e.c.GetBlueprint(ctx, "nope"); !IsNotFound(err) {
		t.Errorf("get missing = %v", err)
	}

	// Entities block deletion; all-entities + migration clears the way.
	res, err := e.c.UpsertEntities(ctx, "harborArtifact", []Entity{{Identifier: "lib/nginx@sha256:1", Properties: map[string]any{"digest": "sha256:1"}}}, UpsertOptions{Merge: true})
	if err != nil || res[0].Err != nil {
		t.Fatalf("upsert = %+v, %v", res, err)
	}
	if err := e.c.DeleteBlueprint(ctx, "harborArtifact"); !HasCode(err, "has_dependents") {
		t.Errorf("delete with entities = %v, want has_dependents", err)
	}
	if err := e.c.DeleteAllEntities(ctx, "harborArtifact", true); err != nil {
		t.Fatal(err)
	}
	if n := e.requests(t)["GET /v1/migrations/{migration}"]; n != 4 {
		t.Errorf("migration polls = %d, want 4 (3×RUNNING, COMPLETED)", n)
	}
	if _, ok := e.sim.Blueprint("harborArtifact"); ok {
		t.Error("blueprint still exists")
	}
	if err := e.c.DeleteBlueprint(ctx, "harborProject"); err != nil {
		t.Fatal(err)
	}
	if ids := e.sim.BlueprintIDs(); len(ids) != 0 {
		t.Errorf("blueprints left: %v", ids)
	}
}

func TestSimBulkUpsertAndDelete(t *testing.T) {
	e := newSim(t, portsim.Options{})
	ctx := t.Context()
	e.createBlueprints(t, projectBlueprint(), artifactBlueprint())

	in := projects(250)
	res, err := e.c.UpsertEntities(ctx, "harborProject", in, UpsertOptions{Merge: true})
	requireAllOK(t, res, 250)
	if err != nil || !res[0].Created || !res[249].Created {
		t.Fatalf("first upsert: %v", err)
	}
	if n := e.sim.EntityCount("harborProject"); n != 250 {
		t.Fatalf("entities = %d", n)
	}
	if n := e.requests(t)[bulkRoute]; n != 13 {
		t.Errorf("bulk requests = %d, want ⌈250/20⌉ = 13", n)
	}

	// Merge keeps properties not sent; Created is false for existing ones.
	upd := []Entity{{Identifier: "proj-0001", Properties: map[string]any{"public": true}}}
	res, err = e.c.UpsertEntities(ctx, "harborProject", upd, UpsertOptions{Merge: true})
	if err != nil || res[0].Err != nil || res[0].Created {
		t.Fatalf("merge upsert = %+v, %v", res, err)
	}
	got, err := e.c.GetEntity(ctx, "harborProject", "proj-0001")
	if err != nil || got.Properties["public"] != true || got.Properties["repoCount"] != float64(1) || *got.Title != "Project 1" {
		t.Fatalf("after merge = %+v, %v", got, err)
	}

	// Relations: with create_missing_related_entities a stub project appears.
	arts := []Entity{
		{Identifier: "lib/nginx:1.27", Properties: map[string]any{"digest": "sha256:a"}, Relations: map[string]any{"project": "proj-0000"}},
		{Identifier: "new/app:1", Properties: map[string]any{"digest": "sha256:b"}, Relations: map[string]any{"project": "brand-new"}},
	}
	res, err = e.c.UpsertEntities(ctx, "harborArtifact", arts, UpsertOptions{Merge: true, CreateMissingRelated: true})
	requireAllOK(t, res, 2)
	if _, ok := e.sim.Entity("harborProject", "brand-new"); !ok || err != nil {
		t.Fatalf("stub project missing (%v)", err)
	}

	// Bulk delete: dependents block it unless deleteDependents.
	ids := make([]string, 0, 251)
	for _, p := range in {
		ids = append(ids, p.Identifier)
	}
	ids = append(ids, "never-existed")
	if _, err := e.c.DeleteEntities(ctx, "harborProject", ids, false); !HasCode(err, "has_dependents") {
		t.Errorf("delete with dependents = %v", err)
	}
	deleted, err := e.c.DeleteEntities(ctx, "harborProject", ids, true)
	if err != nil {
		t.Fatal(err)
	}
	// The chunk holding proj-0000 failed above as a whole; the others went through.
	if len(deleted) == 0 || slices.Contains(deleted, "never-existed") {
		t.Errorf("deleted %d (%v…)", len(deleted), deleted[:min(3, len(deleted))])
	}
	if n := e.sim.EntityCount("harborProject"); n != 1 { // only brand-new is left
		t.Errorf("projects left = %d, want 1", n)
	}
	if n := e.sim.EntityCount("harborArtifact"); n != 1 { // lib/nginx went with proj-0000
		t.Errorf("artifacts left = %d, want 1", n)
	}
	if err := e.c.DeleteEntity(ctx, "harborArtifact", "new/app:1", false); err != nil {
		t.Fatal(err)
	}
	if err := e.c.DeleteEntity(ctx, "harborArtifact", "new/app:1", false); err != nil {
		t.Errorf("second delete = %v, want nil (already gone)", err)
	}
	if n, err := e.c.CountEntities(ctx, "harborArtifact"); n != 0 || err != nil {
		t.Errorf("count = %d, %v", n, err)
	}
}

func TestSimSearchPaginated(t *testing.T) {
	e := newSim(t, portsim.Options{})
	ctx := t.Context()
	e.createBlueprints(t, projectBlueprint())
	for _, p := range projects(2345) {
		repoCount, ok := p.Properties["repoCount"].(int)
		if !ok {
			t.Fatalf("%s: repoCount is %T, want int", p.Identifier, p.Properties["repoCount"])
		}
		props := map[string]any{"public": p.Properties["public"], "repoCount": float64(repoCount)}
		if err := e.sim.SetEntity("harborProject", map[string]any{"identifier": p.Identifier, "title": *p.Title, "properties": props}); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	pages := 0
	q := SearchQuery{Include: []string{"$identifier", "properties.public"}}
	err := e.c.SearchEntities(ctx, "harborProject", q, func(es []Entity) error {
		pages++
		for _, x := range es {
			if _, has := x.Properties["repoCount"]; has {
				t.Errorf("%s: repoCount not included yet returned", x.Identifier)
			}
			got = append(got, x.Identifier)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if pages != 3 || len(got) != 2345 {
		t.Errorf("pages = %d, entities = %d", pages, len(got))
	}
	if n := e.requests(t)[searchRoute]; n != 3 {
		t.Errorf("search requests = %d", n)
	}
	slices.Sort(got)
	if len(slices.Compact(got)) != 2345 {
		t.Error("duplicates across pages")
	}

	// With a rule.
	count := 0
	q = SearchQuery{Rules: []map[string]any{{"property": "public", "operator": "=", "value": true}}}
	if err := e.c.SearchEntities(ctx, "harborProject", q, func(es []Entity) error { count += len(es); return nil }); err != nil {
		t.Fatal(err)
	}
	if count != 1173 {
		t.Errorf("public projects = %d, want 1173", count)
	}
}

func TestSimTokenExpiryMidRun(t *testing.T) {
	clk := newClock()
	e := newSim(t, portsim.Options{Clock: clk.Now, TokenTTL: 100 * time.Second})
	ctx := t.Context()
	e.createBlueprints(t, projectBlueprint())
	upsert := func(from int) {
		t.Helper()
		res, err := e.c.UpsertEntities(ctx, "harborProject", projects(from + 40)[from:], UpsertOptions{})
		if err != nil {
			t.Fatal(err)
		}
		requireAllOK(t, res, 40)
	}
	upsert(0)
	clk.Advance(60 * time.Second) // past the refresh point: Port re-issues the same token
	upsert(40)
	clk.Advance(41 * time.Second) // expired: a new token
	upsert(80)
	e.sim.ExpireTokens() // revoked server-side mid-run: one 401, refresh, replay
	upsert(120)
	if n := e.sim.EntityCount("harborProject"); n != 160 {
		t.Errorf("entities = %d", n)
	}
	if n := e.requests(t)[authRoute]; n != 4 {
		t.Errorf("token requests = %d, want 4 (initial, proactive, expired, revoked)", n)
	}
	var unauthorized int
	for _, r := range e.log(t) {
		if r.Status == http.StatusUnauthorized {
			unauthorized++
		}
	}
	if unauthorized > e.c.concurrency {
		t.Errorf("401 answers = %d, want at most one per concurrent request", unauthorized)
	}
}

func TestSim429Storm(t *testing.T) {
	for _, epoch := range []bool{false, true} {
		t.Run(fmt.Sprintf("epoch=%v", epoch), func(t *testing.T) {
			clk := newClock()
			e := newSim(t, portsim.Options{Clock: clk.Now}, func(c *Config) { c.MaxWait = time.Hour })
			sleeps := recordSleeps(e.c)
			e.createBlueprints(t, projectBlueprint())
			e.sim.SetFaults(portsim.Faults{RateLimitNext: 6, RetryAfter: 2 * time.Second, ResetEpoch: epoch})
			res, err := e.c.UpsertEntities(t.Context(), "harborProject", projects(60), UpsertOptions{})
			if err != nil {
				t.Fatal(err)
			}
			requireAllOK(t, res, 60)
			if n := e.requests(t)[bulkRoute]; n != 9 {
				t.Errorf("bulk requests = %d, want 3 + 6 rate-limited", n)
			}
			if len(*sleeps) == 0 {
				t.Error("never paused for the rate limit")
			}
			for _, d := range *sleeps {
				if !within(d, 2*time.Second) {
					t.Errorf("paused %v, want 2s (reset and Retry-After)", d)
				}
			}
		})
	}
}

// A steady window of 5 requests: the proactive throttle waits for the reset
// instead of burning requests on 429s.
func TestSimSteadyRateLimit(t *testing.T) {
	clk := newClock()
	e := newSim(t, portsim.Options{Clock: clk.Now}, func(c *Config) { c.MaxWait = time.Hour })
	e.createBlueprints(t, projectBlueprint())
	e.sim.SetFaults(portsim.Faults{RateLimit: 5, RateLimitPeriod: 10 * time.Second})
	var waits []time.Duration
	e.c.sleep = func(_ context.Context, d time.Duration) error {
		waits = append(waits, d)
		clk.Advance(d) // time passes while we wait
		return nil
	}
	for range 22 {
		if _, err := e.c.GetBlueprint(t.Context(), "harborProject"); err != nil {
			t.Fatal(err)
		}
	}
	for _, r := range e.log(t) {
		if r.Status == http.StatusTooManyRequests {
			t.Errorf("429 on %s: the throttle should have waited", r.Route)
		}
	}
	if len(waits) < 4 {
		t.Errorf("waits = %v, want one per exhausted window", waits)
	}
}

func TestSim413Split(t *testing.T) {
	e := newSim(t, portsim.Options{})
	ctx := t.Context()
	e.createBlueprints(t, projectBlueprint(), artifactBlueprint())

	// Injected 413 on the first batch: halves, then quarters…
	e.sim.SetFaults(portsim.Faults{FailNext: 1, FailStatus: http.StatusRequestEntityTooLarge})
	res, err := e.c.UpsertEntities(ctx, "harborArtifact", artifacts(20, 10), UpsertOptions{})
	if err != nil {
		t.Fatal(err)
	}
	requireAllOK(t, res, 20)
	if n := e.requests(t)[bulkRoute]; n != 3 {
		t.Errorf("bulk requests = %d, want 3 (413, then two halves)", n)
	}

	// Real sizes: 300 KB entities are packed three to a request and the
	// simulator's 1 MiB limit is never hit; a 1.1 MB entity is refused locally.
	e.reset(t)
	in := artifacts(7, 300_000)
	in = append(in, artifacts(1, 1_100_000)[0])
	in[7].Identifier = "huge"
	res, err = e.c.UpsertEntities(ctx, "harborArtifact", in, UpsertOptions{})
	if err != nil {
		t.Fatal(err)
	}
	requireAllOK(t, res[:7], 7)
	if res[7].Err == nil || res[7].Err.Code != CodeTooLarge {
		t.Errorf("huge = %+v", res[7])
	}
	for _, r := range e.log(t) {
		if r.Status == http.StatusRequestEntityTooLarge || r.BodyBytes >= 1<<20 {
			t.Errorf("request %s: status %d, %d bytes", r.Route, r.Status, r.BodyBytes)
		}
	}
	if n := e.requests(t)[bulkRoute]; n != 3 {
		t.Errorf("bulk requests = %d, want 3 (3+3+1)", n)
	}
}

func artifacts(n, digestLen int) []Entity {
	out := make([]Entity, n)
	for i := range out {
		out[i] = Entity{Identifier: fmt.Sprintf("art-%d", i), Properties: map[string]any{"digest": strings.Repeat("d", digestLen)}}
	}
	return out
}

func TestSim207Partial(t *testing.T) {
	e := newSim(t, portsim.Options{})
	e.createBlueprints(t, projectBlueprint(), artifactBlueprint())
	in := artifacts(30, 8)
	in[3].Properties["size"] = "big"                        // wrong type
	in[17].Relations = map[string]any{"project": "no-such"} // missing target
	in[25].Properties["unknownProp"] = 1                    // not in the schema
	res, err := e.c.UpsertEntities(t.Context(), "harborArtifact", in, UpsertOptions{})
	if err != nil {
		t.Fatal(err)
	}
	wantErr := map[int]int{3: 422, 17: 404, 25: 422}
	for i, r := range res {
		status, bad := wantErr[i]
		switch {
		case bad && (r.Err == nil || r.Err.Status != status || r.Identifier != in[i].Identifier):
			t.Errorf("result %d = %+v, want status %d", i, r, status)
		case !bad && r.Err != nil:
			t.Errorf("result %d: %v", i, r.Err)
		}
	}
	if !strings.Contains(res[17].Err.Error(), "no-such") {
		t.Errorf("error does not name the missing target: %v", res[17].Err)
	}
	if n := e.sim.EntityCount("harborArtifact"); n != 27 {
		t.Errorf("stored = %d, want 27", n)
	}
	var multi int
	for _, r := range e.log(t) {
		if r.Status == http.StatusMultiStatus {
			multi++
		}
	}
	if multi != 2 {
		t.Errorf("207 answers = %d, want 2 (batches 1 and 2)", multi)
	}
}

func Test5xxBurstsAgainstSim(t *testing.T) {
	e := newSim(t, portsim.Options{Seed: 7})
	ctx := t.Context()
	// The create's answer is lost after the write: the retry's 409 resolves to it.
	e.sim.SetFaults(portsim.Faults{FailNext: 1, FailStatus: http.StatusBadGateway, FailAfterWrite: true})
	if _, err := e.c.CreateBlueprint(ctx, projectBlueprint()); err != nil {
		t.Fatalf("create after lost answer: %v", err)
	}

	e.sim.SetFaults(portsim.Faults{Error5xxRate: 0.3, FailStatus: http.StatusInternalServerError})
	res, err := e.c.UpsertEntities(ctx, "harborProject", projects(200), UpsertOptions{Merge: true})
	if err != nil {
		t.Fatal(err)
	}
	requireAllOK(t, res, 200)
	if n := e.sim.EntityCount("harborProject"); n != 200 {
		t.Errorf("entities = %d", n)
	}
	var failed int
	for _, r := range e.log(t) {
		if r.Status >= 500 {
			failed++
		}
	}
	if failed == 0 {
		t.Error("no 5xx was injected; the test proves nothing")
	}

	// Bulk delete whose answer is lost: the retry deletes nothing, the client
	// confirms the rest are gone.
	e.sim.SetFaults(portsim.Faults{FailNext: 1, FailStatus: http.StatusBadGateway, FailAfterWrite: true})
	ids := []string{"proj-0000", "proj-0001", "proj-0002"}
	deleted, err := e.c.DeleteEntities(ctx, "harborProject", ids, false)
	slices.Sort(deleted)
	if err != nil || !slices.Equal(deleted, ids) {
		t.Errorf("deleted = %v, %v", deleted, err)
	}
}

// Paced under a known limit: with Port's rate-limit headers the client keeps
// inside the window before Port has to say no — no 429 at all — and loses
// almost nothing at each window's end (x-ratelimit-reset's whole seconds
// are tightened by x-ratelimit-period from the answers' arrival). 45
// requests at 10 per second from 8 goroutines: the fixed-window floor is
// (ceil(45/10) - 1) × 1 s = 4 s.
func TestSimPacedUnderFixedWindow(t *testing.T) {
	for _, epoch := range []bool{false, true} {
		t.Run(fmt.Sprintf("epoch=%v", epoch), func(t *testing.T) {
			e := newSim(t, portsim.Options{}, func(c *Config) { c.MaxWait = time.Minute; c.Concurrency = 8 })
			e.createBlueprints(t, projectBlueprint())
			e.sim.SetFaults(portsim.Faults{RateLimit: 10, RateLimitPeriod: time.Second, ResetEpoch: epoch})
			e.reset(t)
			const n = 45
			start := time.Now()
			var wg sync.WaitGroup
			jobs := make(chan int, n)
			for i := range n {
				jobs <- i
			}
			close(jobs)
			for range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for range jobs {
						if _, err := e.c.GetBlueprint(t.Context(), "harborProject"); err != nil {
							t.Error(err)
						}
					}
				}()
			}
			wg.Wait()
			wall := time.Since(start)
			e.settle(t)
			n429 := 0
			for _, r := range e.sim.RequestLog() {
				if r.Status == http.StatusTooManyRequests {
					n429++
				}
			}
			floor := 4 * time.Second
			t.Logf("wall %s, floor %s (%.3f×), %d × 429, %d waits", wall.Round(time.Millisecond), floor, wall.Seconds()/floor.Seconds(), n429, e.c.pace.waits)
			if n429 != 0 {
				t.Errorf("%d requests were answered 429: the pacer let requests through an exhausted window", n429)
			}
			if wall > floor+floor/20+200*time.Millisecond {
				t.Errorf("wall %s, more than 1.05 × the %s floor (+200 ms slack for the machine)", wall, floor)
			}
		})
	}
}
