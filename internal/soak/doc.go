// Package soak is the convergence soak (make test-soak): randomised, seeded
// interleavings of Harbor operations, listener crashes, webhook delivery
// pauses, drops and reorders, Port rate limits and 5xx bursts, and terraform
// runs (plain applies, and saved plans applied later while everything goes
// on), all against the simulators, with the listener and terraform as real
// processes.
//
// It checks the invariant users buy (internal/DESIGN.md "Conditional apply
// (two writers)"): a monitor polling Port never sees an entity go back to an
// older Harbor state (the Harbor simulator stamps every object with a version
// that the soak's mapping copies into Port); after quiescence Port equals a
// fresh full sync and the next plan is empty; and it reports, per operation
// type, how long Harbor changes took to reach Port.
//
// The package has tests only; TestSoak runs with HARBORPORT_SOAK=1.
package soak
