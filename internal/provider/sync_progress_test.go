package provider

import (
	"bytes"
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflogtest"

	"github.com/harborport/terraform-provider-harborport/internal/port"
)

// harborport_sync reports a sync's progress through tflog at INFO (what
// TF_LOG=INFO shows): one line per Harbor kind with its counts and rate, and
// a summary line for the plan and for the apply, with structured fields.
func TestSyncProgressLogs(t *testing.T) {
	_, harborURL, _ := testHarbor(t)
	psim, portURL := testPort(t)
	setBlueprints(t, psim, nil)
	pc, err := port.New(port.Config{BaseURL: portURL, ClientID: testClientID, ClientSecret: testClientSecret})
	must(t, err)
	r := &syncResource{data: &providerData{port: pc, harbor: adminHarbor(t, harborURL)}}

	var buf bytes.Buffer
	ctx := tflogtest.RootLogger(context.Background(), &buf)
	m := syncModel{Mapping: types.StringNull(), Blueprints: types.MapNull(types.StringType), PreviewLimit: types.Int64Value(100)}
	eng, diags := r.engine(ctx, m)
	if diags.HasError() {
		t.Fatal(diags)
	}
	rep, diags := compute(ctx, eng, false)
	if diags.HasError() {
		t.Fatal(diags)
	}
	var plan syncModel
	r.apply(ctx, eng, rep.Changeset, &plan, &diags)
	if diags.HasError() {
		t.Fatal(diags)
	}

	entries, err := tflogtest.MultilineJSONDecode(&buf)
	must(t, err)
	var lines []string
	byMsg := map[string]map[string]any{}
	for _, e := range entries {
		msg, _ := e["@message"].(string)
		if !strings.HasPrefix(msg, "harborport: sync") {
			continue
		}
		if e["@level"] != "info" {
			t.Errorf("%q logged at %v, want info", msg, e["@level"])
		}
		lines = append(lines, msg)
		byMsg[msg] = e
	}
	t.Logf("TF_LOG=INFO lines:\n  %s", strings.Join(lines, "\n  "))

	c := rep.Changeset.Counts()
	if c.Create == 0 {
		t.Fatalf("the first plan creates nothing: %+v", c)
	}
	for _, k := range []struct{ kind, plural string }{
		{"project", "projects"}, {"user", "users"}, {"repository", "repositories"}, {"artifact", "artifacts"},
	} {
		n := rep.Items[k.kind]
		if n == 0 {
			t.Fatalf("the sandbox Harbor has no %s", k.plural)
		}
		re := regexp.MustCompile(fmt.Sprintf(`^harborport: sync plan: Harbor %s done: %d read, %d mapped to %d entities in \S+ \(\d+ items/s\)$`, k.plural, n, n, n))
		found := false
		for _, l := range lines {
			if re.MatchString(l) {
				found = true
				e := byMsg[l]
				// tflog's JSON numbers decode as float64.
				if e["kind"] != k.kind || e["items_read"] != float64(n) || e["entities"] != float64(n) {
					t.Errorf("fields of %q: %v", l, e)
				}
			}
		}
		if !found {
			t.Errorf("no line matching %s", re)
		}
	}
	planSummary := fmt.Sprintf(`^harborport: sync plan computed: 4 blueprints, %d entities desired, create=%d update=0 delete=0 unchanged=0 in \S+ \(Harbor [1-9]\d* requests, Port 4 search pages\)$`,
		c.Create, c.Create)
	applySummary := fmt.Sprintf(`^harborport: sync applied: created=%d updated=0 deleted=0 already_done=0 skipped=0 failed=0 of %d changes in \S+ \(\d+ changes/s, Port [1-9]\d* bulk requests and [1-9]\d* check searches, Harbor [1-9]\d* requests\)$`,
		c.Create, c.Create)
	for _, want := range []string{planSummary, applySummary} {
		re := regexp.MustCompile(want)
		n := 0
		for _, l := range lines {
			if re.MatchString(l) {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%d lines match %s", n, want)
		}
	}
	if len(lines) == 0 || !regexp.MustCompile(applySummary).MatchString(lines[len(lines)-1]) {
		t.Errorf("the apply summary is not the last line")
	}
	for _, secret := range []string{testClientSecret, "Harbor12345"} {
		if strings.Contains(buf.String(), secret) {
			t.Fatalf("a secret is in the logs")
		}
	}
}
