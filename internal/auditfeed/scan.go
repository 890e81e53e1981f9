package auditfeed

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/harborport/terraform-provider-harborport/internal/catalog"
	"github.com/harborport/terraform-provider-harborport/internal/harbor"
)

// A push Harbor scans on push reaches the audit log, but the scan's end does
// not (internal/harbor/API-NOTES.md "Scan on push"): without a webhook the
// listener must look at the artifact again until its scan is final. It does so
// on the spool's schedule (listener.Again), so the follow-up survives restarts.

// Follow-up schedule: 2 s, doubling to a minute, for at most about 15 minutes.
const (
	followFirst = 2 * time.Second
	followMax   = time.Minute
	followLimit = 15 * time.Minute
)

// followDelay is the wait before the (n+1)-th look.
func followDelay(n int) time.Duration {
	if n >= 5 {
		return followMax
	}
	return min(followFirst<<n, followMax)
}

// maxFollowUps is how many looks fit in followLimit.
var maxFollowUps = func() int {
	n, total := 0, time.Duration(0)
	for total < followLimit {
		total += followDelay(n)
		n++
	}
	return n
}()

// final scan statuses (src/jobservice/job/status.go).
var finalScan = map[string]bool{"Success": true, "Error": true, "Stopped": true}

// ScanFollower decides, before an artifact key with FollowScan is reconciled,
// whether its scan is still to come.
type ScanFollower struct {
	Harbor *harbor.Client
	Logger *slog.Logger
	Now    func() time.Time // default time.Now

	mu       sync.Mutex
	autoScan map[string]autoScanAt // project → metadata auto_scan, cached for a minute
}

type autoScanAt struct {
	on bool
	at time.Time
}

// Check reads the artifact's scan status before the reconcile (a scan that
// ends during the reconcile is then seen at the next look, never missed): it
// returns the delay before the next look, or 0 when the scan is final, when
// none will come (the project does not scan on push, the artifact is gone),
// or when followUps looks have used up the time limit.
func (s *ScanFollower) Check(ctx context.Context, k catalog.Key, followUps int) (again time.Duration, why string, err error) {
	it, err := s.Harbor.GetArtifact(ctx, k.Project, k.Repository, k.Digest, harbor.ArtifactQuery{WithScanOverview: true})
	if harbor.IsNotFound(err) {
		return 0, "", nil
	}
	if err != nil {
		return 0, "", fmt.Errorf("%s: reading its scan status: %w", k, err)
	}
	status := ""
	if so, _ := it["scan_overview"].(map[string]any); so != nil {
		for _, v := range so {
			if rep, _ := v.(map[string]any); rep != nil {
				status, _ = rep["scan_status"].(string)
				break
			}
		}
	}
	switch {
	case finalScan[status]:
		return 0, "", nil
	case status == "":
		on, err := s.projectScansOnPush(ctx, k.Project)
		if err != nil || !on {
			return 0, "", err
		}
		why = "scan on push not started yet"
	default:
		why = "scan " + status
	}
	if followUps >= maxFollowUps {
		if s.Logger != nil {
			s.Logger.Warn("gave up following a scan on push: not final after the time limit; the next event or resync brings its result",
				"key", k.String(), "status", status, "limit", followLimit.String())
		}
		return 0, "", nil
	}
	return followDelay(followUps), why, nil
}

func (s *ScanFollower) projectScansOnPush(ctx context.Context, project string) (bool, error) {
	now := time.Now()
	if s.Now != nil {
		now = s.Now()
	}
	s.mu.Lock()
	c, ok := s.autoScan[project]
	s.mu.Unlock()
	if ok && now.Sub(c.at) < time.Minute {
		return c.on, nil
	}
	p, err := s.Harbor.GetProjectByName(ctx, project)
	if harbor.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("project %s: reading its auto_scan setting: %w", project, err)
	}
	md, _ := p["metadata"].(map[string]any)
	on := md["auto_scan"] == "true"
	s.mu.Lock()
	if s.autoScan == nil {
		s.autoScan = map[string]autoScanAt{}
	}
	s.autoScan[project] = autoScanAt{on: on, at: now}
	s.mu.Unlock()
	return on, nil
}
