package harbor

// Pages by number (API-NOTES.md "Paging", "Errors"; internal/DESIGN.md
// "Plan and apply" and "Conditional apply (two writers)"). Upstream:
// https://github.com/goharbor/harbor/blob/main/README.md and
// goharbor/harbor@v2.15.2:docs/README.md and
// https://github.com/opencontainers/image-spec/blob/v1.1.0/descriptor.md#digests.
// Ownership: internal/DESIGN.md "Ownership and $datasource". Files: *.md, x.mdx.
var f = "../../README.md"
