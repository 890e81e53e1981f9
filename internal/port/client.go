// Package port is harborport's client for Port's REST API
// (internal/port/API-NOTES.md): token cache and refresh, retries and rate
// limits, blueprints, bulk entity writes, paginated search and migrations.
package port

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-retryablehttp"
)

// Config configures a Client. Zero values take the documented defaults.
type Config struct {
	BaseURL                string // e.g. https://api.getport.io; "/v1" is appended; a trailing slash or "/v1" is tolerated
	ClientID, ClientSecret string
	UserAgent              string       // "harborport/<version>"; default "harborport"
	HTTPClient             *http.Client // optional (TLS/proxy); its Timeout defaults to 60s; it is copied, not modified

	// Logger receives retry and throttle messages. Never given secrets, tokens or bodies.
	Logger retryablehttp.LeveledLogger

	MaxRetries int           // retries after the first attempt; default 8; negative = none
	MinBackoff time.Duration // default 300ms (Ocean's base_delay, internal/port/API-NOTES.md "Rate limits")
	MaxBackoff time.Duration // cap of the exponential backoff; default 30s
	// MaxWait caps server-directed waits (Retry-After, x-ratelimit-reset);
	// default 5m (Ocean's max_backoff_wait).
	MaxWait time.Duration

	Concurrency  int           // concurrent bulk requests per call; default 4
	PollInterval time.Duration // migration polling; default 2s

	Clock func() time.Time // default time.Now; used for token expiry and rate-limit resets
}

// Client talks to one Port organization. It is safe for concurrent use.
type Client struct {
	base         string // scheme://host[/prefix]/v1, no trailing slash
	clientID     string
	clientSecret string
	userAgent    string
	log          retryablehttp.LeveledLogger
	http         *retryablehttp.Client
	now          func() time.Time
	sleep        func(context.Context, time.Duration) error
	maxWait      time.Duration
	maxRetries   int // failed attempts retried per request (429s that name a wait aside)
	concurrency  int
	pollInterval time.Duration

	auth     tokenCache
	throttle throttle
	pace     *pacer

	statsMu sync.Mutex
	stats   map[string]int
}

const (
	defaultTimeout = 60 * time.Second
	authPath       = "/v1/auth/access_token"
)

// New validates cfg and returns a Client. It does not contact Port; call
// Authenticate to check the credentials.
func New(cfg Config) (*Client, error) {
	base, err := normalizeBaseURL(cfg.BaseURL)
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(cfg.ClientID) == "" || cfg.ClientSecret == "" {
		return nil, errors.New("Port client ID and client secret are required: set port_client_id and port_client_secret (or PORT_CLIENT_ID and PORT_CLIENT_SECRET); create them in Port under ... → Credentials")
	}
	c := &Client{
		base:         base,
		clientID:     cfg.ClientID,
		clientSecret: cfg.ClientSecret,
		userAgent:    cfg.UserAgent,
		log:          cfg.Logger,
		now:          cfg.Clock,
		sleep:        sleepCtx,
		pace:         newPacer(),
		maxWait:      cfg.MaxWait,
		concurrency:  cfg.Concurrency,
		pollInterval: cfg.PollInterval,
		stats:        map[string]int{},
	}
	if c.userAgent == "" {
		c.userAgent = "harborport"
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.maxWait <= 0 {
		c.maxWait = 5 * time.Minute
	}
	if c.concurrency <= 0 {
		c.concurrency = 4
	}
	if c.pollInterval <= 0 {
		c.pollInterval = 2 * time.Second
	}

	hc := &http.Client{}
	if cfg.HTTPClient != nil {
		*hc = *cfg.HTTPClient // a shallow copy: the caller's client is left untouched
	}
	if hc.Timeout == 0 {
		hc.Timeout = defaultTimeout
	}
	inner := hc.Transport
	if inner == nil {
		inner = http.DefaultTransport
	}
	hc.Transport = &transport{c: c, next: inner}

	rc := &retryablehttp.Client{
		HTTPClient:   hc,
		RetryWaitMin: cfg.MinBackoff,
		RetryWaitMax: cfg.MaxBackoff,
		RetryMax:     cfg.MaxRetries,
		CheckRetry:   c.checkRetry,
		Backoff:      c.backoff,
		ErrorHandler: keepLastResponse,
		PrepareRetry: c.prepareRetry,
	}
	if cfg.Logger != nil {
		rc.Logger = cfg.Logger
	}
	if rc.RetryWaitMin <= 0 {
		rc.RetryWaitMin = 300 * time.Millisecond
	}
	if rc.RetryWaitMax <= 0 {
		rc.RetryWaitMax = 30 * time.Second
	}
	switch {
	case rc.RetryMax == 0:
		rc.RetryMax = 8
	case rc.RetryMax < 0:
		rc.RetryMax = 0
	}
	// checkRetry enforces both per-request budgets; retryablehttp's bound is
	// their sum.
	c.maxRetries = rc.RetryMax
	rc.RetryMax += throttledRetries
	c.http = rc
	return c, nil
}

func normalizeBaseURL(raw string) (string, error) {
	const help = "set port_base_url (PORT_BASE_URL) to e.g. https://api.port.io (EU) or https://api.us.port.io (US)"
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "", fmt.Errorf("Port base URL is empty; %s", help)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("Port base URL %q is not a valid URL (%v); %s", raw, err, help)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("Port base URL %q must be an absolute http:// or https:// URL; %s", raw, help)
	}
	if u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return "", fmt.Errorf("Port base URL %q must not contain a query or fragment; %s", raw, help)
	}
	if u.User != nil {
		return "", fmt.Errorf("Port base URL must not contain credentials (use port_client_id and port_client_secret); %s", help)
	}
	p := strings.TrimRight(u.EscapedPath(), "/")
	p = strings.TrimSuffix(p, "/v1")
	return u.Scheme + "://" + u.Host + p + "/v1", nil
}

// Stats returns the number of HTTP requests sent (retries included) per
// "METHOD route", e.g. "POST /v1/blueprints/{blueprint}/entities/bulk".
func (c *Client) Stats() map[string]int {
	c.statsMu.Lock()
	defer c.statsMu.Unlock()
	out := make(map[string]int, len(c.stats))
	for k, v := range c.stats {
		out[k] = v
	}
	return out
}

// request describes one logical API call.
type request struct {
	method string
	route  string // template for Stats, e.g. /v1/blueprints/{blueprint}
	path   string // escaped path below /v1, e.g. /blueprints/svc
	query  url.Values
	body   any // marshalled to JSON unless []byte
	noAuth bool
}

// response is a completed call: status, trace id and the raw body.
type response struct {
	status   int
	traceID  string
	body     []byte
	attempts int
}

type ctxKey int

const (
	routeKey ctxKey = iota
	attemptsKey
	budgetKey
	slotKey
)

// do sends r with retries, authenticates it, refreshes the token once on a
// 401, and returns the response for any 2xx. Other statuses become *APIError.
func (c *Client) do(ctx context.Context, r request) (*response, error) {
	var body []byte
	switch b := r.body.(type) {
	case nil:
	case []byte:
		body = b
	default:
		var err error
		if body, err = json.Marshal(b); err != nil {
			return nil, fmt.Errorf("Port API %s /v1%s: encoding request body: %w", r.method, r.path, err)
		}
	}
	var tok string
	if !r.noAuth {
		var err error
		if tok, err = c.token(ctx, ""); err != nil {
			return nil, err
		}
	}
	resp, err := c.send(ctx, r, body, tok)
	if err == nil && resp.status == http.StatusUnauthorized && !r.noAuth {
		// Port may revoke a token early (a newer one was issued, or the
		// credentials rotated): refresh once and replay, as Ocean's
		// retry_transport does (internal/port/API-NOTES.md
		// "Authentication and token lifetime"). A second 401 is final.
		if tok, err = c.token(ctx, tok); err != nil {
			return nil, err
		}
		resp, err = c.send(ctx, r, body, tok)
	}
	if err != nil {
		return nil, err
	}
	if resp.status < 200 || resp.status > 299 {
		ae := parseAPIError(r.method, "/v1"+r.path, resp.status, resp.traceID, resp.body, c.redact)
		ae.Attempts = resp.attempts
		return resp, ae
	}
	return resp, nil
}

// send performs one retried exchange.
func (c *Client) send(ctx context.Context, r request, body []byte, tok string) (*response, error) {
	u := c.base + r.path
	if len(r.query) > 0 {
		u += "?" + r.query.Encode()
	}
	attempts := new(atomic.Int32)
	ctx = context.WithValue(ctx, routeKey, r.method+" /v1"+r.route)
	ctx = context.WithValue(ctx, attemptsKey, attempts)
	ctx = context.WithValue(ctx, budgetKey, &retryBudget{})
	ctx = context.WithValue(ctx, slotKey, &paceSlot{})
	defer c.paceRelease(ctx, nil) // a slot no attempt used
	var raw any
	if body != nil {
		raw = body
	}
	req, err := retryablehttp.NewRequestWithContext(ctx, r.method, u, raw)
	if err != nil {
		return nil, fmt.Errorf("Port API %s /v1%s: building request: %w", r.method, r.path, err)
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if tok != "" {
		req.Header.Set("Authorization", tok)
	}
	var hr *http.Response
	if err = c.waitThrottle(ctx); err == nil {
		if err = c.paceAcquire(ctx); err == nil {
			hr, err = c.http.Do(req)
		}
	}
	n := int(attempts.Load())
	if err != nil {
		// Transport errors carry the URL, never the body or headers, so they
		// cannot contain the secret or the token.
		inner := unwrapURLError(err)
		if ctx.Err() != nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return nil, fmt.Errorf("Port API %s /v1%s: %w", r.method, r.path, inner)
		}
		return nil, fmt.Errorf("Port API %s /v1%s: %w (after %d attempts); check port_base_url and network access to Port",
			r.method, r.path, inner, n)
	}
	// The body is read in full before Close; a close error cannot change the outcome.
	defer func() { _ = hr.Body.Close() }()
	// One buffer sized by Content-Length (io.ReadAll doubles from 512 bytes;
	// a search page is hundreds of kilobytes).
	var buf bytes.Buffer
	if hr.ContentLength > 0 && hr.ContentLength < 64<<20 {
		buf.Grow(int(hr.ContentLength) + bytes.MinRead)
	}
	_, err = buf.ReadFrom(hr.Body)
	data := buf.Bytes()
	if err != nil {
		return nil, fmt.Errorf("Port API %s /v1%s: reading response: %w", r.method, r.path, err)
	}
	return &response{status: hr.StatusCode, traceID: hr.Header.Get("X-Trace-Id"), body: data, attempts: n}, nil
}

func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// prepareRetry runs before each retry: it waits out a throttle recorded by
// the failed attempt (or any concurrent one) and re-reads the token, since a
// long retry sequence may outlive the token it started with.
func (c *Client) prepareRetry(req *http.Request) error {
	if err := c.waitThrottle(req.Context()); err != nil {
		return err
	}
	if err := c.paceAcquire(req.Context()); err != nil {
		return err
	}
	if req.Header.Get("Authorization") == "" {
		return nil
	}
	tok, err := c.token(req.Context(), "")
	if err != nil {
		return err
	}
	req.Header = req.Header.Clone()
	req.Header.Set("Authorization", tok)
	return nil
}

// keepLastResponse hands the last response (e.g. the final 503) to do, which
// turns it into an APIError carrying Port's message; transport errors pass.
func keepLastResponse(resp *http.Response, err error, _ int) (*http.Response, error) {
	if err != nil {
		if resp != nil {
			_ = resp.Body.Close() // discarded response; err is what is reported
		}
		return nil, err
	}
	return resp, nil
}

// redact removes the client secret and any cached token from text that came
// from the network before it goes into an error.
func (c *Client) redact(s string) string {
	if c.clientSecret != "" {
		s = strings.ReplaceAll(s, c.clientSecret, "[REDACTED]")
	}
	if tok := c.auth.current(); tok != "" {
		s = strings.ReplaceAll(s, tok, "[REDACTED]")
	}
	return s
}

// transport wraps the user's RoundTripper: User-Agent, request counting and
// rate-limit header observation, for every attempt. (Throttle waits happen
// before an attempt starts, in send and prepareRetry, so they never eat into
// the per-attempt http.Client timeout.)
type transport struct {
	c    *Client
	next http.RoundTripper
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	r2 := req.Clone(ctx)
	r2.Header.Set("User-Agent", t.c.userAgent)
	if n, ok := ctx.Value(attemptsKey).(*atomic.Int32); ok {
		n.Add(1)
	}
	route, _ := ctx.Value(routeKey).(string)
	t.c.statsMu.Lock()
	t.c.stats[route]++
	t.c.statsMu.Unlock()

	resp, err := t.next.RoundTrip(r2)
	var h http.Header
	if err == nil {
		h = resp.Header
	}
	t.c.paceRelease(ctx, h)
	if err == nil {
		if until, ok := t.c.throttle.observe(resp, t.c.now(), t.c.pace.pacing()); ok && t.c.log != nil {
			t.c.log.Debug("Port asked to hold off", "status", resp.StatusCode, "until", until.UTC().Format(time.RFC3339))
		}
	}
	return resp, err
}

// decode unmarshals a 2xx body, naming the route on failure.
func decode(r request, resp *response, out any) error {
	if err := json.Unmarshal(resp.body, out); err != nil {
		return fmt.Errorf("Port API %s /v1%s: %d response is not the expected JSON (%v): %s",
			r.method, r.path, resp.status, err, snippet(resp.body))
	}
	return nil
}

// seg escapes one path segment. Identifiers may contain "/" and "+"
// (internal/port/API-NOTES.md "Entity identifiers"); both are escaped so the
// server sees one segment with the literal characters (Ocean uses quote_plus,
// internal/port/API-NOTES.md "Entity identifiers").
func seg(s string) string {
	return strings.ReplaceAll(url.PathEscape(s), "+", "%2B")
}
