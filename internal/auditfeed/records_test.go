package auditfeed

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/harborport/terraform-provider-harborport/internal/catalog"
	"github.com/harborport/terraform-provider-harborport/internal/harbor"
)

func keyList(ks []catalog.Key) string {
	var out []string
	for _, k := range ks {
		s := k.String()
		if k.CheckListed {
			s += " (listed)"
		}
		if k.FollowScan {
			s += " (follow scan)"
		}
		out = append(out, s)
	}
	return strings.Join(out, "; ")
}

// Every record of the real capture (Harbor 2.15.2) becomes the keys the
// design names (internal/DESIGN.md "Event sources").
func TestKeysFromTheCapture(t *testing.T) {
	raw, err := os.ReadFile("../harbor/testdata/real-api-auditlog-exts.json")
	if err != nil {
		t.Fatal(err)
	}
	var capture struct {
		Records []harbor.AuditLogRecord `json:"records"`
	}
	if err := json.Unmarshal(raw, &capture); err != nil {
		t.Fatal(err)
	}
	d1 := "sha256:e529f34540ae61212e88a6a6d81ff7427f1ca8650237113432eeffd844715523"
	d2 := "sha256:31ba7dd7004ccf3f560f781f27e81c99b50f9819dc94fb83882062c46df5e9c9"
	want := map[int64]string{
		454: "project auditcap",
		455: "artifact auditcap/team/app@" + d1 + " (follow scan); repository auditcap/team/app; project auditcap",
		456: "artifact auditcap/team/app@" + d2 + " (follow scan); repository auditcap/team/app; project auditcap",
		457: "repository auditcap/team/app",
		458: "artifact auditcap/team/app@" + d2 + " (follow scan); repository auditcap/team/app; project auditcap",
		459: "artifact auditcap/team/app@prod; repository auditcap/team/app",
		460: "artifacts of repository auditcap/team/app; repository auditcap/team/app",
		461: "artifact auditcap/team/app@" + d1 + "; repository auditcap/team/app; project auditcap",
		462: "user capuser",
		463: "user capuser",
		464: "user capuser",
		466: "artifact auditcap/team/app@" + d2 + "; repository auditcap/team/app; project auditcap",
		465: "repository auditcap/team/app; project auditcap",
		467: "project auditcap",
	}
	m := Mapping{FollowScans: true}
	if len(capture.Records) != len(want) {
		t.Fatalf("%d records in the capture", len(capture.Records))
	}
	for _, r := range capture.Records {
		ks, why := m.Keys(r)
		if got := keyList(ks); got != want[r.ID] {
			t.Errorf("record %d (%s_%s %s):\n got %s (%s)\nwant %s", r.ID, r.Operation, r.ResourceType, r.Resource, got, why, want[r.ID])
		}
	}
	// With pull times mapped, a pull reconciles the artifact it names (by the
	// digest in the description).
	pull := capture.Records[3]
	if got := keyList(Mapping{ArtifactsReadPulls: true}.keysOnly(pull)); got != "artifact auditcap/team/app@"+d2+"; repository auditcap/team/app" {
		t.Errorf("pull with pull-time mapping: %s", got)
	}
}

func (m Mapping) keysOnly(r harbor.AuditLogRecord) []catalog.Key { ks, _ := m.Keys(r); return ks }

func TestKeysEdgeCases(t *testing.T) {
	ok := func(op, typ, res, desc string) harbor.AuditLogRecord {
		return harbor.AuditLogRecord{ID: 1, Operation: op, ResourceType: typ, Resource: res, Description: desc, Successful: true}
	}
	failed := ok("delete", "user", "alice", "delete user with name: alice")
	failed.Successful = false
	for _, c := range []struct {
		name string
		rec  harbor.AuditLogRecord
		want string // keys, or "ignored: <reason part>"
	}{
		{"failed request", failed, "ignored: operation_result false"},
		{"robot", ok("create", "robot", "robot$ci", "create robot: robot$ci"), "ignored: changes no catalog entity"},
		{"configuration", ok("update", "configuration", "configuration", "update configuration"), "ignored: changes no catalog entity"},
		{"push by digest: maybe an index child", ok("create", "artifact", "p/a/b@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", ""),
			"artifact p/a/b@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef (listed); repository p/a/b; project p"},
		{"push whose description names no digest", ok("create", "artifact", "p/app:v1", "push artifact"), "artifact p/app@v1; repository p/app; project p"},
		{"description of another repository", ok("create", "artifact", "p/app:v1", "push artifact: p/other@sha256:ab"), "artifact p/app@v1; repository p/app; project p"},
		{"nested repository tag delete", ok("delete", "tag", "p/team/app:prod", ""), "artifacts of repository p/team/app; repository p/team/app"},
		{"tag without repository", ok("create", "tag", "p:v1", ""), "ignored: not project/repo:tag"},
		{"bad tag", ok("create", "tag", "p/app:bad tag", ""), "ignored: not project/repo:tag"},
		{"bad project", ok("create", "project", "Bad Name", ""), "ignored: not a project name"},
		{"repository without project", ok("delete", "repository", "app", ""), "ignored: not a repository name"},
		{"empty username", ok("create", "user", "", ""), "ignored: not a username"},
	} {
		ks, why := Mapping{}.Keys(c.rec)
		got := keyList(ks)
		if len(ks) == 0 {
			got = "ignored: " + why
		}
		if strings.HasPrefix(c.want, "ignored: ") && len(ks) == 0 {
			if !strings.Contains(why, strings.TrimPrefix(c.want, "ignored: ")) {
				t.Errorf("%s: reason %q, want it to mention %q", c.name, why, strings.TrimPrefix(c.want, "ignored: "))
			}
			continue
		}
		if got != c.want {
			t.Errorf("%s: %s, want %s", c.name, got, c.want)
		}
	}
	if fmt.Sprint(recordType(ok("create", "robot", "x", ""))) != "other" || recordType(ok("delete", "tag", "p/a:b", "")) != "delete_tag" {
		t.Error("recordType")
	}
}
