package serve

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/harborport/terraform-provider-harborport/internal/sandbox/harborsim"
	"github.com/harborport/terraform-provider-harborport/internal/testenv"
)

// The listener with a robot that cannot list users (all a robot can be on
// Harbor 2.11): /readyz names the skipped kind from the start, the log says
// it once, the other kinds keep arriving (a new project, through the feed),
// and on 2.15 a user created in Harbor (an audit record, so a user key) ends
// without a retry loop and writes nothing. On both profiles. (The periodic
// resync with the same account: TestResyncSkippedKindLoggedOnce.)
func TestE2E_robotWithoutUserList(t *testing.T) {
	for _, v := range harborsim.Profiles {
		t.Run(harborsim.ProfileName(v), func(t *testing.T) {
			e := newSimsWith(t, harborsim.Options{Version: v}, nil)
			must(t, e.hs.AddRobotE("sync", "Robot-Secret-123", harborsim.RobotPermissions{AuditLogList: true}))
			testenv.SetDefaultBlueprints(t, e.ps)
			rep, err := e.engine.Compute(context.Background()) // the admin's first sync: users are in Port
			must(t, err)
			_, err = e.engine.Apply(context.Background(), rep.Changeset)
			must(t, err)
			for i, kv := range e.lis.Env {
				switch {
				case strings.HasPrefix(kv, "HARBOR_USERNAME="):
					e.lis.Env[i] = "HARBOR_USERNAME=robot$sync"
				case strings.HasPrefix(kv, "HARBOR_PASSWORD="):
					e.lis.Env[i] = "HARBOR_PASSWORD=Robot-Secret-123"
				}
			}
			e.lis.Args = append(e.lis.Args, "--audit-poll-interval", "1s")
			e.start()
			const warning = "Harbor users are not synced: Harbor answered GET /api/v2.0/users with 403 FORBIDDEN (robot$sync)"
			e.waitFor("harbor_kinds partial on /readyz", 20*time.Second, func() bool {
				code, rz := e.readyz()
				kinds, _ := rz["harbor_kinds"].(map[string]any)
				reason, _ := kinds["reason"].(string)
				return code == 200 && rz["status"] == "ready" && kinds["state"] == "partial" && strings.HasPrefix(reason, warning) &&
					e.lis.Count("audit-log feed starts after the newest record") == 1
			})
			if v == harborsim.Version215 {
				e.harborAPIOK(http.MethodPost, "/users", map[string]string{"username": "newcomer", "password": "Newcomer123",
					"email": "newcomer@example.com", "realname": "New Comer"})
			}
			// A project created meanwhile reaches Port (the feed, then resyncs).
			e.hs.CreateProject("later", false)
			e.waitFor("the new project in Port", 15*time.Second, func() bool { _, ok := e.ps.Entity("harborProject", "later"); return ok })
			if v == harborsim.Version215 {
				e.waitFor("the user key reconciled", 10*time.Second, func() bool { return e.lis.Count("user newcomer") > 0 })
				time.Sleep(2 * time.Second) // a retry would come within 1 s
			}
			if n := e.lis.Count(warning); n != 1 {
				t.Fatalf("the skipped kind is logged %d times, want once:\n%s", n, e.lis.LogTail(40))
			}
			for _, bad := range []string{"reconcile failed"} {
				if n := e.lis.Count(bad); n != 0 {
					t.Fatalf("%q logged %d times:\n%s", bad, n, e.lis.LogTail(40))
				}
			}
			if _, ok := e.ps.Entity("harborUser", "newcomer"); ok {
				t.Fatal("a user entity was written by an account that cannot read users")
			}
			if n := e.ps.EntityCount("harborUser"); n != 1 {
				t.Fatalf("%d user entities in Port, want the admin's first sync's 1", n)
			}
		})
	}
}
