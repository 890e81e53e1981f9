package catalog

// a (harbor-api.md §2)
// b (internal/DESIGN.md "No Such Section")
// c (internal/DESIGN.md §3)
// d (../shared/reference/port-api.md)
// e (internal/DESIGN.md "Plan and apply",
// "Neither This")
// f not a heading: internal/DESIGN.md "Not a heading (in a code block)"
