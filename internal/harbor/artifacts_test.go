package harbor

import (
	"net/http"
	"reflect"
	"testing"
)

const nestedArtifacts = "/api/v2.0/projects/tfdemo/repositories/team%252Fhello/artifacts"

func TestListArtifacts(t *testing.T) {
	tests := []struct {
		name       string
		q          ArtifactQuery
		wantParams map[string]string
		wantAccept string
	}{
		{
			name:       "tags, scan overview and labels",
			q:          ArtifactQuery{WithTag: true, WithScanOverview: true, WithLabel: true, Q: "tags=*"},
			wantParams: map[string]string{"with_tag": "true", "with_scan_overview": "true", "with_label": "true", "q": "tags=*"},
			wantAccept: "application/vnd.security.vulnerability.report; version=1.1, application/vnd.scanner.adapter.vuln.report.harbor+json; version=1.0",
		},
		{
			name:       "bare",
			q:          ArtifactQuery{},
			wantParams: map[string]string{"with_tag": "false", "with_scan_overview": "", "with_label": "", "q": ""},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newStub(t)
			s.handle("GET", nestedArtifacts, pageOf([]any{loadJSON(t, "api-artifact-with-scan-overview.json")}))
			c := newTestClient(t, fastConfig(s.srv.URL))
			arts, err := c.ListArtifacts(ctxT(t), "tfdemo", "tfdemo/team/hello", tc.q)
			if err != nil {
				t.Fatal(err)
			}
			a := arts[0]
			if a["projectName"] != "tfdemo" || a["repositoryName"] != "tfdemo/team/hello" || a["repository_name"] != "tfdemo/team/hello" {
				t.Fatalf("enrichment: %v %v", a["projectName"], a["repositoryName"])
			}
			if so, _ := a["scan_overview"].(map[string]any); len(so) != 1 {
				t.Fatalf("scan_overview must stay Harbor's MIME-keyed map: %v", a["scan_overview"])
			}
			r := s.requests()[0]
			q := parseURIQuery(t, r.URI)
			for k, want := range tc.wantParams {
				if got := q.Get(k); got != want {
					t.Errorf("%s = %q, want %q", k, got, want)
				}
			}
			if got := r.Header.Get("X-Accept-Vulnerabilities"); got != tc.wantAccept {
				t.Errorf("X-Accept-Vulnerabilities = %q, want %q", got, tc.wantAccept)
			}
		})
	}
}

func TestGetArtifact(t *testing.T) {
	s := newStub(t)
	digest := "sha256:6cb0ba24593f743b299f385ff8cc76a34fafabb3762c02e28131c0a203fe8558"
	art := as[[]any](t, loadJSON(t, "real-api-artifacts-list.json"))[0]
	for _, ref := range []string{digest, "v1"} {
		s.handle("GET", "/api/v2.0/projects/tfdemo/repositories/hello/artifacts/"+ref, func(w http.ResponseWriter, r *http.Request) { writeJSON(w, art) })
	}
	s.handle("GET", "/api/v2.0/projects/tfdemo/repositories/hello/artifacts/nope", func(w http.ResponseWriter, r *http.Request) {
		harborError(w, 404, "NOT_FOUND", "artifact tfdemo/hello:nope not found")
	})
	c := newTestClient(t, fastConfig(s.srv.URL))
	ctx := ctxT(t)
	for _, ref := range []string{digest, "v1"} {
		a, err := c.GetArtifact(ctx, "tfdemo", "hello", ref, ArtifactQuery{WithTag: true})
		if err != nil || a["digest"] != digest || a["repositoryName"] != "tfdemo/hello" {
			t.Fatalf("GetArtifact(%s) = %v, %v", ref, a, err)
		}
		tags, _ := a["tags"].([]any)
		if len(tags) != 2 {
			t.Fatalf("tags = %v", a["tags"])
		}
	}
	if _, err := c.GetArtifact(ctx, "tfdemo", "hello", "nope", ArtifactQuery{}); !IsNotFound(err) {
		t.Fatalf("err = %v", err)
	}
	if got := c.Stats(); !reflect.DeepEqual(got, map[string]int{"GET /projects/{project}/repositories/{repository}/artifacts/{reference}": 3}) {
		t.Fatalf("Stats = %v", got)
	}
}
