package harbor

import (
	"context"
	"fmt"
)

// Info is what Verify learned about Harbor.
type Info struct {
	Version            string // e.g. "v2.15.2-080b0220"
	NotificationEnable bool   // false: Harbor sends no webhooks at all (internal/harbor/API-NOTES.md "Credential check")
	Raw                map[string]any
}

// SystemInfo returns GET /systeminfo as decoded JSON.
func (c *Client) SystemInfo(ctx context.Context) (map[string]any, error) {
	var out map[string]any
	if _, err := c.getJSON(ctx, call{route: "/systeminfo", path: "/systeminfo"}, &out); err != nil {
		return nil, err
	}
	if out == nil {
		return nil, fmt.Errorf("Harbor API GET /systeminfo: empty answer: check that harbor_url points at Harbor")
	}
	return out, nil
}

// Verify checks URL, TLS and credentials with one GET /systeminfo. Harbor serves bad credentials
// as anonymous instead of failing, and only authenticated callers (users and robots) get
// harbor_version (internal/harbor/API-NOTES.md "Credential check"); its absence therefore means
// the credentials were not accepted, reported as ErrBadCredentials.
func (c *Client) Verify(ctx context.Context) (*Info, error) {
	raw, err := c.SystemInfo(ctx)
	if err != nil {
		return nil, err
	}
	v, _ := raw["harbor_version"].(string)
	if v == "" {
		if _, ok := raw["auth_mode"]; !ok {
			return nil, fmt.Errorf("Harbor API GET %s/systeminfo: the answer has neither harbor_version nor auth_mode: check that harbor_url points at Harbor", c.base)
		}
		return nil, fmt.Errorf("%w (checked with GET %s/systeminfo as %q)", ErrBadCredentials, c.base, c.username)
	}
	ne, _ := raw["notification_enable"].(bool)
	return &Info{Version: v, NotificationEnable: ne, Raw: raw}, nil
}
