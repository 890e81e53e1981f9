// Package harborsim is a strict, in-memory simulator of the Harbor v2.0 REST API (modelled on
// Harbor v2.15.2) for tests, benchmarks and the standalone demo. Options.Version picks a release
// profile (release.go: Version211, Version215): before 2.13 the audit log is GET /audit-logs and
// /auditlog-exts is a route miss; before 2.12 robots cannot hold user:list.
//
// "Strict" means it reproduces the behaviour a real client trips over, not just the happy path:
// bad credentials silently degrade to anonymous, a `sid` cookie on a write triggers the CSRF 403,
// page_size above 100 is a 422, nested repository names must be URL-encoded twice, index children
// are hidden from artifact lists, never-pulled times are "0001-01-01T00:00:00.000Z", and error
// bodies are {"errors":[{"code","message"}]} followed by a newline. Behaviour is cited to
// internal/harbor/API-NOTES.md (by section name) and goharbor/harbor@v2.15.2 sources.
//
// State is changed through the Go admin API (CreateProject, PushArtifact, ScanArtifact, ...) or the
// same operations under POST /_sim/... (JSON). Of Harbor's own write endpoints it serves the
// webhook-policy CRUD and the writes Harbor sends no webhook for: tag add/delete, artifact and
// repository delete, user create/update/delete (handlers_writes.go, handlers_users_write.go).
// Every mutation advances the simulator clock (see Options.Clock) so that timestamps are
// deterministic by default.
//
// Every operation Harbor audits is recorded in the audit log exactly as Harbor 2.15.2 writes it
// (GET /auditlog-exts; auditlog.go), with its configuration switches and purge job; on a 2.11
// profile as 2.11.2 writes it (GET /audit-logs: fewer fields, no user records).
//
// A policy's delivery execution stays non-final while its deliveries run and for
// DeliveryOptions.ExecutionSettle after, and deleting the policy meanwhile answers Harbor's 412
// (executions.go).
//
// Push, pull, delete and scan events are delivered as webhooks to the project's enabled policies
// whose event_types match, like Harbor's jobservice: asynchronously, in the Default or the
// structured-mode CloudEvents format (byte-identical to real v2.15.2 captures), with the
// target's auth_header verbatim, a 3 s timeout and 3 attempts with gocraft/work backoff
// (internal/harbor/API-NOTES.md "Webhook delivery"). Tag add/delete fires nothing
// (CREATE_TAG/DELETE_TAG are not deliverable). DeliveryOptions scales the backoff and injects
// reordering and duplicates; DeliveryLog, WaitIdle, Flush, PauseDeliveries and Close control and
// observe delivery. Call Close when done.
package harborsim
