// Package testenv is test support only: the harness pieces that several
// packages' tests share — building a binary of this module once per test
// run, the Harbor and Port simulators behind httptest with the default
// blueprints, the listener (`terraform-provider-harborport serve`) as a
// child process with its log captured, polling for a condition, and finding
// the terraform binary.
//
// It is imported only from _test.go files; product code must not import it.
// It does not import internal/catalog, so that package's own tests can use
// it; the catalog invariant check is in the subpackage synccheck.
package testenv
