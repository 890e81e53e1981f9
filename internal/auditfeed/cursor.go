package auditfeed

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"time"
)

// StateName is the spool state the cursor is kept under.
const StateName = "audit_feed"

// cursor is how far the feed has read, kept in the spool and advanced only in
// the transaction that spools the keys of what it read
// (listener.Spool.PutWithState), so a crash neither loses nor repeats a record.
//
// Harbor's audit records are not in op_time order by id, and several share an
// op_time (internal/harbor/API-NOTES.md "Audit log"), so op_time alone cannot
// say what was read. The cursor keeps instead:
//
//   - OpTime, the newest op_time read: each poll lists op_time ≥ OpTime (the
//     boundary millisecond is read again), sorted by op_time;
//   - MaxID, the highest id read: a record is new when its id is above MaxID,
//     or in Missing; every other record was read before (or precedes the
//     feed's start), so re-reading the boundary repeats nothing;
//   - Missing, the ids below MaxID not seen yet. Ids come from one sequence,
//     so such an id is a record not committed yet (it is looked up by id on
//     the next polls), or one that is gone: purged before the feed read it, or
//     never committed. One missing for longer than the grace period is counted
//     as lost, and the feed runs one full resync (Harbor's purge never deletes
//     tag records, so comparing with the oldest record would not tell).
type cursor struct {
	Version int    `json:"v"`
	Harbor  string `json:"harbor"` // the Harbor URL: a spool moved to another Harbor starts afresh
	// Source is the audit log read: "" for /auditlog-exts, "audit-logs" for
	// Harbor before 2.13. Ids and times of one say nothing about the other
	// (an upgrade to 2.13 moves to a new table): another source starts
	// afresh with one full resync (Feed.switchSource).
	Source  string                `json:"source,omitempty"`
	OpTime  time.Time             `json:"op_time"`
	MaxID   int64                 `json:"max_id"`
	Missing map[int64]missingInfo `json:"missing,omitempty"`
	// Resync is set, with the cursor moved to the newest record, when records
	// were lost; it is cleared once the full resync succeeded, so a crash in
	// between runs it again (once).
	Resync     bool   `json:"resync,omitempty"`
	LostReason string `json:"lost_reason,omitempty"`
}

// missingInfo dates a missing id: Since is when the feed first noticed it,
// Next the op_time of the first record read above it. That record was
// inserted after the missing id was handed out, so once it is older than the
// grace period the missing one had all that time to commit: an id missing
// below old records (a purge while the listener was down) is known lost at
// once.
type missingInfo struct {
	Since time.Time `json:"since"`
	Next  time.Time `json:"next,omitzero"`
}

const cursorVersion = 1

func decodeCursor(b []byte) (*cursor, error) {
	if len(b) == 0 {
		return nil, nil
	}
	var c cursor
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("the audit-log feed's cursor in the spool is unreadable (%v)", err)
	}
	if c.Version != cursorVersion {
		return nil, fmt.Errorf("the audit-log feed's cursor has format %d, this harborport reads %d", c.Version, cursorVersion)
	}
	return &c, nil
}

func (c *cursor) encode() []byte {
	b, _ := json.Marshal(c) // plain fields: cannot fail
	return b
}

func (c *cursor) clone() *cursor {
	out := *c
	out.Missing = maps.Clone(c.Missing)
	return &out
}

// isNew reports whether the record with id was not read before.
func (c *cursor) isNew(id int64) bool {
	if id > c.MaxID {
		return true
	}
	_, missing := c.Missing[id]
	return missing
}

// saw records that id was read (its op_time at): MaxID and OpTime move up,
// the ids it skipped over become missing.
func (c *cursor) saw(id int64, at, now time.Time) {
	delete(c.Missing, id)
	if id > c.MaxID {
		if c.MaxID > 0 {
			for gap := c.MaxID + 1; gap < id; gap++ {
				if c.Missing == nil {
					c.Missing = map[int64]missingInfo{}
				}
				c.Missing[gap] = missingInfo{Since: now, Next: at}
				if len(c.Missing) > maxMissing {
					break // counted as lost anyway (lost), no need to list more
				}
			}
		}
		c.MaxID = id
	}
	if at.After(c.OpTime) {
		c.OpTime = at
	}
}

// maxMissing bounds Missing: more ids missing at once than a burst of
// uncommitted inserts explains means records are gone.
const maxMissing = 1000

// lost returns the missing ids that count as gone: missing for longer than
// grace, or below a record older than grace (compared with the listener's
// clock: a clock ahead of Harbor's by more than grace would count a record
// still committing as lost, and cost one needless resync); all of them when
// too many are missing.
func (c *cursor) lost(now time.Time, grace time.Duration) []int64 {
	var out []int64
	for id, m := range c.Missing {
		if len(c.Missing) > maxMissing || now.Sub(m.Since) > grace || (!m.Next.IsZero() && now.Sub(m.Next) > grace) {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

func (c *cursor) missingIDs() []int64 {
	ids := slices.Collect(maps.Keys(c.Missing))
	slices.Sort(ids)
	return ids
}
