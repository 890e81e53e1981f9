// Package listener is `terraform-provider-harborport serve`'s core: it
// receives Harbor webhook deliveries and keeps Port current.
//
// Events are hints, not truth (internal/DESIGN.md "Events are hints"). A
// delivery becomes keys (catalog.Key): for an artifact event, each resource's
// artifact, its repository and its project; a retention run names repositories
// and the project, a pull replication the local project; quota events, SBOM
// scans and unknown types are acknowledged (202) and ignored with a logged
// reason. Each key is reconciled by re-reading it from Harbor and making Port
// match (upsert, or delete when Harbor says 404), so the outcome depends only
// on Harbor's state when the reconcile runs: duplicates, reordering and replays
// are harmless and replicas need no shared state. A delete event yields the
// artifact key like any other: the reconcile finds the 404.
//
// Intake (server.go): POST /integration/webhook; method, then the
// Authorization header (SHA-256 of it vs SHA-256 of the secret,
// crypto/subtle, so neither content nor length leaks through timing), then
// Content-Type, then the 1 MiB limit, then parsing (events.go). Names are
// checked against Harbor's grammar (names.go) because they become spool keys
// and API paths. Errors are JSON {"error": …} naming the field and the fix;
// never 5xx for a payload, only for a spool failure or a drain (Harbor
// retries those).
//
// Spool before reply (spool.go): Harbor tries a delivery at most 3 times
// (internal/harbor/API-NOTES.md "Webhook delivery"), so once it sees 2xx the
// event must survive a crash. Keys are committed and fsynced in bbolt before
// the reply; concurrent deliveries share a commit. One record per key: a
// repeated event coalesces into the pending record and makes it due now.
//
// Workers (worker.go): a dispatcher hands due records to at most Workers
// goroutines, never two for the same key. Every Put gives the record a new
// sequence number; Done removes the record only if it is unchanged, so an
// event arriving during a reconcile causes one more reconcile (no lost
// update). Failures retry with exponential backoff and jitter (1 s doubling
// to 5 min), forever, across restarts; errors marked Permanent move the key
// to the dead records until a new event for it arrives. A panicking
// reconcile is an ordinary failure.
//
// Other event sources (the audit-log feed, internal/auditfeed) spool keys
// through Server.Enqueue, with their position in the same transaction
// (Spool.PutWithState). A reconcile may ask to look at its key again later
// (Again: a scan still running); the record then stays, due after the delay.
// A key that may write any of a repository's artifacts (the batch, an
// artifact named by tag) never runs beside another key writing them.
//
// Shutdown (Server.Run): /readyz and new deliveries answer 503 (Harbor
// retries, possibly on another replica), in-flight requests and reconciles
// finish within the drain budget, reconciles still running are then
// cancelled with their keys left spooled as they were, and the spool closes.
package listener
