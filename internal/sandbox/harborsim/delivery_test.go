package harborsim

import (
	"context"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"
)

// fast are delivery options for tests: Harbor's backoff scaled to milliseconds.
func fast(o DeliveryOptions) Options {
	if o.BackoffScale == 0 {
		o.BackoffScale = 0.001 // 16–74 ms before the 2nd attempt, 31–118 ms before the 3rd
	}
	return Options{Delivery: o}
}

func oneProject(t *testing.T, opts Options) *tc {
	c := newDeliverySim(t, opts)
	c.s.CreateProject("p", false)
	return c
}

func TestDeliveryRetriesWithBackoffThenSucceeds(t *testing.T) {
	rcv := newReceiver(t, false, func(n int, _ *http.Request) int {
		if n <= 2 {
			return 500
		}
		return 200
	})
	c := oneProject(t, fast(DeliveryOptions{}))
	addPolicy(t, c, "p", "a", true, []string{"PUSH_ARTIFACT"}, rcv.ts.URL, "Bearer s", "CloudEvents", false)
	mustPush(t, c.s, "p", "r", []string{"v1"}, PushOptions{})
	waitIdle(t, c.s)
	got := rcv.hooks()
	if len(got) != 3 {
		t.Fatalf("want 3 attempts (500, 500, 200), got %d", len(got))
	}
	for _, h := range got[1:] {
		if string(h.body) != string(got[0].body) {
			t.Fatal("a retry must resend the same bytes (same CloudEvents id)")
		}
	}
	// gocraft/work backoff: ≥ 1+15 s before the 2nd attempt, ≥ 16+15 s before the 3rd (× 0.001).
	if gap := got[1].at.Sub(got[0].at); gap < 16*time.Millisecond {
		t.Fatalf("2nd attempt after %v, want ≥ 16ms", gap)
	}
	if gap := got[2].at.Sub(got[1].at); gap < 31*time.Millisecond {
		t.Fatalf("3rd attempt after %v, want ≥ 31ms", gap)
	}
	log := c.s.DeliveryLog()
	if len(log) != 3 {
		t.Fatalf("log %+v", log)
	}
	for i, a := range log {
		wantErr := i < 2
		if a.Attempt != i+1 || a.Final != !wantErr || (a.Error != "") != wantErr || a.PolicyName != "a" || a.EventType != "PUSH_ARTIFACT" || a.Format != "CloudEvents" {
			t.Fatalf("attempt %d: %+v", i, a)
		}
	}
	if log[0].StatusCode != 500 || log[0].Error != "abnormal response code: 500, body: reply 1" || log[2].StatusCode != 200 {
		t.Fatalf("log %+v", log)
	}
	if strings.Contains(log[0].Payload, "Bearer s") {
		t.Fatal("the log must never hold the Authorization value")
	}
}

func TestDeliveryGivesUpAfterMaxAttempts(t *testing.T) {
	rcv := newReceiver(t, false, func(int, *http.Request) int { return 503 })
	c := oneProject(t, fast(DeliveryOptions{}))
	addPolicy(t, c, "p", "a", true, []string{"PUSH_ARTIFACT"}, rcv.ts.URL, "", "Default", false)
	mustPush(t, c.s, "p", "r", []string{"v1"}, PushOptions{})
	waitIdle(t, c.s)
	time.Sleep(150 * time.Millisecond) // longer than any scaled backoff: a 4th attempt would show
	log := c.s.DeliveryLog()
	if len(rcv.hooks()) != 3 || len(log) != 3 || !log[2].Final || log[2].OK() || log[1].Final {
		t.Fatalf("want exactly 3 attempts, the last final and failed: %d hooks, log %+v", len(rcv.hooks()), log)
	}
	if _, has := rcv.hooks()[0].header["Authorization"]; has {
		t.Fatal("an empty auth_header must send no Authorization header")
	}
}

func TestDeliveryTimeout(t *testing.T) {
	rcv := newReceiver(t, false, func(n int, r *http.Request) int {
		if n == 1 {
			select { // slower than the client timeout
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
		}
		return 200
	})
	c := oneProject(t, fast(DeliveryOptions{Timeout: 80 * time.Millisecond}))
	addPolicy(t, c, "p", "a", true, []string{"PUSH_ARTIFACT"}, rcv.ts.URL, "", "Default", false)
	start := time.Now()
	mustPush(t, c.s, "p", "r", []string{"v1"}, PushOptions{})
	if d := time.Since(start); d > 50*time.Millisecond {
		t.Fatalf("PushArtifact took %v: delivery must be asynchronous", d)
	}
	waitIdle(t, c.s)
	log := c.s.DeliveryLog()
	if len(log) != 2 || !strings.Contains(log[0].Error, "Client.Timeout exceeded") || log[0].StatusCode != 0 ||
		log[0].Duration > time.Second || !log[1].OK() {
		t.Fatalf("want a timed-out attempt then a success: %+v", log)
	}
}

// TestDeliveryOnlyToMatchingEnabledPolicies: disabled policies, other event types, other
// projects, notification off, and the non-deliverable tag operations send nothing
// (internal/harbor/API-NOTES.md "Webhook delivery", "Events Harbor does not deliver").
func TestDeliveryOnlyToMatchingEnabledPolicies(t *testing.T) {
	rcv := newReceiver(t, false, nil)
	c := oneProject(t, fast(DeliveryOptions{}))
	c.s.CreateProject("other", false)
	addPolicy(t, c, "p", "off", false, []string{"PUSH_ARTIFACT", "PULL_ARTIFACT"}, rcv.ts.URL+"/off", "", "Default", false)
	addPolicy(t, c, "p", "pull-only", true, []string{"PULL_ARTIFACT"}, rcv.ts.URL+"/pull", "", "Default", false)
	addPolicy(t, c, "other", "other", true, []string{"PUSH_ARTIFACT"}, rcv.ts.URL+"/other", "", "Default", false)
	d := mustPush(t, c.s, "p", "r", []string{"v1"}, PushOptions{})
	must(t, c.s.AddTag("p", "r", d, "extra"))
	must(t, c.s.DeleteTag("p", "r", d, "extra"))
	must(t, c.s.ScanArtifact("p", "r", d, nil))
	waitIdle(t, c.s)
	if n := len(rcv.hooks()); n != 0 || len(c.s.DeliveryLog()) != 0 {
		t.Fatalf("nothing matches, yet %d deliveries were sent", n)
	}
	must(t, c.s.PullArtifact("p", "r", "v1"))
	waitIdle(t, c.s)
	if h := rcv.hooks(); len(h) != 1 || h[0].path != "/pull" {
		t.Fatalf("only the enabled PULL_ARTIFACT policy must fire: %+v", h)
	}

	off := false
	c2 := newDeliverySim(t, Options{NotificationEnable: &off, Delivery: DeliveryOptions{BackoffScale: 0.001}})
	c2.s.CreateProject("p", false)
	addPolicy(t, c2, "p", "a", true, []string{"PUSH_ARTIFACT"}, rcv.ts.URL+"/disabled", "", "Default", false)
	mustPush(t, c2.s, "p", "r", []string{"v1"}, PushOptions{})
	waitIdle(t, c2.s)
	if len(rcv.byPath("/disabled")) != 0 {
		t.Fatal("notification_enable=false must send nothing")
	}
}

// TestDeliveryMultiArchIndex: N children + the index = N+1 PUSH_ARTIFACT, children first with
// tag = child digest and an @digest URL (internal/harbor/API-NOTES.md "Webhook payloads").
func TestDeliveryMultiArchIndex(t *testing.T) {
	rcv := newReceiver(t, false, nil)
	c := oneProject(t, Options{ExternalURL: "https://harbor.example", Delivery: DeliveryOptions{Workers: 1}})
	addPolicy(t, c, "p", "a", true, []string{"PUSH_ARTIFACT"}, rcv.ts.URL, "", "Default", false)
	idx := mustPush(t, c.s, "p", "multi", []string{"1.0", "latest"}, PushOptions{Children: 3})
	waitIdle(t, c.s)
	h := rcv.hooks()
	if len(h) != 4 {
		t.Fatalf("want 4 PUSH_ARTIFACT deliveries (3 children + index), got %d", len(h))
	}
	seen := map[string]bool{}
	for i, x := range h {
		res := as[map[string]any](t, as[[]any](t, as[map[string]any](t, decodeJSON(t, x.body)["event_data"])["resources"])[0])
		dg, tag, url := as[string](t, res["digest"]), as[string](t, res["tag"]), as[string](t, res["resource_url"])
		if i < 3 {
			if tag != dg || dg == idx || url != "harbor.example/p/multi@"+dg || seen[dg] {
				t.Fatalf("child %d: digest %s tag %s url %s", i, dg, tag, url)
			}
			seen[dg] = true
		} else if dg != idx || tag != "1.0" || url != "harbor.example/p/multi:1.0" {
			t.Fatalf("index: digest %s tag %s url %s", dg, tag, url)
		}
	}
}

func TestDeliveryDuplicates(t *testing.T) {
	for _, o := range []DeliveryOptions{{Duplicates: 2}, {DuplicateRate: 1}} {
		rcv := newReceiver(t, false, nil)
		c := oneProject(t, fast(o))
		addPolicy(t, c, "p", "a", true, []string{"PUSH_ARTIFACT"}, rcv.ts.URL, "", "CloudEvents", false)
		mustPush(t, c.s, "p", "r", []string{"v1"}, PushOptions{})
		waitIdle(t, c.s)
		want := 1 + o.Duplicates + int(o.DuplicateRate)
		h := rcv.hooks()
		if len(h) != want {
			t.Fatalf("%+v: got %d deliveries, want %d", o, len(h), want)
		}
		dups := 0
		for _, a := range c.s.DeliveryLog() {
			dups += btoi(a.Duplicate)
		}
		for _, x := range h[1:] {
			if string(x.body) != string(h[0].body) {
				t.Fatal("a duplicate must carry the same bytes (same CloudEvents id)")
			}
		}
		if dups != want-1 {
			t.Fatalf("%d attempts flagged Duplicate, want %d", dups, want-1)
		}
	}
}

func TestDeliveryOrderFIFOAndShuffle(t *testing.T) {
	order := func(shuffle bool) []string {
		rcv := newReceiver(t, false, nil)
		c := oneProject(t, fast(DeliveryOptions{Workers: 1, StartPaused: true, Shuffle: shuffle, Seed: 7}))
		addPolicy(t, c, "p", "a", true, []string{"PUSH_ARTIFACT"}, rcv.ts.URL, "", "Default", false)
		for i := 0; i < 12; i++ {
			mustPush(t, c.s, "p", "r", []string{"t" + itoa(int64(i))}, PushOptions{})
		}
		if n := c.s.PendingDeliveries(); n != 12 {
			t.Fatalf("paused: %d pending, want 12", n)
		}
		c.s.ResumeDeliveries()
		waitIdle(t, c.s)
		var tags []string
		for _, x := range rcv.hooks() {
			res := as[map[string]any](t, as[[]any](t, as[map[string]any](t, decodeJSON(t, x.body)["event_data"])["resources"])[0])
			tags = append(tags, as[string](t, res["tag"]))
		}
		return tags
	}
	var emitted []string
	for i := 0; i < 12; i++ {
		emitted = append(emitted, "t"+itoa(int64(i)))
	}
	if got := order(false); !reflect.DeepEqual(got, emitted) {
		t.Fatalf("one worker without Shuffle delivers in event order: %v", got)
	}
	got := order(true)
	if reflect.DeepEqual(got, emitted) || len(got) != 12 {
		t.Fatalf("Shuffle must reorder deliveries: %v", got)
	}
	if again := order(true); !reflect.DeepEqual(again, got) {
		t.Fatalf("Shuffle with the same Seed must be reproducible: %v vs %v", again, got)
	}
}

func TestDeliveryPauseFlushAndClose(t *testing.T) {
	rcv := newReceiver(t, false, nil)
	c := oneProject(t, fast(DeliveryOptions{StartPaused: true}))
	addPolicy(t, c, "p", "a", true, []string{"PUSH_ARTIFACT"}, rcv.ts.URL, "", "Default", false)
	mustPush(t, c.s, "p", "r", []string{"v1"}, PushOptions{})
	if err := c.s.Flush(); !errors.Is(err, ErrDeliveriesPaused) {
		t.Fatalf("Flush while paused with work pending: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	if err := c.s.WaitIdle(ctx); !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "1 webhook deliveries (paused)") {
		t.Fatalf("WaitIdle while paused: %v", err)
	}
	c.s.ResumeDeliveries()
	if err := c.s.Flush(); err != nil || len(rcv.hooks()) != 1 {
		t.Fatalf("after resume: %v, %d delivered", err, len(rcv.hooks()))
	}

	// Close aborts a hanging attempt promptly and later events are not delivered.
	hang := newReceiver(t, false, func(_ int, r *http.Request) int { <-r.Context().Done(); return 200 })
	addPolicy(t, c, "p", "hang", true, []string{"PULL_ARTIFACT"}, hang.ts.URL, "", "Default", false)
	must(t, c.s.PullArtifact("p", "r", "v1"))
	for len(hang.hooks()) == 0 {
		time.Sleep(time.Millisecond)
	}
	start := time.Now()
	must(t, c.s.Close())
	if d := time.Since(start); d > time.Second {
		t.Fatalf("Close took %v", d)
	}
	mustPush(t, c.s, "p", "r", []string{"v2"}, PushOptions{})
	if err := c.s.Flush(); err != nil || len(rcv.hooks()) != 1 {
		t.Fatalf("after Close: %v, %d delivered", err, len(rcv.hooks()))
	}
	must(t, c.s.Close()) // idempotent
}

func TestDeliverySkipCertVerify(t *testing.T) {
	rcv := newReceiver(t, true, nil)
	c := oneProject(t, fast(DeliveryOptions{MaxAttempts: 1}))
	addPolicy(t, c, "p", "verify", true, []string{"PUSH_ARTIFACT"}, rcv.ts.URL+"/verify", "", "Default", false)
	addPolicy(t, c, "p", "skip", true, []string{"PUSH_ARTIFACT"}, rcv.ts.URL+"/skip", "", "Default", true)
	mustPush(t, c.s, "p", "r", []string{"v1"}, PushOptions{})
	waitIdle(t, c.s)
	res := map[string]DeliveryAttempt{}
	for _, a := range c.s.DeliveryLog() {
		res[a.PolicyName] = a
	}
	if !strings.Contains(res["verify"].Error, "certificate") || !res["skip"].OK() || len(rcv.byPath("/skip")) != 1 || len(rcv.byPath("/verify")) != 0 {
		t.Fatalf("skip_cert_verify=false must reject the self-signed cert, true must accept it: %+v", res)
	}
}

func TestDeliveryAdminHTTP(t *testing.T) {
	rcv := newReceiver(t, false, nil)
	c := oneProject(t, fast(DeliveryOptions{}))
	addPolicy(t, c, "p", "a", true, []string{"PUSH_ARTIFACT", "SCANNING_FAILED"}, rcv.ts.URL, "", "Default", false)
	steps := []struct {
		method, path, body string
		status             int
		contains           string
	}{
		{"POST", "/_sim/webhooks/pause", "", 200, "ok"},
		{"POST", "/_sim/push", `{"project":"p","repo":"r","tags":["v1"]}`, 200, "digest"},
		{"POST", "/_sim/webhooks/wait", `{"timeout_ms":50}`, 409, "paused"},
		{"POST", "/_sim/webhooks/resume", "", 200, "ok"},
		{"POST", "/_sim/scan", `{"project":"p","repo":"r","digest":"v1","status":"Error"}`, 200, "ok"},
		{"POST", "/_sim/scan", `{"project":"p","repo":"r","digest":"v1","status":"Bogus"}`, 400, "use Success, Error or Stopped"},
		{"POST", "/_sim/webhooks/wait", `{"timeout_ms":5000}`, 200, "ok"},
		{"GET", "/_sim/webhooks/log", "", 200, `"event_type":"SCANNING_FAILED"`},
		{"POST", "/_sim/webhooks/wait", `{"timeout":1}`, 400, "timeout_ms"},
		{"POST", "/_sim/webhooks/log/reset", "", 200, "ok"},
		{"GET", "/_sim/webhooks/log", "", 200, "[]"},
		{"GET", "/_sim/webhooks/pause", "", 405, "use POST"},
		{"POST", "/_sim/webhooks/nope", "", 404, "unknown admin operation"},
	}
	for _, st := range steps {
		r := c.req(st.method, st.path, "", st.body)
		if r.status != st.status || !strings.Contains(r.body, st.contains) {
			t.Fatalf("%s %s: %d %s, want %d containing %q", st.method, st.path, r.status, r.body, st.status, st.contains)
		}
	}
	if len(rcv.hooks()) != 2 {
		t.Fatalf("want PUSH_ARTIFACT and SCANNING_FAILED delivered, got %d", len(rcv.hooks()))
	}
}

// TestUnsuccessfulScanREST: an Error report shows in the REST scan_overview without summary,
// severity or scanner, and replaces the earlier successful one.
func TestUnsuccessfulScanREST(t *testing.T) {
	c := oneProject(t, Options{Delivery: DeliveryOptions{Disabled: true}})
	mustPush(t, c.s, "p", "r", []string{"v1"}, PushOptions{})
	must(t, c.s.ScanArtifact("p", "r", "v1", map[string]int{"Low": 1}))
	must(t, c.s.ScanArtifactWithStatus("p", "r", "v1", "Stopped", nil))
	if err := c.s.ScanArtifactWithStatus("p", "r", "v1", "Error", map[string]int{"Low": 1}); err == nil {
		t.Fatal("counts on an unsuccessful scan must be rejected")
	}
	r := c.req("GET", "/api/v2.0/projects/p/repositories/r/artifacts/v1?with_scan_overview=true", admin, "")
	var a struct {
		ScanOverview map[string]map[string]any `json:"scan_overview"`
	}
	r.json(t, &a)
	sum := a.ScanOverview[MimeTypeGenericVulnerabilityReport]
	_, hasSummary := sum["summary"]
	_, hasScanner := sum["scanner"]
	if sum["scan_status"] != "Stopped" || hasSummary || hasScanner || sum["severity"] != nil {
		t.Fatalf("scan_overview %v", a.ScanOverview)
	}
}

// DropRate loses deliveries before the first attempt, as a listener sees
// it when Harbor gave up on them; Dropped counts them.
func TestDeliveryDropRate(t *testing.T) {
	rcv := newReceiver(t, false, nil)
	c := oneProject(t, fast(DeliveryOptions{DropRate: 1}))
	addPolicy(t, c, "p", "a", true, []string{"PUSH_ARTIFACT"}, rcv.ts.URL, "", "Default", false)
	for i := range 3 {
		mustPush(t, c.s, "p", "r", []string{"v" + string(rune('a'+i))}, PushOptions{})
	}
	waitIdle(t, c.s)
	if n := len(rcv.hooks()); n != 0 || c.s.Dropped() != 3 {
		t.Fatalf("delivered %d, dropped %d; want 0 and 3", n, c.s.Dropped())
	}
}
