package provider

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/harborport/terraform-provider-harborport/internal/sandbox/harborsim"
)

// A system robot without user:list (all a robot can have on Harbor 2.11, a
// missing grant on 2.15) runs the built-in mapping with real terraform: the
// apply syncs projects, repositories and artifacts, warns about users, and
// deletes no user entity although Harbor lost one; the next plan is empty
// apart from that warning, and skipped_kinds names the kind.
func TestAccSync_robotWithoutUserList(t *testing.T) {
	for _, v := range harborsim.Profiles {
		t.Run(harborsim.ProfileName(v), func(t *testing.T) {
			e := newBadEnv(t, harborsim.Options{Version: v})
			e.harbor.AddUser("dev", "Passw0rd-1", false)
			e.harbor.AddUser("ops", "Passw0rd-2", false)
			old, err := e.harbor.PushArtifact("tfdemo", "hello", []string{"old"}, harborsim.PushOptions{})
			must(t, err)
			w := newTFWorkdir(t)
			admin := e.prov(harborAttrs(e.harborURL, "admin", "Harbor12345"))
			if errs := errorsOf(w.apply(admin + withSync(""))); len(errs) > 0 {
				t.Fatalf("first apply, as admin: %v", errs)
			}
			if n := e.port.EntityCount("harborUser"); n != 3 {
				t.Fatalf("%d users in Port after the admin's apply, want 3", n)
			}

			// Harbor moves on: a user goes (pruning it would be right, but the
			// robot cannot see users), an artifact goes, a project and an
			// artifact arrive. The credentials change to the robot.
			must(t, e.harbor.DeleteUser("ops"))
			must(t, e.harbor.DeleteArtifact("tfdemo", "hello", old))
			e.harbor.CreateProject("apps", false)
			pushed, err := e.harbor.PushArtifact("apps", "web", []string{"v1"}, harborsim.PushOptions{})
			must(t, err)
			robot := e.prov(harborAttrs(e.harborURL, "robot$sync", badRobotSecret))

			want := []string{"Harbor Kind Skipped",
				"Harbor users are not synced: Harbor answered GET /api/v2.0/users with 403 FORBIDDEN (robot$sync), so the Harbor account lacks the system permission user:list.",
				"Entities of blueprint harborUser are neither written nor deleted until it can read them",
				"from Harbor 2.12 on", "or remove the user kind from the mapping."}
			diags := w.apply(robot + withSync(""))
			checkWarning(t, want, diags, regexp.MustCompile(badSecrets))
			for _, d := range diags {
				if d.Severity == "warning" && d.Summary != want[0] {
					t.Errorf("another warning: %s", d)
				}
			}
			if n := e.port.EntityCount("harborUser"); n != 3 {
				t.Errorf("%d users in Port after the robot's applies, want 3: none deleted", n)
			}
			if _, ok := e.port.Entity("harborUser", "ops"); !ok {
				t.Error("the entity of the user Harbor deleted was deleted, but the robot cannot see users")
			}
			if _, ok := e.port.Entity("harborProject", "apps"); !ok {
				t.Error("the new project is not in Port")
			}
			if _, ok := e.port.Entity("harborArtifact", "apps/web@"+pushed); !ok {
				t.Error("the pushed artifact is not in Port")
			}
			if _, ok := e.port.Entity("harborArtifact", "tfdemo/hello@"+old); ok {
				t.Error("the deleted artifact is still in Port: the other kinds must prune")
			}

			diags, code := w.plan()
			if code != 0 {
				t.Fatalf("the next plan has changes (exit code %d): %v", code, diags)
			}
			checkWarning(t, want, diags, regexp.MustCompile(badSecrets))
			for _, d := range diags {
				if d.Summary != want[0] {
					t.Errorf("the next plan says more than the warning: %s", d)
				}
			}

			var show struct {
				Values struct {
					RootModule struct {
						Resources []struct {
							Address string         `json:"address"`
							Values  map[string]any `json:"values"`
						} `json:"resources"`
					} `json:"root_module"`
				} `json:"values"`
			}
			must(t, json.Unmarshal(w.run("show", "-json"), &show))
			for _, r := range show.Values.RootModule.Resources {
				if r.Address != "harborport_sync.harbor" {
					continue
				}
				sk, _ := r.Values["skipped_kinds"].(map[string]any)
				got, _ := sk["user"].(string)
				if len(sk) != 1 || !strings.HasPrefix(got, "Harbor answered GET /api/v2.0/users with 403 FORBIDDEN (robot$sync): needs the system permission user:list") {
					t.Errorf("skipped_kinds = %v", r.Values["skipped_kinds"])
				}
				return
			}
			t.Error("harborport_sync.harbor is not in the state")
		})
	}
}

// The same robot creating the sync from scratch: the plan's skipped_kinds
// is unknown (a new resource), the apply fills it, and the harness's plans
// after the apply (with and without refresh) are empty.
func TestAccSync_robotWithoutUserListFromScratch(t *testing.T) {
	for _, v := range harborsim.Profiles {
		t.Run(harborsim.ProfileName(v), func(t *testing.T) {
			e := newBadEnv(t, harborsim.Options{Version: v})
			cfg := e.prov(harborAttrs(e.harborURL, "robot$sync", badRobotSecret)) + withSync("")
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: testProviders,
				Steps: []resource.TestStep{{
					Config: cfg,
					ConfigStateChecks: []statecheck.StateCheck{
						statecheck.ExpectKnownValue(syncAddr, tfjsonpath.New("skipped_kinds"), knownvalue.MapExact(map[string]knownvalue.Check{
							"user": knownvalue.StringExact("Harbor answered GET /api/v2.0/users with 403 FORBIDDEN (robot$sync): needs the system permission user:list"),
						})),
						statecheck.ExpectKnownValue(syncAddr, tfjsonpath.New("change_counts").AtMapKey("create"), knownvalue.Int64Exact(4)),
					},
				}},
			})
			if n := e.port.EntityCount("harborUser"); n != 0 {
				t.Errorf("%d user entities written by an account that cannot read users", n)
			}
		})
	}
}
