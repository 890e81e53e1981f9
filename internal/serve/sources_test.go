package serve

import (
	"bytes"
	"context"
	"log/slog"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/harborport/terraform-provider-harborport/internal/harbor"
	"github.com/harborport/terraform-provider-harborport/internal/sandbox/harborsim"
	"github.com/harborport/terraform-provider-harborport/internal/webhookpolicy"
)

// The report of projects without a harborport policy: logged when it
// changes (info with the feed on, a warning without), on /readyz, as a
// gauge; the troubleshooting guide quotes the line.
func TestCoverageReport(t *testing.T) {
	hs := harborsim.New(harborsim.Options{})
	srv := httptest.NewServer(hs)
	t.Cleanup(srv.Close)
	hc, err := harbor.New(harbor.Config{URL: srv.URL, Username: "admin", Password: "Harbor12345", MaxRetries: -1})
	must(t, err)
	for _, p := range []string{"a", "b", "c", "d", "e", "f", "g", "h"} {
		hs.CreateProject(p, false)
	}
	for _, p := range []string{"a", "b", "c", "d", "e", "f", "g"} {
		if _, err := hc.CreateWebhookPolicy(context.Background(), p, harbor.WebhookPolicy{Name: "harborport", Enabled: true,
			EventTypes: []string{"PUSH_ARTIFACT"}, Targets: []harbor.WebhookTarget{{Type: "http", Address: "http://l.example.com/hook"}}}); err != nil {
			t.Fatal(err)
		}
	}
	var logs bytes.Buffer
	c := &coverage{policies: &webhookpolicy.Client{Harbor: hc}, name: "harborport",
		log: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))}
	reg := registry(c)
	if st := c.status(true); st.State != "starting" {
		t.Fatalf("before the first check: %+v", st)
	}
	c.check(context.Background(), true)
	c.check(context.Background(), true)
	if n := strings.Count(logs.String(), "msg="+strconv.Quote(coverageLine)); n != 1 {
		t.Fatalf("logged %d times, want once:\n%s", n, logs.String())
	}
	if !strings.Contains(logs.String(), `projects="h (no webhook policy named \"harborport\"), library (no webhook policy named \"harborport\")"`) {
		t.Fatalf("the projects are not named:\n%s", logs.String())
	}
	st := c.status(true)
	if st.State != "partial" || !strings.Contains(st.Reason, "2 of 9 projects have no enabled webhook policy") {
		t.Fatalf("status %+v", st)
	}
	mfs, err := reg.Gather()
	must(t, err)
	found := false
	for _, mf := range mfs {
		if mf.GetName() == "harborport_projects_without_policy" {
			found = mf.GetMetric()[0].GetGauge().GetValue() == 2
		}
	}
	if !found {
		t.Fatal("harborport_projects_without_policy is not 2")
	}
	c.check(context.Background(), false) // the same projects, the feed off: said again only when they change
	if strings.Contains(logs.String(), "the audit-log feed is off") {
		t.Fatal("an unchanged report was logged again")
	}

	raw, err := os.ReadFile("../../docs/guides/troubleshooting.md")
	must(t, err)
	doc := strings.Join(strings.Fields(string(raw)), " ")
	if !strings.Contains(doc, strings.Join(strings.Fields(coverageLine), " ")) {
		t.Errorf("docs/guides/troubleshooting.md does not quote %q", coverageLine)
	}
}

const coverageLine = `2 of 9 projects have no enabled webhook policy "harborport": only the audit-log feed reports their changes ` +
	`(within --audit-poll-interval); add them with harborport_webhook`
