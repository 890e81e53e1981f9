package testenv

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/harborport/terraform-provider-harborport/internal/blueprint"
	"github.com/harborport/terraform-provider-harborport/internal/port"
	"github.com/harborport/terraform-provider-harborport/internal/sandbox/harborsim"
	"github.com/harborport/terraform-provider-harborport/internal/sandbox/portsim"
)

// Sims is the Harbor and Port simulators, each behind an httptest server on
// loopback.
type Sims struct {
	Harbor       *harborsim.Server
	Port         *portsim.Server
	HarborServer *httptest.Server
	PortServer   *httptest.Server
	HarborURL    string
	PortURL      string
}

// StartSims starts both simulators with the given options; portFront, when
// not nil, wraps the Port simulator's handler (to observe or delay its
// requests). Both servers and the Harbor simulator are closed when tb's test
// ends, after the cleanups registered later (a listener, say) have run.
func StartSims(tb testing.TB, h harborsim.Options, p portsim.Options, portFront func(http.Handler) http.Handler) *Sims {
	tb.Helper()
	hs := harborsim.New(h)
	tb.Cleanup(func() {
		if err := hs.Close(); err != nil {
			tb.Errorf("harbor simulator: %v", err)
		}
	})
	hsrv := httptest.NewServer(hs)
	tb.Cleanup(hsrv.Close)
	ps := portsim.New(p)
	var ph http.Handler = ps
	if portFront != nil {
		ph = portFront(ps)
	}
	psrv := httptest.NewServer(ph)
	tb.Cleanup(psrv.Close)
	return &Sims{Harbor: hs, Port: ps, HarborServer: hsrv, PortServer: psrv, HarborURL: hsrv.URL, PortURL: psrv.URL}
}

// SetDefaultBlueprints puts the four default blueprints straight into the
// Port simulator, as harborport_blueprints leaves them: every blueprint bare
// first, then complete with its relations, so relation targets exist.
func SetDefaultBlueprints(tb testing.TB, ps *portsim.Server) {
	tb.Helper()
	set := blueprint.Desired(nil)
	for _, bare := range []bool{true, false} {
		for _, k := range blueprint.Kinds {
			bp := set[k]
			if bare {
				bp = blueprint.Bare(bp)
			}
			raw, _ := json.Marshal(bp)
			var m map[string]any
			_ = json.Unmarshal(raw, &m)
			if err := ps.SetBlueprint(m); err != nil {
				tb.Fatal(err)
			}
		}
	}
}

// CreateDefaultBlueprints creates the four default blueprints through the
// Port client in the provider's stages: every blueprint bare, then the
// relations (internal/port/API-NOTES.md "Creating blueprints in stages"), so
// relation targets always exist.
func CreateDefaultBlueprints(ctx context.Context, pc *port.Client) error {
	return createBlueprints(ctx, pc, blueprint.Desired(nil))
}

// CreateScopedBlueprints is CreateDefaultBlueprints with the scope property
// (blueprint.WithScopeProperty), for scoped syncs.
func CreateScopedBlueprints(ctx context.Context, pc *port.Client) error {
	return createBlueprints(ctx, pc, blueprint.WithScopeProperty(blueprint.Desired(nil)))
}

func createBlueprints(ctx context.Context, pc *port.Client, set blueprint.Set) error {
	for _, k := range blueprint.Kinds {
		if _, err := pc.CreateBlueprint(ctx, blueprint.Bare(set[k])); err != nil {
			return fmt.Errorf("creating blueprint %s: %w", set[k].Identifier, err)
		}
	}
	for _, k := range blueprint.Kinds {
		if bp := set[k]; len(bp.Relations) > 0 {
			if _, err := pc.PatchBlueprint(ctx, bp.Identifier, map[string]any{"relations": bp.Relations}); err != nil {
				return fmt.Errorf("relations of %s: %w", bp.Identifier, err)
			}
		}
	}
	return nil
}
