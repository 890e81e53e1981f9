package harbor

// Pages by number (API-NOTES.md "Paging", "Errors"; internal/DESIGN.md
// "Plan and apply" and "Conditional apply (two writers)"). Upstream:
// https://github.com/goharbor/harbor/blob/main/README.md and
// goharbor/harbor@v2.15.2:docs/README.md, opencontainers/image-spec:descriptor.md.
// Ownership: internal/DESIGN.md "Ownership and $datasource". Files: *.md, x.mdx.
var f = "../../README.md"
