package p

// A testdata directory is not checked: missing.md
