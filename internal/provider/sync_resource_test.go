package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/harborport/terraform-provider-harborport/internal/blueprint"
	"github.com/harborport/terraform-provider-harborport/internal/sandbox/harborsim"
	"github.com/harborport/terraform-provider-harborport/internal/sandbox/portsim"
)

const syncAddr = "harborport_sync.harbor"

// testHarbor starts a Harbor simulator holding a small registry with the
// awkward cases: a nested repository, an unscanned and a scanned artifact.
func testHarbor(t *testing.T) (*harborsim.Server, string, []string) {
	t.Helper()
	sim := harborsim.New(harborsim.Options{})
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	sim.CreateProject("tfdemo", true)
	sim.CreateProject("team", false)
	d, err := sim.PushArtifact("tfdemo", "hello", []string{"latest", "v1"}, harborsim.PushOptions{})
	must(t, err)
	must(t, sim.ScanArtifact("tfdemo", "hello", d, map[string]int{"High": 2, "Low": 5}))
	_, err = sim.PushArtifact("team", "nested/api", []string{"1.0"}, harborsim.PushOptions{})
	must(t, err)
	var bulk []string
	for i := range 12 {
		d, err := sim.PushArtifact("tfdemo", "bulk", []string{fmt.Sprintf("b%d", i)}, harborsim.PushOptions{})
		must(t, err)
		bulk = append(bulk, d)
	}
	return sim, srv.URL, bulk
}

func providerBlockHarbor(portURL, harborURL string) string {
	return fmt.Sprintf(`
provider "harborport" {
  port_base_url      = %q
  port_client_id     = %q
  port_client_secret = %q
  harbor_url         = %q
  harbor_username    = "admin"
  harbor_password    = "Harbor12345"
}
`, portURL, testClientID, testClientSecret, harborURL)
}

// syncConfig is blueprints + a sync with the given mapping attribute line.
func syncConfig(portURL, harborURL, mappingAttr string) string {
	return providerBlockHarbor(portURL, harborURL) + `
resource "harborport_blueprints" "harbor" {
  delete_entities = true
}

resource "harborport_sync" "harbor" {
  depends_on = [harborport_blueprints.harbor]
  ` + mappingAttr + `
}
`
}

// expectChanges checks the planned `changes` map equals want() exactly.
type expectChanges struct {
	addr string
	want func() map[string]string
}

func (e expectChanges) CheckPlan(_ context.Context, req plancheck.CheckPlanRequest, resp *plancheck.CheckPlanResponse) {
	for _, rc := range req.Plan.ResourceChanges {
		if rc.Address != e.addr {
			continue
		}
		after, _ := rc.Change.After.(map[string]any)
		got := map[string]string{}
		raw, _ := after["changes"].(map[string]any)
		for k, v := range raw {
			got[k], _ = v.(string)
		}
		if want := e.want(); !maps.Equal(got, want) {
			resp.Error = fmt.Errorf("%s: planned changes\n  %v\nwant\n  %v", e.addr, got, want)
		}
		return
	}
	resp.Error = fmt.Errorf("%s is not in the plan", e.addr)
}

// planFunc adapts a function to a plan check (used to change Harbor between
// plan and apply).
type planFunc func() error

func (f planFunc) CheckPlan(_ context.Context, _ plancheck.CheckPlanRequest, resp *plancheck.CheckPlanResponse) {
	resp.Error = f()
}

func artifactKey(repo, digest string) string { return "harborArtifact/" + repo + "@" + digest }

// repoTouched is how a push or delete shows on its repository.
const repoTouched = "update: artifactCount, updateTime"

// artifactInPort checks whether Port has the harborArtifact entity id.
func artifactInPort(sim *portsim.Server, id string, want bool) resource.TestCheckFunc {
	return func(*terraform.State) error {
		const bp = "harborArtifact"
		if _, ok := sim.Entity(bp, id); ok != want {
			return fmt.Errorf("Port has %s/%s = %v, want %v", bp, id, ok, want)
		}
		return nil
	}
}

// The plan/apply contract of issue 3, step by step with real terraform.
func TestAccSync_lifecycle(t *testing.T) {
	port, portURL := testPort(t)
	hsim, harborURL, bulk := testHarbor(t)
	def := syncConfig(portURL, harborURL, "")
	var pushed, late, gone string

	// Only artifacts of tfdemo; mass deletion allowed up to 30%.
	narrowed := syncConfig(portURL, harborURL, `mapping = <<-EOT
    entityDeletionThreshold: 0.3
    resources:
      - kind: project
      - kind: user
      - kind: repository
      - kind: artifact
        selector:
          query: .projectName == "tfdemo"
  EOT`)

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{
			{ // create: unknown at plan, applied in full
				Config: def,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectUnknownValue(syncAddr, tfjsonpath.New("changes")),
				}},
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(syncAddr, "change_counts.delete", "0"),
					resource.TestCheckResourceAttr(syncAddr, "change_counts.unchanged", "0"),
					resource.TestCheckResourceAttrWith(syncAddr, "change_counts.create", func(v string) error {
						// 3 projects (library, tfdemo, team), 1 user, 3 repositories, 14 artifacts.
						if v != "21" {
							return fmt.Errorf("created %s, want 21", v)
						}
						return nil
					}),
					func(*terraform.State) error {
						for bp, n := range map[string]int{"harborProject": 3, "harborUser": 1, "harborRepository": 3, "harborArtifact": 14} {
							if got := port.EntityCount(bp); got != n {
								return fmt.Errorf("Port has %d %s entities, want %d", got, bp, n)
							}
						}
						return nil
					},
				),
			},
			{ // no change in Harbor → "No changes"
				Config: def,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectEmptyPlan(),
				}},
			},
			{ // artifact pushed → exactly one create
				PreConfig: func() {
					d, err := hsim.PushArtifact("tfdemo", "hello", []string{"v2"}, harborsim.PushOptions{})
					must(t, err)
					pushed = d
				},
				Config: def,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(syncAddr, plancheck.ResourceActionUpdate),
					expectChanges{syncAddr, func() map[string]string {
						return map[string]string{artifactKey("tfdemo/hello", pushed): "create", "harborRepository/tfdemo/hello": repoTouched}
					}},
					plancheck.ExpectKnownValue(syncAddr, tfjsonpath.New("change_counts").AtMapKey("create"), knownvalue.Int64Exact(1)),
				}},
				Check: func(s *terraform.State) error { return artifactInPort(port, "tfdemo/hello@"+pushed, true)(s) },
			},
			{ // artifact deleted → exactly one delete
				PreConfig: func() { must(t, hsim.DeleteArtifact("tfdemo", "hello", pushed)) },
				Config:    def,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					expectChanges{syncAddr, func() map[string]string {
						return map[string]string{artifactKey("tfdemo/hello", pushed): "delete", "harborRepository/tfdemo/hello": repoTouched}
					}},
				}},
				Check: func(s *terraform.State) error {
					return artifactInPort(port, "tfdemo/hello@"+pushed, false)(s)
				},
			},
			{ // plan -out, then Harbor changes, then apply of the plan: only what was planned
				PreConfig: func() {
					d, err := hsim.PushArtifact("team", "nested/api", []string{"2.0"}, harborsim.PushOptions{})
					must(t, err)
					pushed = d
				},
				Config: def,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					expectChanges{syncAddr, func() map[string]string {
						return map[string]string{artifactKey("team/nested/api", pushed): "create", "harborRepository/team/nested/api": repoTouched}
					}},
					planFunc(func() error {
						d, err := hsim.PushArtifact("tfdemo", "hello", []string{"late"}, harborsim.PushOptions{})
						late = d
						if err == nil {
							gone = bulk[0]
							err = hsim.DeleteArtifact("tfdemo", "bulk", gone)
						}
						return err
					}),
				}},
				ExpectNonEmptyPlan: true, // the refresh after apply sees the late changes
				Check: resource.ComposeAggregateTestCheckFunc(
					func(s *terraform.State) error {
						return artifactInPort(port, "team/nested/api@"+pushed, true)(s)
					},
					func(s *terraform.State) error { return artifactInPort(port, "tfdemo/hello@"+late, false)(s) },
					func(s *terraform.State) error { return artifactInPort(port, "tfdemo/bulk@"+gone, true)(s) },
				),
			},
			{ // …which the next plan shows
				Config: def,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					expectChanges{syncAddr, func() map[string]string {
						return map[string]string{artifactKey("tfdemo/hello", late): "create", artifactKey("tfdemo/bulk", gone): "delete",
							"harborRepository/tfdemo/hello": repoTouched, "harborRepository/tfdemo/bulk": repoTouched}
					}},
				}},
				Check: func(s *terraform.State) error { return artifactInPort(port, "tfdemo/hello@"+late, true)(s) },
			},
			{ // mapping change: unknown at plan (a warning previews it), then applied
				Config: narrowed,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectUnknownValue(syncAddr, tfjsonpath.New("changes")),
				}},
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(syncAddr, "change_counts.delete", "2"),
					func(*terraform.State) error {
						for _, e := range port.Entities("harborArtifact") {
							if id, _ := e["identifier"].(string); strings.HasPrefix(id, "team/") {
								return fmt.Errorf("%s survived the narrowed mapping", id)
							}
						}
						return nil
					},
				),
			},
			{ // Harbor loses most artifacts → the threshold blocks the deletes
				PreConfig: func() {
					for _, d := range bulk[1:] {
						must(t, hsim.DeleteArtifact("tfdemo", "bulk", d))
					}
				},
				Config:      narrowed,
				ExpectError: regexp.MustCompile(`(?s)Mass Deletion Blocked.*11 of the \d+ entities.*entityDeletionThreshold`),
			},
		},
	})
}

// A 207 partial failure is reported per entity, the rest is applied, and the
// next apply repairs it once the cause is gone.
func TestAccSync_partialFailure(t *testing.T) {
	port, portURL := testPort(t)
	hsim, harborURL, _ := testHarbor(t)
	setBlueprints(t, port, nil)
	cfg := providerBlockHarbor(portURL, harborURL) + `resource "harborport_sync" "harbor" {}`
	var scanned, unscanned string

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{
			{Config: cfg},
			{
				PreConfig: func() {
					// Someone made scanOverview required in Port: unscanned artifacts are rejected.
					setBlueprints(t, port, []string{"scanOverview"})
					var err error
					scanned, err = hsim.PushArtifact("tfdemo", "hello", []string{"s"}, harborsim.PushOptions{})
					must(t, err)
					must(t, hsim.ScanArtifact("tfdemo", "hello", scanned, map[string]int{"Critical": 1}))
					unscanned, err = hsim.PushArtifact("tfdemo", "hello", []string{"u"}, harborsim.PushOptions{})
					must(t, err)
				},
				Config:      cfg,
				ExpectError: regexp.MustCompile(`(?s)Catalog Sync Partially Failed.*Applied 2 of 3 changes.*create\s+harborArtifact/tfdemo/hello@sha256:[0-9a-f]+:.*required\s+property\s+'scanOverview'`),
			},
			{
				PreConfig: func() {
					if _, ok := port.Entity("harborArtifact", "tfdemo/hello@"+scanned); !ok {
						t.Fatal("the valid entity of the failed batch was not written")
					}
					setBlueprints(t, port, nil) // the cause is fixed
				},
				Config: cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					expectChanges{syncAddr, func() map[string]string { return map[string]string{artifactKey("tfdemo/hello", unscanned): "create"} }},
				}},
				Check: func(s *terraform.State) error {
					return artifactInPort(port, "tfdemo/hello@"+unscanned, true)(s)
				},
			},
		},
	})
}

func TestAccSync_invalidMapping(t *testing.T) {
	_, portURL := testPort(t)
	_, harborURL, _ := testHarbor(t)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{{
			Config: providerBlockHarbor(portURL, harborURL) + `
resource "harborport_sync" "harbor" {
  mapping = <<-EOT
    resources:
      - kind: project
        selector:
          query: .project_id in [1, 2, 5]
  EOT
}`,
			ExpectError: regexp.MustCompile(`(?s)Invalid Mapping.*harborport_sync.mapping:4.*resources\[0\]\.selector\.query.*IN\(`),
		}},
	})
}

func TestAccSync_harborNotConfigured(t *testing.T) {
	_, portURL := testPort(t)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{{
			Config:      providerBlock(portURL, testClientSecret) + `resource "harborport_sync" "harbor" {}`,
			ExpectError: regexp.MustCompile(`Harbor Not Configured`),
		}},
	})
}

func TestAccSync_wrongHarborCredentials(t *testing.T) {
	_, portURL := testPort(t)
	_, harborURL, _ := testHarbor(t)
	cfg := strings.Replace(providerBlockHarbor(portURL, harborURL), "Harbor12345", "wrong-password", 1)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{{
			Config:      cfg + `resource "harborport_sync" "harbor" {}`,
			ExpectError: regexp.MustCompile(`(?s)Harbor Rejected the Credentials.*harbor_username`),
		}},
	})
}

// setBlueprints writes the default blueprints straight into the simulator,
// with the given artifact properties marked required.
func setBlueprints(t *testing.T, sim *portsim.Server, required []string) {
	t.Helper()
	set := blueprint.Desired(nil)
	toMap := func(v any) map[string]any {
		b, err := json.Marshal(v)
		must(t, err)
		var m map[string]any
		must(t, json.Unmarshal(b, &m))
		return m
	}
	for _, k := range blueprint.Kinds {
		if _, exists := sim.Blueprint(set[k].Identifier); !exists {
			must(t, sim.SetBlueprint(toMap(blueprint.Bare(set[k]))))
		}
	}
	for _, k := range blueprint.Kinds {
		m := toMap(set[k])
		if k == blueprint.Artifact && len(required) > 0 {
			req := []any{}
			for _, r := range required {
				req = append(req, r)
			}
			schema, ok := objAt(m, "schema")
			if !ok {
				t.Fatalf("artifact blueprint has no schema: %v", m)
			}
			schema["required"] = req
		}
		must(t, sim.SetBlueprint(m))
	}
}
