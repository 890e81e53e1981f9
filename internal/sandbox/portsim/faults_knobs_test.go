package portsim

import (
	"strings"
	"testing"
	"time"
)

// 429s without Retry-After: only x-ratelimit-* say when to come back.
func TestOmitRetryAfter(t *testing.T) {
	for _, f := range []Faults{
		{RateLimitNext: 1, RetryAfter: 2 * time.Second, OmitRetryAfter: true},
		{RateLimit: 1, RateLimitPeriod: time.Minute, OmitRetryAfter: true},
	} {
		h := newHarness(t)
		h.srv.SetFaults(f)
		if f.RateLimit > 0 {
			h.must(200, "GET", "/v1/blueprints", nil) // the window's one request
		}
		st, body, hdr := h.raw("GET", "/v1/blueprints", h.token, nil)
		expectError(t, st, body, 429, codeRateLimited, "")
		if v := hdr.Get("Retry-After"); v != "" {
			t.Errorf("%+v: Retry-After %q, want none", f, v)
		}
		if hdr.Get("x-ratelimit-remaining") != "0" || hdr.Get("x-ratelimit-reset") == "" {
			t.Errorf("%+v: rate-limit headers missing: %v", f, hdr)
		}
	}
}

// BulkFailNext refuses entities individually (207) without writing them,
// across requests, then stops.
func TestBulkFailNext(t *testing.T) {
	h := newHarness(t).withFixtures()
	h.srv.SetFaults(Faults{BulkFailNext: 3})
	bulk := func(ids ...string) (int, map[string]any) {
		var ents []any
		for _, id := range ids {
			ents = append(ents, map[string]any{"identifier": id})
		}
		return h.do("POST", "/v1/blueprints/repository/entities/bulk?upsert=true", map[string]any{"entities": ents})
	}
	st, body := bulk("a", "b")
	if st != 207 || body["ok"] != false {
		t.Fatalf("first batch: %d %v", st, body)
	}
	if errs := as[[]any](t, body["errors"]); len(errs) != 2 {
		t.Fatalf("errors %v", errs)
	} else if e := as[map[string]any](t, errs[0]); e["statusCode"] != float64(500) || e["identifier"] != "a" || e["index"] != float64(0) {
		t.Fatalf("error entry %v", e)
	}
	st, body = bulk("c", "d")
	if st != 207 || len(as[[]any](t, body["errors"])) != 1 || len(as[[]any](t, body["entities"])) != 1 {
		t.Fatalf("second batch: %d %v", st, body)
	}
	if ok := as[map[string]any](t, as[[]any](t, body["entities"])[0]); ok["identifier"] != "d" || ok["index"] != float64(1) {
		t.Fatalf("written entity %v", ok)
	}
	for _, id := range []string{"a", "b", "c"} {
		if _, found := h.srv.Entity("repository", id); found {
			t.Errorf("refused entity %s was written", id)
		}
	}
	if st, body = bulk("a", "b", "c"); st != 200 {
		t.Fatalf("after the budget: %d %v", st, body)
	}

	h.srv.SetFaults(Faults{BulkFailNext: 1, BulkFailStatus: 422})
	if st, body = bulk("e"); st != 207 || as[map[string]any](t, as[[]any](t, body["errors"])[0])["statusCode"] != float64(422) {
		t.Fatalf("BulkFailStatus: %d %v", st, body)
	}
}

// BodyLimit lowers the 413 threshold; without it 1 MiB applies.
func TestFaultBodyLimit(t *testing.T) {
	h := newHarness(t).withFixtures()
	big := map[string]any{"identifier": "r1", "title": strings.Repeat("x", 2000)}
	h.srv.SetFaults(Faults{BodyLimit: 1000})
	st, body := h.do("POST", "/v1/blueprints/repository/entities?upsert=true", big)
	expectError(t, st, body, 413, codeTooLarge, "limit is 1000 bytes")
	if _, found := h.srv.Entity("repository", "r1"); found {
		t.Fatal("a refused body was written")
	}
	h.must(201, "POST", "/v1/blueprints/repository/entities?upsert=true", map[string]any{"identifier": "r2"})
	h.srv.SetFaults(Faults{})
	h.must(201, "POST", "/v1/blueprints/repository/entities?upsert=true", big)
}
