package testenv

import (
	"bufio"
	"encoding/json"
	"io"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Listener is `terraform-provider-harborport serve` as a child process, its
// stdout and stderr captured line by line. Set the fields, then Start it;
// it can be stopped (any signal) and started again, and keeps its address
// across restarts (a Harbor webhook policy points there).
type Listener struct {
	// Bin is the provider binary (ProviderBinary).
	Bin string
	// Env is the process's whole environment.
	Env []string
	// Args are serve's flags other than --listen, e.g. --data-dir and
	// --log-format; the log may be text or JSON.
	Args []string
	// Addr is host:port. When empty, the first Start listens on a free
	// loopback port and records it; later starts must get it again.
	Addr string
	// StartTimeout bounds Start's wait for the "listening" line; 0 is 30s.
	StartTimeout time.Duration
	// Prefix, when set, runs the binary through a command: Prefix[0] is run
	// with Prefix[1:], then the binary and its arguments (e.g. a shell that
	// sets a ulimit and execs the rest).
	Prefix []string

	cmd      *exec.Cmd
	exited   chan struct{} // closed when the process has exited
	readDone chan struct{} // closed when its output is read to the end
	mu       sync.Mutex
	log      strings.Builder
}

// URL is the listener's base URL, http://Addr.
func (l *Listener) URL() string { return "http://" + l.Addr }

// Start runs the process and waits until it logs that it listens. It fails
// tb if the process exits first, does not listen within StartTimeout, or
// listens on another address than the recorded one. The process is
// stopped with SIGTERM when tb's test ends, if it still runs then.
func (l *Listener) Start(tb testing.TB) {
	tb.Helper()
	timeout := l.StartTimeout
	if timeout == 0 {
		timeout = 30 * time.Second
	}
	listen := "127.0.0.1:0"
	if l.Addr != "" {
		listen = l.Addr
	}
	addr := l.run(tb, append([]string{"--listen", listen}, l.Args...))
	select {
	case a := <-addr:
		if l.Addr != "" && a != l.Addr {
			tb.Fatalf("listener restarted on %s, Harbor's policy points at %s", a, l.Addr)
		}
		l.Addr = a
	case <-l.exited:
		<-l.readDone
		tb.Fatalf("listener exited at start:\n%s", l.Log())
	case <-time.After(timeout):
		tb.Fatalf("listener did not start:\n%s", l.Log())
	}
}

// RunToExit runs the process with args as serve's whole flags and waits
// (up to timeout) for it to exit, as it must on a configuration error; the
// output is then in Log.
func (l *Listener) RunToExit(tb testing.TB, args []string, timeout time.Duration) {
	tb.Helper()
	l.run(tb, args)
	select {
	case <-l.exited:
		<-l.readDone
	case <-time.After(timeout):
		tb.Fatalf("serve did not exit:\n%s", l.Log())
	}
}

// run starts `serve args...` and returns a channel that receives the
// address from the "listening" log line.
func (l *Listener) run(tb testing.TB, args []string) <-chan string {
	tb.Helper()
	argv := append([]string{l.Bin, "serve"}, args...)
	if len(l.Prefix) > 0 {
		argv = append(append([]string{}, l.Prefix...), argv...)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = l.Env
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	l.cmd = cmd
	exited, readDone := make(chan struct{}), make(chan struct{})
	l.exited, l.readDone = exited, readDone
	addr := make(chan string, 1)
	go func() {
		defer close(readDone)
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			l.mu.Lock()
			l.log.WriteString(line + "\n")
			l.mu.Unlock()
			if a, ok := listeningAddr(line); ok {
				select {
				case addr <- a:
				default:
				}
			}
		}
		_, _ = io.Copy(io.Discard, pr) // a line past the buffer: keep the process unblocked
	}()
	go func() { _ = cmd.Wait(); _ = pw.Close(); close(exited) }() // an io.PipeWriter's Close never fails
	tb.Cleanup(func() { l.stopProc(cmd, exited, readDone, syscall.SIGTERM) })
	return addr
}

// listeningAddr finds the address in serve's "listening" line, in the text
// (msg=listening addr=…) or JSON ({"msg":"listening","addr":…}) format.
func listeningAddr(line string) (string, bool) {
	if i := strings.Index(line, "msg=listening addr="); i >= 0 {
		if f := strings.Fields(line[i+len("msg=listening addr="):]); len(f) > 0 {
			return f[0], true
		}
	}
	var rec struct{ Msg, Addr string }
	if strings.HasPrefix(line, "{") && json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "listening" && rec.Addr != "" {
		return rec.Addr, true
	}
	return "", false
}

// Stop sends sig to the process (SIGTERM for a graceful stop, SIGKILL for
// kill -9) and waits until it has exited and its output is read; if it is
// still running after a minute it is killed. It does nothing when the
// process is not running.
func (l *Listener) Stop(sig syscall.Signal) {
	if l.cmd == nil {
		return
	}
	l.stopProc(l.cmd, l.exited, l.readDone, sig)
}

// Kill is Stop(SIGKILL): the process gets no chance to clean up.
func (l *Listener) Kill() { l.Stop(syscall.SIGKILL) }

func (l *Listener) stopProc(cmd *exec.Cmd, exited, readDone chan struct{}, sig syscall.Signal) {
	select {
	case <-exited:
	default:
		_ = cmd.Process.Signal(sig)
		select {
		case <-exited:
		case <-time.After(time.Minute):
			_ = cmd.Process.Kill()
			<-exited
		}
	}
	<-readDone
}

// Log is everything the process (all its runs) wrote so far.
func (l *Listener) Log() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.log.String()
}

// Count is how often substr occurs in Log.
func (l *Listener) Count(substr string) int { return strings.Count(l.Log(), substr) }

// LogTail is the last n lines of Log, introduced by a blank line and a
// title, for failure messages.
func (l *Listener) LogTail(n int) string {
	lines := strings.Split(strings.TrimSpace(l.Log()), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return "\nlistener log (last lines):\n" + strings.Join(lines, "\n")
}

// ExitCode is the exit code of the last run once it has exited, else -1.
func (l *Listener) ExitCode() int {
	if l.cmd == nil || l.exited == nil {
		return -1
	}
	select {
	case <-l.exited:
		return l.cmd.ProcessState.ExitCode()
	default:
		return -1
	}
}
