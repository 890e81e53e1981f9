package catalog

import (
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// progressLog records what an engine reports through WithProgress.
type progressLog struct {
	mu    sync.Mutex
	lines []progressLine
}

type progressLine struct {
	msg string
	kv  map[string]any
}

func (l *progressLog) record(msg string, kv ...any) {
	if len(kv)%2 != 0 {
		panic(fmt.Sprintf("odd key/value list for %q: %v", msg, kv))
	}
	m := map[string]any{}
	for i := 0; i < len(kv); i += 2 {
		k, ok := kv[i].(string)
		if !ok {
			panic(fmt.Sprintf("key %v (%T) of %q is not a string", kv[i], kv[i], msg))
		}
		m[k] = kv[i+1]
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, progressLine{msg, m})
}

// take returns the lines recorded so far and forgets them.
func (l *progressLog) take() []progressLine {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.lines
	l.lines = nil
	return out
}

// matching returns the lines whose message matches re.
func matching(lines []progressLine, re string) []progressLine {
	rx := regexp.MustCompile(re)
	var out []progressLine
	for _, l := range lines {
		if rx.MatchString(l.msg) {
			out = append(out, l)
		}
	}
	return out
}

func msgs(lines []progressLine) string {
	var b strings.Builder
	for _, l := range lines {
		b.WriteString("\n  " + l.msg)
	}
	return b.String()
}

// A plan and an apply report per-kind counts, per-blueprint writes and one
// summary line each, with the numbers of what really happened.
func TestProgressReportsKindsAndSummaries(t *testing.T) {
	e := newEnv(t, envOptions{noLibrary: true})
	e.smallHarbor()
	log := &progressLog{}
	plain := e.engine()
	eng := plain.WithProgress(log.record)
	if plain.progress != nil {
		t.Fatal("WithProgress changed the engine it was called on")
	}

	e.resetRequests()
	rep := e.compute(eng)
	lines := log.take()
	t.Logf("plan:%s", msgs(lines))

	// One "done" line per kind, in Harbor's reading order, with exact counts.
	done := matching(lines, `: Harbor \w+ done: `)
	want := []struct {
		kind        string
		read, ents  int
		msgFragment string
	}{
		{"project", 2, 2, "Harbor projects done: 2 read, 2 mapped to 2 entities in "},
		{"user", 2, 2, "Harbor users done: 2 read, 2 mapped to 2 entities in "},
		{"repository", 3, 3, "Harbor repositories done: 3 read, 3 mapped to 3 entities in "},
		{"artifact", 5, 5, "Harbor artifacts done: 5 read, 5 mapped to 5 entities in "},
	}
	if len(done) != len(want) {
		t.Fatalf("kind lines: got %d, want %d:%s", len(done), len(want), msgs(lines))
	}
	for i, w := range want {
		l := done[i]
		if !strings.HasPrefix(l.msg, "harborport: sync plan: ") || !strings.Contains(l.msg, w.msgFragment) ||
			!regexp.MustCompile(`\(\d+ items/s\)$`).MatchString(l.msg) {
			t.Errorf("kind line %d = %q, want it to contain %q and end with the rate", i, l.msg, w.msgFragment)
		}
		if l.kv["kind"] != w.kind || l.kv["items_read"] != w.read || l.kv["items_mapped"] != w.read || l.kv["entities"] != w.ents {
			t.Errorf("kind line %d fields = %v", i, l.kv)
		}
		if _, ok := l.kv["items_per_s"].(float64); !ok {
			t.Errorf("kind line %d has no items_per_s: %v", i, l.kv)
		}
	}

	// The summary: desired entities, the exact counts, Harbor's requests as
	// the simulator received them, one search page per blueprint.
	sum1 := matching(lines, `sync plan computed`)
	if len(sum1) != 1 {
		t.Fatalf("summary lines: %d:%s", len(sum1), msgs(lines))
	}
	harborReqs := waitHarborRequests(t, e, as[int](t, sum1[0].kv["harbor_requests"]))
	wantMsg := regexp.MustCompile(`^harborport: sync plan computed: 4 blueprints, 12 entities desired, create=12 update=0 delete=0 unchanged=0 in [0-9.]+(µs|ms|s) \(Harbor ` +
		fmt.Sprint(harborReqs) + ` requests, Port 4 search pages\)$`)
	if !wantMsg.MatchString(sum1[0].msg) {
		t.Fatalf("summary = %q, want it to match %s", sum1[0].msg, wantMsg)
	}
	if kv := sum1[0].kv; kv["create"] != 12 || kv["desired"] != 12 || kv["port_search_pages"] != 4 || kv["blueprints"] != 4 {
		t.Fatalf("summary fields = %v", kv)
	}
	if c := rep.Changeset.Counts(); c.Create != 12 {
		t.Fatalf("the plan itself: %+v", c)
	}
	if last := lines[len(lines)-1]; last.msg != sum1[0].msg {
		t.Fatalf("the summary is not the last line; last = %q", last.msg)
	}

	// Apply: one line per blueprint run, then the summary.
	e.apply(eng, rep.Changeset)
	lines = log.take()
	runs := matching(lines, `^harborport: sync apply: harbor\w+: \d+ upserted, 0 failed in `)
	var got []string
	for _, l := range runs {
		got = append(got, fmt.Sprintf("%s=%d", l.kv["blueprint"], l.kv["ok"]))
	}
	if strings.Join(got, " ") != "harborProject=2 harborUser=2 harborRepository=3 harborArtifact=5" {
		t.Fatalf("apply runs = %v:%s", got, msgs(lines))
	}
	if !strings.HasSuffix(runs[3].msg, "; 12 of 12 changes done") {
		t.Fatalf("last run line = %q", runs[3].msg)
	}
	applied := matching(lines, `^harborport: sync applied: created=12 updated=0 deleted=0 already_done=0 skipped=0 failed=0 of 12 changes in .* \(\d+ changes/s, Port [1-9]\d* bulk requests and 4 check searches, Harbor [1-9]\d* requests\)$`)
	if len(applied) != 1 || lines[len(lines)-1].msg != applied[0].msg {
		t.Fatalf("apply summary missing or not last:%s", msgs(lines))
	}

	// A no-op plan says so; a delete shows in the plan and the apply summaries.
	must(t, e.hsim.DeleteArtifact("beta", "db", firstDigest(t, e, "beta", "db")))
	rep = e.compute(eng)
	lines = log.take()
	c := rep.Changeset.Counts()
	if c.Delete != 1 || c.Create != 0 || c.Update+c.Unchanged != 11 {
		t.Fatalf("plan after a delete: %+v", c)
	}
	s := matching(lines, `sync plan computed`)
	if len(s) != 1 || !strings.Contains(s[0].msg, fmt.Sprintf(": 4 blueprints, 11 entities desired, create=0 update=%d delete=1 unchanged=%d in ", c.Update, c.Unchanged)) {
		t.Fatalf("plan after a delete (%+v):%s", c, msgs(lines))
	}
	e.apply(eng, rep.Changeset)
	lines = log.take()
	if len(matching(lines, `^harborport: sync apply: harborArtifact: 1 deleted, 0 failed in `)) != 1 ||
		len(matching(lines, fmt.Sprintf(`^harborport: sync applied: created=0 updated=%d deleted=1 already_done=0 skipped=0 failed=0 of %d changes in `, c.Update, c.Update+1))) != 1 {
		t.Fatalf("apply of the delete:%s", msgs(lines))
	}

	// An engine without progress reports nothing and an empty apply is silent.
	if _, err := plain.Compute(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, err := eng.Apply(t.Context(), &Changeset{}); err != nil {
		t.Fatal(err)
	}
	if l := log.take(); len(l) != 0 {
		t.Fatalf("unexpected lines:%s", msgs(l))
	}
}

// While a slow read runs, a line comes at most every progressEvery, naming
// the kind being read and Port's progress.
func TestProgressPeriodicLines(t *testing.T) {
	e := newEnv(t, envOptions{noLibrary: true})
	e.smallHarbor()
	e.setLatency(40 * time.Millisecond)
	log := &progressLog{}
	eng := e.engine().WithProgress(log.record)
	eng.progressEvery = 10 * time.Millisecond
	start := time.Now()
	e.compute(eng)
	elapsed := time.Since(start)
	lines := log.take()
	t.Logf("slow plan:%s", msgs(lines))
	periodic := matching(lines, `^harborport: sync plan: (Harbor \w+: \d+ read, \d+ mapped to \d+ entities, \d+ items/s|Harbor read); Port: \d+ entities read \(\d+ search pages\), \S+ elapsed$`)
	if len(periodic) == 0 {
		t.Fatalf("no periodic line during a %s compute:%s", elapsed, msgs(lines))
	}
	if most := int(elapsed/eng.progressEvery) + 1; len(periodic) > most {
		t.Fatalf("%d periodic lines in %s, more than one per %s:%s", len(periodic), elapsed, eng.progressEvery, msgs(lines))
	}
	for _, l := range periodic {
		if _, ok := l.kv["elapsed_s"].(float64); !ok {
			t.Fatalf("periodic line without elapsed_s: %v", l.kv)
		}
	}
}

// waitHarborRequests waits until the Harbor simulator has logged n requests
// (it logs after answering) and returns what it logged.
func waitHarborRequests(t *testing.T, e *env, n int) int {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for sum(e.hsim.Requests()) < n && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	return sum(e.hsim.Requests())
}

// firstDigest returns the digest of the first artifact of a repository in Port.
func firstDigest(t *testing.T, e *env, project, repo string) string {
	t.Helper()
	for _, ent := range e.psim.Entities("harborArtifact") {
		id, _ := ent["identifier"].(string)
		if d, ok := strings.CutPrefix(id, project+"/"+repo+"@"); ok {
			return d
		}
	}
	t.Fatalf("no artifact of %s/%s in Port", project, repo)
	return ""
}
