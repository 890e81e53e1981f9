package harborsim

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// hookReceiver is a real HTTP webhook endpoint recording every request.
type hookReceiver struct {
	ts *httptest.Server
	mu sync.Mutex
	// reply decides the status for the n-th request (1-based); nil → 200.
	reply func(n int, r *http.Request) int
	got   []receivedHook
}

type receivedHook struct {
	path   string
	header http.Header
	body   []byte
	at     time.Time
}

func newReceiver(t *testing.T, tls bool, reply func(n int, r *http.Request) int) *hookReceiver {
	t.Helper()
	h := &hookReceiver{reply: reply}
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		h.got = append(h.got, receivedHook{path: r.URL.Path, header: r.Header.Clone(), body: b, at: time.Now()})
		n := len(h.got)
		h.mu.Unlock()
		status := http.StatusOK
		if h.reply != nil {
			status = h.reply(n, r)
		}
		w.WriteHeader(status)
		_, _ = fmt.Fprintf(w, "reply %d", n)
	})
	h.ts = httptest.NewUnstartedServer(handler)
	h.ts.Config.ErrorLog = log.New(io.Discard, "", 0) // expected TLS handshake failures are not noise
	if tls {
		h.ts.StartTLS()
	} else {
		h.ts.Start()
	}
	t.Cleanup(h.ts.Close)
	return h
}

func (h *hookReceiver) hooks() []receivedHook {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]receivedHook(nil), h.got...)
}

// byPath returns the hooks received on one path, in arrival order.
func (h *hookReceiver) byPath(p string) []receivedHook {
	var out []receivedHook
	for _, x := range h.hooks() {
		if x.path == p {
			out = append(out, x)
		}
	}
	return out
}

// addPolicy registers a policy through Harbor's own API and returns its id.
func addPolicy(t *testing.T, c *tc, project, name string, enabled bool, events []string, address, auth, format string, skip bool) int64 {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"name": name, "enabled": enabled, "event_types": events,
		"targets": []map[string]any{{"type": "http", "address": address, "auth_header": auth,
			"skip_cert_verify": skip, "payload_format": format}}})
	r := c.req("POST", "/api/v2.0/projects/"+project+"/webhook/policies", admin, string(body))
	if r.status != 201 {
		t.Fatalf("create policy %s: %d %s", name, r.status, r.body)
	}
	loc := r.header.Get("Location")
	var id int64
	if _, err := fmt.Sscanf(loc[strings.LastIndex(loc, "/")+1:], "%d", &id); err != nil {
		t.Fatalf("create policy %s: Location %q has no id: %v", name, loc, err)
	}
	return id
}

func waitIdle(t *testing.T, s *Server) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}
}

// newDeliverySim is a simulator whose close is registered with the test.
func newDeliverySim(t *testing.T, opts Options) *tc {
	t.Helper()
	c := newTC(t, opts)
	t.Cleanup(func() { _ = c.s.Close() })
	return c
}

// readCapture reads a real capture. They are part of the repository, so a
// missing one fails the test rather than skipping the comparison.
func readCapture(t *testing.T, name string) []byte {
	t.Helper()
	for _, dir := range captureDirs {
		if raw, err := os.ReadFile(dir + name); err == nil {
			return raw
		}
	}
	t.Fatalf("capture %s is in none of %v", name, captureDirs)
	return nil
}

// realCapture is a real-webhook-*.json file: headers plus the exact body bytes.
type realCapture struct {
	Headers map[string]string `json:"headers"`
	BodyRaw string            `json:"body_raw"`
}

func readRealCapture(t *testing.T, name string) realCapture {
	t.Helper()
	var c realCapture
	if err := json.Unmarshal(readCapture(t, name), &c); err != nil {
		t.Fatal(err)
	}
	return c
}

// shapeDiff compares JSON values by shape: same object keys (recursively), same JSON types,
// null where null. Keys of data-keyed maps (scan_overview's MIME key, the severity map) are not
// compared; extra lists keys the got side may have in addition (documented version additions).
func shapeDiff(path string, got, want any, extra map[string]bool) error {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return fmt.Errorf("%s: got %T, want object", path, got)
		}
		if strings.HasSuffix(path, ".summary.summary") {
			return nil // severity → count, keyed by data
		}
		if strings.HasSuffix(path, ".scan_overview") {
			if len(g) != 1 || len(w) != 1 {
				return fmt.Errorf("%s: want exactly one report MIME type, got %d", path, len(g))
			}
			for _, gv := range g {
				for _, wv := range w {
					return shapeDiff(path+".<mime>", gv, wv, extra)
				}
			}
		}
		var gk []string
		for k := range g {
			if !extra[path+"."+k] {
				gk = append(gk, k)
			}
		}
		sort.Strings(gk)
		if wk := keys(w); !reflect.DeepEqual(gk, wk) {
			return fmt.Errorf("%s: keys %v, want %v", path, gk, wk)
		}
		for k, wv := range w {
			if err := shapeDiff(path+"."+k, g[k], wv, extra); err != nil {
				return err
			}
		}
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return fmt.Errorf("%s: got %v, want an array of %d", path, got, len(w))
		}
		for i := range w {
			if err := shapeDiff(fmt.Sprintf("%s[%d]", path, i), g[i], w[i], extra); err != nil {
				return err
			}
		}
	default:
		if reflect.TypeOf(got) != reflect.TypeOf(want) {
			return fmt.Errorf("%s: %T (%v), want %T", path, got, got, want)
		}
	}
	return nil
}

// keyOrder lists the object keys of a JSON document in the order they appear.
func keyOrder(t *testing.T, raw []byte) []string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(raw))
	var out []string
	var stack []bool // true = object (next string token at even position is a key)
	var expectKey []bool
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		isKey := len(stack) > 0 && stack[len(stack)-1] && expectKey[len(expectKey)-1]
		if len(stack) > 0 && stack[len(stack)-1] {
			expectKey[len(expectKey)-1] = !expectKey[len(expectKey)-1]
		}
		switch v := tok.(type) {
		case json.Delim:
			switch v {
			case '{':
				stack, expectKey = append(stack, true), append(expectKey, true)
			case '[':
				stack, expectKey = append(stack, false), append(expectKey, false)
			default:
				stack, expectKey = stack[:len(stack)-1], expectKey[:len(expectKey)-1]
				if len(stack) > 0 && stack[len(stack)-1] {
					// the closed container was a value: the parent now expects a key
					expectKey[len(expectKey)-1] = true
				}
			}
		case string:
			if isKey {
				out = append(out, v)
			}
		}
	}
}

func decodeJSON(t *testing.T, raw []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("decode %s: %v", raw, err)
	}
	return m
}
