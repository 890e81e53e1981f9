package catalog

import (
	"os"
	"runtime/debug"
)

// The garbage collector settings the provider and listener processes run
// with (main.go calls TuneGC; the benchmarks measure with them too). A sync
// allocates heavily and briefly — every Harbor item is decoded, mapped,
// hashed and dropped — so collecting at 200% growth instead of 100% saves
// several percent of a plan's CPU, and the soft memory limit keeps the
// process near 900 MiB however large the registry (the 1 GB budget of
// internal/catalog/BENCHMARKS.md "Scale: one million artifacts"): near the
// limit the runtime collects more often instead of growing.
const (
	gcPercent   = 200
	memoryLimit = 900 << 20
)

// TuneGC applies those settings, unless GOGC or GOMEMLIMIT say otherwise.
func TuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(memoryLimit)
	}
}
