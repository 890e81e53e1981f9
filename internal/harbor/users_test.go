package harbor

import (
	"net/http"
	"strings"
	"testing"
)

func TestListUsers(t *testing.T) {
	s := newStub(t)
	s.handle("GET", "/api/v2.0/users", pageOf(as[[]any](t, loadJSON(t, "api-users-list.json"))))
	c := newTestClient(t, fastConfig(s.srv.URL))
	got, err := c.ListUsers(ctxT(t), "")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) == 0 || got[0]["username"] == nil {
		t.Fatalf("got %v", got)
	}
}

// GET /users needs system user:list; a non-admin gets 403 with its username as the message
// (testdata/api-errors.json). The error must name the fixes.
func TestListUsersForbiddenNamesTheFix(t *testing.T) {
	for _, tc := range []struct {
		status int
		code   string
		msg    string
	}{{403, "FORBIDDEN", "usr-01"}, {401, "UNAUTHORIZED", "unauthorized"}} {
		s := newStub(t)
		s.handle("GET", "/api/v2.0/users", func(w http.ResponseWriter, r *http.Request) { harborError(w, tc.status, tc.code, tc.msg) })
		_, err := newTestClient(t, fastConfig(s.srv.URL)).ListUsers(ctxT(t), "")
		if !IsForbidden(err) {
			t.Fatalf("%d: err = %v", tc.status, err)
		}
		for _, want := range []string{"user:list", "system administrator", "2.12", "drop the `user` kind"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%d: %q does not mention %q", tc.status, err, want)
			}
		}
	}
}
