package catalog

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/harborport/terraform-provider-harborport/internal/harbor"
	"github.com/harborport/terraform-provider-harborport/internal/mapping"
	"github.com/harborport/terraform-provider-harborport/internal/sandbox/harborsim"
)

// robotClient is a Harbor client on e's simulator as a system robot without
// user:list (what Harbor 2.11 allows at most).
func (e *env) robotClient(name string) *harbor.Client {
	e.t.Helper()
	must(e.t, e.hsim.AddRobotE(name, "Robot12345", harborsim.RobotPermissions{}))
	hc, err := harbor.New(harbor.Config{URL: e.hc.BaseURL(), Username: "robot$" + name, Password: "Robot12345",
		MaxRetries: 2, MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond})
	must(e.t, err)
	return hc
}

// A robot that may not list users syncs every other kind: the user kind is
// skipped (named, with the permission and the release that can grant it),
// the users in Port are neither updated nor deleted although Harbor lost one,
// they do not count towards entityDeletionThreshold, and the other kinds
// still prune.
func TestSkippedKindNeitherWrittenNorPruned(t *testing.T) {
	e := newEnv(t, envOptions{noLibrary: true})
	e.smallHarbor()
	e.hsim.AddUser("ops", "Passw0rd-2", false)
	e.sync(e.engine()) // as admin: users are in Port
	users := e.psim.EntityCount("harborUser")
	if users != 3 {
		t.Fatalf("%d users in Port after the admin sync, want 3", users)
	}

	// Harbor changes: a user deleted (its entity would be pruned), a project
	// deleted (its entities must be pruned), an artifact pushed.
	must(t, e.hsim.DeleteUser("ops"))
	must(t, e.hsim.DeleteRepository("beta", "db"))
	must(t, e.hsim.DeleteProject("beta"))
	_, err := e.hsim.PushArtifact("alpha", "web", []string{"v2"}, harborsim.PushOptions{})
	must(t, err)

	eng, err := New(e.robotClient("sync"), e.pc, mapping.Default(mapping.DefaultIDs()))
	must(t, err)
	rep := e.compute(eng)
	cs := rep.Changeset
	if len(cs.SkippedKinds) != 1 {
		t.Fatalf("skipped kinds %+v, want the user kind", cs.SkippedKinds)
	}
	sk := cs.SkippedKinds[0]
	if sk.Kind != mapping.KindUser || len(sk.Blueprints) != 1 || sk.Blueprints[0] != "harborUser" ||
		sk.Cause != "Harbor answered GET /api/v2.0/users with 403 FORBIDDEN (robot$sync)" {
		t.Fatalf("skipped kind %+v", sk)
	}
	for _, want := range []string{"Harbor users are not synced", "the system permission user:list", "from Harbor 2.12 on",
		"remove the user kind from the mapping", "blueprint harborUser"} {
		if !strings.Contains(sk.Message(), want) {
			t.Errorf("message lacks %q:\n%s", want, sk.Message())
		}
	}
	var deletedProjects, deletedUsers, userChanges int
	for _, ch := range cs.Changes {
		switch {
		case ch.Blueprint == "harborUser":
			userChanges++
		case ch.Op == OpDelete && ch.Blueprint == "harborProject":
			deletedProjects++
		}
		if ch.Op == OpDelete && ch.Blueprint == "harborUser" {
			deletedUsers++
		}
	}
	c := cs.Counts()
	if userChanges != 0 || deletedProjects != 1 || c.Create != 1 || c.Delete != 4 || cs.DeletesBlocked != "" {
		t.Fatalf("changes %v (counts %+v, blocked %q)", describe(cs.Changes), c, cs.DeletesBlocked)
	}
	if s := cs.Summary(); len(s.SkippedKinds) != 1 || s.SkippedKinds[0].Kind != mapping.KindUser {
		t.Fatalf("summary skipped kinds %+v", s.SkippedKinds)
	}
	e.apply(eng, cs)
	if n := e.psim.EntityCount("harborUser"); n != users {
		t.Fatalf("%d users in Port after the robot's apply, want %d (none deleted)", n, users)
	}
	if again := e.compute(eng); !again.Changeset.Empty() || len(again.Changeset.SkippedKinds) != 1 {
		t.Fatalf("second plan: %v, skipped %+v", describe(again.Changeset.Changes), again.Changeset.SkippedKinds)
	}

	// The guard judges the kinds the sync decides about: with the 3 users left
	// out, 2 deletes of 7 entities are 29 %, above a threshold of 25 %
	// (counting the users, 20 % would pass).
	must(t, e.hsim.DeleteRepository("alpha", "team/api"))
	m := mapping.Default(mapping.DefaultIDs())
	m.EntityDeletionThreshold = 0.25
	strict, err := New(eng.harbor, e.pc, m)
	must(t, err)
	if rep := e.compute(strict); !strings.HasPrefix(rep.Changeset.DeletesBlocked, "2 of the 7 entities this sync owns") {
		t.Fatalf("blocked %q; changes %v", rep.Changeset.DeletesBlocked, describe(rep.Changeset.Changes))
	}
}

// The listener's reconcile of a user key fails with KindUnreadableError,
// writing nothing, when the account cannot list users.
func TestReconcileUserKeyUnreadable(t *testing.T) {
	e := newEnv(t, envOptions{noLibrary: true})
	e.smallHarbor()
	eng, err := New(e.robotClient("sync"), e.pc, mapping.Default(mapping.DefaultIDs()))
	must(t, err)
	e.resetRequests()
	_, _, err = eng.Reconcile(context.Background(), Key{Kind: mapping.KindUser, User: "dev"})
	var ku *KindUnreadableError
	if !errors.As(err, &ku) || ku.Skip.Kind != mapping.KindUser || !strings.Contains(err.Error(), "user:list") {
		t.Fatalf("Reconcile: %v", err)
	}
	if w := e.portWrites(); len(w) != 0 {
		t.Fatalf("wrote %v", w)
	}
}
