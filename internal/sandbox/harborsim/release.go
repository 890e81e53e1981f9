package harborsim

import (
	"strconv"
	"strings"
)

// Harbor releases the simulator behaves as (Options.Version). harbor_version is
// "v<release>-<first 8 hex digits of the release commit>", as Harbor's build writes it
// (real-api-systeminfo.json shows v2.15.2-080b0220, the v2.15.2 tag's commit; 35f09d55 is the
// v2.11.2 tag's commit in goharbor/harbor).
const (
	Version211 = "v2.11.2-35f09d55"
	Version215 = "v2.15.2-080b0220"
)

// Profiles are the releases the test suites run against: the oldest supported one (no
// auditlog-exts, no user:list for robots) and the reference release.
var Profiles = []string{Version211, Version215}

// ProfileName is a short name for a profile, for test names: "2.11", "2.15".
func ProfileName(version string) string {
	ma, mi, ok := parseRelease(version)
	if !ok {
		return version
	}
	return strconv.Itoa(ma) + "." + strconv.Itoa(mi)
}

// release is what differs between Harbor releases, as far as harborport can tell
// (internal/harbor/API-NOTES.md "Version differences").
type release struct{ major, minor int }

func releaseOf(version string) release {
	ma, mi, ok := parseRelease(version)
	if !ok {
		return release{2, 15} // an unparsable version counts as the reference release
	}
	return release{ma, mi}
}

func parseRelease(version string) (major, minor int, ok bool) {
	parts := strings.SplitN(strings.TrimPrefix(version, "v"), ".", 3)
	if len(parts) < 2 {
		return 0, 0, false
	}
	ma, err1 := strconv.Atoi(parts[0])
	mi, err2 := strconv.Atoi(strings.SplitN(parts[1], "-", 2)[0])
	if err1 != nil || err2 != nil {
		return 0, 0, false
	}
	return ma, mi, true
}

func (r release) atLeast(major, minor int) bool {
	return r.major > major || (r.major == major && r.minor >= minor)
}

// auditExts: GET /auditlog-exts and its extended records came with 2.13; older releases write
// the audit_log table that GET /audit-logs lists (auditlog.go).
func (r release) auditExts() bool { return r.atLeast(2, 13) }

// robotUserList: system robots may hold user:list from 2.12 on; 2.11's robot handler refuses the
// permission (src/server/v2.0/handler/robot.go validate: "bad request permission: user:list",
// since rbac.PoliciesMap["System"] has no user resource before
// https://github.com/goharbor/harbor/pull/20754).
func (r release) robotUserList() bool { return r.atLeast(2, 12) }

// disabledEventTypes: the configuration item disabled_audit_log_event_types came with the
// extended audit log (2.13); 2.11 has only pull_audit_log_disable and skip_audit_log_database
// (goharbor/harbor@v2.11.2 src/lib/config/metadata/metadatalist.go).
func (r release) disabledEventTypes() bool { return r.auditExts() }
