package provider

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/harborport/terraform-provider-harborport/internal/mapping"
	"github.com/harborport/terraform-provider-harborport/internal/sandbox/portsim"
)

const bpAddr = "harborport_blueprints.harbor"

// create → empty plan → import verify → drift (edited property, deleted
// blueprint) → plan shows it → apply repairs → destroy refused while entities
// exist → destroy with delete_entities.
func TestAccBlueprints_lifecycle(t *testing.T) {
	sim, url := testPort(t)
	zero := providerBlock(url, testClientSecret) + `resource "harborport_blueprints" "harbor" {}`
	withDelete := providerBlock(url, testClientSecret) + `resource "harborport_blueprints" "harbor" { delete_entities = true }`

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		CheckDestroy: func(*terraform.State) error {
			if ids := sim.BlueprintIDs(); len(ids) != 0 {
				return fmt.Errorf("blueprints left after destroy: %v", ids)
			}
			return nil
		},
		Steps: []resource.TestStep{
			{
				Config: zero,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(bpAddr, tfjsonpath.New("id"), knownvalue.StringExact("harborArtifact")),
					statecheck.ExpectKnownValue(bpAddr, tfjsonpath.New("identifiers"), knownvalue.MapExact(map[string]knownvalue.Check{
						"project": knownvalue.StringExact("harborProject"), "user": knownvalue.StringExact("harborUser"),
						"repository": knownvalue.StringExact("harborRepository"), "artifact": knownvalue.StringExact("harborArtifact"),
					})),
					statecheck.ExpectKnownValue(bpAddr, tfjsonpath.New("delete_entities"), knownvalue.Bool(false)),
				},
				Check: func(*terraform.State) error { return checkSeedBlueprints(sim) },
			},
			// A plan right after apply is empty (the framework also checks this
			// after every step); import reproduces the same state.
			{
				ResourceName:      bpAddr,
				ImportState:       true,
				ImportStateId:     "harborArtifact",
				ImportStateVerify: true,
			},
			{
				ResourceName:      bpAddr,
				ImportState:       true,
				ImportStateId:     "project=harborProject,user=harborUser,repository=harborRepository,artifact=harborArtifact",
				ImportStateVerify: true,
			},
			// Drift: a managed property edited in Port, and a property a user
			// added there (which is not drift and must survive the repair).
			{
				PreConfig: func() {
					bp, _ := sim.Blueprint("harborRepository")
					props, ok := objAt(bp, "schema", "properties")
					if !ok {
						t.Fatalf("harborRepository has no schema.properties: %v", bp)
					}
					props["pullCount"] = map[string]any{"type": "string", "title": "Pulls"}
					props["ownerTeam"] = map[string]any{"type": "string"}
					if err := sim.SetBlueprint(bp); err != nil {
						t.Fatal(err)
					}
				},
				Config: zero,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(bpAddr, plancheck.ResourceActionUpdate),
				}},
				Check: func(*terraform.State) error {
					bp, _ := sim.Blueprint("harborRepository")
					props, ok := objAt(bp, "schema", "properties")
					if !ok {
						return fmt.Errorf("harborRepository has no schema.properties: %v", bp)
					}
					pullCount, _ := objAt(props["pullCount"])
					if typ := pullCount["type"]; typ != "number" {
						return fmt.Errorf("pullCount not repaired: type %v", typ)
					}
					if _, ok := props["ownerTeam"]; !ok {
						return fmt.Errorf("the repair removed a property added in Port")
					}
					return nil
				},
			},
			// Drift: a blueprint deleted in Port is recreated with its relations.
			{
				PreConfig: func() { sim.RemoveBlueprint("harborArtifact") },
				Config:    zero,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(bpAddr, plancheck.ResourceActionUpdate),
				}},
				Check: func(*terraform.State) error { return checkSeedBlueprints(sim) },
			},
			// Destroy while entities exist is refused with the count and the fix.
			{
				PreConfig: func() {
					must(t, sim.SetEntity("harborProject", map[string]any{"identifier": "library", "title": "library", "properties": map[string]any{"public": true}}))
					must(t, sim.SetEntity("harborRepository", map[string]any{"identifier": "library/nginx", "properties": map[string]any{},
						"relations": map[string]any{"project": "library"}}))
				},
				Config:      zero,
				Destroy:     true,
				ExpectError: regexp.MustCompile(`(?s)Port holds 2 entities in these blueprints\s+\(harborProject: 1,\s+harborRepository: 1\).*delete_entities = true`),
			},
			// With delete_entities the final destroy (CheckDestroy) removes
			// entities and blueprints.
			{Config: withDelete},
		},
	})
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// checkSeedBlueprints verifies the four blueprints exist in Port with the
// seed document's properties and relations.
func checkSeedBlueprints(sim *portsim.Server) error {
	want := map[string]struct{ props, rels string }{
		"harborProject":    {"creationTime,ownerName,projectId,public,repoCount,updateTime", ""},
		"harborUser":       {"admin,creationTime,email,realname,updateTime,userId,username", ""},
		"harborRepository": {"artifactCount,creationTime,name,pullCount,repositoryId,updateTime", "project→harborProject"},
		"harborArtifact":   {"digest,pushTime,scanOverview,size,tags", "project→harborProject,repository→harborRepository"},
	}
	for id, w := range want {
		bp, ok := sim.Blueprint(id)
		if !ok {
			return fmt.Errorf("blueprint %s missing", id)
		}
		var props, rels []string
		pm, ok := objAt(bp, "schema", "properties")
		if !ok {
			return fmt.Errorf("blueprint %s has no schema.properties", id)
		}
		for p := range pm {
			props = append(props, p)
		}
		if rm, ok := bp["relations"].(map[string]any); ok {
			for r, v := range rm {
				rel, _ := objAt(v)
				target, ok := rel["target"].(string)
				if !ok {
					return fmt.Errorf("blueprint %s relation %s has no target: %v", id, r, v)
				}
				rels = append(rels, r+"→"+target)
			}
		}
		sort.Strings(props)
		sort.Strings(rels)
		got := strings.Join(props, ",")
		if !containsAll(props, strings.Split(w.props, ",")) {
			return fmt.Errorf("%s properties = %s, want %s", id, got, w.props)
		}
		if strings.Join(rels, ",") != w.rels {
			return fmt.Errorf("%s relations = %v, want %s", id, rels, w.rels)
		}
	}
	return nil
}

func containsAll(have, want []string) bool {
	set := map[string]bool{}
	for _, h := range have {
		set[h] = true
	}
	for _, w := range want {
		if !set[w] {
			return false
		}
	}
	return true
}

// Overrides: custom identifiers and extra properties land in Port; removing an
// extra property removes it; changing an identifier replaces the blueprints.
func TestAccBlueprints_overrides(t *testing.T) {
	sim, url := testPort(t)
	cfg := func(projectID, extra string) string {
		return providerBlock(url, testClientSecret) + fmt.Sprintf(`
resource "harborport_blueprints" "harbor" {
  project = {
    identifier = %q
    title      = "Registry project"
  }
  artifact = {
    extra_properties = {
%s
    }
  }
}`, projectID, extra)
	}
	two := `      vulnerabilityCount = { type = "number", title = "Vulnerabilities" }
      scanSeverity = { type = "string", enum = ["None", "Low", "High"] }`
	one := `      vulnerabilityCount = { type = "number", title = "Vulnerabilities" }`

	artifactProps := func() map[string]any {
		bp, _ := sim.Blueprint("harborArtifact")
		props, _ := objAt(bp, "schema", "properties") // nil when missing: every lookup then fails
		return props
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{
			{
				Config: cfg("registryProject", two),
				Check: func(*terraform.State) error {
					bp, ok := sim.Blueprint("registryProject")
					if !ok || bp["title"] != "Registry project" {
						return fmt.Errorf("custom project blueprint: %v", bp)
					}
					art, _ := sim.Blueprint("harborArtifact")
					rel, _ := objAt(art, "relations", "project")
					if target := rel["target"]; target != "registryProject" {
						return fmt.Errorf("artifact.project relation targets %v", target)
					}
					if _, ok := artifactProps()["scanSeverity"]; !ok {
						return fmt.Errorf("extra property missing")
					}
					return nil
				},
			},
			{
				Config: cfg("registryProject", one),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(bpAddr, plancheck.ResourceActionUpdate),
				}},
				Check: func(*terraform.State) error {
					if _, ok := artifactProps()["scanSeverity"]; ok {
						return fmt.Errorf("a dropped extra property is still in Port")
					}
					return nil
				},
			},
			{
				Config: cfg("catalogProject", one),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(bpAddr, plancheck.ResourceActionDestroyBeforeCreate),
				}},
				Check: func(*terraform.State) error {
					if _, ok := sim.Blueprint("registryProject"); ok {
						return fmt.Errorf("the old project blueprint survived the replacement")
					}
					if _, ok := sim.Blueprint("catalogProject"); !ok {
						return fmt.Errorf("the new project blueprint is missing")
					}
					return nil
				},
			},
		},
	})
}

func TestAccBlueprints_invalidOverrides(t *testing.T) {
	_, url := testPort(t)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{{
			Config: providerBlock(url, testClientSecret) + `
resource "harborport_blueprints" "harbor" {
  artifact = {
    extra_properties = {
      digest = { type = "string" }
      count  = { type = "integer" }
    }
  }
}`,
			ExpectError: regexp.MustCompile(`(?s)artifact.extra_properties\["count"\].type: type "integer" is not one of string,\s+number.*artifact.extra_properties\["digest"\]: property "digest" is built in`),
		}},
	})
}

// scope_property: every blueprint gets harborportScope; removing it in Port
// is drift that apply repairs; import finds it (scope_property = true) and
// the plan after import is empty.
func TestAccBlueprints_scopeProperty(t *testing.T) {
	sim, url := testPort(t)
	scoped := providerBlock(url, testClientSecret) + `resource "harborport_blueprints" "harbor" {
  scope_property  = true
  delete_entities = true
}`
	hasMark := func(bp string) bool {
		b, _ := sim.Blueprint(bp)
		props, _ := objAt(b, "schema", "properties")
		p, ok := objAt(props[mapping.ScopeProperty])
		return ok && p["type"] == "string"
	}
	allMarked := func(*terraform.State) error {
		for _, bp := range []string{"harborProject", "harborUser", "harborRepository", "harborArtifact"} {
			if !hasMark(bp) {
				return fmt.Errorf("%s has no string property %s", bp, mapping.ScopeProperty)
			}
		}
		return nil
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{
			{
				Config: scoped,
				Check:  allMarked,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(bpAddr, tfjsonpath.New("scope_property"), knownvalue.Bool(true)),
				},
			},
			{
				ResourceName:            bpAddr,
				ImportState:             true,
				ImportStateId:           "harborArtifact",
				ImportStateVerify:       true,
				ImportStateVerifyIgnore: []string{"delete_entities"},
			},
			{
				PreConfig: func() {
					b, _ := sim.Blueprint("harborUser")
					props, _ := objAt(b, "schema", "properties")
					delete(props, mapping.ScopeProperty)
					must(t, sim.SetBlueprint(b))
				},
				Config: scoped,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(bpAddr, plancheck.ResourceActionUpdate),
				}},
				Check: allMarked,
			},
		},
	})
}
