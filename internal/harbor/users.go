package harbor

import (
	"context"
	"errors"
	"net/url"
)

// usersHint: GET /users needs system user:list — a sysadmin user, or a system robot holding
// user:list, which Harbor allows only from v2.12 (internal/harbor/API-NOTES.md "Users").
const usersHint = "listing Harbor users needs the system permission user:list: use a system administrator, or a system robot account with user:list (Harbor ≥ 2.12), or drop the `user` kind from the mapping"

// ListUsers lists all users (q: an optional q expression, e.g. BuildQ(QLike("username", "a"))).
func (c *Client) ListUsers(ctx context.Context, q string) ([]Item, error) {
	v := url.Values{}
	if q != "" {
		enc, err := prepareQ(q)
		if err != nil {
			return nil, err
		}
		v.Set("q", enc)
	}
	items, err := listAll(ctx, c, call{route: "/users", path: "/users", query: v}, idKey("user_id"))
	var ae *APIError
	if errors.As(err, &ae) {
		switch ae.Status {
		case 403: // non-admins get 403 with their username as the message (handler/base.go RequireSystemAccess)
			ae.Hint = usersHint
		case 401: // anonymous: wrong credentials, or an account Harbor did not accept
			ae.Hint += "; if the credentials are right: " + usersHint
		}
	}
	return items, err
}

// ProbeUsers reads the first user (GET /users?page_size=1): nil when the account may list users,
// the *APIError otherwise (403 without the system permission user:list). One request, whatever
// the number of users.
func (c *Client) ProbeUsers(ctx context.Context) error {
	var out []Item
	_, err := c.getJSON(ctx, call{route: "/users", path: "/users", query: url.Values{"page": {"1"}, "page_size": {"1"}}}, &out)
	return err
}
