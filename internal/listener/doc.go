// Package listener is `terraform-provider-harborport serve`'s core: it
// receives Harbor webhook deliveries and keeps Port current.
//
// Events are hints, not truth (design.md "The listener"). A delivery names an
// artifact; it becomes three keys — the artifact, its repository, its project
// — and each key is reconciled by re-reading it from Harbor and making Port
// match through the catalog engine (upsert, or delete when Harbor says 404).
// The outcome depends only on Harbor's state when the reconcile runs, so
// duplicates, reordering and replays are harmless and replicas need no
// shared state.
//
// Keys are written to a durable spool (bbolt, fsync per request) before the
// 2xx reply: Harbor tries a delivery at most 3 times (harbor-api.md §6.2),
// so once it sees 2xx the event must survive a crash. A key already pending
// absorbs new events for it (coalescing); an event arriving while its key is
// being reconciled bumps the record's sequence number, so the record stays
// and is reconciled again. Failures retry with exponential backoff and
// jitter, forever, across restarts; errors marked Permanent go to a dead
// bucket. On shutdown the listener answers 503 (Harbor retries), lets
// in-flight work finish within the drain timeout and leaves the rest spooled.
package listener
