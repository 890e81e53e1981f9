package harbor

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// Bodies are the real v2.15.2 captures (testdata/real-api-error-*.txt,
// testdata/real-api-errors-misc.txt).
func TestAPIErrorFromRealBodies(t *testing.T) {
	tests := []struct {
		name                          string
		status                        int
		body                          string
		wantMsg                       string
		notFound, routeMiss, conflict bool
		forbidden                     bool
		hint                          string
	}{
		{
			name: "project not found", status: 404,
			body:     `{"errors":[{"code":"NOT_FOUND","message":"project nonexistent not found"}]}` + "\n",
			wantMsg:  "Harbor API GET /api/v2.0/projects/nonexistent: 404 NOT_FOUND: project nonexistent not found (request id 2eefdc0c-af99-44b4-b6c7-a7f87bbb35c5)",
			notFound: true,
		},
		{
			name: "route miss is not 'absent'", status: 404,
			body:      `{"errors":[{"code":"NOT_FOUND","message":"path /api/v2.0/projects/library/repositories/demo/hello-world was not found"}]}`,
			routeMiss: true, hint: "no such API route",
		},
		{
			name: "proxy 404 page is not 'absent'", status: 404,
			body: "<html><body><h1>404 Not Found</h1>\n<hr>nginx</body></html>", hint: "check harbor_url",
		},
		{
			name: "policy name taken", status: 409,
			body:     `{"errors":[{"code":"CONFLICT","message":"notification policy named wh-default already exists"}]}`,
			conflict: true,
		},
		{
			name: "anonymous", status: 401,
			body:      `{"errors":[{"code":"UNAUTHORIZED","message":"unauthorized"}]}`,
			forbidden: true, hint: "HARBOR_USERNAME/HARBOR_PASSWORD",
		},
		{
			name: "csrf", status: 403,
			body:      `{"errors":[{"code":"FORBIDDEN","message":"CSRF token invalid"}]}`,
			forbidden: true, hint: "cookie jar",
		},
		{
			name: "plain http to https port", status: 400,
			body: "<html><center>The plain HTTP request was sent to HTTPS port</center></html>", hint: "https://",
		},
		{
			name: "several errors", status: 400,
			body:    `{"errors":[{"code":"BAD_REQUEST","message":"a"},{"code":"BAD_REQUEST","message":"b"}]}`,
			wantMsg: "Harbor API GET /api/v2.0/projects/nonexistent: 400 BAD_REQUEST,BAD_REQUEST: a; b (request id 2eefdc0c-af99-44b4-b6c7-a7f87bbb35c5)",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var err error = newAPIError("GET", "/api/v2.0/projects/nonexistent", tc.status, "2eefdc0c-af99-44b4-b6c7-a7f87bbb35c5", []byte(tc.body), 1)
			err = fmt.Errorf("wrapped: %w", err)
			if tc.wantMsg != "" && !strings.HasSuffix(err.Error(), tc.wantMsg) {
				t.Errorf("Error() = %q\nwant suffix %q", err, tc.wantMsg)
			}
			if tc.hint != "" && !strings.Contains(err.Error(), tc.hint) {
				t.Errorf("Error() = %q, want hint %q", err, tc.hint)
			}
			if IsNotFound(err) != tc.notFound || IsRouteNotFound(err) != tc.routeMiss || IsConflict(err) != tc.conflict || IsForbidden(err) != tc.forbidden {
				t.Errorf("IsNotFound=%v IsRouteNotFound=%v IsConflict=%v IsForbidden=%v", IsNotFound(err), IsRouteNotFound(err), IsConflict(err), IsForbidden(err))
			}
		})
	}
	if IsNotFound(errors.New("404")) || IsNotFound(nil) {
		t.Error("IsNotFound on a non-APIError")
	}
}

// The captured 412 of deleting a busy webhook policy (status 412, code UNKNOWN) is recognised
// from its status and message; other 412s are not.
func TestIsExecutionsNotFinal(t *testing.T) {
	raw := string(readTestdata(t, "real-api-webhook-policy-delete-412.txt"))
	i := strings.Index(raw, `{"errors"`)
	if i < 0 {
		t.Fatal("the capture has no error body")
	}
	body := raw[i : i+strings.Index(raw[i:], "\n")]
	err := newAPIError("DELETE", "/api/v2.0/projects/cap412/webhook/policies/12", 412, "", []byte(body), 1)
	if !IsExecutionsNotFinal(err) || !IsExecutionsNotFinal(fmt.Errorf("wrapped: %w", err)) || err.Code != "UNKNOWN" {
		t.Fatalf("the captured 412 is not recognised: %v", err)
	}
	other := newAPIError("GET", "/api/v2.0/users/current", 412, "", []byte(`{"errors":[{"code":"PRECONDITION","message":"unable to get current user for robot"}]}`), 1)
	if IsExecutionsNotFinal(other) || IsExecutionsNotFinal(errors.New("contains executions that aren't in final status")) {
		t.Fatal("another 412 or a plain error taken for the busy policy")
	}
}
