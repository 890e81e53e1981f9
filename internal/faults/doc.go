// Package faults is harborport's fault suite: scripted scenarios that break
// the simulators (internal/sandbox/harborsim, internal/sandbox/portsim), the
// listener process or terraform in the ways production breaks, and then check
// that nothing was lost.
//
// Run it with `make test-faults` (HARBORPORT_FAULTS=1 go test ./internal/faults
// -run TestFaults -v); without HARBORPORT_FAULTS=1 the tests skip, so `make
// test` does not run them a second time. .ci/run runs it after `make test`.
//
// Every scenario ends with the same invariant: a fresh full sync computed
// from Harbor and Port through the mapping has nothing to do (zero creates,
// updates and deletes), i.e. the Port catalog is exactly what the mapping
// says Harbor holds. Scenarios that involve webhooks also check that no
// event was lost: Harbor's delivery log has no delivery whose last attempt
// failed, and every object an event named is in Port as Harbor has it.
//
// Scenarios (one _test.go file per group):
//
//   - port_test.go: a full sync (what `terraform apply` of harborport_sync
//     runs: compute, then apply) against a Port that answers a 429 storm
//     whose only guidance is x-ratelimit-reset, as epoch seconds and as
//     relative seconds; 5xx bursts before and after the write took effect;
//     its access token revoked mid-sync; 207 partial bulk failures (the next
//     plan shows exactly the failed entities; applying it converges); 413 on
//     batches over a body limit lower than the documented 1 MiB.
//   - harbor_test.go: Harbor 5xx bursts and hanging connections during a
//     full sync (the per-attempt timeout bounds the run); the listener's
//     Harbor credentials revoked mid-run (events stay spooled, nothing is
//     deleted from Port; after the credentials are rotated every event lands).
//   - listener_test.go: the listener (the real binary, `serve`, as a separate
//     process) killed with SIGKILL in the middle of a burst while Port is down
//     and the spool holds a backlog; the spool's file system full (a file-size
//     limit on the process: bbolt's writes fail with EFBIG), where the
//     listener must answer 503 so Harbor retries, log a clear error, and
//     deliver every event once space returns.
//   - terraform_test.go: `terraform apply` interrupted with SIGINT half-way
//     through the first sync (Port slowed down), then applied again: the
//     catalog converges and the next plan says "No changes".
//
// TestFaults prints a table at the end: scenario, result, the requests
// Harbor and Port served (from the simulators' request logs, with the
// injected fault statuses), and the time the scenario took.
package faults
