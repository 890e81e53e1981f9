package harborsim

import (
	"errors"
	"fmt"
	"strings"
)

// scanEventTypes maps a finished scan's status to the webhook it fires
// (src/controller/event/topic.go; internal/harbor/API-NOTES.md "Webhook payloads").
var scanEventTypes = map[string]string{
	"Success": "SCANNING_COMPLETED",
	"Error":   "SCANNING_FAILED",
	"Stopped": "SCANNING_STOPPED",
}

// ScanArtifactWithStatus finishes a scan with status "Success" (SCANNING_COMPLETED; "" means
// Success), "Error" (SCANNING_FAILED) or "Stopped" (SCANNING_STOPPED). The report replaces any
// earlier one. Counts are only allowed for Success (see ScanArtifact); an unsuccessful report
// has no summary, an empty severity and complete_percent 0, as in
// internal/listener/testdata/webhook-default-scanning-{failed,stopped}.json. reference is a
// digest or a tag; scanning by tag puts that tag into the event, by digest the event has no
// tag.
func (s *Server) ScanArtifactWithStatus(projectName, repo, reference, status string, counts map[string]int) error {
	if s.opts.NoScanner {
		return errors.New("no scanner is configured (Options.NoScanner)")
	}
	if status == "" {
		status = "Success"
	}
	evType, ok := scanEventTypes[status]
	if !ok {
		return fmt.Errorf("unsupported scan status %q: use Success, Error or Stopped", status)
	}
	clean := map[string]int{}
	for k, v := range counts {
		if !contains(severityOrder, k) {
			return fmt.Errorf("unknown severity %q: use one of %s", k, strings.Join(severityOrder, ", "))
		}
		if v < 0 {
			return fmt.Errorf("negative count %d for severity %s", v, k)
		}
		if v > 0 {
			clean[k] = v
		}
	}
	if status != "Success" && len(clean) > 0 {
		return fmt.Errorf("a scan with status %s has no vulnerability counts: pass nil counts", status)
	}
	s.mu.Lock()
	_, a, t, err := s.findArtifactLocked(projectName, repo, reference)
	if err != nil {
		s.mu.Unlock()
		return err
	}
	s.scanLocked(a, clean)
	a.scan.status = status
	ev := s.artifactEvent(evType, s.opts.AdminUser, a, nil)
	ev.Tag = "" // scanned by digest: Harbor omits resources[0].tag (internal/harbor/API-NOTES.md "Webhook payloads")
	if t != nil {
		ev.Tag, ev.Tags = t.name, []string{t.name}
	}
	ev.ScanOverview = map[string]any{a.scan.mimeType: a.scan.summaryJSON()}
	s.mu.Unlock()
	s.emit([]Event{ev})
	return nil
}

func (s *Server) scanLocked(a *artifact, counts map[string]int) {
	start := s.now()
	end := s.now()
	total := 0
	for _, v := range counts {
		total += v
	}
	a.scan = &scanReport{mimeType: s.opts.ScanReportMimeType, reportID: uuidFrom("report", uint64(a.id)<<20|uint64(start.UnixNano()%1_000_000)),
		status: "Success", counts: counts, fixable: total / 2, start: start, end: end}
}
