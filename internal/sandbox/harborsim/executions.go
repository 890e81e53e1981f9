package harborsim

import (
	"fmt"
	"net/http"
	"time"
)

// Harbor runs each delivery as a task of an execution that belongs to the policy
// (src/pkg/task). Deleting a policy deletes its executions first, and refuses while one is not
// in a final status (src/controller/webhook/controller.go DeletePolicy →
// src/pkg/task/execution.go DeleteByVendor). An execution turns final only when Harbor refreshes
// stale statuses, some seconds after its task ended; so a policy deleted right after a delivery
// answers 412 (internal/harbor/API-NOTES.md "Webhook policies";
// real-api-webhook-policy-delete-412.txt). Updating a policy does not touch its executions
// (UpdatePolicy only writes the policy row), so an update is never refused this way.

// execution is one policy's delivery work as far as its status goes: non-final while a job is
// pending (queued, running or waiting for a retry), and for DeliveryOptions.ExecutionSettle
// after the last one ended.
type execution struct {
	pending int
	ended   time.Time
}

func (d *deliverer) execStartLocked(policyID int64) {
	if d.execs == nil {
		d.execs = map[int64]*execution{}
	}
	e := d.execs[policyID]
	if e == nil {
		e = &execution{}
		d.execs[policyID] = e
	}
	e.pending++
}

func (d *deliverer) execEndLocked(policyID int64) {
	if e := d.execs[policyID]; e != nil {
		e.pending--
		e.ended = time.Now()
	}
}

// executionBusy reports whether policyID has an execution that is not final yet.
func (d *deliverer) executionBusy(policyID int64) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	e := d.execs[policyID]
	if e == nil {
		return false
	}
	if e.pending == 0 && time.Since(e.ended) >= d.opts.ExecutionSettle {
		delete(d.execs, policyID)
		return false
	}
	return true
}

// errExecutionsNotFinal is the captured answer: status 412 but code UNKNOWN. The controller
// wraps the PRECONDITION error with errors.Wrapf, which sets no code: the status follows the
// cause's code (src/lib/errors/errors.go ErrCode walks the causes), the body shows the wrapper's
// (none, so UNKNOWN).
func errExecutionsNotFinal(policyID int64) *apiError {
	return &apiError{http.StatusPreconditionFailed, "UNKNOWN", fmt.Sprintf("failed to delete executions for webhook of policy %d: "+
		"contains executions that aren't in final status, stop the execution first", policyID)}
}

// PolicyExecutionBusy reports whether deleting webhook policy id would meet the 412 now.
func (s *Server) PolicyExecutionBusy(id int64) bool { return s.delivery.executionBusy(id) }
