// Package harbor is harborport's client for the Harbor API v2.0: Basic auth without cookies,
// page-by-page listing, Harbor's q filter and path encodings, bounded concurrency, and retries.
// Behaviour notes cite internal/harbor/API-NOTES.md by section name.
package harbor

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-retryablehttp"

	"github.com/harborport/terraform-provider-harborport/internal/jsonvalue"
)

const (
	apiPrefix = "/api/v2.0"
	// pageSize is Harbor's maximum; more is a 422 (internal/harbor/API-NOTES.md "Paging").
	pageSize = 100
	// maxBody bounds one response; a 100-item artifact page with scan overviews is well under 1 MiB.
	maxBody = 32 << 20

	defaultConcurrency = 8
	defaultTimeout     = 30 * time.Second
	defaultMaxRetries  = 4
	defaultMinBackoff  = 500 * time.Millisecond
	defaultMaxBackoff  = 10 * time.Second

	// Both report types Harbor honours, v1.1 (Trivy's) first, as the swagger default
	// (internal/harbor/API-NOTES.md "Scan overview").
	acceptVulnerabilities = "application/vnd.security.vulnerability.report; version=1.1, application/vnd.scanner.adapter.vuln.report.harbor+json; version=1.0"
)

// Config configures a Client.
type Config struct {
	// URL is Harbor's base URL, e.g. https://harbor.example.com. A trailing "/" or "/api/v2.0" is
	// tolerated; a path prefix (Harbor behind /harbor) is kept.
	URL      string
	Username string // a user or "robot$name"
	Password string

	// HTTPClient, when set, is used for transport (copied: Timeout and CheckRedirect are set on
	// the copy). It must have no cookie Jar: Harbor's sid cookie turns on CSRF checks
	// (internal/harbor/API-NOTES.md "Authentication and CSRF").
	HTTPClient *http.Client
	// Used only when HTTPClient is nil.
	InsecureSkipVerify bool
	CACertPEM          string

	MaxConcurrency int // concurrent requests of this client; default 8
	UserAgent      string
	Logger         retryablehttp.LeveledLogger // nil: silent

	MaxRetries int           // retries after the first attempt; 0 → 4, negative → none
	MinBackoff time.Duration // default 500ms
	MaxBackoff time.Duration // default 10s; also caps a Retry-After
	Timeout    time.Duration // per attempt, including reading the body; default 30s
}

// Item is one Harbor JSON object as decoded by encoding/json (numbers are float64).
type Item = map[string]any

// Client talks to one Harbor. It is safe for concurrent use.
type Client struct {
	base      string // scheme://host[/prefix]/api/v2.0, escaped
	baseURL   *url.URL
	username  string
	password  string
	userAgent string
	rc        *retryablehttp.Client
	timeout   time.Duration
	sem       chan struct{}
	maxConc   int

	statsMu sync.Mutex
	stats   map[string]int
}

// New validates cfg and returns a Client. It makes no request; call Verify for that.
func New(cfg Config) (*Client, error) {
	base, err := parseBaseURL(cfg.URL)
	if err != nil {
		return nil, err
	}
	if cfg.Username == "" {
		return nil, errors.New("harbor_username (HARBOR_USERNAME) is empty: Harbor would treat every request as anonymous")
	}
	if cfg.Password == "" {
		return nil, errors.New("harbor_password (HARBOR_PASSWORD) is empty")
	}
	hc, err := buildHTTPClient(cfg)
	if err != nil {
		return nil, err
	}
	c := &Client{
		base:      strings.TrimSuffix(base.String(), "/"),
		baseURL:   base,
		username:  cfg.Username,
		password:  cfg.Password,
		userAgent: cfg.UserAgent,
		maxConc:   cfg.MaxConcurrency,
		stats:     map[string]int{},
		timeout:   hc.Timeout,
	}
	if c.maxConc <= 0 {
		c.maxConc = defaultConcurrency
	}
	if c.userAgent == "" {
		c.userAgent = "harborport"
	}
	c.sem = make(chan struct{}, c.maxConc)
	c.rc = newRetryClient(cfg, hc, c.countAttempt)
	return c, nil
}

// parseBaseURL validates harbor_url and returns it with "/api/v2.0" appended.
func parseBaseURL(raw string) (*url.URL, error) {
	bad := func(why string) error {
		return fmt.Errorf("harbor_url %q is invalid: %s (expected e.g. https://harbor.example.com)", raw, why)
	}
	if strings.TrimSpace(raw) == "" {
		return nil, errors.New("harbor_url (HARBOR_URL) is empty (expected e.g. https://harbor.example.com)")
	}
	u, err := url.Parse(strings.TrimSpace(raw))
	switch {
	case err != nil:
		return nil, bad(err.Error())
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, bad("the scheme must be http or https")
	case u.Host == "" || u.Hostname() == "":
		return nil, bad("it has no host")
	case u.User != nil:
		return nil, bad("credentials belong in harbor_username/harbor_password, not in the URL")
	case u.RawQuery != "" || u.ForceQuery:
		return nil, bad("it must not have a query string")
	case u.Fragment != "":
		return nil, bad("it must not have a fragment")
	}
	p := strings.TrimRight(u.EscapedPath(), "/")
	p = strings.TrimSuffix(p, apiPrefix)
	p = strings.TrimRight(p, "/")
	out := &url.URL{Scheme: u.Scheme, Host: u.Host}
	full := out.String() + p + apiPrefix
	return url.Parse(full)
}

// defaultTransport mirrors net/http's DefaultTransport settings.
func defaultTransport() *http.Transport {
	return &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: 1 * time.Second,
	}
}

func buildHTTPClient(cfg Config) (*http.Client, error) {
	var hc http.Client
	if cfg.HTTPClient != nil {
		if cfg.HTTPClient.Jar != nil {
			return nil, errors.New("harbor: the HTTP client has a cookie jar; Harbor's sid cookie would turn on CSRF checks and fail every write with 403 (use a client without Jar)")
		}
		hc = *cfg.HTTPClient
	} else {
		// Start from Go's default transport (proxy from environment, dial and
		// TLS handshake timeouts, HTTP/2). A program may have replaced
		// http.DefaultTransport with another RoundTripper: then build the
		// equivalent transport from scratch rather than panic.
		var tr *http.Transport
		if dt, ok := http.DefaultTransport.(*http.Transport); ok {
			tr = dt.Clone()
		} else {
			tr = defaultTransport()
		}
		tlsCfg := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: cfg.InsecureSkipVerify} //nolint:gosec // opt-in harbor_insecure
		if strings.TrimSpace(cfg.CACertPEM) != "" {
			pool, err := x509.SystemCertPool()
			if err != nil || pool == nil {
				pool = x509.NewCertPool()
			}
			if !pool.AppendCertsFromPEM([]byte(cfg.CACertPEM)) {
				return nil, ErrInvalidCACert
			}
			tlsCfg.RootCAs = pool
		}
		tr.TLSClientConfig = tlsCfg
		conc := cfg.MaxConcurrency
		if conc <= 0 {
			conc = defaultConcurrency
		}
		tr.MaxIdleConnsPerHost = conc
		hc.Transport = tr
	}
	hc.Timeout = cfg.Timeout
	if hc.Timeout <= 0 {
		hc.Timeout = defaultTimeout
	}
	// Redirects are answered, not followed: Go would turn a redirected POST into a GET and drop
	// Authorization across hosts. statusHint tells the user to fix harbor_url.
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &hc, nil
}

// call is one logical API request.
type call struct {
	method string
	route  string // template for Stats, e.g. "/projects/{project}/repositories"
	path   string // escaped, relative to /api/v2.0
	query  url.Values
	header http.Header
	body   any
	ok     []int                 // accepted statuses; default 200
	keep   func(key string) bool // list items: decode only these top-level keys (nil: all)
}

type response struct {
	status int
	header http.Header
	body   []byte
}

// do runs one logical request (with retries) and returns its 2xx answer, or an *APIError /
// *TransportError / context error.
func (c *Client) do(ctx context.Context, cl call) (*response, error) {
	full := c.base + cl.path
	if len(cl.query) > 0 {
		full += "?" + cl.query.Encode()
	}
	var body any
	if cl.body != nil {
		b, err := json.Marshal(cl.body)
		if err != nil {
			return nil, fmt.Errorf("harbor: encode %s %s body: %w", cl.method, cl.route, err)
		}
		body = b
	}
	meta := &reqMeta{method: cl.method, route: cl.route}
	req, err := retryablehttp.NewRequestWithContext(withMeta(ctx, meta), cl.method, full, body)
	if err != nil {
		return nil, fmt.Errorf("harbor: build request %s %s: %w", cl.method, full, err)
	}
	reqID := newRequestID()
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.userAgent)
	req.Header.Set("X-Request-Id", reqID)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, vs := range cl.header {
		req.Header[k] = vs
	}
	req.SetBasicAuth(c.username, c.password)
	// Read the body inside the retry loop so a reset mid-body is retried like any transport error.
	req.SetResponseHandler(bufferBody)

	select {
	case c.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	resp, err := c.rc.Do(req)
	<-c.sem
	attempts := int(meta.attempts.Load())
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil && errors.Is(err, ctxErr) {
			return nil, fmt.Errorf("Harbor API %s %s: %w", cl.method, req.URL.EscapedPath(), ctxErr)
		}
		return nil, &TransportError{Method: cl.method, URL: urlNoQuery(req.URL), Attempts: attempts, Hint: transportHint(req.URL, err, c.timeout), Err: unwrapRetryErr(err)}
	}
	// The body is read in full (or abandoned on error) before Close, so a
	// close error cannot change the outcome.
	defer func() { _ = resp.Body.Close() }()
	var data []byte
	if b, ok := resp.Body.(*bufferedBody); ok {
		data = b.data // read once already, by bufferBody
	} else {
		data, err = readBody(resp.Body, resp.ContentLength, maxBody+1)
	}
	if err != nil {
		return nil, &TransportError{Method: cl.method, URL: urlNoQuery(req.URL), Attempts: attempts, Hint: transportHint(req.URL, err, c.timeout), Err: err}
	}
	if len(data) > maxBody {
		return nil, fmt.Errorf("Harbor API %s %s: response larger than %d bytes", cl.method, req.URL.EscapedPath(), maxBody)
	}
	ok := cl.ok
	if len(ok) == 0 {
		ok = []int{http.StatusOK}
	}
	for _, s := range ok {
		if resp.StatusCode == s {
			return &response{status: resp.StatusCode, header: resp.Header, body: data}, nil
		}
	}
	rid := resp.Header.Get("X-Request-Id")
	if rid == "" {
		rid = reqID
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil, fmt.Errorf("Harbor API %s %s: unexpected status %d (want %v) (request id %s)", cl.method, req.URL.EscapedPath(), resp.StatusCode, ok, rid)
	}
	return nil, newAPIError(cl.method, req.URL.EscapedPath(), resp.StatusCode, rid, data, attempts)
}

// bufferBody reads the whole body (bounded) so read errors surface inside the retry loop.
func bufferBody(resp *http.Response) error {
	data, err := readBody(resp.Body, resp.ContentLength, maxBody+1)
	_ = resp.Body.Close() // after reading: the outcome is data/err, a close error adds nothing
	if err != nil {
		resp.Body = http.NoBody
		return fmt.Errorf("reading response body: %w", err)
	}
	resp.Body = &bufferedBody{Reader: bytes.NewReader(data), data: data}
	return nil
}

// bufferedBody is a body bufferBody read; do takes its bytes without a
// second copy.
type bufferedBody struct {
	*bytes.Reader
	data []byte
}

func (*bufferedBody) Close() error { return nil }

// readBody reads at most limit bytes into one buffer sized by
// Content-Length when the server sent it (io.ReadAll doubles from 512
// bytes: a plan reads thousands of listings of tens of kilobytes each).
func readBody(r io.Reader, contentLength, limit int64) ([]byte, error) {
	var buf bytes.Buffer
	if contentLength > 0 && contentLength < limit {
		buf.Grow(int(contentLength) + bytes.MinRead)
	}
	_, err := buf.ReadFrom(io.LimitReader(r, limit))
	return buf.Bytes(), err
}

// unwrapRetryErr drops retryablehttp's "giving up after N attempt(s)" wrapper (Attempts says it)
// and net/url's wrapper (TransportError names method and URL).
func unwrapRetryErr(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// getJSON GETs and decodes a JSON body into out.
func (c *Client) getJSON(ctx context.Context, cl call, out any) (*response, error) {
	cl.method = http.MethodGet
	res, err := c.do(ctx, cl)
	if err != nil {
		return nil, err
	}
	if err := decodeJSON(res, out, cl.keep); err != nil {
		return nil, fmt.Errorf("Harbor API GET %s%s: %w", apiPrefix, cl.path, err)
	}
	return res, nil
}

func decodeJSON(res *response, out any, keep func(string) bool) error {
	var err error
	switch o := out.(type) {
	case *[]Item:
		// Listings and items are decoded without reflection (jsonvalue): the
		// same values as encoding/json, at about half the CPU, which is what a
		// plan spends most of its time on.
		*o, err = jsonvalue.DecodeList(res.body, keep) // Item is map[string]any
	case *Item:
		var v any
		if v, err = jsonvalue.Decode(res.body); err == nil {
			var ok bool
			if *o, ok = v.(map[string]any); !ok && v != nil {
				err = fmt.Errorf("expected a JSON object, got %s", jsonKind(v))
			}
		}
	default:
		err = json.Unmarshal(res.body, out)
	}
	if err != nil {
		ct := res.header.Get("Content-Type")
		return fmt.Errorf("response is not the expected JSON (Content-Type %q, %v; body starts %q): check that harbor_url points at Harbor", ct, err, excerpt(res.body, 80))
	}
	return nil
}

func jsonKind(v any) string {
	switch v.(type) {
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	case string:
		return "a string"
	case float64:
		return "a number"
	case bool:
		return "a boolean"
	}
	return "null"
}

// Stats returns how many HTTP attempts were made per "METHOD route" (retries included).
func (c *Client) Stats() map[string]int {
	c.statsMu.Lock()
	defer c.statsMu.Unlock()
	out := make(map[string]int, len(c.stats))
	for k, v := range c.stats {
		out[k] = v
	}
	return out
}

func (c *Client) countAttempt(m *reqMeta) {
	c.statsMu.Lock()
	c.stats[m.method+" "+m.route]++
	c.statsMu.Unlock()
}

func urlNoQuery(u *url.URL) string { return u.Scheme + "://" + u.Host + u.EscapedPath() }

// BaseURL returns the API base, e.g. https://harbor.example.com/api/v2.0.
func (c *Client) BaseURL() string { return c.base }

func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
