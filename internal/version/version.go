// Package version holds the build version, injected by the linker:
//
//	go build -ldflags "-X github.com/harborport/terraform-provider-harborport/internal/version.Version=1.2.3"
package version

// Version is "dev" in untagged builds.
var Version = "dev"

// UserAgent is what harborport sends to Harbor and Port. Port's ownership
// bookkeeping and rate-limit classes key on it (internal/port/API-NOTES.md
// "Ownership and $datasource", "Rate limits").
func UserAgent() string { return "harborport/" + Version }
