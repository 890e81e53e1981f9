package port

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"sync"
)

// Entity routes: internal/port/API-NOTES.md "Writing entities", "Bulk upsert",
// "Deleting entities", "Search".

const (
	maxBulkUpsert = 20      // bulk upsert maxItems (internal/port/API-NOTES.md "Bulk upsert")
	maxBulkDelete = 100     // bulk delete maxItems (internal/port/API-NOTES.md "Deleting entities")
	maxBodyBytes  = 1 << 20 // Port rejects bodies of 1 MiB and more with 413 (internal/port/API-NOTES.md "Base URLs and request limits")
)

// UpsertOptions are the bulk upsert query flags (upsert=true is always sent).
type UpsertOptions struct {
	Merge                bool // merge into an existing entity instead of overwriting it
	CreateMissingRelated bool // create missing relation targets as stubs
}

// EntityResult is the outcome of one entity of UpsertEntities.
type EntityResult struct {
	Index      int    // position in the caller's slice
	Identifier string // as resolved by Port (search-query identifiers), else the input's
	Created    bool   // Port created it (false: it existed and was updated)
	Err        *APIError
}

// Codes of per-entity errors produced by the client itself.
const (
	CodeInvalidEntity = "invalid_entity"   // rejected locally, never sent
	CodeTooLarge      = "entity_too_large" // its JSON alone reaches Port's 1 MiB limit
	CodeNotConfirmed  = "not_confirmed"    // the call stopped before Port confirmed this entity
	CodeNoResult      = "no_result"        // Port's bulk answer did not mention it
)

type bulkItem struct {
	index int
	raw   []byte
}

// UpsertEntities writes ents to blueprint bp with the bulk route, in batches
// of at most 20 entities and under 1 MiB (measured on the marshalled body),
// running up to Config.Concurrency batches at once. A 413 splits the batch in
// halves down to single entities; so does a whole-batch 400/422, to isolate
// the entity Port rejects. A 207 is mapped back per entity via errors[].index.
//
// It returns one result per input. The error is non-nil only when the call
// as a whole failed (authentication, cancellation, Port unavailable or rate
// limited after all retries); results then still tell which entities Port
// confirmed, the rest carry Code CodeNotConfirmed.
//
// Retrying a bulk POST is safe: with upsert=true, repeating a batch writes
// the same final state (internal/port/API-NOTES.md "Writing entities").
func (c *Client) UpsertEntities(ctx context.Context, bp string, ents []Entity, opt UpsertOptions) ([]EntityResult, error) {
	path := "/blueprints/" + seg(bp) + "/entities/bulk"
	results := make([]EntityResult, len(ents))
	settled := make([]bool, len(ents))
	reject := func(i int, aerr *APIError) {
		aerr.Method, aerr.Path = http.MethodPost, "/v1"+path
		results[i].Err, settled[i] = aerr, true
	}
	// Cheap checks first, so that batches are full; marshalling happens in
	// the workers, so the first batch goes out at once and a large upsert
	// never holds every entity's JSON at the same time.
	var chunks [][]int
	var cur []int
	for i, e := range ents {
		results[i] = EntityResult{Index: i, Identifier: e.Identifier}
		if aerr := checkBulkEntity(bp, e); aerr != nil {
			reject(i, aerr)
			continue
		}
		if cur = append(cur, i); len(cur) == maxBulkUpsert {
			chunks, cur = append(chunks, cur), nil
		}
	}
	if len(cur) > 0 {
		chunks = append(chunks, cur)
	}
	q := url.Values{"upsert": {"true"}, "merge": {strconv.FormatBool(opt.Merge)},
		"create_missing_related_entities": {strconv.FormatBool(opt.CreateMissingRelated)}}
	r := request{method: http.MethodPost, route: "/blueprints/{blueprint}/entities/bulk", path: path, query: q}

	err := c.parallel(ctx, len(chunks), func(ctx context.Context, b int) error {
		items := make([]bulkItem, 0, len(chunks[b]))
		for _, i := range chunks[b] {
			raw, aerr := bulkEntityJSON(ents[i])
			if aerr == nil && bulkBodySize(len(raw), 1) >= maxBodyBytes {
				aerr = &APIError{Status: http.StatusRequestEntityTooLarge, Code: CodeTooLarge,
					Message: fmt.Sprintf("entity %q is %d bytes of JSON; Port accepts request bodies under 1 MiB", ents[i].Identifier, len(raw)),
					Hint:    "shorten the mapped properties of this entity"}
			}
			if aerr != nil {
				reject(i, aerr) // only this worker touches index i
				continue
			}
			items = append(items, bulkItem{index: i, raw: raw})
		}
		// Usually one batch; more when the 20 entities reach 1 MiB together.
		for _, batch := range packBatches(items) {
			if err := c.upsertBatch(ctx, r, batch, results, settled); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		for i := range results {
			if !settled[i] {
				results[i].Err = &APIError{Code: CodeNotConfirmed, Method: http.MethodPost, Path: "/v1" + path,
					Message: "Port did not confirm this entity before the bulk upsert stopped: " + err.Error()}
			}
		}
		return results, err
	}
	return results, nil
}

// checkBulkEntity refuses what Port would: the blueprint is the URL's, so a
// different one on the entity is a caller error; so is a missing identifier.
func checkBulkEntity(bp string, e Entity) *APIError {
	if e.Blueprint != "" && e.Blueprint != bp {
		return &APIError{Code: CodeInvalidEntity, Message: fmt.Sprintf("entity %q belongs to blueprint %q, not %q", e.Identifier, e.Blueprint, bp)}
	}
	if e.Identifier == "" && e.IdentifierQuery == nil {
		return &APIError{Code: CodeInvalidEntity, Message: "entity has an empty identifier"}
	}
	return nil
}

// bulkEntityJSON marshals e as an element of the bulk body (without the
// blueprint, which is the URL's).
func bulkEntityJSON(e Entity) ([]byte, *APIError) {
	e.Blueprint = ""
	// MarshalJSON directly: json.Marshal(e) would re-validate and compact
	// its output, which costs as much again.
	raw, err := e.MarshalJSON()
	if err != nil {
		return nil, &APIError{Code: CodeInvalidEntity, Message: fmt.Sprintf("entity %q cannot be encoded as JSON: %v", e.Identifier, err)}
	}
	return raw, nil
}

const bulkPrefix, bulkSuffix = `{"entities":[`, `]}`

// bulkBodySize is the exact size of a bulk body holding n entities whose
// JSON totals sum bytes.
func bulkBodySize(sum, n int) int {
	return len(bulkPrefix) + sum + max(n-1, 0) + len(bulkSuffix)
}

func bulkBody(items []bulkItem) []byte {
	sum := 0
	for _, it := range items {
		sum += len(it.raw)
	}
	b := make([]byte, 0, bulkBodySize(sum, len(items)))
	b = append(b, bulkPrefix...)
	for i, it := range items {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, it.raw...)
	}
	return append(b, bulkSuffix...)
}

// packBatches groups items in order, each batch ≤ 20 entities and < 1 MiB.
func packBatches(items []bulkItem) [][]bulkItem {
	var out [][]bulkItem
	var cur []bulkItem
	sum := 0
	for _, it := range items {
		if len(cur) > 0 && (len(cur) == maxBulkUpsert || bulkBodySize(sum+len(it.raw), len(cur)+1) >= maxBodyBytes) {
			out = append(out, cur)
			cur, sum = nil, 0
		}
		cur = append(cur, it)
		sum += len(it.raw)
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

type bulkResponse struct {
	Entities []struct {
		Created    bool   `json:"created"`
		Identifier string `json:"identifier"`
		Index      int    `json:"index"`
	} `json:"entities"`
	Errors []struct {
		Identifier string `json:"identifier"`
		Index      int    `json:"index"`
		StatusCode int    `json:"statusCode"`
		Error      string `json:"error"`
		Message    string `json:"message"`
	} `json:"errors"`
}

// upsertBatch sends one batch and records each entity's outcome. It returns
// an error only when the whole call should stop.
func (c *Client) upsertBatch(ctx context.Context, r request, batch []bulkItem, results []EntityResult, settled []bool) error {
	r.body = bulkBody(batch)
	resp, err := c.do(ctx, r)
	if err != nil {
		var ae *APIError
		if !errors.As(err, &ae) || fatalStatus(ae.Status) {
			return err
		}
		splittable := ae.Status == http.StatusRequestEntityTooLarge || ae.Status == http.StatusBadRequest ||
			ae.Status == http.StatusUnprocessableEntity
		if splittable && len(batch) > 1 {
			mid := len(batch) / 2
			if c.log != nil {
				c.log.Debug("Port rejected a bulk upsert batch; splitting it", "status", ae.Status, "entities", len(batch))
			}
			if err := c.upsertBatch(ctx, r, batch[:mid], results, settled); err != nil {
				return err
			}
			return c.upsertBatch(ctx, r, batch[mid:], results, settled)
		}
		for _, it := range batch {
			e := *ae
			results[it.index].Err, settled[it.index] = &e, true
		}
		return nil
	}
	var out bulkResponse
	if err := decode(r, resp, &out); err != nil {
		return err
	}
	for _, e := range out.Entities {
		if e.Index < 0 || e.Index >= len(batch) {
			continue
		}
		i := batch[e.Index].index
		results[i].Created, results[i].Err, settled[i] = e.Created, nil, true
		if e.Identifier != "" {
			results[i].Identifier = e.Identifier
		}
	}
	for _, e := range out.Errors {
		if e.Index < 0 || e.Index >= len(batch) {
			continue
		}
		i := batch[e.Index].index
		ae := &APIError{Status: e.StatusCode, Code: e.Error, Message: c.redact(e.Message), TraceID: resp.traceID,
			Method: r.method, Path: "/v1" + r.path}
		if e.Error == "not_found" {
			// Ocean reads a per-entity not_found as an unmet relation
			// dependency (internal/port/API-NOTES.md "Errors").
			ae.Hint = "a related entity (or its blueprint) does not exist; create it first or enable createMissingRelatedEntities"
		}
		results[i].Err, settled[i] = ae, true
		if e.Identifier != "" && e.Identifier != "unknown" { // "unknown": unresolved search identifier (internal/port/API-NOTES.md "Bulk upsert")
			results[i].Identifier = e.Identifier
		}
	}
	for _, it := range batch {
		if !settled[it.index] {
			results[it.index].Err = &APIError{Status: resp.status, Code: CodeNoResult, TraceID: resp.traceID,
				Method: r.method, Path: "/v1" + r.path, Message: "Port's bulk response did not report this entity"}
			settled[it.index] = true
		}
	}
	return nil
}

// fatalStatus: statuses after which further batches cannot succeed either.
func fatalStatus(s int) bool {
	return s == http.StatusUnauthorized || s == http.StatusForbidden || s == http.StatusTooManyRequests || s >= 500
}

// DeleteEntities deletes ids from blueprint bp with the bulk route (≤ 100 per
// request). Port deletes a request's entities all or none when dependents
// block it (spec, bulk delete), and skips unknown identifiers; only its
// deletedEntities are reported as deleted, in request order. After a retried
// request, identifiers Port skipped are looked up, and those no longer
// present are reported as deleted (an earlier attempt deleted them).
func (c *Client) DeleteEntities(ctx context.Context, bp string, ids []string, deleteDependents bool) ([]string, error) {
	ids = dedupe(ids)
	var chunks [][]string
	for len(ids) > 0 {
		n := min(len(ids), maxBulkDelete)
		chunks, ids = append(chunks, ids[:n]), ids[n:]
	}
	r := request{method: http.MethodPost, route: "/blueprints/{blueprint}/bulk/entities/delete",
		path:  "/blueprints/" + seg(bp) + "/bulk/entities/delete",
		query: url.Values{"delete_dependents": {strconv.FormatBool(deleteDependents)}}}
	deleted := make([][]string, len(chunks))
	err := c.parallel(ctx, len(chunks), func(ctx context.Context, i int) error {
		req := r
		req.body = map[string][]string{"entities": chunks[i]}
		resp, err := c.do(ctx, req)
		if err != nil {
			return err
		}
		var out struct {
			DeletedEntities []string `json:"deletedEntities"`
		}
		if err := decode(req, resp, &out); err != nil {
			return err
		}
		deleted[i] = out.DeletedEntities
		if resp.attempts > 1 && len(out.DeletedEntities) < len(chunks[i]) {
			// A lost answer to an earlier attempt may have deleted the rest:
			// Port skips unknown identifiers, so ask which still exist.
			gone, err := c.confirmGone(ctx, bp, chunks[i], out.DeletedEntities)
			if err != nil {
				return err
			}
			deleted[i] = append(deleted[i], gone...)
		}
		return nil
	})
	var all []string
	for _, d := range deleted {
		all = append(all, d...)
	}
	return all, err
}

// confirmGone returns the ids of asked that are neither in reported nor
// still present in Port.
func (c *Client) confirmGone(ctx context.Context, bp string, asked, reported []string) ([]string, error) {
	known := make(map[string]bool, len(asked))
	for _, id := range reported {
		known[id] = true
	}
	var unknown []string
	var values []any // the same ids, as the query's JSON array
	for _, id := range asked {
		if !known[id] {
			unknown = append(unknown, id)
			values = append(values, id)
		}
	}
	q := SearchQuery{Rules: []map[string]any{{"property": "$identifier", "operator": "in", "value": values}}, Include: []string{"$identifier"}}
	err := c.SearchEntities(ctx, bp, q, func(page []Entity) error {
		for _, e := range page {
			known[e.Identifier] = true
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	var gone []string
	for _, id := range unknown {
		if !known[id] {
			gone = append(gone, id)
		}
	}
	return gone, nil
}

func dedupe(ids []string) []string {
	seen := make(map[string]bool, len(ids))
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// DeleteEntity deletes one entity; one that is already gone (404) is not an
// error (as in Ocean, internal/port/API-NOTES.md "Deleting entities").
func (c *Client) DeleteEntity(ctx context.Context, bp, id string, deleteDependents bool) error {
	_, err := c.do(ctx, request{method: http.MethodDelete, route: "/blueprints/{blueprint}/entities/{entity}",
		path:  "/blueprints/" + seg(bp) + "/entities/" + seg(id),
		query: url.Values{"delete_dependents": {strconv.FormatBool(deleteDependents)}}})
	if IsNotFound(err) {
		return nil
	}
	return err
}

// GetEntity returns one entity; IsNotFound(err) when it does not exist.
func (c *Client) GetEntity(ctx context.Context, bp, id string) (*Entity, error) {
	r := request{method: http.MethodGet, route: "/blueprints/{blueprint}/entities/{entity}",
		path: "/blueprints/" + seg(bp) + "/entities/" + seg(id)}
	resp, err := c.do(ctx, r)
	if err != nil {
		return nil, err
	}
	var out struct {
		Entity *Entity `json:"entity"`
	}
	if err := decode(r, resp, &out); err != nil {
		return nil, err
	}
	if out.Entity == nil {
		return nil, fmt.Errorf("Port API GET /v1%s: %d response has no \"entity\" object: %s", r.path, resp.status, snippet(resp.body))
	}
	if out.Entity.Blueprint == "" {
		out.Entity.Blueprint = bp
	}
	return out.Entity, nil
}

// CountEntities returns the number of entities of blueprint bp.
func (c *Client) CountEntities(ctx context.Context, bp string) (int, error) {
	r := request{method: http.MethodGet, route: "/blueprints/{blueprint}/entities-count",
		path: "/blueprints/" + seg(bp) + "/entities-count"}
	resp, err := c.do(ctx, r)
	if err != nil {
		return 0, err
	}
	var out struct {
		Count *float64 `json:"count"`
	}
	if err := decode(r, resp, &out); err != nil {
		return 0, err
	}
	if out.Count == nil {
		return 0, fmt.Errorf("Port API GET /v1%s: %d response has no \"count\": %s", r.path, resp.status, snippet(resp.body))
	}
	return int(*out.Count), nil
}

// parallel runs fn(0..n-1) on up to c.concurrency goroutines. The first
// error cancels the rest and is returned (a real cause is preferred over
// the cancellations it provoked).
func (c *Client) parallel(parent context.Context, n int, fn func(context.Context, int) error) error {
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	next := make(chan int)
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	for w := 0; w < min(c.concurrency, n); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := fn(ctx, i); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					cancel()
				}
			}
		}()
	}
	fed := 0
feed:
	for ; fed < n; fed++ {
		select {
		case next <- fed:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if firstErr == nil && fed < n {
		firstErr = parent.Err() // the caller cancelled before all work started
	}
	return firstErr
}
