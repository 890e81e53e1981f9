package testenv

import (
	"bytes"
	"sync"
	"testing"
	"time"
)

// PollInterval is how often WaitFor checks its condition.
const PollInterval = 20 * time.Millisecond

// WaitFor polls cond every PollInterval until it holds, and fails tb once
// timeout has passed without it. The failure names what was awaited and
// appends detail() (e.g. the listener's log) when detail is not nil.
func WaitFor(tb testing.TB, what string, timeout time.Duration, cond func() bool, detail func() string) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			more := ""
			if detail != nil {
				more = detail()
			}
			tb.Fatalf("timed out after %s waiting for %s%s", timeout, what, more)
		}
		time.Sleep(PollInterval)
	}
}

// LockedBuffer is an io.Writer safe for concurrent writers and readers
// (a process's output, a logger in a goroutine, and the test reading it).
type LockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *LockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// String returns everything written so far.
func (l *LockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
