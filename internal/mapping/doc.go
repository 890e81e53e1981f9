// Package mapping compiles Ocean's port-app-config — the YAML (or JSON)
// format Port users know from Ocean integrations — into gojq programs, and
// turns Harbor items into Port entities with Ocean's jq semantics
// (internal/port/API-NOTES.md "Ocean's port-app-config", "Ocean's jq rules"):
//
//   - selector.query must yield a JSON boolean; anything else (null, no
//     output, a runtime error) is an *ItemError for that item, which must
//     stop the delete phase of a sync;
//   - every mapping leaf is its own jq program; only its first output counts
//     (so `.tags[].name == "latest"` looks at the first tag only — write
//     `any(.tags[]?; .name == "latest")`); a runtime error makes the field
//     null with a Warning; null values are sent as null;
//   - an entity whose identifier or blueprint is empty, null or not a string
//     is dropped with a Warning;
//   - single-quoted string literals are accepted, as Ocean's _format_filter
//     accepts them;
//   - env and $ENV are always {}: the process environment holds secrets.
//
// Items are Harbor API objects as encoding/json decodes them (numbers are
// float64), enriched by the catalog: repositories and artifacts carry
// "projectName", artifacts carry "repositoryName" (the full "project/repo").
// Mapped values come back in the same shapes (float64, never int), deep-copied.
//
// Entry points: Parse / Default build a *Config; Resource.Entities runs the
// full pipeline for one item; Select and Map are its two halves.
package mapping
