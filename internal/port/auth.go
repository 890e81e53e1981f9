package port

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"time"
)

// tokenCache holds the access token and the one in-flight fetch, so that
// concurrent callers share a single refresh instead of stampeding the auth
// route (which has the smallest rate limit, internal/port/API-NOTES.md
// "Rate limits").
type tokenCache struct {
	mu        sync.Mutex
	raw       string // access token, for redaction only
	header    string // "Bearer <token>"
	expiresAt time.Time
	refreshAt time.Time
	flight    *tokenFlight
}

type tokenFlight struct {
	done    chan struct{}
	header  string
	err     error
	waiters int
	cancel  context.CancelFunc
}

func (a *tokenCache) current() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.raw
}

// Authenticate fetches a token unless a fresh one is cached. Bad credentials
// yield an *APIError with Status 401 (IsUnauthorized).
func (c *Client) Authenticate(ctx context.Context) error {
	_, err := c.token(ctx, "")
	return err
}

// token returns the Authorization header value. stale, when non-empty, is a
// header Port just rejected with 401: it is never returned again from cache.
func (c *Client) token(ctx context.Context, stale string) (string, error) {
	a := &c.auth
	a.mu.Lock()
	now := c.now()
	usable := a.header != "" && a.header != stale && now.Before(a.expiresAt)
	if usable && now.Before(a.refreshAt) {
		h := a.header
		a.mu.Unlock()
		return h, nil
	}
	f := a.flight
	if f != nil && usable {
		// Someone is already refreshing proactively; the current token is
		// still valid, so do not wait for them.
		h := a.header
		a.mu.Unlock()
		return h, nil
	}
	if f == nil {
		f = c.startFetch(ctx)
	}
	f.waiters++
	a.mu.Unlock()

	select {
	case <-f.done:
		return f.header, f.err
	case <-ctx.Done():
		a.mu.Lock()
		f.waiters--
		if f.waiters == 0 {
			f.cancel() // nobody wants the token any more
		}
		a.mu.Unlock()
		return "", fmt.Errorf("Port API POST %s: %w", authPath, ctx.Err())
	}
}

// startFetch launches the shared fetch; a.mu must be held. The fetch runs on
// a context detached from the first caller, so one caller giving up does not
// fail the others; it is cancelled when every waiter has left.
func (c *Client) startFetch(ctx context.Context) *tokenFlight {
	fctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	f := &tokenFlight{done: make(chan struct{}), cancel: cancel}
	c.auth.flight = f
	go func() {
		defer cancel()
		start := c.now()
		raw, header, life, err := c.fetchToken(fctx)
		a := &c.auth
		a.mu.Lock()
		defer a.mu.Unlock()
		if err == nil {
			expires := start.Add(life)
			refresh := expires.Add(-refreshLead(life))
			if raw == a.raw {
				// Port hands out one token per credential set and re-issues
				// it with its remaining lifetime until it expires
				// (internal/port/API-NOTES.md
				// "Authentication and token lifetime"), so refreshing earlier
				// cannot help: keep it to the end.
				refresh = expires
			}
			if c.log != nil {
				c.log.Debug("fetched Port access token", "expires_in", life.String())
			}
			a.raw, a.header, a.expiresAt, a.refreshAt = raw, header, expires, refresh
		}
		f.header, f.err = header, err
		a.flight = nil
		close(f.done)
	}()
	return f
}

// refreshLead is how long before expiry a token is refreshed: a fifth of
// its life (refresh at 80%), but at least 60s when the life allows it.
func refreshLead(life time.Duration) time.Duration {
	lead := life / 5
	if lead < time.Minute {
		lead = min(time.Minute, life/2)
	}
	return lead
}

func (c *Client) fetchToken(ctx context.Context) (raw, header string, life time.Duration, err error) {
	body := map[string]string{"clientId": c.clientID, "clientSecret": c.clientSecret}
	r := request{method: http.MethodPost, route: "/auth/access_token", path: "/auth/access_token", body: body, noAuth: true}
	resp, err := c.do(ctx, r)
	if err != nil {
		return "", "", 0, err
	}
	var out struct {
		AccessToken string  `json:"accessToken"`
		ExpiresIn   float64 `json:"expiresIn"`
		TokenType   string  `json:"tokenType"`
	}
	// No snippet of the body on failure: it may contain a token.
	if err := json.Unmarshal(resp.body, &out); err != nil || out.AccessToken == "" || out.ExpiresIn <= 0 {
		return "", "", 0, &APIError{Status: resp.status, Method: http.MethodPost, Path: authPath, TraceID: resp.traceID,
			Message: "token response lacks accessToken or a positive expiresIn"}
	}
	typ := out.TokenType
	if typ == "" {
		typ = "Bearer"
	}
	return out.AccessToken, typ + " " + out.AccessToken, time.Duration(out.ExpiresIn * float64(time.Second)), nil
}
