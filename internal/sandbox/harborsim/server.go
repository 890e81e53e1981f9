package harborsim

import (
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Server is the simulator. It is an http.Handler and safe for concurrent use.
type Server struct {
	opts Options
	rel  release // Options.Version's release (release.go)

	mu           simLock // write unlocks re-stamp versions with Options.StampVersions (versions.go)
	stamps       stamps
	users        map[int64]*user
	usersByName  map[string]*user
	userOrder    []*user // ascending id (robots excluded)
	projects     map[int64]*project
	projByName   map[string]*project
	projOrder    []*project    // sorted by name (the default project sort)
	repos        []*repository // ascending id, deleted ones removed
	nextUserID   int64
	nextProject  int64
	nextRepo     int64
	nextArtifact int64
	nextTag      int64
	nextPolicy   int64
	seedRuns     int

	faultsMu sync.Mutex
	faults   Faults
	faultRNG uint64

	logMu  sync.Mutex
	counts map[string]int
	log    []LoggedRequest
	reqSeq uint64

	subsMu sync.RWMutex
	subs   []func(Event)

	delivery *deliverer // webhook delivery (delivery.go)

	audit auditStore // audit log, guarded by mu (auditlog.go)

	scanMu     sync.Mutex
	scanTimers map[*time.Timer]bool // automatic scans running (scan_on_push.go)

	defaultClock bool
	lastNow      atomic.Int64 // UnixNano of the latest s.now()
}

// New returns a simulator with the built-in admin (user_id 1; id 2 is Harbor's hidden
// "anonymous" user, so AddUser starts at 3 as in real-api-user-get.json) and, unless
// Options.NoLibraryProject, the public "library" project (project_id 1).
func New(opts Options) *Server {
	s := &Server{
		opts:        opts.withDefaults(),
		users:       map[int64]*user{},
		usersByName: map[string]*user{},
		projects:    map[int64]*project{},
		projByName:  map[string]*project{},
		nextUserID:  1,
		nextProject: 1,
		nextRepo:    1,
		counts:      map[string]int{},
		faultRNG:    0x9E3779B97F4A7C15,
	}
	s.rel = releaseOf(s.opts.Version)
	s.defaultClock = opts.Clock == nil
	if opts.StampVersions {
		s.mu.beforeUnlock = s.stampLocked
	}
	s.delivery = newDeliverer(s.opts.Delivery)
	if !s.opts.Delivery.Disabled {
		s.Subscribe(s.deliverEvent)
	}
	now := s.now()
	admin := &user{id: 1, username: s.opts.AdminUser, password: s.opts.AdminPassword, email: "admin@example.com",
		realname: "system admin", comment: "admin user", admin: true, created: now, updated: now}
	s.addUserLocked(admin)
	s.nextUserID = 3
	if !s.opts.NoLibraryProject {
		s.createProjectLocked("library", true, 1)
	}
	return s
}

func (s *Server) now() time.Time {
	t := s.opts.Clock().UTC()
	s.lastNow.Store(t.UnixNano())
	return t
}

// peekNow is "now" for reads (systeminfo.current_time): with the default step clock it repeats
// the latest mutation time, so reads never move the deterministic clock.
func (s *Server) peekNow() time.Time {
	if s.defaultClock {
		return time.Unix(0, s.lastNow.Load()).UTC()
	}
	return s.opts.Clock().UTC()
}

// ServeHTTP serves /api/v2.0/... (the Harbor API) and /_sim/... (the admin API).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/_sim/") {
		s.serveAdmin(w, r)
		return
	}
	s.delivery.host.Store(r.Host) // resource_url host when Options.ExternalURL is unset
	s.serveAPI(w, r)
}
