package soak

import (
	"strings"
	"testing"
	"time"

	"github.com/harborport/terraform-provider-harborport/internal/sandbox/harborsim"
	"github.com/harborport/terraform-provider-harborport/internal/sandbox/portsim"
	"github.com/harborport/terraform-provider-harborport/internal/testenv"
)

// The monitor must see every way Port can go back: a lower version, an
// entity lost while Harbor has it, a deleted object brought back (with old
// data or as a placeholder); and it must not cry wolf at forward moves,
// absences that follow Harbor's deletions, or placeholders of objects Harbor
// has. (This runs in make test: a soak whose monitor cannot fail proves
// nothing.)
func TestMonitorSeesEveryRegression(t *testing.T) {
	hs := harborsim.New(harborsim.Options{StampVersions: true, NoLibraryProject: true, Delivery: harborsim.DeliveryOptions{Disabled: true}})
	ps := portsim.New(portsim.Options{ClientID: "x", ClientSecret: "y"})
	testenv.SetDefaultBlueprints(t, ps)
	for _, bp := range []string{"harborProject", "harborRepository", "harborArtifact"} {
		b, _ := ps.Blueprint(bp)
		schema, _ := b["schema"].(map[string]any)
		props, _ := schema["properties"].(map[string]any)
		props[versionProp] = map[string]any{"type": "number"}
		must(t, ps.SetBlueprint(b))
	}
	m := newMonitor(hs, ps)
	put := func(bp, id string, v int64, stub bool) {
		t.Helper()
		e := map[string]any{"identifier": id, "properties": map[string]any{}}
		if !stub {
			e["properties"] = map[string]any{versionProp: float64(v)}
		}
		must(t, ps.SetEntity(bp, e))
	}
	regressions := func() int { m.mu.Lock(); defer m.mu.Unlock(); return len(m.regressions) }
	step := func(what string, want int) {
		t.Helper()
		time.Sleep(2 * time.Millisecond) // Harbor events strictly before the poll
		m.poll()
		if got := regressions(); got != want {
			t.Fatalf("%s: %d regressions, want %d: %v", what, got, want, m.regressions)
		}
	}

	hs.CreateProject("p", false)
	d, err := hs.PushArtifact("p", "r", []string{"1"}, harborsim.PushOptions{})
	must(t, err)
	art := "p/r@" + d
	v1, _ := hs.Stamp("artifact", art)
	m.operation("push", harborsim.StampKey("artifact", art), v1, time.Now())
	step("not synced yet", 0)
	put("harborProject", "p", 0, true) // a placeholder of an object Harbor has
	put("harborArtifact", art, v1, false)
	step("synced", 0)
	if o := m.ops[0]; o.reflected == 0 {
		t.Fatal("the push was not marked reflected")
	}
	must(t, hs.ScanArtifact("p", "r", d, map[string]int{"Low": 1}))
	v2, _ := hs.Stamp("artifact", art)
	put("harborArtifact", art, v2, false)
	step("a newer version", 0)

	put("harborArtifact", art, v1, false)
	step("back to the older version", 1)
	put("harborArtifact", art, v2, false)
	step("forward again", 1)

	ps.RemoveEntity("harborArtifact", art)
	step("lost while Harbor has it", 2)

	must(t, hs.DeleteArtifact("p", "r", d))
	step("absent after Harbor's delete", 2)
	put("harborArtifact", art, v2, false)
	step("deleted, back with old data", 3)
	ps.RemoveEntity("harborArtifact", art)
	step("absent again", 3)

	must(t, hs.DeleteRepository("p", "r"))
	step("repository deleted (never in Port)", 3)
	put("harborRepository", "p/r", 0, true)
	step("deleted repository back as a placeholder", 4)
	if r := m.regressions[3]; !strings.Contains(r.String(), "placeholder") {
		t.Fatalf("last regression: %v", r)
	}
}
