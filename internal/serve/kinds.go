package serve

import (
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/harborport/terraform-provider-harborport/internal/catalog"
	"github.com/harborport/terraform-provider-harborport/internal/listener"
	"github.com/harborport/terraform-provider-harborport/internal/mapping"
)

// kindSkips remembers the Harbor kinds the listener's account cannot read
// (internal/DESIGN.md "Kinds the credentials cannot read"): the start-up
// probe, every resync and every reconcile of a key of such a kind report
// here. Each change is logged once, not at every cycle, and /readyz shows it
// under harbor_kinds.
type kindSkips struct {
	log *slog.Logger

	mu       sync.Mutex
	checked  bool
	probeErr string // the start-up probe failed: unknown until a resync tells
	skipped  map[mapping.Kind]catalog.SkippedKind
}

// probeFailed records that the start-up probe could not tell.
func (k *kindSkips) probeFailed(err error) {
	k.mu.Lock()
	k.probeErr = err.Error()
	k.mu.Unlock()
	k.log.Warn("checking which Harbor kinds the account can read failed; the first resync will tell", "error", err.Error())
}

// set records the outcome of a full read (the probe, a resync): exactly
// these kinds are unreadable now.
func (k *kindSkips) set(sks []catalog.SkippedKind) {
	now := map[mapping.Kind]catalog.SkippedKind{}
	for _, sk := range sks {
		now[sk.Kind] = sk
	}
	k.mu.Lock()
	prev := k.skipped
	k.checked, k.skipped = true, now
	k.mu.Unlock()
	for kind, sk := range now {
		if _, had := prev[kind]; !had {
			k.log.Warn(sk.Message(), "kind", string(kind), "blueprints", strings.Join(sk.Blueprints, ","))
		}
	}
	for kind := range prev {
		if _, still := now[kind]; !still {
			k.log.Info("Harbor "+string(kind)+"s are readable again: they sync with the next resync and events", "kind", string(kind))
		}
	}
}

// note records that a reconcile met an unreadable kind (it adds; only a full
// read clears).
func (k *kindSkips) note(sk catalog.SkippedKind) {
	k.mu.Lock()
	_, had := k.skipped[sk.Kind]
	if k.skipped == nil {
		k.skipped = map[mapping.Kind]catalog.SkippedKind{}
	}
	k.skipped[sk.Kind] = sk
	k.mu.Unlock()
	if !had {
		k.log.Warn(sk.Message(), "kind", string(sk.Kind), "blueprints", strings.Join(sk.Blueprints, ","))
	}
}

// status is /readyz's harbor_kinds part: 200 whatever it says (the other
// kinds sync).
func (k *kindSkips) status() listener.PartStatus {
	k.mu.Lock()
	defer k.mu.Unlock()
	switch {
	case !k.checked && len(k.skipped) == 0 && k.probeErr != "":
		return listener.PartStatus{State: "unknown", Reason: "checking which Harbor kinds the account can read failed: " + k.probeErr}
	case !k.checked && len(k.skipped) == 0:
		return listener.PartStatus{State: "starting"}
	case len(k.skipped) == 0:
		return listener.PartStatus{State: "ok"}
	}
	var reasons []string
	kinds := slices.Sorted(maps.Keys(k.skipped))
	for _, kind := range kinds {
		reasons = append(reasons, k.skipped[kind].Message())
	}
	names := make([]string, len(kinds))
	for i, kind := range kinds {
		names[i] = string(kind)
	}
	return listener.PartStatus{State: "partial", Reason: strings.Join(reasons, " "), Details: map[string]any{"skipped_kinds": names}}
}
