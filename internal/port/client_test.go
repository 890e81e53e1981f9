package port

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

func TestNewValidatesBaseURL(t *testing.T) {
	tests := []struct {
		in, want, errHas string
	}{
		{in: "https://api.getport.io", want: "https://api.getport.io/v1"},
		{in: "https://api.port.io/", want: "https://api.port.io/v1"},
		{in: "https://api.us.port.io/v1/", want: "https://api.us.port.io/v1"},
		{in: "http://127.0.0.1:8080/prefix/", want: "http://127.0.0.1:8080/prefix/v1"},
		{in: "", errHas: "empty"},
		{in: "api.port.io", errHas: "absolute http"},
		{in: "ftp://api.port.io", errHas: "absolute http"},
		{in: "https://api.port.io?x=1", errHas: "query"},
		{in: "https://api.port.io#frag", errHas: "query or fragment"},
		{in: "https://u:p@api.port.io", errHas: "credentials"},
		{in: "https://[::1", errHas: "not a valid URL"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			c, err := New(Config{BaseURL: tt.in, ClientID: "id", ClientSecret: "secret"})
			if tt.errHas != "" {
				if err == nil || !strings.Contains(err.Error(), tt.errHas) || !strings.Contains(err.Error(), "PORT_BASE_URL") {
					t.Fatalf("err = %v, want one mentioning %q and PORT_BASE_URL", err, tt.errHas)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.base != tt.want {
				t.Errorf("base = %q, want %q", c.base, tt.want)
			}
		})
	}
}

func TestNewRequiresCredentials(t *testing.T) {
	for _, cfg := range []Config{{BaseURL: "https://api.port.io", ClientSecret: "x"}, {BaseURL: "https://api.port.io", ClientID: "x"}} {
		if _, err := New(cfg); err == nil || !strings.Contains(err.Error(), "PORT_CLIENT_SECRET") {
			t.Errorf("New(%+v) err = %v, want a credentials error", cfg, err)
		}
	}
}

func TestUserAgentStatsAndCustomTransport(t *testing.T) {
	f := newFake(t)
	f.handle("GET /v1/blueprints", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("User-Agent") != "harborport/test" {
			t.Errorf("User-Agent = %q", r.Header.Get("User-Agent"))
		}
		writeJSON(w, 200, map[string]any{"ok": true, "blueprints": []any{}})
	})
	var viaCustom atomic.Int32
	hc := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		viaCustom.Add(1)
		return http.DefaultTransport.RoundTrip(r)
	})}
	c := f.client(t, func(cfg *Config) { cfg.HTTPClient = hc })
	for range 3 {
		if _, err := c.ListBlueprints(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if ua, _ := f.userAgent.Load().(string); ua != "harborport/test" {
		t.Errorf("last User-Agent = %q", ua)
	}
	want := map[string]int{"POST /v1/auth/access_token": 1, "GET /v1/blueprints": 3}
	if got := c.Stats(); len(got) != len(want) || got["GET /v1/blueprints"] != 3 || got["POST /v1/auth/access_token"] != 1 {
		t.Errorf("Stats = %v, want %v", got, want)
	}
	if viaCustom.Load() != 4 {
		t.Errorf("custom transport saw %d requests, want 4", viaCustom.Load())
	}
	if hc.Timeout != 0 {
		t.Error("the caller's http.Client was modified")
	}
}

func TestIdentifiersArePathEscaped(t *testing.T) {
	f := newFake(t)
	var got string
	f.handle("GET /v1/blueprints/{blueprint}/entities/{entity}", func(w http.ResponseWriter, r *http.Request) {
		got = r.URL.EscapedPath() + " -> " + r.PathValue("entity")
		writeJSON(w, 200, map[string]any{"ok": true, "entity": map[string]any{"identifier": r.PathValue("entity")}})
	})
	c := f.client(t)
	e, err := c.GetEntity(context.Background(), "bp", "lib/nginx+x:1.0 @")
	if err != nil {
		t.Fatal(err)
	}
	if want := "/v1/blueprints/bp/entities/lib%2Fnginx%2Bx:1.0%20@ -> lib/nginx+x:1.0 @"; got != want {
		t.Errorf("server saw %q, want %q", got, want)
	}
	if e.Identifier != "lib/nginx+x:1.0 @" || e.Blueprint != "bp" {
		t.Errorf("entity = %+v", e)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// captureLogger records everything logged, to prove no secret is.
type captureLogger struct {
	mu    sync.Mutex
	lines []string
}

func (l *captureLogger) log(level, msg string, kv ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, level+" "+msg+" "+fmt.Sprint(kv...))
}
func (l *captureLogger) Error(msg string, kv ...any) { l.log("ERROR", msg, kv...) }
func (l *captureLogger) Info(msg string, kv ...any)  { l.log("INFO", msg, kv...) }
func (l *captureLogger) Debug(msg string, kv ...any) { l.log("DEBUG", msg, kv...) }
func (l *captureLogger) Warn(msg string, kv ...any)  { l.log("WARN", msg, kv...) }

func TestLogsNeverContainSecrets(t *testing.T) {
	f := newFake(t)
	var n atomic.Int32
	f.handle("GET /v1/blueprints", func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			w.Header().Set("x-ratelimit-remaining", "0")
			w.Header().Set("x-ratelimit-reset", "1")
			writeJSON(w, 429, map[string]any{"ok": false, "error": "rate_limited", "message": "slow"})
			return
		}
		okBlueprints(w, r)
	})
	lg := &captureLogger{}
	c := f.client(t, func(cfg *Config) { cfg.Logger = lg })
	if _, err := c.ListBlueprints(t.Context()); err != nil {
		t.Fatal(err)
	}
	f.revokeAll()
	if _, err := c.ListBlueprints(t.Context()); err != nil {
		t.Fatal(err)
	}
	all := strings.Join(lg.lines, "\n")
	if len(lg.lines) == 0 {
		t.Fatal("nothing logged")
	}
	for _, secret := range []string{testSecret, "tok-1", "tok-2"} {
		if strings.Contains(all, secret) {
			t.Errorf("log contains %q:\n%s", secret, all)
		}
	}
}
