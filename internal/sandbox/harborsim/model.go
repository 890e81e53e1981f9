package harborsim

import "time"

// Project member roles (src/common/const.go).
const (
	RoleProjectAdmin = 1
	RoleDeveloper    = 2
	RoleGuest        = 3
	RoleMaintainer   = 4
)

type user struct {
	id        int64
	username  string
	password  string
	email     string
	realname  string
	comment   string
	admin     bool
	revoked   bool
	created   time.Time
	updated   time.Time
	isRobot   bool
	robotList bool  // robot holds system user:list (Harbor >= 2.12, internal/harbor/API-NOTES.md "Users")
	auditList bool  // robot holds system audit-log:list (auditlog.go)
	deleted   bool  // DELETE /users/{id}: kept under its id, renamed "<name>#<id>" (admin_users.go)
	ver       int64 // Options.StampVersions (versions.go)
}

type project struct {
	id         int64
	name       string
	ownerID    int64
	metadata   map[string]string // all values are strings (internal/harbor/API-NOTES.md "Projects")
	created    time.Time
	updated    time.Time
	members    map[int64]int          // user id -> role
	repos      []*repository          // ascending id
	repoByName map[string]*repository // full name → repo
	policies   []*webhookPolicy
	ver        int64 // Options.StampVersions (versions.go)
}

func (p *project) public() bool { return p.metadata["public"] == "true" }

type repository struct {
	id          int64
	project     *project
	name        string // full name incl. project, e.g. "p/a/b"
	description string
	pullCount   int64
	created     time.Time
	updated     time.Time
	// arts holds every artifact (index children included) in ascending (push_time, id) order,
	// which is Harbor's default list order reversed (-push_time,-id,
	// internal/harbor/API-NOTES.md "Sort orders"). Pushes append, so the default listing needs
	// no sort.
	arts     []*artifact
	byDigest map[string]*artifact
	byTag    map[string]*tag
	children int   // artifacts referenced by an index (hidden from the default list)
	ver      int64 // Options.StampVersions (versions.go)
}

// visibleCount is artifact_count: Harbor counts with the default base filter, so index children
// are excluded (internal/harbor/API-NOTES.md "Artifacts").
func (r *repository) visibleCount() int64 { return int64(len(r.arts) - r.children) }

type artifact struct {
	id           int64
	repo         *repository
	digest       string
	size         int64
	mediaType    string
	manifestType string
	artifactType string
	kind         string // IMAGE, ...
	pushTime     time.Time
	pullTime     time.Time
	tags         []*tag // ascending (push_time, id)
	references   []*reference
	parents      int // number of indexes referencing this artifact
	arch, os     string
	created      time.Time
	scan         *scanReport
	ver          int64 // Options.StampVersions (versions.go)
}

type reference struct {
	child        *artifact
	architecture string
	os           string
}

type tag struct {
	id       int64
	name     string
	art      *artifact
	pushTime time.Time
	pullTime time.Time
}

type scanReport struct {
	mimeType string
	reportID string
	status   string
	counts   map[string]int // only non-zero severities
	fixable  int
	start    time.Time
	end      time.Time
}

type webhookPolicy struct {
	id          int64
	projectID   int64
	name        string
	description string
	creator     string
	enabled     bool
	eventTypes  []string
	targets     []webhookTarget
	created     time.Time
	updated     time.Time
}

type webhookTarget struct {
	Type           string `json:"type,omitempty"`
	Address        string `json:"address,omitempty"`
	AuthHeader     string `json:"auth_header,omitempty"`
	SkipCertVerify bool   `json:"skip_cert_verify,omitempty"`
	PayloadFormat  string `json:"payload_format,omitempty"`
}
