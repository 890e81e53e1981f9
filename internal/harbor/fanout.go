package harbor

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
)

var errSkipped = errors.New("skipped after an earlier repository failed")

// ForEachRepositoryArtifacts lists the artifacts of every repository (items as returned by
// ListRepositories: "name" is the full name; "projectName" is used when present, else the
// first path element) with at most MaxConcurrency repositories in flight, and calls fn in
// repository order, from the caller's goroutine (fn needs no locking).
//
// Errors are deterministic: the error returned is that of the first failing repository in
// order (or fn's). A failure at index i cancels only repositories after i, so earlier ones still
// finish and can report their own failure first; a caller never sees a cancellation caused by a
// later repository.
func (c *Client) ForEachRepositoryArtifacts(ctx context.Context, repos []Item, q ArtifactQuery, fn func(repo Item, arts []Item) error) error {
	type target struct{ project, name string }
	targets := make([]target, len(repos))
	for i, r := range repos {
		name, _ := r["name"].(string)
		if name == "" {
			return fmt.Errorf("harbor: repository %d has no \"name\"", i)
		}
		project, _ := r["projectName"].(string)
		if project == "" {
			project, _, _ = strings.Cut(name, "/")
		}
		targets[i] = target{project, name}
	}
	if _, _, err := q.params(); err != nil { // fail once, not per repository
		return err
	}
	n := len(repos)
	if n == 0 {
		return nil
	}

	parent, cancelAll := context.WithCancel(ctx)
	defer cancelAll()
	type slot struct {
		arts   []Item
		err    error
		done   chan struct{}
		ctx    context.Context
		cancel context.CancelFunc
	}
	slots := make([]slot, n)
	for i := range slots {
		slots[i].done = make(chan struct{})
		slots[i].ctx, slots[i].cancel = context.WithCancel(parent)
	}
	var mu sync.Mutex
	firstErr := n // lowest failing index so far
	fail := func(i int) {
		mu.Lock()
		defer mu.Unlock()
		if i < firstErr {
			for j := i + 1; j < firstErr; j++ {
				slots[j].cancel()
			}
			firstErr = i
		}
	}

	next := make(chan int)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // feeder: hands out indices in order; on cancellation finishes the rest
		defer wg.Done()
		defer close(next)
		for i := 0; i < n; i++ {
			select {
			case next <- i:
			case <-parent.Done():
				for ; i < n; i++ {
					slots[i].err = parent.Err()
					close(slots[i].done)
				}
				return
			}
		}
	}()
	for w := 0; w < min(c.maxConc, n); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				s := &slots[i]
				mu.Lock()
				skip := i > firstErr
				mu.Unlock()
				if skip {
					s.err = errSkipped
				} else {
					s.arts, s.err = c.ListArtifacts(s.ctx, targets[i].project, targets[i].name, q)
					if s.err != nil {
						fail(i)
					}
				}
				s.cancel()
				close(s.done)
			}
		}()
	}

	var err error
	for i := 0; i < n && err == nil; i++ {
		<-slots[i].done
		if slots[i].err != nil {
			err = fmt.Errorf("listing artifacts of repository %q: %w", targets[i].name, slots[i].err)
			break
		}
		err = fn(repos[i], slots[i].arts)
		slots[i].arts = nil
	}
	cancelAll()
	wg.Wait()
	return err
}
