package portsim

import (
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strings"
	"time"
)

type token struct {
	clientID string
	expires  time.Time
	revoked  bool
}

type authState struct {
	ttl     time.Duration
	tokens  map[string]*token
	current string // the one active token for the credential pair
	seq     int
}

// SetTokenTTL sets the lifetime of tokens issued from now on.
func (s *Server) SetTokenTTL(d time.Duration) {
	s.ctl.Lock()
	defer s.ctl.Unlock()
	s.auth.ttl = d
}

// ExpireTokens makes every issued token answer 401; the next
// POST /v1/auth/access_token issues a new one.
func (s *Server) ExpireTokens() {
	s.ctl.Lock()
	defer s.ctl.Unlock()
	for _, t := range s.auth.tokens {
		t.revoked = true
	}
	s.auth.current = ""
}

// postAccessToken: POST /v1/auth/access_token (internal/port/API-NOTES.md
// "Authentication and token lifetime"). Body {clientId, clientSecret}, both
// required, additionalProperties false. "Only one token is active per
// credential set at a time: re-requesting before expiry returns the same token
// with its remaining lifetime".
func (s *Server) postAccessToken(c *call) (int, any, error) {
	body, err := c.object()
	if err != nil {
		return 0, nil, err
	}
	if err := onlyKeys("body", body, "clientId", "clientSecret"); err != nil {
		return 0, nil, err
	}
	id, err := requiredString("body", body, "clientId")
	if err != nil {
		return 0, nil, err
	}
	secret, err := requiredString("body", body, "clientSecret")
	if err != nil {
		return 0, nil, err
	}
	idOK := subtle.ConstantTimeCompare([]byte(id), []byte(s.opts.ClientID)) == 1
	secretOK := subtle.ConstantTimeCompare([]byte(secret), []byte(s.opts.ClientSecret)) == 1
	if !idOK || !secretOK || s.opts.ClientID == "" {
		// Never echo the credentials.
		return 0, nil, unauthorized("The client ID or client secret is wrong; check the credentials in Port (… → Credentials)")
	}

	s.ctl.Lock()
	defer s.ctl.Unlock()
	if s.auth.tokens == nil {
		s.auth.tokens = map[string]*token{}
	}
	if cur := s.auth.tokens[s.auth.current]; cur != nil && !cur.revoked && c.now.Before(cur.expires) {
		return http.StatusOK, tokenBody(s.auth.current, cur.expires.Sub(c.now)), nil
	}
	s.auth.seq++
	exp := c.now.Add(s.auth.ttl)
	jwt := fakeJWT(c.now, exp, s.auth.seq, s.rng.Uint64())
	s.auth.tokens[jwt] = &token{clientID: id, expires: exp}
	s.auth.current = jwt
	return http.StatusOK, tokenBody(jwt, s.auth.ttl), nil
}

func tokenBody(tok string, left time.Duration) map[string]any {
	// expiresIn is in seconds (spec); round down so clients never overestimate.
	return okBody("accessToken", tok, "expiresIn", math.Floor(left.Seconds()), "tokenType", "Bearer")
}

// fakeJWT builds an unsigned-looking JWT whose payload carries isMachine like
// Port's (internal/port/API-NOTES.md "Authentication and token lifetime");
// clients must treat it as opaque.
func fakeJWT(iat, exp time.Time, seq int, nonce uint64) string {
	enc := base64.RawURLEncoding
	header, _ := json.Marshal(map[string]any{"alg": "HS256", "typ": "JWT"})
	payload, _ := json.Marshal(map[string]any{"isMachine": true, "sub": fmt.Sprintf("portsim-%d", seq),
		"iat": iat.Unix(), "exp": exp.Unix(), "jti": fmt.Sprintf("%016x", nonce)})
	return enc.EncodeToString(header) + "." + enc.EncodeToString(payload) + "." + enc.EncodeToString([]byte(fmt.Sprintf("sig-%d-%x", seq, nonce)))
}

// authenticate checks "Authorization: Bearer <token>" and returns the
// token's client id.
func (s *Server) authenticate(r *http.Request, now time.Time) (string, *apiError) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return "", unauthorized("Missing Authorization header; send \"Authorization: Bearer <accessToken>\" from POST /v1/auth/access_token")
	}
	scheme, tok, found := strings.Cut(h, " ")
	if !found || !strings.EqualFold(scheme, "Bearer") || tok == "" {
		return "", unauthorized("Authorization header must be \"Bearer <accessToken>\"")
	}
	s.ctl.Lock()
	defer s.ctl.Unlock()
	t := s.auth.tokens[tok]
	switch {
	case t == nil:
		return "", unauthorized("Invalid access token")
	case t.revoked || !now.Before(t.expires):
		return "", unauthorized("Access token expired; request a new one from POST /v1/auth/access_token")
	}
	return t.clientID, nil
}
