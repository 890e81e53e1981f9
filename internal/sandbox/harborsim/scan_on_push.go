package harborsim

import (
	"crypto/sha256"
	"time"
)

// Scan on push: in a project whose metadata auto_scan is "true", Harbor scans every pushed
// artifact (goharbor/harbor@v2.15.2 src/controller/event/handler/internal/artifact.go onPush →
// util.go autoScan, with the pushed tag as the scan's tag). The report exists from the start
// with scan_status Running and no summary (src/pkg/scan/report/summary.go
// GenerateNativeSummary: no data unless Success; duration max(end-start, 0) with end_time
// still zero), and the scan job finishes later, firing SCANNING_COMPLETED like a scan started
// by hand. The simulator finishes it Options.ScanOnPushDelay after the push (wall clock), with
// counts derived from the digest.

const defaultScanOnPushDelay = 3 * time.Second

// startScansLocked starts the automatic scans of pushed artifacts (one per PUSH_ARTIFACT event
// in an auto_scan project). Requires s.mu held for writing.
func (s *Server) startScansLocked(evs []Event) {
	if !s.opts.ScanOnPush || s.opts.NoScanner {
		return
	}
	for _, ev := range evs {
		if ev.Type != "PUSH_ARTIFACT" {
			continue
		}
		p := s.projByName[ev.ProjectName]
		if p == nil || p.metadata["auto_scan"] != "true" {
			continue
		}
		r := p.repoByName[ev.RepoName]
		if r == nil || r.byDigest[ev.Digest] == nil {
			continue
		}
		a := r.byDigest[ev.Digest]
		now := s.now()
		a.scan = &scanReport{mimeType: s.opts.ScanReportMimeType, reportID: uuidFrom("report", uint64(a.id)<<20|uint64(now.UnixNano()%1_000_000)),
			status: "Running", start: now}
		report, project, repo, digest, tag := a.scan.reportID, p.name, r.name, a.digest, ""
		if len(ev.Tags) > 0 {
			tag = ev.Tags[0]
		}
		s.scanMu.Lock()
		if s.scanTimers == nil {
			s.scanTimers = map[*time.Timer]bool{}
		}
		var t *time.Timer
		t = time.AfterFunc(s.opts.ScanOnPushDelay, func() {
			s.scanMu.Lock()
			live := s.scanTimers[t]
			delete(s.scanTimers, t)
			s.scanMu.Unlock()
			if live {
				s.finishAutoScan(project, repo, digest, tag, report)
			}
		})
		s.scanTimers[t] = true
		s.scanMu.Unlock()
	}
}

// finishAutoScan completes the automatic scan with this report id, unless the artifact is gone
// or was scanned again meanwhile.
func (s *Server) finishAutoScan(project, repoName, digest, tag, reportID string) {
	s.mu.Lock()
	p := s.projByName[project]
	var a *artifact
	if p != nil {
		if r := p.repoByName[repoName]; r != nil {
			a = r.byDigest[digest]
		}
	}
	if a == nil || a.scan == nil || a.scan.reportID != reportID || a.scan.status != "Running" {
		s.mu.Unlock()
		return
	}
	sum := sha256.Sum256([]byte(digest))
	counts := map[string]int{}
	for i, sev := range []string{"High", "Medium", "Low"} {
		if n := int(sum[i] % 4); n > 0 {
			counts[sev] = n
		}
	}
	start := a.scan.start
	s.scanLocked(a, counts)
	a.scan.start = start
	a.scan.reportID = reportID
	ev := s.artifactEvent("SCANNING_COMPLETED", s.opts.AdminUser, a, nil)
	ev.Tag = "" // no tag: Harbor omits resources[0].tag (internal/harbor/API-NOTES.md "Webhook payloads")
	if tag != "" {
		ev.Tag, ev.Tags = tag, []string{tag}
	}
	ev.ScanOverview = map[string]any{a.scan.mimeType: a.scan.summaryJSON()}
	s.mu.Unlock()
	s.emit([]Event{ev})
}

// stopScans cancels the automatic scans still running (Close).
func (s *Server) stopScans() {
	s.scanMu.Lock()
	defer s.scanMu.Unlock()
	for t := range s.scanTimers {
		t.Stop()
	}
	s.scanTimers = nil
}

// ScansRunning counts automatic scans not finished yet.
func (s *Server) ScansRunning() int {
	s.scanMu.Lock()
	defer s.scanMu.Unlock()
	return len(s.scanTimers)
}
