package faults

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/harborport/terraform-provider-harborport/internal/catalog"
	"github.com/harborport/terraform-provider-harborport/internal/harbor"
	"github.com/harborport/terraform-provider-harborport/internal/mapping"
	"github.com/harborport/terraform-provider-harborport/internal/port"
	"github.com/harborport/terraform-provider-harborport/internal/sandbox/harborsim"
	"github.com/harborport/terraform-provider-harborport/internal/sandbox/portsim"
	"github.com/harborport/terraform-provider-harborport/internal/testenv"
	"github.com/harborport/terraform-provider-harborport/internal/testenv/synccheck"
)

// Credentials of the simulated services. The secrets are checked to never
// appear in the listener's log.
const (
	portClientID     = "faults-id"
	portClientSecret = "faults-port-secret"
	webhookSecret    = "Bearer faults-webhook-secret"
	harborAdmin      = "admin"
	harborPassword   = "Harbor12345"
)

// report is what a scenario tells the summary table.
type report struct {
	mu     sync.Mutex
	w      *world
	frozen string // requests column, frozen before the final invariant check
	notes  []string
}

func (r *report) note(format string, a ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.notes = append(r.notes, fmt.Sprintf(format, a...))
}

// requests is the table's requests column: what the simulators served
// since the scenario's setup, with the non-2xx statuses among them.
func (r *report) requests() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.frozen != "" {
		return r.frozen
	}
	if r.w == nil {
		return "-"
	}
	return r.w.requestSummary()
}

func (r *report) freeze() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.frozen == "" && r.w != nil {
		r.frozen = r.w.requestSummary()
	}
}

// world is one scenario's simulators on loopback, with a catalog engine
// (admin credentials, default clients) that checks the invariant.
type world struct {
	t         *testing.T
	rep       *report
	hs        *harborsim.Server
	ps        *portsim.Server
	harborURL string
	portURL   string
	checker   *catalog.Engine
	admin     *harbor.Client

	hookMu   sync.Mutex
	portHook func(r *http.Request) // called before Port serves each request

	listener *listenerProc
}

type worldOpts struct {
	delivery harborsim.DeliveryOptions
	seed     *harborsim.SeedConfig
	noSync   bool // leave Port without blueprints and entities (terraform creates them)
}

func skipUnlessFaults(t *testing.T) {
	t.Helper()
	if os.Getenv("HARBORPORT_FAULTS") != "1" {
		t.Skip("fault suite: set HARBORPORT_FAULTS=1 to run it (make test-faults does)")
	}
	if testing.Short() {
		t.Skip("fault suite: not in -short mode")
	}
}

func newWorld(t *testing.T, rep *report, o worldOpts) *world {
	t.Helper()
	if o.delivery.BackoffScale == 0 {
		o.delivery.BackoffScale = 0.001
	}
	w := &world{t: t, rep: rep}
	sims := testenv.StartSims(t, harborsim.Options{Delivery: o.delivery, Clock: time.Now},
		portsim.Options{ClientID: portClientID, ClientSecret: portClientSecret, Seed: 7},
		func(ps http.Handler) http.Handler {
			return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
				w.hookMu.Lock()
				hook := w.portHook
				w.hookMu.Unlock()
				if hook != nil {
					hook(r)
				}
				ps.ServeHTTP(rw, r)
			})
		})
	hs, ps := sims.Harbor, sims.Port
	w.hs, w.ps, w.harborURL, w.portURL = hs, ps, sims.HarborURL, sims.PortURL
	// Harbor sends Connection: close-less keep-alives; long-hanging handlers
	// must not hold the test's Cleanup: close client connections first.
	t.Cleanup(sims.HarborServer.CloseClientConnections)

	hs.CreateProject("apps", false)
	if o.seed != nil {
		hs.Seed(*o.seed)
	}
	var err error
	if w.admin, err = harbor.New(harbor.Config{URL: w.harborURL, Username: harborAdmin, Password: harborPassword}); err != nil {
		t.Fatal(err)
	}
	w.checker = w.engine(harbor.Config{})
	if !o.noSync {
		w.setBlueprints()
		if _, err := w.sync(w.checker, time.Minute); err != nil {
			t.Fatalf("initial sync: %v", err)
		}
		w.mustInSync("after the initial sync")
	}
	hs.ResetRequests()
	ps.ResetRequests()
	hs.ResetDeliveryLog()
	rep.w = w
	return w
}

// engine builds a catalog engine with its own clients; a zero hcfg and the
// Port client take the product's defaults (what terraform and the listener use).
func (w *world) engine(hcfg harbor.Config) *catalog.Engine {
	w.t.Helper()
	hcfg.URL = w.harborURL
	if hcfg.Username == "" {
		hcfg.Username, hcfg.Password = harborAdmin, harborPassword
	}
	pcfg := port.Config{BaseURL: w.portURL, ClientID: portClientID, ClientSecret: portClientSecret}
	hc, err := harbor.New(hcfg)
	if err != nil {
		w.t.Fatal(err)
	}
	pc, err := port.New(pcfg)
	if err != nil {
		w.t.Fatal(err)
	}
	eng, err := catalog.New(hc, pc, mapping.Default(mapping.DefaultIDs()))
	if err != nil {
		w.t.Fatal(err)
	}
	return eng
}

// setBlueprints creates the default blueprints in Port, as harborport_blueprints does.
func (w *world) setBlueprints() { testenv.SetDefaultBlueprints(w.t, w.ps) }

// sync is a full sync as terraform apply of harborport_sync runs it:
// compute the changeset from Harbor and Port, then apply it.
func (w *world) sync(eng *catalog.Engine, timeout time.Duration) (syncOutcome, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	rep, err := eng.Compute(ctx)
	if err != nil {
		return syncOutcome{}, fmt.Errorf("compute: %w", err)
	}
	return w.apply(ctx, eng, rep.Changeset)
}

type syncOutcome struct {
	cs  *catalog.Changeset
	res catalog.Result
}

func (w *world) apply(ctx context.Context, eng *catalog.Engine, cs *catalog.Changeset) (syncOutcome, error) {
	res, err := eng.Apply(ctx, cs)
	return syncOutcome{cs: cs, res: res}, err
}

// plan computes the changeset a fresh full sync would apply.
func (w *world) plan() *catalog.Changeset {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rep, err := w.checker.Compute(ctx)
	if err != nil {
		w.t.Fatalf("computing the invariant: %v", err)
	}
	return rep.Changeset
}

// inSync reports whether Port holds exactly what a full sync would write.
func (w *world) inSync() (bool, string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	return synccheck.InSync(ctx, w.checker)
}

func (w *world) mustInSync(when string) {
	w.t.Helper()
	if ok, diff := w.inSync(); !ok {
		w.t.Fatalf("%s: Port differs from what the mapping says Harbor holds: %s", when, diff)
	}
}

// invariant is every scenario's last check: it freezes the request counts
// for the table, then waits (up to timeout) until Port equals Harbor.
func (w *world) invariant(timeout time.Duration) {
	w.t.Helper()
	w.rep.freeze()
	deadline := time.Now().Add(timeout)
	for {
		ok, diff := w.inSync()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			w.t.Fatalf("invariant broken after %s: Port differs from what the mapping says Harbor holds: %s%s", timeout, diff, w.listenerLogTail())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (w *world) setPortHook(h func(r *http.Request)) {
	w.hookMu.Lock()
	w.portHook = h
	w.hookMu.Unlock()
}

// requestSummary counts what both simulators served, with the non-2xx
// statuses (the injected faults) in brackets.
func (w *world) requestSummary() string {
	statuses := func(m map[int]int) string {
		var keys []int
		for k := range m {
			if k >= 300 || k == 207 || k == 0 {
				keys = append(keys, k)
			}
		}
		if len(keys) == 0 {
			return ""
		}
		sort.Ints(keys)
		var parts []string
		for _, k := range keys {
			name := fmt.Sprint(k)
			if k == 0 {
				name = "cut"
			}
			parts = append(parts, fmt.Sprintf("%s×%d", name, m[k]))
		}
		return " (" + strings.Join(parts, " ") + ")"
	}
	hl, pl := w.hs.RequestLog(), w.ps.RequestLog()
	hm, pm := map[int]int{}, map[int]int{}
	for _, r := range hl {
		hm[r.Status]++
	}
	for _, r := range pl {
		pm[r.Status]++
	}
	return fmt.Sprintf("H %d%s, P %d%s", len(hl), statuses(hm), len(pl), statuses(pm))
}

// portStatuses counts Port's responses by status, optionally for one route.
func (w *world) portStatuses(route string) map[int]int {
	m := map[int]int{}
	for _, r := range w.ps.RequestLog() {
		if route == "" || r.Route == route {
			m[r.Status]++
		}
	}
	return m
}

const (
	routeBulkUpsert = "POST /v1/blueprints/{blueprint}/entities/bulk"
	routeBulkDelete = "POST /v1/blueprints/{blueprint}/bulk/entities/delete"
	routeAuth       = "POST /v1/auth/access_token"
)

// drift changes Harbor so that the next sync has creates, updates and
// deletes to do: new artifacts (one new repository), scans and new tags on
// existing ones, and deletions. It returns the expected counts of changed
// artifacts, for orientation only; the invariant is what is checked.
func (w *world) drift(newArtifacts, rescans, deletes int) {
	w.t.Helper()
	ctx := context.Background()
	var existing [][3]string // project, repo, digest
	projects, err := w.admin.ListProjects(ctx, harbor.ProjectQuery{})
	if err != nil {
		w.t.Fatal(err)
	}
	for _, p := range projects {
		pn, _ := p["name"].(string)
		repos, err := w.admin.ListRepositories(ctx, pn, harbor.RepoQuery{})
		if err != nil {
			w.t.Fatal(err)
		}
		for _, r := range repos {
			full, _ := r["name"].(string)
			rn := strings.TrimPrefix(full, pn+"/")
			arts, err := w.admin.ListArtifacts(ctx, pn, rn, harbor.ArtifactQuery{})
			if err != nil {
				w.t.Fatal(err)
			}
			for _, a := range arts {
				d, _ := a["digest"].(string)
				existing = append(existing, [3]string{pn, rn, d})
			}
		}
	}
	sort.Slice(existing, func(i, j int) bool {
		return strings.Join(existing[i][:], "/") < strings.Join(existing[j][:], "/")
	})
	if len(existing) < rescans+deletes {
		w.t.Fatalf("drift: %d artifacts, want at least %d", len(existing), rescans+deletes)
	}
	for i := range newArtifacts {
		if _, err := w.hs.PushArtifact("apps", fmt.Sprintf("drift-%d", i%3), []string{fmt.Sprintf("v%d", i)}, harborsim.PushOptions{}); err != nil {
			w.t.Fatal(err)
		}
	}
	for _, a := range existing[:rescans] {
		if err := w.hs.ScanArtifact(a[0], a[1], a[2], map[string]int{"High": 2, "Low": 1}); err != nil {
			w.t.Fatal(err)
		}
	}
	for _, a := range existing[len(existing)-deletes:] {
		if err := w.hs.DeleteArtifact(a[0], a[1], a[2]); err != nil {
			w.t.Fatal(err)
		}
	}
}

// ---- the listener process ----

// listenerProc is `terraform-provider-harborport serve` as a child process.
// Restarts keep the address (Harbor's policy points there) and the spool.
type listenerProc struct {
	*testenv.Listener
	w       *world
	dataDir string
	user    string // Harbor account, read at each start
	pass    string
}

// startListener runs the listener with the given Harbor credentials and
// points a webhook policy of project apps at it.
func (w *world) startListener(user, pass string) *listenerProc {
	w.t.Helper()
	l := &listenerProc{w: w, dataDir: w.t.TempDir(), user: user, pass: pass}
	l.Listener = &testenv.Listener{Bin: testenv.ProviderBinary(w.t), StartTimeout: 30 * time.Second,
		Args: []string{"--data-dir", l.dataDir, "--log-format", "text", "--log-level", "debug"}}
	w.listener = l
	l.start("")
	_, err := w.admin.CreateWebhookPolicy(context.Background(), "apps", harbor.WebhookPolicy{Name: "harborport", Enabled: true,
		EventTypes: []string{"PUSH_ARTIFACT", "DELETE_ARTIFACT", "PULL_ARTIFACT", "SCANNING_COMPLETED", "SCANNING_FAILED"},
		Targets:    []harbor.WebhookTarget{{Type: "http", Address: l.URL() + "/integration/webhook", AuthHeader: webhookSecret, PayloadFormat: "CloudEvents"}}})
	if err != nil {
		w.t.Fatal(err)
	}
	return l
}

// start runs the process; fileLimitKB != "" runs it under `ulimit -f` (a
// full file system for the spool: writes past the limit fail with EFBIG).
func (l *listenerProc) start(fileLimitKB string) {
	l.w.t.Helper()
	w := l.w
	l.Env = append(os.Environ(), "HARBOR_URL="+w.harborURL, "HARBOR_USERNAME="+l.user, "HARBOR_PASSWORD="+l.pass,
		"PORT_BASE_URL="+w.portURL, "PORT_CLIENT_ID="+portClientID, "PORT_CLIENT_SECRET="+portClientSecret,
		"HARBORPORT_WEBHOOK_SECRET="+webhookSecret)
	l.Prefix = nil
	if fileLimitKB != "" {
		l.Prefix = []string{"bash", "-c", `ulimit -f "$1" && shift && exec "$@"`, "bash", fileLimitKB}
	}
	l.Start(l.w.t)
}

// stop signals the process and waits for it (and for its log to be read).
func (l *listenerProc) stop(sig syscall.Signal) { l.Stop(sig) }

func (l *listenerProc) log() string { return l.Log() }

func (l *listenerProc) count(substr string) int { return l.Count(substr) }

func (w *world) listenerLogTail() string {
	if w.listener == nil {
		return ""
	}
	return w.listener.LogTail(40)
}

// waitFor polls cond every 20 ms until it holds or timeout passes.
func (w *world) waitFor(what string, timeout time.Duration, cond func() bool) {
	w.t.Helper()
	testenv.WaitFor(w.t, what, timeout, cond, w.listenerLogTail)
}

// noLostEvents waits until Harbor has no delivery pending, then checks that
// every delivery ended with a 2xx: none was given up after its last attempt.
func (w *world) noLostEvents(timeout time.Duration) (attempts, failed int) {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := w.hs.WaitIdle(ctx); err != nil {
		w.t.Fatalf("Harbor still delivering after %s: %v", timeout, err)
	}
	var lost []string
	for _, a := range w.hs.DeliveryLog() {
		attempts++
		if !a.OK() {
			failed++
			if a.Final {
				lost = append(lost, fmt.Sprintf("%s attempt %d: %s", a.EventType, a.Attempt, a.Error))
			}
		}
	}
	if len(lost) > 0 {
		w.t.Fatalf("%d events lost (Harbor gave up on them): %v%s", len(lost), lost, w.listenerLogTail())
	}
	return attempts, failed
}

// inPort reports whether Port holds the artifact apps/repo@digest.
func (w *world) inPort(repo, digest string) bool {
	_, ok := w.ps.Entity("harborArtifact", "apps/"+repo+"@"+digest)
	return ok
}
