package harborsim

import (
	"encoding/json"
	"hash/fnv"
	"sort"
	"sync"
	"time"
)

// Version stamps (Options.StampVersions) are test instrumentation, not Harbor
// behaviour: every project, user, repository and artifact carries
// "x_harborport_version", a number that grows (from one global counter)
// whenever anything in the object's JSON changes, and a deletion gets a
// version too. A mapping that copies the stamp into Port lets a test tell,
// per entity, whether Port ever went back to an older Harbor state (the
// convergence soak, internal/soak). Off by default: the JSON is then exactly
// Harbor's.

// StampEvent is one change of one object: its new version, when, and whether
// the object exists after it (false: deleted).
type StampEvent struct {
	Key     string // "project:<name>", "user:<username>", "repository:<full name>", "artifact:<full name>@<digest>"
	Version int64
	At      time.Time
	Present bool
}

// StampKey names an object the way StampEvent.Key does.
func StampKey(kind, id string) string { return kind + ":" + id }

type stampState struct {
	ver     int64
	digest  uint64
	present bool
}

type stamps struct {
	next  int64
	state map[string]*stampState
	log   []StampEvent
}

// simLock is the server's state lock. With stamping on, releasing the write
// lock re-stamps what the mutation changed, before anyone can read it.
type simLock struct {
	sync.RWMutex
	beforeUnlock func()
}

func (l *simLock) Unlock() {
	if f := l.beforeUnlock; f != nil {
		f()
	}
	l.RWMutex.Unlock()
}

// stampLocked compares every object with its last stamped JSON and stamps
// what changed, appeared or disappeared. Cost: one encoding per object per
// mutation — fine for the soak's small registries, which is why it is off
// by default.
func (s *Server) stampLocked() {
	st := &s.stamps
	if st.state == nil {
		st.state = map[string]*stampState{}
	}
	now := time.Now()
	seen := make(map[string]bool, len(st.state))
	stamp := func(key string, v any, set func(int64)) {
		b, _ := json.Marshal(v) // the simulator's own shapes: cannot fail
		h := fnv.New64a()
		_, _ = h.Write(b)
		d := h.Sum64()
		seen[key] = true
		cur := st.state[key]
		if cur == nil {
			cur = &stampState{}
			st.state[key] = cur
		}
		if !cur.present || cur.digest != d {
			st.next++
			cur.ver, cur.digest, cur.present = st.next, d, true
			st.log = append(st.log, StampEvent{Key: key, Version: cur.ver, At: now, Present: true})
		}
		set(cur.ver)
	}
	for _, u := range s.userOrder {
		j := userJSONOf(u)
		j.Version = 0
		stamp(StampKey("user", u.username), j, func(v int64) { u.ver = v })
	}
	full := artifactView{withTag: true, withScan: true, scanner: !s.opts.NoScanner,
		mimeTypes: []string{MimeTypeGenericVulnerabilityReport, MimeTypeNativeReport}}
	for _, p := range s.projOrder {
		j := s.projectJSON(p, secCtx{}, true)
		j.Version = 0
		stamp(StampKey("project", p.name), j, func(v int64) { p.ver = v })
		for _, r := range p.repos {
			rj := repoJSON(r)
			rj.Version = 0
			stamp(StampKey("repository", r.name), rj, func(v int64) { r.ver = v })
			for _, a := range r.arts {
				aj := a.json(full)
				aj.Version = 0
				stamp(StampKey("artifact", r.name+"@"+a.digest), aj, func(v int64) { a.ver = v })
			}
		}
	}
	keys := make([]string, 0)
	for key, cur := range st.state {
		if cur.present && !seen[key] {
			keys = append(keys, key)
		}
	}
	sort.Strings(keys) // deterministic versions for deletions of several objects
	for _, key := range keys {
		cur := st.state[key]
		st.next++
		cur.ver, cur.present = st.next, false
		st.log = append(st.log, StampEvent{Key: key, Version: cur.ver, At: now, Present: false})
	}
}

// Stamp returns an object's current version and whether it exists (with
// Options.StampVersions; zero otherwise). kind is project, user, repository
// or artifact; id the name, username, full name, or "<full name>@<digest>".
func (s *Server) Stamp(kind, id string) (version int64, present bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if cur := s.stamps.state[StampKey(kind, id)]; cur != nil {
		return cur.ver, cur.present
	}
	return 0, false
}

// StampLog returns the stamp events from index from on, and the index to
// ask from next time.
func (s *Server) StampLog(from int) ([]StampEvent, int) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if from >= len(s.stamps.log) {
		return nil, len(s.stamps.log)
	}
	return append([]StampEvent(nil), s.stamps.log[from:]...), len(s.stamps.log)
}
