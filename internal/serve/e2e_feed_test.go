package serve

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/harborport/terraform-provider-harborport/internal/auditfeed"
	"github.com/harborport/terraform-provider-harborport/internal/harbor"
	"github.com/harborport/terraform-provider-harborport/internal/sandbox/harborsim"
	"github.com/harborport/terraform-provider-harborport/internal/testenv"
)

// The audit-log feed end to end: terraform applies the blueprints and the
// first sync, and no webhook at all; the listener (its own process, the
// default --audit-poll-interval) hears of every Harbor change from the audit
// log alone: tags added and removed through the API, a new project with a
// push, a deleted repository, users created and deleted, a push into a
// project that scans on push (the scan's result arrives). Each reaches Port
// within 15 s; the next plan is empty.

// harborAPI sends a request to the Harbor simulator's REST API as admin, as a
// user or a UI would: these are the writes Harbor audits without a webhook.
func (e *e2e) harborAPI(method, path string, body any) (int, []byte) {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, e.harbor+"/api/v2.0"+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	req.SetBasicAuth("admin", "Harbor12345")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

func (e *e2e) harborAPIOK(method, path string, body any) []byte {
	e.t.Helper()
	code, out := e.harborAPI(method, path, body)
	if code/100 != 2 {
		e.t.Fatalf("%s %s: %d %s", method, path, code, out)
	}
	return out
}

func artifactPath(project, repo, ref string) string {
	return "/projects/" + project + "/repositories/" + url.PathEscape(url.PathEscape(repo)) + "/artifacts/" + ref
}

func (e *e2e) userID(name string) int64 {
	e.t.Helper()
	out := e.harborAPIOK(http.MethodGet, "/users?q="+url.QueryEscape("username="+name), nil)
	var us []struct {
		UserID int64 `json:"user_id"`
	}
	if err := json.Unmarshal(out, &us); err != nil || len(us) != 1 {
		e.t.Fatalf("user %s: %s", name, out)
	}
	return us[0].UserID
}

// portProps returns an entity's properties (nil when absent).
func (e *e2e) portProps(bp, id string) map[string]any {
	ent, ok := e.ps.Entity(bp, id)
	if !ok {
		return nil
	}
	p, _ := ent["properties"].(map[string]any)
	if p == nil {
		p = map[string]any{}
	}
	return p
}

func (e *e2e) portTags(id string) []string {
	var out []string
	tags, _ := e.portProps("harborArtifact", id)["tags"].([]any)
	for _, t := range tags {
		s, _ := t.(string)
		out = append(out, s)
	}
	return out
}

// latencies measures, per operation type, the time from an operation in
// Harbor to its effect in Port, polling Port every 25 ms.
type latencies struct {
	mu      sync.Mutex
	pending []*measured
	byType  map[string][]time.Duration
	stop    chan struct{}
	done    chan struct{}
}

type measured struct {
	typ   string
	what  string
	start time.Time
	cond  func() bool
}

func newLatencies() *latencies {
	l := &latencies{byType: map[string][]time.Duration{}, stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(l.done)
		for {
			select {
			case <-l.stop:
				return
			case <-time.After(25 * time.Millisecond):
			}
			l.mu.Lock()
			now := time.Now()
			keep := l.pending[:0]
			for _, m := range l.pending {
				if m.cond() {
					l.byType[m.typ] = append(l.byType[m.typ], now.Sub(m.start))
				} else {
					keep = append(keep, m)
				}
			}
			l.pending = keep
			l.mu.Unlock()
		}
	}()
	return l
}

func (l *latencies) add(typ, what string, start time.Time, cond func() bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.pending = append(l.pending, &measured{typ: typ, what: what, start: start, cond: cond})
}

func (l *latencies) wait(t *testing.T, timeout time.Duration, logs func() string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		l.mu.Lock()
		n := len(l.pending)
		var left []string
		for _, m := range l.pending {
			left = append(left, m.typ+": "+m.what)
		}
		l.mu.Unlock()
		if n == 0 {
			close(l.stop)
			<-l.done
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not in Port after %s: %s%s", timeout, strings.Join(left, "; "), logs())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// table renders p50/p99/max per type and returns the worst latency.
func (l *latencies) table() (string, time.Duration) {
	var b strings.Builder
	var worst time.Duration
	types := make([]string, 0, len(l.byType))
	for t := range l.byType {
		types = append(types, t)
	}
	sort.Strings(types)
	fmt.Fprintf(&b, "%-34s %5s %8s %8s %8s\n", "operation", "count", "p50", "p99", "max")
	for _, t := range types {
		ds := slices.Clone(l.byType[t])
		slices.Sort(ds)
		q := func(p float64) time.Duration { return ds[min(len(ds)-1, int(p*float64(len(ds))))] }
		fmt.Fprintf(&b, "%-34s %5d %8s %8s %8s\n", t, len(ds), q(0.5).Round(10*time.Millisecond), q(0.99).Round(10*time.Millisecond),
			ds[len(ds)-1].Round(10*time.Millisecond))
		worst = max(worst, ds[len(ds)-1])
	}
	return b.String(), worst
}

// portWrites counts, through a front on the Port simulator, entity writes
// and the upserts that wrote an entity exactly as it already was (work done
// twice).
type portWrites struct {
	mu           sync.Mutex
	last         map[string]string
	upserts      int
	redundant    int
	deletes      int
	redundantIDs []string
}

func (w *portWrites) front(next http.Handler) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/entities/bulk") {
			body, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(body))
			var in struct {
				Entities []map[string]any `json:"entities"`
			}
			_ = json.Unmarshal(body, &in)
			bp := strings.Split(strings.TrimPrefix(r.URL.Path, "/v1/blueprints/"), "/")[0]
			w.mu.Lock()
			if w.last == nil {
				w.last = map[string]string{}
			}
			for _, ent := range in.Entities {
				id, _ := ent["identifier"].(string)
				canon, _ := json.Marshal(ent) // map keys sorted
				key := bp + "/" + id
				if w.last[key] == string(canon) {
					w.redundant++
					w.redundantIDs = append(w.redundantIDs, key)
				}
				w.last[key] = string(canon)
				w.upserts++
			}
			w.mu.Unlock()
		}
		if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/bulk/entities/delete") {
			w.mu.Lock()
			w.deletes++
			w.mu.Unlock()
		}
		next.ServeHTTP(rw, r)
	})
}

// metricValue scrapes the listener's /metrics: the sum of the samples of
// name over all label values.
func (e *e2e) metricValue(name string) float64 {
	e.t.Helper()
	resp, err := http.Get(e.listener + "/metrics")
	if err != nil {
		e.t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, _ := io.ReadAll(resp.Body)
	total := 0.0
	re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + `(\{[^}]*\})? ([0-9.e+-]+)$`)
	for _, m := range re.FindAllStringSubmatch(string(b), -1) {
		v, _ := strconv.ParseFloat(m[2], 64)
		total += v
	}
	return total
}

func (e *e2e) readyz() (int, map[string]any) {
	e.t.Helper()
	resp, err := http.Get(e.listener + "/readyz")
	if err != nil {
		e.t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// feedWorld is the Harbor the feed scenarios start from: projects apps and
// scans (scan on push), an artifact with tags to remove, repositories to
// delete, users to delete.
func feedWorld(t *testing.T, e *e2e, rounds int) (tagged string) {
	t.Helper()
	must(t, e.hs.SetProjectMetadata("apps", "auto_scan", "false"))
	e.hs.CreateProject("scans", false)
	must(t, e.hs.SetProjectMetadata("scans", "auto_scan", "true"))
	var rm []string
	for i := range rounds {
		rm = append(rm, fmt.Sprintf("rm%d", i))
	}
	d, err := e.hs.PushArtifact("apps", "web", append([]string{"1.0"}, rm...), harborsim.PushOptions{})
	must(t, err)
	for i := range rounds {
		for j := range 2 {
			_, err := e.hs.PushArtifact("apps", fmt.Sprintf("gone%d", i), []string{fmt.Sprintf("v%d", j)}, harborsim.PushOptions{})
			must(t, err)
		}
		if _, err := e.hs.AddUserE(fmt.Sprintf("old%d", i), "Passw0rd-long", false); err != nil {
			t.Fatal(err)
		}
	}
	return d
}

// feedOps runs the operation rounds, spaced out, and registers each one's
// effect in Port with l. ops may restrict the types.
func feedOps(t *testing.T, e *e2e, l *latencies, tagged string, rounds int, gap time.Duration) {
	t.Helper()
	web := "apps/web@" + tagged
	pause := func() { time.Sleep(gap) }
	for i := range rounds {
		tag := fmt.Sprintf("t%d", i)
		start := time.Now()
		e.harborAPIOK(http.MethodPost, artifactPath("apps", "web", tagged)+"/tags", map[string]string{"name": tag})
		l.add("tag add (API)", tag, start, func() bool { return slices.Contains(e.portTags(web), tag) })
		pause()

		rm := fmt.Sprintf("rm%d", i)
		start = time.Now()
		e.harborAPIOK(http.MethodDelete, artifactPath("apps", "web", tagged)+"/tags/"+rm, nil)
		l.add("tag remove (API)", rm, start, func() bool { return !slices.Contains(e.portTags(web), rm) })
		pause()

		np := fmt.Sprintf("new%d", i)
		start = time.Now()
		e.hs.CreateProject(np, false)
		d, err := e.hs.PushArtifact(np, "app", []string{"v1"}, harborsim.PushOptions{})
		must(t, err)
		l.add("new project + push", np, start, func() bool {
			return e.portProps("harborProject", np) != nil && e.portProps("harborArtifact", np+"/app@"+d) != nil
		})
		pause()

		repo := fmt.Sprintf("gone%d", i)
		start = time.Now()
		e.harborAPIOK(http.MethodDelete, "/projects/apps/repositories/"+repo, nil)
		l.add("repository delete (API)", repo, start, func() bool {
			if e.portProps("harborRepository", "apps/"+repo) != nil {
				return false
			}
			for _, ent := range e.ps.Entities("harborArtifact") {
				if id, _ := ent["identifier"].(string); strings.HasPrefix(id, "apps/"+repo+"@") {
					return false
				}
			}
			return true
		})
		pause()

		user := fmt.Sprintf("user%d", i)
		start = time.Now()
		e.harborAPIOK(http.MethodPost, "/users", map[string]string{"username": user, "email": user + "@example.com",
			"realname": "User " + user, "password": "Passw0rd-long"})
		l.add("user create (API)", user, start, func() bool { return e.portProps("harborUser", user) != nil })
		pause()

		old := fmt.Sprintf("old%d", i)
		id := e.userID(old)
		start = time.Now()
		e.harborAPIOK(http.MethodDelete, "/users/"+strconv.FormatInt(id, 10), nil)
		l.add("user delete (API)", old, start, func() bool { return e.portProps("harborUser", old) == nil })
		pause()

		start = time.Now()
		sd, err := e.hs.PushArtifact("scans", "app", []string{fmt.Sprintf("s%d", i)}, harborsim.PushOptions{})
		must(t, err)
		l.add("push + scan on push (result)", sd[:19], start, func() bool {
			so, _ := e.portProps("harborArtifact", "scans/app@"+sd)["scanOverview"].(map[string]any)
			return so != nil && so["scan_status"] == "Success"
		})
		pause()
	}
}

func feedConfig(e *e2e, webhooks bool) string {
	cfg := fmt.Sprintf(`
provider "harborport" {
  port_base_url      = %q
  port_client_id     = "e2e-id"
  port_client_secret = "e2e-port-secret"
  harbor_url         = %q
  harbor_username    = "admin"
  harbor_password    = "Harbor12345"
}

resource "harborport_blueprints" "harbor" {
  delete_entities = true
}

resource "harborport_sync" "harbor" {
  blueprints = harborport_blueprints.harbor.identifiers
}
`, e.port, e.harbor)
	if webhooks {
		cfg += fmt.Sprintf(`
resource "harborport_webhook" "listener" {
  endpoint   = "%s/integration/webhook"
  secret     = %q
  event_types = ["PUSH_ARTIFACT", "DELETE_ARTIFACT", "PULL_ARTIFACT", "SCANNING_COMPLETED", "SCANNING_FAILED"]
  depends_on = [harborport_sync.harbor]
}
`, e.listener, e2eSecret)
	}
	return cfg
}

type feedRun struct {
	table      string
	worst      time.Duration
	writes     *portWrites
	enqueued   float64
	coalesced  float64
	reconciles float64
	updated    int
}

// runFeedScenario: the world, terraform apply, the listener, the operations,
// the latencies, the invariant and the next plan.
func runFeedScenario(t *testing.T, webhooks bool) feedRun {
	if os.Getenv("TF_ACC") == "" {
		t.Skip("acceptance test: set TF_ACC=1 (make test does)")
	}
	const rounds = 5
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	writes := &portWrites{}
	e := newSimsFront(t, harborsim.Options{ScanOnPush: true}, writes.front)
	tagged := feedWorld(t, e, rounds)
	e.start() // default --audit-poll-interval (10s)
	tf := testenv.NewTerraform(t, testenv.ProviderBinary(t))
	tf.WriteConfig(feedConfig(e, webhooks))
	tf.RunOK(ctx, nil, "apply", "-auto-approve", "-input=false", "-json")
	must(t, e.hs.WaitIdle(ctx))
	e.waitFor("the feed running", 20*time.Second, func() bool {
		_, rz := e.readyz()
		feed, _ := rz["audit_feed"].(map[string]any)
		return feed["state"] == "ok" && e.lis.Count("audit-log feed starts after the newest record") == 1
	})
	if !webhooks {
		for _, p := range []string{"apps", "scans"} {
			if ps, err := e.hc.ListWebhookPolicies(ctx, p); err != nil || len(ps) != 0 {
				t.Fatalf("project %s has webhook policies: %v %v", p, ps, err)
			}
		}
	}
	e.syncCheck(30 * time.Second)

	l := newLatencies()
	feedOps(t, e, l, tagged, rounds, 300*time.Millisecond)
	l.wait(t, 60*time.Second, func() string { return e.lis.LogTail(60) })
	table, worst := l.table()
	if worst > 15*time.Second {
		t.Errorf("an operation took %s to reach Port, over 15 s:\n%s", worst, table)
	}
	must(t, e.hs.WaitIdle(ctx))
	e.syncCheck(30 * time.Second)
	// The catalog needs nothing from terraform. (With webhooks, the new
	// projects still need their policy: harborport_webhook's plan adds them,
	// which is what the feed covered meanwhile.)
	planArgs := []string{"plan", "-input=false", "-detailed-exitcode", "-no-color"}
	if webhooks {
		planArgs = append(planArgs, "-target=harborport_sync.harbor")
	}
	if res := tf.Run(ctx, planArgs...); res.ExitCode != 0 {
		t.Fatalf("the next plan is not empty (exit %d):\n%s%s", res.ExitCode, res.Stdout, res.Stderr)
	}
	run := feedRun{table: table, worst: worst, writes: writes,
		enqueued: e.metricValue("harborport_keys_enqueued_total"), coalesced: e.metricValue("harborport_keys_coalesced_total"),
		reconciles: e.metricValue("harborport_reconciles_total"), updated: e.lis.Count(`msg="port updated"`)}
	if strings.Contains(e.log(), "e2e-webhook-secret") || strings.Contains(e.log(), "e2e-port-secret") || strings.Contains(e.log(), "Harbor12345") {
		t.Error("a secret appears in the listener's log")
	}
	return run
}

// newSimsFront is newSimsWith with a front on the Port simulator.
func newSimsFront(t *testing.T, hopts harborsim.Options, front func(http.Handler) http.Handler) *e2e {
	t.Helper()
	return newSimsWith(t, hopts, front)
}

// webhookPolicy is a policy sending the default event types to the listener.
func webhookPolicy(listenerURL string) harbor.WebhookPolicy {
	return harbor.WebhookPolicy{Name: "harborport", Enabled: true,
		EventTypes: []string{"PUSH_ARTIFACT", "DELETE_ARTIFACT", "PULL_ARTIFACT", "SCANNING_COMPLETED", "SCANNING_FAILED"},
		Targets:    []harbor.WebhookTarget{{Type: "http", Address: listenerURL + "/integration/webhook", AuthHeader: e2eSecret, PayloadFormat: "CloudEvents"}}}
}

func TestAccE2E_auditFeedWithoutWebhooks(t *testing.T) {
	run := runFeedScenario(t, false)
	t.Logf("audit-log feed only (no webhook policy), default --audit-poll-interval 10s, simulator defaults (scan on push 3 s); "+
		"time from the Harbor operation to Port:\n%s", run.table)
	t.Logf("keys enqueued %v, coalesced %v, reconciles %v, reconciles that wrote %d; Port entity upserts %d (redundant %d %v), bulk deletes %d",
		run.enqueued, run.coalesced, run.reconciles, run.updated, run.writes.upserts, run.writes.redundant, run.writes.redundantIDs, run.writes.deletes)
	if run.writes.redundant != 0 {
		t.Errorf("%d upserts wrote an entity exactly as it was: %v", run.writes.redundant, run.writes.redundantIDs)
	}
}

// With webhooks as well, the feed and the webhooks name the same keys for
// pushes, deletes and scans: the spool coalesces them and a second reconcile
// of a key finds nothing to write, so no entity is written twice with the
// same content; the end state is the same.
func TestAccE2E_auditFeedWithWebhooks(t *testing.T) {
	run := runFeedScenario(t, true)
	t.Logf("audit-log feed and webhooks; time from the Harbor operation to Port:\n%s", run.table)
	t.Logf("keys enqueued %v, coalesced %v, reconciles %v, reconciles that wrote %d; Port entity upserts %d (redundant %d), bulk deletes %d",
		run.enqueued, run.coalesced, run.reconciles, run.updated, run.writes.upserts, run.writes.redundant, run.writes.deletes)
	if run.writes.redundant != 0 {
		t.Errorf("%d upserts wrote an entity exactly as it was: %v", run.writes.redundant, run.writes.redundantIDs)
	}
}

var spooledIDsRE = regexp.MustCompile(`msg="audit records spooled".* ids=([0-9,-]+)`)

// spooledIDs lists, from the listener's log (all its runs), every audit
// record id it spooled, with repeats.
func spooledIDs(log string) []int64 {
	var out []int64
	for _, m := range spooledIDsRE.FindAllStringSubmatch(log, -1) {
		for _, part := range strings.Split(m[1], ",") {
			lo, hi, found := strings.Cut(part, "-")
			a, _ := strconv.ParseInt(lo, 10, 64)
			b := a
			if found {
				b, _ = strconv.ParseInt(hi, 10, 64)
			}
			for id := a; id <= b; id++ {
				out = append(out, id)
			}
		}
	}
	return out
}

// kill -9 during a burst of audit records: after the restart every record's
// effect is in Port, no record was spooled twice (the cursor moved with the
// keys, and survived), and no entity was written twice with the same content.
// Then a cursor whose records were purged while the listener was down: one
// full resync, once.
func TestE2E_auditFeedKillDashNineAndPurge(t *testing.T) {
	writes := &portWrites{}
	e := newSimsFront(t, harborsim.Options{}, writes.front)
	testenv.SetDefaultBlueprints(t, e.ps)
	rep, err := e.engine.Compute(context.Background())
	must(t, err)
	_, err = e.engine.Apply(context.Background(), rep.Changeset)
	must(t, err)
	e.lis.Args = append(e.lis.Args, "--audit-poll-interval", "1s")
	e.start()
	e.waitFor("the feed's cursor", 20*time.Second, func() bool { return e.lis.Count("audit-log feed starts after the newest record") == 1 })
	first := e.hs.AuditLog()[len(e.hs.AuditLog())-1].ID

	const n = 60
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range n {
			e.hs.CreateProject(fmt.Sprintf("burst%02d", i), false)
			if _, err := e.hs.AddUserE(fmt.Sprintf("burster%02d", i), "Passw0rd-long", false); err != nil {
				t.Error(err)
				return
			}
			time.Sleep(40 * time.Millisecond)
		}
	}()
	time.Sleep(1500 * time.Millisecond) // some polls in
	e.stop(syscall.SIGKILL)
	<-done
	killedAt := spooledIDs(e.log())
	e.start()
	e.waitFor("every burst record's effect in Port", 30*time.Second, func() bool {
		for i := range n {
			if e.portProps("harborProject", fmt.Sprintf("burst%02d", i)) == nil || e.portProps("harborUser", fmt.Sprintf("burster%02d", i)) == nil {
				return false
			}
		}
		return true
	})
	e.syncCheck(30 * time.Second)
	ids := spooledIDs(e.log())
	counts := map[int64]int{}
	for _, id := range ids {
		counts[id]++
	}
	last := e.hs.AuditLog()[len(e.hs.AuditLog())-1].ID
	for id := first + 1; id <= last; id++ {
		if counts[id] > 1 {
			t.Errorf("audit record %d was spooled %d times", id, counts[id])
		}
	}
	if len(killedAt) == 0 || len(killedAt) >= 2*n {
		t.Errorf("the kill came after %d of %d records were spooled: not during the burst", len(killedAt), 2*n)
	}
	writes.mu.Lock()
	if writes.redundant != 0 {
		t.Errorf("%d upserts wrote an entity exactly as it was: %v", writes.redundant, writes.redundantIDs)
	}
	writes.mu.Unlock()
	t.Logf("kill -9 after %d of %d burst records were spooled; after the restart %d more; none twice", len(killedAt), 2*n, len(ids)-len(killedAt))

	// Purged while down: records made and purged unread, then more.
	e.stop(syscall.SIGTERM)
	for i := range 5 {
		e.hs.CreateProject(fmt.Sprintf("purged%d", i), false)
	}
	time.Sleep(10 * time.Millisecond)
	if _, err := e.hs.PurgeAuditLog(harborsim.AuditPurge{Before: time.Now(), EventTypes: []string{"create_project", "create_user", "other"}}); err != nil {
		t.Fatal(err)
	}
	e.hs.CreateProject("after-purge", false)
	e.start()
	e.waitFor("one full resync", 90*time.Second, func() bool { return e.lis.Count(`msg="full resync (audit records lost) done"`) == 1 })
	e.waitFor("the project made after the purge", 20*time.Second, func() bool { return e.portProps("harborProject", "after-purge") != nil })
	e.syncCheck(30 * time.Second)
	time.Sleep(3 * time.Second) // more polls
	if got := e.lis.Count(`msg="full resync (audit records lost) done"`); got != 1 {
		t.Fatalf("%d full resyncs, want 1", got)
	}
	if got := e.metricValue("harborport_audit_feed_resyncs_total"); got != 1 {
		t.Fatalf("harborport_audit_feed_resyncs_total = %v", got)
	}
	if !strings.Contains(e.log(), "audit-log feed lost records: audit records") {
		t.Fatal("the loss is not logged")
	}
}

// A Harbor account without audit-log:list: /readyz stays 200 and names the
// feed degraded with the fix, the log says it once, and webhooks still work.
func TestE2E_auditFeedWithoutPermission(t *testing.T) {
	e := newSimsWith(t, harborsim.Options{}, nil)
	must(t, e.hs.AddRobotE("sync", "Robot-Secret-123", harborsim.RobotPermissions{UserList: true}))
	testenv.SetDefaultBlueprints(t, e.ps)
	rep, err := e.engine.Compute(context.Background())
	must(t, err)
	_, err = e.engine.Apply(context.Background(), rep.Changeset)
	must(t, err)
	for i, v := range e.lis.Env {
		switch {
		case strings.HasPrefix(v, "HARBOR_USERNAME="):
			e.lis.Env[i] = "HARBOR_USERNAME=robot$sync"
		case strings.HasPrefix(v, "HARBOR_PASSWORD="):
			e.lis.Env[i] = "HARBOR_PASSWORD=Robot-Secret-123"
		}
	}
	e.lis.Args = append(e.lis.Args, "--audit-poll-interval", "1s")
	e.start()
	_, err = e.hc.CreateWebhookPolicy(context.Background(), "apps", webhookPolicy(e.listener))
	must(t, err)
	e.waitFor("the feed degraded", 20*time.Second, func() bool {
		code, rz := e.readyz()
		feed, _ := rz["audit_feed"].(map[string]any)
		return code == 200 && rz["status"] == "ready" && feed["state"] == "degraded" && feed["reason"] == auditfeed.ReasonForbidden
	})
	d, err := e.hs.PushArtifact("apps", "web", []string{"1.0"}, harborsim.PushOptions{})
	must(t, err)
	e.waitFor("the pushed artifact in Port through the webhook", 15*time.Second, func() bool { _, ok := e.artifact("web", d); return ok })
	time.Sleep(2 * time.Second)
	if n := e.lis.Count("audit-log feed degraded: " + auditfeed.ReasonForbidden); n != 1 {
		t.Fatalf("the degraded line is logged %d times:\n%s", n, e.lis.LogTail(30))
	}
	if got := e.metricValue("harborport_audit_feed_degraded"); got != 1 {
		t.Fatalf("harborport_audit_feed_degraded = %v", got)
	}
	if strings.Contains(e.log(), "Robot-Secret-123") {
		t.Fatal("the robot's secret is in the log")
	}
}
