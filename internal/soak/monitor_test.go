package soak

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/harborport/terraform-provider-harborport/internal/sandbox/harborsim"
	"github.com/harborport/terraform-provider-harborport/internal/sandbox/portsim"
)

// monitor polls Port (in-process, past the simulated faults) and checks
// that no entity ever goes back to an older Harbor state.
//
// What Port shows for an object is a Harbor version: the stamp the mapping
// copied into the entity when it is there; when it is not, the version of
// the object's latest deletion in Harbor before the poll (0 if it was never
// deleted), since "absent" is what Port should show after that deletion. An
// absence observed while Harbor changed the object during the poll is
// ambiguous and skipped. A placeholder (an entity Port created for a
// relation target, without properties) counts only when Harbor does not
// have the object: a deleted object brought back as a placeholder.
type monitor struct {
	hs *harborsim.Server
	ps *portsim.Server

	mu          sync.Mutex
	logIdx      int
	timeline    map[string][]harborsim.StampEvent
	maxObs      map[string]int64
	regressions []regression
	ops         []*opRec
	pending     map[string][]*opRec // key → operations not yet seen in Port
	polls       int
	observed    int
	ambiguous   int
}

type regression struct {
	Key       string
	From, To  int64
	At        time.Time
	What      string
	Harbor    []harborsim.StampEvent // the key's Harbor history up to then
	PortState string
}

func (r regression) String() string {
	var h []string
	for _, e := range r.Harbor {
		h = append(h, fmt.Sprintf("v%d@%s present=%v", e.Version, e.At.Format("15:04:05.000"), e.Present))
	}
	return fmt.Sprintf("%s at %s: %s went from Harbor version %d to %d (%s); Harbor history: %s",
		r.What, r.At.Format("15:04:05.000"), r.Key, r.From, r.To, r.PortState, strings.Join(h, ", "))
}

// opRec is one Harbor operation and when Port first showed its effect.
type opRec struct {
	typ       string
	key       string
	version   int64
	at        time.Time
	reflected time.Duration // 0 until reflected
	late      bool          // reflected only after quiescence (by the final apply)
}

func newMonitor(hs *harborsim.Server, ps *portsim.Server) *monitor {
	return &monitor{hs: hs, ps: ps, timeline: map[string][]harborsim.StampEvent{}, maxObs: map[string]int64{},
		pending: map[string][]*opRec{}}
}

// operation records a Harbor operation whose object now has version v.
func (m *monitor) operation(typ, key string, v int64, at time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	o := &opRec{typ: typ, key: key, version: v, at: at}
	m.ops = append(m.ops, o)
	m.pending[key] = append(m.pending[key], o)
}

var blueprintKinds = map[string]string{
	"harborProject": "project", "harborUser": "user", "harborRepository": "repository", "harborArtifact": "artifact",
}

type portObs struct {
	version int64
	stub    bool
}

func (m *monitor) readPort() map[string]portObs {
	out := map[string]portObs{}
	for bp, kind := range blueprintKinds {
		for _, e := range m.ps.Entities(bp) {
			id, _ := e["identifier"].(string)
			props, _ := e["properties"].(map[string]any)
			v, ok := props[versionProp].(float64)
			out[harborsim.StampKey(kind, id)] = portObs{version: int64(v), stub: !ok}
		}
	}
	return out
}

func (m *monitor) absorb(evs []harborsim.StampEvent) {
	for _, e := range evs {
		m.timeline[e.Key] = append(m.timeline[e.Key], e)
	}
}

// at returns the key's latest Harbor event at or before t.
func (m *monitor) at(key string, t time.Time) (harborsim.StampEvent, bool) {
	tl := m.timeline[key]
	i := sort.Search(len(tl), func(i int) bool { return tl[i].At.After(t) })
	if i == 0 {
		return harborsim.StampEvent{}, false
	}
	return tl[i-1], true
}

// absentVersion is the version of the key's latest deletion at or before t.
func (m *monitor) absentVersion(key string, t time.Time) int64 {
	tl := m.timeline[key]
	for i := len(tl) - 1; i >= 0; i-- {
		if !tl[i].At.After(t) && !tl[i].Present {
			return tl[i].Version
		}
	}
	return 0
}

func (m *monitor) changedDuring(key string, from, to time.Time) bool {
	for _, e := range m.timeline[key] {
		if e.At.After(from) && !e.At.After(to) {
			return true
		}
	}
	return false
}

// poll observes Port once.
func (m *monitor) poll() {
	m.mu.Lock()
	defer m.mu.Unlock()
	evs, idx := m.hs.StampLog(m.logIdx)
	m.absorb(evs)
	ts := time.Now()
	port := m.readPort()
	te := time.Now()
	evs, m.logIdx = m.hs.StampLog(idx)
	m.absorb(evs)
	m.polls++

	keys := map[string]bool{}
	for k := range port {
		keys[k] = true
	}
	for k := range m.timeline {
		keys[k] = true
	}
	for key := range keys {
		obs, ok := port[key]
		var v int64
		switch {
		case ok && !obs.stub:
			v = obs.version
		case ok: // a placeholder
			before, hb := m.at(key, ts)
			if m.changedDuring(key, ts, te) || (hb && before.Present) {
				continue
			}
			if hb { // Harbor deleted the object, Port shows it again as a placeholder
				m.regressions = append(m.regressions, regression{Key: key, From: m.maxObs[key], To: 0, At: te,
					What: "deleted object back as a placeholder", Harbor: append([]harborsim.StampEvent(nil), m.timeline[key]...),
					PortState: "placeholder"})
			}
			continue
		default:
			if m.changedDuring(key, ts, te) {
				m.ambiguous++
				continue
			}
			v = m.absentVersion(key, ts)
		}
		m.observed++
		if prev := m.maxObs[key]; v < prev {
			state := "absent"
			if ok {
				state = fmt.Sprintf("present with version %d", v)
			}
			m.regressions = append(m.regressions, regression{Key: key, From: prev, To: v, At: te, What: "regression",
				Harbor: append([]harborsim.StampEvent(nil), m.timeline[key]...), PortState: state})
			continue
		}
		m.maxObs[key] = v
		if ops := m.pending[key]; len(ops) > 0 {
			keep := ops[:0]
			for _, o := range ops {
				if o.version <= v {
					o.reflected = max(ts.Sub(o.at), time.Millisecond)
				} else {
					keep = append(keep, o)
				}
			}
			m.pending[key] = keep
		}
	}
}

// finish marks what was reflected only by the final poll after quiescence.
func (m *monitor) finish() {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, o := range m.ops {
		if o.reflected == 0 {
			o.late = true
		}
	}
}
