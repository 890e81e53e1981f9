package harbor

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// fanoutStub serves /projects/p{k}/repositories/r{i}/artifacts: artifact ids i*10+1..i*10+3,
// with per-repository delay and failure.
func fanoutStub(t *testing.T, n int, delay func(i int) time.Duration, fail map[int]int) (*stub, []Item, *atomic.Int32) {
	s := newStub(t)
	var inFlight, peak atomic.Int32
	repos := make([]Item, n)
	for i := range n {
		project := fmt.Sprintf("p%d", i%3)
		repos[i] = Item{"name": fmt.Sprintf("%s/r%d", project, i), "id": float64(i)}
		if i%2 == 0 {
			repos[i]["projectName"] = project // both ways of naming the project work
		}
		s.handle("GET", fmt.Sprintf("/api/v2.0/projects/%s/repositories/r%d/artifacts", project, i), func(w http.ResponseWriter, r *http.Request) {
			cur := inFlight.Add(1)
			defer inFlight.Add(-1)
			for p := peak.Load(); cur > p && !peak.CompareAndSwap(p, cur); p = peak.Load() {
			}
			if delay != nil {
				select {
				case <-time.After(delay(i)):
				case <-r.Context().Done():
					return
				}
			}
			if st, ok := fail[i]; ok {
				harborError(w, st, "NOT_FOUND", fmt.Sprintf("repository r%d not found", i))
				return
			}
			writeJSON(w, []any{map[string]any{"id": i*10 + 1}, map[string]any{"id": i*10 + 2}, map[string]any{"id": i*10 + 3}})
		})
	}
	return s, repos, &peak
}

func TestForEachRepositoryArtifacts(t *testing.T) {
	s, repos, peak := fanoutStub(t, 30, func(i int) time.Duration { return time.Duration(30-i) * 100 * time.Microsecond }, nil)
	cfg := fastConfig(s.srv.URL)
	cfg.MaxConcurrency = 3
	c := newTestClient(t, cfg)
	var order []string
	err := c.ForEachRepositoryArtifacts(ctxT(t), repos, ArtifactQuery{WithTag: true}, func(repo Item, arts []Item) error {
		name, okName := repo["name"].(string)
		id, okID := repo["id"].(float64)
		if !okName || !okID {
			return fmt.Errorf("repository without a string name or numeric id: %v", repo)
		}
		order = append(order, name)
		i := int(id)
		if len(arts) != 3 || arts[0]["id"] != float64(i*10+1) || arts[0]["repositoryName"] != repo["name"] {
			return fmt.Errorf("repo %d: arts %v", i, arts)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, name := range order {
		if name != repos[i]["name"] {
			t.Fatalf("fn called out of repository order: %v", order)
		}
	}
	if len(order) != 30 || peak.Load() > 3 || peak.Load() < 2 {
		t.Fatalf("%d calls, peak concurrency %d (MaxConcurrency 3)", len(order), peak.Load())
	}
}

// The error is that of the first failing repository in order, even when a later one fails first.
func TestForEachRepositoryArtifactsDeterministicError(t *testing.T) {
	delay := func(i int) time.Duration {
		if i == 5 {
			return 30 * time.Millisecond // fails late
		}
		return 0 // repo 12 fails at once
	}
	for run := range 3 {
		s, repos, _ := fanoutStub(t, 20, delay, map[int]int{5: 404, 12: 404})
		cfg := fastConfig(s.srv.URL)
		cfg.MaxConcurrency = 8
		c := newTestClient(t, cfg)
		calls := 0
		err := c.ForEachRepositoryArtifacts(ctxT(t), repos, ArtifactQuery{}, func(Item, []Item) error { calls++; return nil })
		if err == nil || !strings.Contains(err.Error(), `repository "p2/r5"`) || !IsNotFound(err) {
			t.Fatalf("run %d: err = %v; want repository p2/r5's 404", run, err)
		}
		if calls != 5 {
			t.Fatalf("run %d: fn called %d times, want 5 (repos before the failure)", run, calls)
		}
	}
}

func TestForEachRepositoryArtifactsFnErrorAndCancel(t *testing.T) {
	s, repos, _ := fanoutStub(t, 10, nil, nil)
	c := newTestClient(t, fastConfig(s.srv.URL))
	stop := errors.New("stop")
	calls := 0
	err := c.ForEachRepositoryArtifacts(ctxT(t), repos, ArtifactQuery{}, func(Item, []Item) error {
		calls++
		if calls == 3 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || calls != 3 {
		t.Fatalf("err = %v after %d calls", err, calls)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := c.ForEachRepositoryArtifacts(ctx, repos, ArtifactQuery{}, func(Item, []Item) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled ctx: err = %v", err)
	}
	if err := c.ForEachRepositoryArtifacts(ctxT(t), []Item{{"id": 1.0}}, ArtifactQuery{}, nil); err == nil || !strings.Contains(err.Error(), "no \"name\"") {
		t.Fatalf("missing name: err = %v", err)
	}
	if err := c.ForEachRepositoryArtifacts(ctxT(t), nil, ArtifactQuery{}, nil); err != nil {
		t.Fatal(err)
	}
}
