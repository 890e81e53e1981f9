package serve

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/harborport/terraform-provider-harborport/internal/mapping"
	"github.com/harborport/terraform-provider-harborport/internal/sandbox/harborsim"
	"github.com/harborport/terraform-provider-harborport/internal/sandbox/portsim"
	"github.com/harborport/terraform-provider-harborport/internal/testenv"
)

// Scoped ownership with real terraform (internal/DESIGN.md "Scoped
// ownership"): several syncs, one Port.

func skipUnlessAcc(t *testing.T) {
	if os.Getenv("TF_ACC") == "" {
		t.Skip("acceptance test: set TF_ACC=1 (make test does)")
	}
	if testing.Short() {
		t.Skip("end-to-end: builds and runs the binary")
	}
}

// scopedHarbor starts a Harbor simulator of its own (webhooks delivered on
// the wall clock), closed when the test ends.
func scopedHarbor(t *testing.T) (*harborsim.Server, string) {
	t.Helper()
	hs := harborsim.New(harborsim.Options{Clock: time.Now, Delivery: harborsim.DeliveryOptions{BackoffScale: 0.001}})
	t.Cleanup(func() { _ = hs.Close() })
	srv := httptest.NewServer(hs)
	t.Cleanup(srv.Close)
	return hs, srv.URL
}

func scopedListener(t *testing.T, harborURL, portURL, scope string) *testenv.Listener {
	return &testenv.Listener{Bin: testenv.ProviderBinary(t), StartTimeout: 20 * time.Second,
		Args: []string{"--data-dir", t.TempDir(), "--log-format", "text", "--scope", scope},
		Env: append(os.Environ(), "HARBOR_URL="+harborURL, "HARBOR_USERNAME=admin", "HARBOR_PASSWORD=Harbor12345",
			"PORT_BASE_URL="+portURL, "PORT_CLIENT_ID=e2e-id", "PORT_CLIENT_SECRET=e2e-port-secret",
			"HARBORPORT_WEBHOOK_SECRET="+e2eSecret)}
}

const scopedProviders = `
provider "harborport" {
  port_base_url      = %[1]q
  port_client_id     = "e2e-id"
  port_client_secret = "e2e-port-secret"
  harbor_url         = %[2]q
  harbor_username    = "admin"
  harbor_password    = "Harbor12345"
}

provider "harborport" {
  alias              = "us"
  port_base_url      = %[1]q
  port_client_id     = "e2e-id"
  port_client_secret = "e2e-port-secret"
  harbor_url         = %[3]q
  harbor_username    = "admin"
  harbor_password    = "Harbor12345"
}

resource "harborport_blueprints" "catalog" {
  scope_property  = true
  delete_entities = true
}

resource "harborport_sync" "eu" {
  scope      = "eu"
  blueprints = harborport_blueprints.catalog.identifiers
}

resource "harborport_webhook" "eu" {
  endpoint   = "%[4]s/integration/webhook"
  secret     = %[6]q
  depends_on = [harborport_sync.eu]
}

resource "harborport_sync" "us" {
  provider   = harborport.us
  scope      = "us"
  blueprints = harborport_blueprints.catalog.identifiers
}

resource "harborport_webhook" "us" {
  provider   = harborport.us
  endpoint   = "%[5]s/integration/webhook"
  secret     = %[6]q
  depends_on = [harborport_sync.us]
}
`

// scopeCount counts Port's entities per identifier prefix ("eu:", "us:",
// "" for none) over the four blueprints, checking each one's mark.
func scopeCount(t *testing.T, ps *portsim.Server) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, bp := range []string{"harborProject", "harborUser", "harborRepository", "harborArtifact"} {
		for _, ent := range ps.Entities(bp) {
			id, _ := ent["identifier"].(string)
			scope, _, found := strings.Cut(id, ":")
			if !found {
				scope = ""
			}
			props, _ := ent["properties"].(map[string]any)
			if mark, _ := props[mapping.ScopeProperty].(string); mark != scope {
				t.Fatalf("%s/%s carries mark %q", bp, id, mark)
			}
			out[scope]++
		}
	}
	return out
}

// Two Harbor simulators with the same project and repository names, two
// scoped syncs (each through its own provider configuration) and two scoped
// listeners, one Port: each plan shows only its own Harbor; a project deleted
// in Harbor A deletes nothing of B; a mass deletion in A is judged against
// A's entities only; an unscoped third sync in the same blueprints fails at
// plan, in the same provider configuration and in another one.
func TestAccScopedOwnership_twoHarbors(t *testing.T) {
	skipUnlessAcc(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	sims := testenv.StartSims(t, harborsim.Options{Clock: time.Now, Delivery: harborsim.DeliveryOptions{BackoffScale: 0.001}},
		portsim.Options{ClientID: "e2e-id", ClientSecret: "e2e-port-secret"}, nil)
	hsA, ps := sims.Harbor, sims.Port
	hsB, harborB := scopedHarbor(t)
	for _, hs := range []*harborsim.Server{hsA, hsB} {
		hs.CreateProject("apps", false)
		for _, tags := range [][]string{{"1.0"}, {"2.0"}} {
			_, err := hs.PushArtifact("apps", "web", tags, harborsim.PushOptions{})
			must(t, err)
		}
	}
	hsA.CreateProject("big", false)
	for i := range 40 {
		_, err := hsA.PushArtifact("big", "x", []string{fmt.Sprintf("v%d", i)}, harborsim.PushOptions{})
		must(t, err)
	}
	hsB.Seed(harborsim.SeedConfig{Projects: 2, ReposPerProject: 3, ArtifactsPerRepo: 60, Users: 2, Seed: 3})

	lisA := scopedListener(t, sims.HarborURL, sims.PortURL, "eu")
	lisB := scopedListener(t, harborB, sims.PortURL, "us")
	lisA.Start(t)
	lisB.Start(t)

	tf := testenv.NewTerraform(t, testenv.ProviderBinary(t))
	base := fmt.Sprintf(scopedProviders, sims.PortURL, sims.HarborURL, harborB, lisA.URL(), lisB.URL(), e2eSecret)
	tf.WriteConfig(base)
	tf.RunOK(ctx, nil, "apply", "-auto-approve", "-input=false", "-json")
	counts := scopeCount(t, ps)
	if counts[""] != 0 || counts["eu"] == 0 || counts["us"] <= counts["eu"] {
		t.Fatalf("entities per scope after the first apply: %v", counts)
	}
	for _, id := range []string{"eu:apps", "us:apps"} {
		if _, ok := ps.Entity("harborProject", id); !ok {
			t.Fatalf("no project %s", id)
		}
	}
	emptyPlan := func(what string) {
		t.Helper()
		if res := tf.Run(ctx, "plan", "-input=false", "-detailed-exitcode", "-json"); res.ExitCode != 0 {
			t.Fatalf("%s: the plan is not empty (exit %d):\n%s%s", what, res.ExitCode, res.Errors(), res.Stdout)
		}
	}
	emptyPlan("after the first apply")
	changes := func(plan map[string]any, addr string) map[string]any {
		after := testenv.PlannedAfter(plan, addr)
		ch, _ := after["changes"].(map[string]any)
		return ch
	}

	// Each plan shows only its own Harbor: a push to A (listener A stopped)
	// is in eu's plan, and us's plan is empty.
	lisA.Stop(syscall.SIGTERM)
	d, err := hsA.PushArtifact("apps", "web", []string{"3.0"}, harborsim.PushOptions{})
	must(t, err)
	tf.RunOK(ctx, []int{2}, "plan", "-input=false", "-detailed-exitcode", "-json", "-out=push.tfplan")
	plan := tf.ShowJSON(ctx, "push.tfplan")
	eu, us := changes(plan, "harborport_sync.eu"), changes(plan, "harborport_sync.us")
	if eu["harborArtifact/eu:apps/web@"+d] != "create" || eu["harborRepository/eu:apps/web"] == nil || len(us) != 0 {
		t.Fatalf("plans after a push to A: eu %v, us %v", eu, us)
	}
	for k := range eu {
		if !strings.Contains(k, "/eu:") {
			t.Fatalf("eu's plan names %s", k)
		}
	}
	lisA.Start(t) // it catches up from the audit log
	testenv.WaitFor(t, "listener A writes the push", 30*time.Second, func() bool {
		_, ok := ps.Entity("harborArtifact", "eu:apps/web@"+d)
		return ok
	}, func() string { return lisA.LogTail(30) })
	testenv.WaitFor(t, "the catalog settles", 30*time.Second, func() bool {
		return tf.Run(ctx, "plan", "-input=false", "-detailed-exitcode", "-json").ExitCode == 0
	}, func() string { return lisA.LogTail(30) })

	// Listener B writes B's pushes (webhooks) within its scope.
	d2, err := hsB.PushArtifact("apps", "web", []string{"4.0"}, harborsim.PushOptions{})
	must(t, err)
	testenv.WaitFor(t, "listener B writes the push", 30*time.Second, func() bool {
		ent, ok := ps.Entity("harborArtifact", "us:apps/web@"+d2)
		props, _ := ent["properties"].(map[string]any)
		return ok && props[mapping.ScopeProperty] == "us"
	}, func() string { return lisB.LogTail(30) })
	if _, ok := ps.Entity("harborArtifact", "eu:apps/web@"+d2); ok {
		t.Fatal("B's push landed in eu")
	}

	// An unscoped third sync over the same blueprints fails at plan: in the
	// same provider configuration (the provider sees both), and in another
	// one (its plan would delete scoped entities).
	for _, provider := range []string{"", "  provider = harborport.us\n"} {
		tf.WriteConfig(base + `
resource "harborport_sync" "all" {
` + provider + `  blueprints = harborport_blueprints.catalog.identifiers
}
`)
		res := tf.Run(ctx, "plan", "-input=false", "-json")
		found := res.Find("Syncs Share Blueprints")
		if res.ExitCode != 1 || len(found) == 0 || found[0].Severity != "error" ||
			!strings.Contains(found[0].Detail, "unscoped") || !strings.Contains(found[0].Detail, `scope "`) {
			t.Fatalf("unscoped third sync (%q): exit %d, %v\n%s", provider, res.ExitCode, found, res.Errors())
		}
		t.Logf("unscoped third sync %q: %s: %s", strings.TrimSpace(provider), found[0].Summary, found[0].Detail)
	}
	tf.WriteConfig(base)

	// A project deleted in Harbor A: eu's entities of it go, B's stay.
	lisA.Stop(syscall.SIGTERM)
	must(t, hsA.DeleteRepository("apps", "web"))
	must(t, hsA.DeleteProject("apps"))
	tf.RunOK(ctx, []int{2}, "plan", "-input=false", "-detailed-exitcode", "-json", "-out=delete.tfplan")
	plan = tf.ShowJSON(ctx, "delete.tfplan")
	eu, us = changes(plan, "harborport_sync.eu"), changes(plan, "harborport_sync.us")
	if eu["harborProject/eu:apps"] != "delete" || len(us) != 0 {
		t.Fatalf("plans after deleting project apps in A: eu %v, us %v", eu, us)
	}
	for k, v := range eu {
		if v != "delete" || !strings.Contains(k, "/eu:apps") {
			t.Fatalf("eu's plan: %s: %v", k, v)
		}
	}
	before := scopeCount(t, ps)
	tf.RunOK(ctx, nil, "apply", "-input=false", "-json", "delete.tfplan")
	after := scopeCount(t, ps)
	if after["us"] != before["us"] || after["eu"] != before["eu"]-len(eu) {
		t.Fatalf("entities per scope: %v before, %v after deleting %d of eu's", before, after, len(eu))
	}
	if _, ok := ps.Entity("harborProject", "us:apps"); !ok {
		t.Fatal("B's project apps is gone")
	}
	emptyPlan("after deleting project apps in A")

	// A mass deletion in A: repository big/x is most of A's entities and a
	// small part of the blueprints'. Judged against A's own, it is blocked.
	must(t, hsA.DeleteRepository("big", "x"))
	res := tf.Run(ctx, "plan", "-input=false", "-json")
	blocked := res.Find("Mass Deletion Blocked")
	owned := scopeCount(t, ps)
	want := fmt.Sprintf("41 of the %d entities this sync owns", owned["eu"])
	if res.ExitCode != 1 || len(blocked) != 1 || !strings.Contains(blocked[0].Detail, want) {
		t.Fatalf("mass deletion in A: exit %d, want %q in %v\n%s", res.ExitCode, want, blocked, res.Errors())
	}
	if total := owned["eu"] + owned["us"]; 41*10 > total*9 {
		t.Fatalf("the test is meaningless: 41 of all %d entities is above the threshold too", total)
	}
	t.Logf("mass deletion in A: %s (Port holds %v entities per scope)", blocked[0].Detail, owned)
}

// One Harbor split by project into two scoped syncs over the same
// blueprints, identifiers unprefixed: both plans are empty after the apply.
func TestAccScopedOwnership_splitByProject(t *testing.T) {
	skipUnlessAcc(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	sims := testenv.StartSims(t, harborsim.Options{}, portsim.Options{ClientID: "e2e-id", ClientSecret: "e2e-port-secret"}, nil)
	for _, p := range []string{"alpha", "beta"} {
		sims.Harbor.CreateProject(p, false)
		for i := range 3 {
			_, err := sims.Harbor.PushArtifact(p, "svc", []string{fmt.Sprintf("v%d", i)}, harborsim.PushOptions{})
			must(t, err)
		}
	}
	tf := testenv.NewTerraform(t, testenv.ProviderBinary(t))
	part := func(project string, users bool) string {
		s := "resources:\n"
		s += fmt.Sprintf("  - kind: project\n    selector:\n      query: '.name == \"%s\"'\n", project)
		if users {
			s += "  - kind: user\n    selector:\n      query: 'true'\n"
		}
		s += fmt.Sprintf("  - kind: repository\n    selector:\n      query: 'true'\n      projectName: %s\n", project)
		s += fmt.Sprintf("  - kind: artifact\n    selector:\n      query: '.projectName == \"%s\"'\n", project)
		return s
	}
	tf.WriteConfig(fmt.Sprintf(`
provider "harborport" {
  port_base_url      = %q
  port_client_id     = "e2e-id"
  port_client_secret = "e2e-port-secret"
  harbor_url         = %q
  harbor_username    = "admin"
  harbor_password    = "Harbor12345"
}

resource "harborport_blueprints" "catalog" {
  scope_property  = true
  delete_entities = true
}

resource "harborport_sync" "alpha" {
  scope              = "team-alpha"
  prefix_identifiers = false
  blueprints         = harborport_blueprints.catalog.identifiers
  mapping            = <<-EOT
%sEOT
}

resource "harborport_sync" "beta" {
  scope              = "team-beta"
  prefix_identifiers = false
  blueprints         = harborport_blueprints.catalog.identifiers
  mapping            = <<-EOT
%sEOT
}
`, sims.PortURL, sims.HarborURL, part("alpha", true), part("beta", false)))
	tf.RunOK(ctx, nil, "apply", "-auto-approve", "-input=false", "-json")
	if res := tf.Run(ctx, "plan", "-input=false", "-detailed-exitcode", "-json"); res.ExitCode != 0 {
		t.Fatalf("second plan not empty (exit %d):\n%s%s", res.ExitCode, res.Errors(), res.Stdout)
	}
	marks := map[string][]string{}
	for _, bp := range []string{"harborProject", "harborRepository", "harborArtifact", "harborUser"} {
		for _, ent := range sims.Port.Entities(bp) {
			props, _ := ent["properties"].(map[string]any)
			mark, _ := props[mapping.ScopeProperty].(string)
			id, _ := ent["identifier"].(string)
			marks[mark] = append(marks[mark], id)
		}
	}
	if len(marks) != 2 || !slices.Contains(marks["team-alpha"], "alpha/svc") || !slices.Contains(marks["team-beta"], "beta/svc") ||
		!slices.Contains(marks["team-alpha"], "admin") {
		t.Fatalf("entities per scope: %v", marks)
	}
}

var previewCounts = regexp.MustCompile(`(\d+) to create, (\d+) to update, (\d+) to delete, (\d+) unchanged`)

// Scoping an existing unscoped catalog: the exact plans of the migration.
// With identifiers unchanged, every entity is updated (the mark) and nothing
// is created or deleted. With the prefix, every entity is created under its
// new identifier; the old, unmarked ones are left alone (and listed) unless
// the sync adopts them, and then deleting all of them is the mass deletion
// the threshold holds back until it is raised for that apply.
func TestAccScopedOwnership_adoption(t *testing.T) {
	skipUnlessAcc(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	type run struct {
		tf    *testenv.Terraform
		sims  *testenv.Sims
		total int
	}
	config := func(r *run, sync string) {
		r.tf.WriteConfig(fmt.Sprintf(`
provider "harborport" {
  port_base_url      = %q
  port_client_id     = "e2e-id"
  port_client_secret = "e2e-port-secret"
  harbor_url         = %q
  harbor_username    = "admin"
  harbor_password    = "Harbor12345"
}

resource "harborport_blueprints" "catalog" {
  delete_entities = true
  scope_property  = true
}

resource "harborport_sync" "harbor" {
  blueprints = harborport_blueprints.catalog.identifiers
%s}
`, r.sims.PortURL, r.sims.HarborURL, sync))
	}
	// An unscoped catalog, with the scope property already in the
	// blueprints (the guide's first step).
	setup := func(t *testing.T) *run {
		r := &run{sims: testenv.StartSims(t, harborsim.Options{}, portsim.Options{ClientID: "e2e-id", ClientSecret: "e2e-port-secret"}, nil)}
		r.sims.Harbor.CreateProject("apps", false)
		for i := range 4 {
			_, err := r.sims.Harbor.PushArtifact("apps", "web", []string{fmt.Sprintf("v%d", i)}, harborsim.PushOptions{})
			must(t, err)
		}
		r.tf = testenv.NewTerraform(t, testenv.ProviderBinary(t))
		config(r, "")
		r.tf.RunOK(ctx, nil, "apply", "-auto-approve", "-input=false", "-json")
		for _, bp := range []string{"harborProject", "harborUser", "harborRepository", "harborArtifact"} {
			r.total += len(r.sims.Port.Entities(bp))
		}
		return r
	}
	preview := func(t *testing.T, res testenv.TFResult) (string, []string) {
		t.Helper()
		w := res.Find("Catalog Sync Preview")
		if len(w) != 1 {
			t.Fatalf("no preview: %v\n%s", res.Diags, res.Errors())
		}
		return w[0].Detail, previewCounts.FindStringSubmatch(w[0].Detail)
	}
	empty := func(t *testing.T, r *run, what string) {
		t.Helper()
		if res := r.tf.Run(ctx, "plan", "-input=false", "-detailed-exitcode", "-json"); res.ExitCode != 0 {
			t.Fatalf("%s: plan not empty (exit %d):\n%s%s", what, res.ExitCode, res.Errors(), res.Stdout)
		}
	}

	t.Run("identifiers unchanged", func(t *testing.T) {
		r := setup(t)
		config(r, "  scope = \"eu\"\n  prefix_identifiers = false\n")
		res := r.tf.RunOK(ctx, []int{0, 2}, "plan", "-input=false", "-json")
		detail, n := preview(t, res)
		if n == nil || n[1] != "0" || n[2] != fmt.Sprint(r.total) || n[3] != "0" {
			t.Fatalf("want 0 creates, %d updates, 0 deletes:\n%s", r.total, detail)
		}
		if !strings.Contains(detail, "harborProject/apps: update: harborportScope") {
			t.Fatalf("the preview does not show the mark as the update:\n%s", detail)
		}
		t.Logf("adoption, identifiers unchanged — the plan's preview:\n%s", detail)
		r.tf.RunOK(ctx, nil, "apply", "-auto-approve", "-input=false", "-json")
		empty(t, r, "after scoping")
	})

	t.Run("prefixed identifiers", func(t *testing.T) {
		r := setup(t)
		config(r, "  scope = \"eu\"\n")
		res := r.tf.RunOK(ctx, []int{0, 2}, "plan", "-input=false", "-json")
		detail, n := preview(t, res)
		left := res.Find("Unscoped Entities Left Alone")
		if n == nil || n[1] != fmt.Sprint(r.total) || n[2] != "0" || n[3] != "0" || len(left) != 1 ||
			!strings.HasPrefix(left[0].Detail, fmt.Sprintf("%d entities", r.total)) {
			t.Fatalf("prefix without adopting: want %d creates and the old ones left alone:\n%s\n%v", r.total, detail, left)
		}
		t.Logf("adoption with the prefix, not adopting — the plan's preview:\n%s\n%s", detail, left[0].Detail)

		config(r, "  scope = \"eu\"\n  adopt_unscoped = true\n")
		res = r.tf.Run(ctx, "plan", "-input=false", "-json")
		blocked := res.Find("Mass Deletion Blocked")
		if res.ExitCode != 1 || len(blocked) != 1 || !strings.Contains(blocked[0].Detail, fmt.Sprintf("%d of the %d", r.total, r.total)) ||
			!strings.Contains(blocked[0].Detail, "adopts unscoped entities") {
			t.Fatalf("adopting with threshold 0.9: exit %d %v\n%s", res.ExitCode, blocked, res.Errors())
		}
		t.Logf("adopting, threshold 0.9: %s", blocked[0].Detail)

		// The guide's mapping for this one apply: the built-in mapping of
		// every kind (resources without port), threshold raised.
		mappingText := "entityDeletionThreshold: 1\nresources:\n"
		for _, k := range mapping.Kinds {
			mappingText += "  - kind: " + string(k) + "\n    selector:\n      query: 'true'\n"
		}
		config(r, "  scope = \"eu\"\n  adopt_unscoped = true\n  mapping = <<-EOT\n"+mappingText+"EOT\n")
		res = r.tf.RunOK(ctx, []int{0, 2}, "plan", "-input=false", "-json")
		detail, n = preview(t, res)
		if n == nil || n[1] != fmt.Sprint(r.total) || n[2] != "0" || n[3] != fmt.Sprint(r.total) {
			t.Fatalf("adopting, threshold 1: want %d creates, 0 updates, %d deletes:\n%s", r.total, r.total, detail)
		}
		t.Logf("adopting, threshold 1 — the plan's preview:\n%s", detail)
		r.tf.RunOK(ctx, nil, "apply", "-auto-approve", "-input=false", "-json")
		for _, bp := range []string{"harborProject", "harborUser", "harborRepository", "harborArtifact"} {
			for _, ent := range r.sims.Port.Entities(bp) {
				if id, _ := ent["identifier"].(string); !strings.HasPrefix(id, "eu:") {
					t.Fatalf("%s/%s left after the migration", bp, id)
				}
			}
		}
		// The migration is done: back to the built-in mapping, not adopting.
		config(r, "  scope = \"eu\"\n")
		r.tf.RunOK(ctx, nil, "apply", "-auto-approve", "-input=false", "-json")
		empty(t, r, "after the prefix migration")
	})
}
