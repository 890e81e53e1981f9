package harbor

import (
	"context"
	"encoding/pem"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

func TestParseBaseURL(t *testing.T) {
	tests := []struct{ in, want, wantErr string }{
		{in: "https://harbor.example.com", want: "https://harbor.example.com/api/v2.0"},
		{in: "https://harbor.example.com/", want: "https://harbor.example.com/api/v2.0"},
		{in: "https://harbor.example.com/api/v2.0", want: "https://harbor.example.com/api/v2.0"},
		{in: "https://harbor.example.com/api/v2.0/", want: "https://harbor.example.com/api/v2.0"},
		{in: " http://127.0.0.1:18080 ", want: "http://127.0.0.1:18080/api/v2.0"},
		{in: "https://example.com/harbor/", want: "https://example.com/harbor/api/v2.0"},
		{in: "", wantErr: "harbor_url (HARBOR_URL) is empty"},
		{in: "harbor.example.com", wantErr: "scheme must be http or https"},
		{in: "ftp://harbor.example.com", wantErr: "scheme must be http or https"},
		{in: "https://", wantErr: "no host"},
		{in: "https://u:p@harbor.example.com", wantErr: "credentials belong"},
		{in: "https://harbor.example.com?x=1", wantErr: "query string"},
		{in: "https://harbor.example.com#frag", wantErr: "fragment"},
		{in: "https://harbor example.com", wantErr: "harbor_url"},
	}
	for _, tc := range tests {
		u, err := parseBaseURL(tc.in)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), "harbor_url") {
				t.Errorf("parseBaseURL(%q) = %v, %v; want error with %q naming harbor_url", tc.in, u, err, tc.wantErr)
			}
			continue
		}
		if err != nil || u.String() != tc.want {
			t.Errorf("parseBaseURL(%q) = %v, %v; want %s", tc.in, u, err, tc.want)
		}
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	jar, _ := cookiejar.New(nil)
	tests := []struct {
		name    string
		cfg     Config
		wantErr string
	}{
		{"no user", Config{URL: "https://h", Password: "x"}, "HARBOR_USERNAME"},
		{"no password", Config{URL: "https://h", Username: "x"}, "HARBOR_PASSWORD"},
		{"cookie jar", Config{URL: "https://h", Username: "u", Password: "p", HTTPClient: &http.Client{Jar: jar}}, "cookie jar"},
		{"bad pem", Config{URL: "https://h", Username: "u", Password: "p", CACertPEM: "not a cert"}, "harbor_ca_certificate"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := New(tc.cfg); err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("New() error = %v, want one mentioning %q", err, tc.wantErr)
			}
		})
	}
}

// Basic auth on every request, and Harbor's sid cookie never sent back (else writes hit CSRF,
// internal/harbor/API-NOTES.md "Authentication and CSRF").
func TestBasicAuthAndNoCookies(t *testing.T) {
	s := newStub(t)
	s.handle("GET", "/api/v2.0/projects", pageOf(nil))
	s.handle("DELETE", "/api/v2.0/projects/p/webhook/policies/1", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(200) })
	c := newTestClient(t, Config{URL: s.srv.URL, Username: testUser, Password: testPass, UserAgent: "harborport/test"})
	ctx := ctxT(t)
	if _, err := c.ListProjects(ctx, ProjectQuery{}); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteWebhookPolicy(ctx, "p", 1); err != nil {
		t.Fatalf("delete after a Set-Cookie answer: %v", err)
	}
	for _, r := range s.requests() {
		if r.Header.Get("Cookie") != "" {
			t.Errorf("%s %s sent a cookie", r.Method, r.URI)
		}
		if !strings.HasPrefix(r.Header.Get("Authorization"), "Basic ") {
			t.Errorf("%s %s without Basic auth", r.Method, r.URI)
		}
		if r.Header.Get("User-Agent") != "harborport/test" || r.Header.Get("X-Request-Id") == "" {
			t.Errorf("%s %s headers: %v", r.Method, r.URI, r.Header)
		}
	}
	// The stub really enforces CSRF when a cookie comes back (so the check above is meaningful).
	req, _ := http.NewRequest("DELETE", s.srv.URL+"/api/v2.0/projects/p/webhook/policies/1", nil)
	req.SetBasicAuth(testUser, testPass)
	req.AddCookie(&http.Cookie{Name: "sid", Value: "x"})
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close() // only the status matters
	if resp.StatusCode != 403 {
		t.Fatalf("stub CSRF check: got %d", resp.StatusCode)
	}
}

func TestVerify(t *testing.T) {
	s := newStub(t)
	s.handle("GET", "/api/v2.0/systeminfo", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, loadJSON(t, "real-api-systeminfo.json"))
	})
	ctx := ctxT(t)

	info, err := newTestClient(t, fastConfig(s.srv.URL)).Verify(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.Version != "v2.15.2-080b0220" || !info.NotificationEnable {
		t.Fatalf("Verify() = %+v", info)
	}

	bad := fastConfig(s.srv.URL)
	bad.Password = "Sup3r-S3cret"
	_, err = newTestClient(t, bad).Verify(ctx)
	if !errors.Is(err, ErrBadCredentials) || !strings.Contains(err.Error(), "HARBOR_PASSWORD") || strings.Contains(err.Error(), "Sup3r-S3cret") {
		t.Fatalf("Verify() with a wrong password = %v; want ErrBadCredentials, without echoing the password", err)
	}

	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		_, _ = io.WriteString(w, "<html>welcome</html>") // a failed write shows in Verify's error
	}))
	defer other.Close()
	_, err = newTestClient(t, fastConfig(other.URL)).Verify(ctx)
	if err == nil || !strings.Contains(err.Error(), "harbor_url") {
		t.Fatalf("Verify() against a non-Harbor site = %v; want an error naming harbor_url", err)
	}
}

func TestTLSAndSchemeErrorsNameTheSetting(t *testing.T) {
	tlsSrv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, loadJSON(t, "real-api-systeminfo.json"))
	}))
	tlsSrv.Config.ErrorLog = log.New(io.Discard, "", 0) // expected handshake failures
	tlsSrv.StartTLS()
	defer tlsSrv.Close()
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer plain.Close()
	closedAddr := func() string {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		return addr
	}()
	caPEM := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: tlsSrv.Certificate().Raw}))
	ctx := ctxT(t)

	tests := []struct {
		name     string
		cfg      func(Config) Config
		url      string
		wantErr  string // "" = success
		attempts int
	}{
		{name: "unknown CA", url: tlsSrv.URL, wantErr: "harbor_ca_certificate", attempts: 1},
		{name: "CA given", url: tlsSrv.URL, cfg: func(c Config) Config { c.CACertPEM = caPEM; return c }},
		{name: "insecure", url: tlsSrv.URL, cfg: func(c Config) Config { c.InsecureSkipVerify = true; return c }},
		{name: "https to plain http", url: strings.Replace(plain.URL, "http://", "https://", 1), wantErr: "change harbor_url to http://", attempts: 1},
		{name: "http to https", url: strings.Replace(tlsSrv.URL, "https://", "http://", 1), wantErr: "change harbor_url to https://"},
		{name: "connection refused", url: "http://" + closedAddr, wantErr: "check harbor_url's host, port and scheme", attempts: 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := fastConfig(tc.url)
			cfg.MaxRetries = 2
			if tc.cfg != nil {
				cfg = tc.cfg(cfg)
			}
			_, err := newTestClient(t, cfg).Verify(ctx)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v; want it to say %q", err, tc.wantErr)
			}
			var te *TransportError
			if tc.attempts > 0 && (!errors.As(err, &te) || te.Attempts != tc.attempts) {
				t.Fatalf("err = %#v; want a TransportError after %d attempt(s)", err, tc.attempts)
			}
		})
	}
}

func TestRedirectIsNotFollowed(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		http.Redirect(w, r, "https://elsewhere.example.com"+r.URL.Path, http.StatusMovedPermanently)
	}))
	defer srv.Close()
	c := newTestClient(t, fastConfig(srv.URL))
	_, err := c.CreateWebhookPolicy(ctxT(t), "p", WebhookPolicy{Name: "x"})
	var ae *APIError
	if !errors.As(err, &ae) || ae.Status != 301 || !strings.Contains(err.Error(), "harbor_url") || hits.Load() != 1 {
		t.Fatalf("err = %v, hits %d; want one 301 APIError naming harbor_url", err, hits.Load())
	}
}

func TestRetries(t *testing.T) {
	tests := []struct {
		name       string
		method     string
		failures   int // answers before success
		failStatus int
		maxRetries int
		wantErr    string
		wantHits   int32
	}{
		{name: "GET 503 then ok", method: "GET", failures: 2, failStatus: 503, maxRetries: 3, wantHits: 3},
		{name: "GET 500 exhausted", method: "GET", failures: 10, failStatus: 500, maxRetries: 2, wantErr: "500 UNKNOWN: internal server error (after 3 attempts)", wantHits: 3},
		{name: "GET 429 then ok", method: "GET", failures: 1, failStatus: 429, maxRetries: 3, wantHits: 2},
		{name: "GET 501 not retried", method: "GET", failures: 10, failStatus: 501, maxRetries: 3, wantErr: "501", wantHits: 1},
		{name: "GET 404 not retried", method: "GET", failures: 10, failStatus: 404, maxRetries: 3, wantErr: "404", wantHits: 1},
		{name: "retries disabled", method: "GET", failures: 10, failStatus: 503, maxRetries: -1, wantErr: "503", wantHits: 1},
		{name: "POST 500 not retried", method: "POST", failures: 10, failStatus: 500, maxRetries: 3, wantErr: "500", wantHits: 1},
		{name: "PUT 502 not retried", method: "PUT", failures: 10, failStatus: 502, maxRetries: 3, wantErr: "502", wantHits: 1},
		{name: "DELETE 503 not retried", method: "DELETE", failures: 10, failStatus: 503, maxRetries: 3, wantErr: "503", wantHits: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var hits atomic.Int32
			s := newStub(t)
			h := func(w http.ResponseWriter, r *http.Request) {
				if int(hits.Add(1)) <= tc.failures {
					code := map[int]string{500: "UNKNOWN", 501: "NOT_IMPLEMENTED", 502: "BAD_GATEWAY", 503: "SERVICE_UNAVAILABLE", 404: "NOT_FOUND", 429: "TOO_MANY_REQUEST"}[tc.failStatus]
					msg := "internal server error"
					if tc.failStatus == 404 {
						msg = "project p not found"
					}
					harborError(w, tc.failStatus, code, msg)
					return
				}
				switch r.Method {
				case "GET":
					writeJSON(w, loadJSON(t, "real-api-project-get.json"))
				case "POST":
					w.Header().Set("Location", r.URL.Path+"/7")
					w.WriteHeader(201)
				default:
					w.WriteHeader(200)
				}
			}
			s.handle("GET", "/api/v2.0/projects/p", h)
			s.handle("POST", "/api/v2.0/projects/p/webhook/policies", h)
			s.handle("PUT", "/api/v2.0/projects/p/webhook/policies/7", h)
			s.handle("DELETE", "/api/v2.0/projects/p/webhook/policies/7", h)
			cfg := fastConfig(s.srv.URL)
			cfg.MaxRetries = tc.maxRetries
			c := newTestClient(t, cfg)
			ctx := ctxT(t)
			var err error
			switch tc.method {
			case "GET":
				_, err = c.GetProject(ctx, "p")
			case "POST":
				_, err = c.CreateWebhookPolicy(ctx, "p", WebhookPolicy{Name: "x"})
			case "PUT":
				err = c.UpdateWebhookPolicy(ctx, "p", WebhookPolicy{ID: 7, Name: "x"})
			case "DELETE":
				err = c.DeleteWebhookPolicy(ctx, "p", 7)
			}
			if tc.wantErr == "" && err != nil {
				t.Fatal(err)
			}
			if tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("err = %v, want %q", err, tc.wantErr)
			}
			if hits.Load() != tc.wantHits {
				t.Fatalf("server saw %d requests, want %d", hits.Load(), tc.wantHits)
			}
		})
	}
}

// A write may be retried only when it never left (dial failure); see retry.go.
func TestCheckRetryPolicy(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	reset := &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}
	tests := []struct {
		method string
		err    error
		status int
		want   bool
	}{
		{"GET", refused, 0, true},
		{"GET", reset, 0, true},
		{"GET", io.ErrUnexpectedEOF, 0, true},
		{"GET", errors.New("tls: failed to verify certificate: x509: certificate signed by unknown authority"), 0, false},
		{"POST", refused, 0, true},
		{"PUT", refused, 0, true},
		{"DELETE", refused, 0, true},
		{"POST", reset, 0, false},
		{"DELETE", io.ErrUnexpectedEOF, 0, false},
		{"GET", nil, 503, true},
		{"GET", nil, 400, false},
		{"PUT", nil, 503, false},
	}
	for _, tc := range tests {
		ctx := withMeta(context.Background(), &reqMeta{method: tc.method})
		var resp *http.Response
		if tc.err == nil {
			resp = &http.Response{StatusCode: tc.status}
		}
		got, _ := checkRetry(ctx, resp, tc.err)
		if got != tc.want {
			t.Errorf("checkRetry(%s, %v, %d) = %v, want %v", tc.method, tc.err, tc.status, got, tc.want)
		}
	}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	if ok, err := checkRetry(cancelled, nil, reset); ok || err == nil {
		t.Error("no retry after the caller cancelled")
	}
}

func TestBackoff(t *testing.T) {
	lo, hi := 10*time.Millisecond, 80*time.Millisecond
	for attempt, ms := range []int{10, 20, 40, 80, 80, 80} {
		want := time.Duration(ms) * time.Millisecond
		for range 20 {
			if d := backoff(lo, hi, attempt, nil); d < want/2 || d > want {
				t.Fatalf("backoff(attempt %d) = %v, want in [%v, %v]", attempt, d, want/2, want)
			}
		}
	}
	r := &http.Response{StatusCode: 429, Header: http.Header{"Retry-After": {"1"}}}
	if d := backoff(lo, hi, 0, r); d != hi {
		t.Errorf("Retry-After 1s capped at max: got %v", d)
	}
	r.Header.Set("Retry-After", "0")
	if d := backoff(lo, hi, 3, r); d != lo {
		t.Errorf("Retry-After 0 raised to min: got %v", d)
	}
}

// A hanging Harbor cannot block forever: each attempt times out, GETs retry, then fail clearly.
func TestTimeoutAndCancel(t *testing.T) {
	release := make(chan struct{})
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)

	cfg := fastConfig(srv.URL)
	cfg.Timeout = 50 * time.Millisecond
	cfg.MaxRetries = 1
	c := newTestClient(t, cfg)
	start := time.Now()
	_, err := c.SystemInfo(ctxT(t))
	var te *TransportError
	if !errors.As(err, &te) || te.Attempts != 2 || !strings.Contains(err.Error(), "per-request timeout (50ms)") {
		t.Fatalf("err = %v; want a timeout TransportError after 2 attempts", err)
	}
	if el := time.Since(start); el > 2*time.Second {
		t.Fatalf("took %v", el)
	}

	cfg.Timeout = time.Minute
	c = newTestClient(t, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err = c.SystemInfo(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v; want the caller's deadline", err)
	}
}

// A body cut short is a transport error: GETs retry it.
func TestTruncatedBodyIsRetried(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hits.Add(1) == 1 {
			w.Header().Set("Content-Length", "1000")
			w.WriteHeader(200)
			_, _ = io.WriteString(w, `{"auth_mode":`) // truncated on purpose; the client sees the outcome
			return                                    // the server closes the connection short of Content-Length
		}
		writeJSON(w, map[string]any{"harbor_version": "v2.15.2"})
	}))
	defer srv.Close()
	info, err := newTestClient(t, fastConfig(srv.URL)).Verify(ctxT(t))
	if err != nil || info.Version != "v2.15.2" || hits.Load() != 2 {
		t.Fatalf("Verify() = %+v, %v after %d hits", info, err, hits.Load())
	}
}

func TestMaxConcurrencyAndStats(t *testing.T) {
	var inFlight, peak atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		time.Sleep(5 * time.Millisecond)
		writeJSON(w, map[string]any{"name": "p", "project_id": 1})
	}))
	defer srv.Close()
	cfg := fastConfig(srv.URL)
	cfg.MaxConcurrency = 2
	c := newTestClient(t, cfg)
	var wg sync.WaitGroup
	for range 12 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := c.GetProject(context.Background(), "p"); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if peak.Load() > 2 {
		t.Fatalf("peak concurrency %d > MaxConcurrency 2", peak.Load())
	}
	if got := c.Stats()["GET /projects/{project}"]; got != 12 {
		t.Fatalf("Stats = %v", c.Stats())
	}
}
