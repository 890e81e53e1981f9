package harborsim

import (
	"sync"
	"time"
)

// Options configures a Server. The zero value is usable.
type Options struct {
	// AdminUser / AdminPassword are the credentials of the built-in system admin (user_id 1).
	// Defaults: "admin" / "Harbor12345" (Harbor's harbor.yml default).
	AdminUser, AdminPassword string
	// Clock returns "now" for every mutation and for systeminfo.current_time. Default: a
	// deterministic clock starting at DefaultClockStart that advances DefaultClockStep on every
	// call, so two servers driven the same way produce byte-identical responses. Pass time.Now
	// for wall-clock behaviour.
	Clock func() time.Time
	// NotificationEnable is systeminfo.notification_enable (default true). Harbor sends no
	// webhooks at all when it is false (internal/harbor/API-NOTES.md "Credential check").
	NotificationEnable *bool
	// Version is systeminfo.harbor_version (default "v2.15.2-080b0220").
	Version string
	// ExternalURL overrides systeminfo.external_url (default "http://" + request Host).
	ExternalURL string
	// ScanReportMimeType is the MIME type scan reports are stored under. Default is Trivy's
	// "application/vnd.security.vulnerability.report; version=1.1"
	// (internal/harbor/API-NOTES.md "Scan overview").
	ScanReportMimeType string
	// NoScanner simulates a Harbor without a scanner: no "vulnerabilities" addition link and
	// ScanArtifact fails (the real capture real-api-artifacts-list.json came from such an instance).
	NoScanner bool
	// NoLibraryProject skips the public "library" project (id 1) a fresh Harbor always has.
	NoLibraryProject bool
	// Delivery configures webhook delivery to registered policies (see DeliveryOptions).
	Delivery DeliveryOptions
	// ScanOnPush makes projects whose metadata auto_scan is "true" scan every pushed artifact,
	// as Harbor does (scan_on_push.go): a Running report at once, finished ScanOnPushDelay later
	// (default 3 s, wall clock) with a SCANNING_COMPLETED webhook. Off by default, so tests that
	// seed auto_scan projects see only the scans they start.
	ScanOnPush      bool
	ScanOnPushDelay time.Duration
	// StampVersions adds "x_harborport_version" to every project, user, repository and
	// artifact, growing on every change (versions.go). Test instrumentation: not Harbor's JSON.
	StampVersions bool
}

// Scan report MIME types honoured by X-Accept-Vulnerabilities (internal/harbor/API-NOTES.md
// "Scan overview").
const (
	MimeTypeGenericVulnerabilityReport = "application/vnd.security.vulnerability.report; version=1.1"
	MimeTypeNativeReport               = "application/vnd.scanner.adapter.vuln.report.harbor+json; version=1.0"
)

// DefaultClockStart and DefaultClockStep define the deterministic default clock. The step has a
// millisecond and sub-millisecond part on purpose: responses must show the ".000Z"-style
// millisecond format with real digits, and the sub-millisecond part must be truncated.
var (
	DefaultClockStart = time.Date(2026, 11, 28, 8, 39, 15, 190_000_000, time.UTC)
	DefaultClockStep  = time.Second + 37*time.Millisecond + 123*time.Microsecond
)

func (o Options) withDefaults() Options {
	if o.AdminUser == "" {
		o.AdminUser = "admin"
	}
	if o.AdminPassword == "" {
		o.AdminPassword = "Harbor12345"
	}
	if o.Clock == nil {
		o.Clock = newStepClock(DefaultClockStart, DefaultClockStep)
	}
	if o.NotificationEnable == nil {
		t := true
		o.NotificationEnable = &t
	}
	if o.Version == "" {
		o.Version = "v2.15.2-080b0220"
	}
	if o.ScanReportMimeType == "" {
		o.ScanReportMimeType = MimeTypeGenericVulnerabilityReport
	}
	if o.ScanOnPushDelay <= 0 {
		o.ScanOnPushDelay = defaultScanOnPushDelay
	}
	o.Delivery = o.Delivery.withDefaults()
	return o
}

// newStepClock returns a concurrency-safe clock that returns start, start+step, start+2*step, ...
func newStepClock(start time.Time, step time.Duration) func() time.Time {
	var mu sync.Mutex
	next := start
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		t := next
		next = next.Add(step)
		return t
	}
}
