package harborsim

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
)

// PushOptions tunes PushArtifact.
type PushOptions struct {
	Size     int64  // manifest+layers size in bytes; default derived from the digest
	Children int    // > 0 pushes a multi-arch index with this many child manifests
	Digest   string // optional explicit digest (sha256:<64 hex>)
	Operator string // webhook operator; default the admin user
}

// Media types Harbor reports for the simulated artifacts (real-api-artifacts-list.json).
const (
	mediaTypeImageConfig = "application/vnd.docker.container.image.v1+json"
	mediaTypeManifestV2  = "application/vnd.docker.distribution.manifest.v2+json"
	mediaTypeOCIIndex    = "application/vnd.oci.image.index.v1+json"
	dockerIconDigest     = "sha256:0048162a053eef4d4ce3fe7518615bef084403614f8bca43b40ae2e762e11e06"
)

var childPlatforms = []string{"amd64", "arm64", "ppc64le", "s390x", "386", "riscv64", "mips64le"}

// ErrNotFound is wrapped by admin-operation errors about missing objects.
var ErrNotFound = errors.New("not found")

// AddUser creates a local user and returns its user_id. It panics on a duplicate or empty
// username (a test-setup bug); use AddUserE to get an error instead.
func (s *Server) AddUser(username, password string, admin bool) int {
	id, err := s.AddUserE(username, password, admin)
	if err != nil {
		panic("harborsim: " + err.Error())
	}
	return id
}

// AddUserE is AddUser returning an error. Usernames may contain unicode, as Harbor only rejects
// a few ASCII specials (`,"~#%$`).
func (s *Server) AddUserE(username, password string, admin bool) (int, error) {
	if username == "" || strings.ContainsAny(username, `,"~#%$`) || strings.HasPrefix(username, "robot$") {
		return 0, fmt.Errorf("invalid username %q: must be non-empty, not start with robot$ and not contain , \" ~ # %% $", username)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.usersByName[username] != nil {
		return 0, fmt.Errorf("user %s already exists", username)
	}
	now := s.now()
	u := &user{id: s.nextUserID, username: username, password: password, email: username + "@example.com",
		realname: username, admin: admin, created: now, updated: now}
	s.nextUserID++
	s.addUserLocked(u)
	s.auditLocked(now, userAuditRecord("create", username, "", s.opts.AdminUser, true))
	return int(u.id), nil
}

func (s *Server) addUserLocked(u *user) {
	s.users[u.id] = u
	s.usersByName[u.username] = u
	if !u.isRobot {
		s.userOrder = append(s.userOrder, u)
	}
}

// AddRobot creates the system robot "robot$<name>" covering all projects. systemUserList grants
// system user:list (possible since Harbor 2.12, internal/harbor/API-NOTES.md "Users"); without
// it GET /users is 403. It panics where AddRobotE fails (user:list before Harbor 2.12).
func (s *Server) AddRobot(name, secret string, systemUserList bool) {
	if systemUserList && !s.rel.robotUserList() {
		panic("harborsim: " + ErrRobotUserList.Error() + " (Harbor " + s.opts.Version + " robots cannot hold user:list)")
	}
	full := "robot$" + strings.TrimPrefix(name, "robot$")
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.usersByName[full] != nil {
		panic("harborsim: robot " + full + " already exists")
	}
	now := s.now()
	s.usersByName[full] = &user{username: full, password: secret, isRobot: true, robotList: systemUserList, created: now, updated: now}
	s.auditLocked(now, robotAuditRecord("create", full, s.opts.AdminUser))
}

// RevokeUser makes a user's (or robot's) credentials stop working: requests fall back to
// anonymous, exactly like wrong credentials.
func (s *Server) RevokeUser(username string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u := s.usersByName[username]; u != nil {
		u.revoked = true
	}
}

// AddMember makes a user a member of a project with a role (RoleProjectAdmin, RoleDeveloper,
// RoleGuest, RoleMaintainer).
func (s *Server) AddMember(projectName, username string, role int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.projByName[projectName]
	if p == nil {
		return fmt.Errorf("project %s: %w", projectName, ErrNotFound)
	}
	u := s.usersByName[username]
	if u == nil || u.isRobot {
		return fmt.Errorf("user %s: %w", username, ErrNotFound)
	}
	if role < RoleProjectAdmin || role > RoleMaintainer {
		return fmt.Errorf("invalid role %d: use RoleProjectAdmin(1), RoleDeveloper(2), RoleGuest(3) or RoleMaintainer(4)", role)
	}
	p.members[u.id] = role
	return nil
}

// CreateProject creates a project owned by the admin and returns its project_id. It panics on an
// invalid or duplicate name; use CreateProjectE for an error.
func (s *Server) CreateProject(name string, public bool) int {
	id, err := s.CreateProjectE(name, public)
	if err != nil {
		panic("harborsim: " + err.Error())
	}
	return id
}

// CreateProjectE is CreateProject returning an error (message as Harbor's 409 for duplicates).
func (s *Server) CreateProjectE(name string, public bool) (int, error) {
	if err := validateProjectName(name); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.projByName[name] != nil {
		return 0, fmt.Errorf("The project named %s already exists", name)
	}
	p := s.createProjectLocked(name, public, 1)
	s.auditLocked(p.created, projectAuditRecord("create", p, s.opts.AdminUser))
	return int(p.id), nil
}

func (s *Server) createProjectLocked(name string, public bool, owner int64) *project {
	now := s.now()
	p := &project{id: s.nextProject, name: name, ownerID: owner, created: now, updated: now,
		metadata: map[string]string{"public": fmt.Sprint(public)}, members: map[int64]int{owner: RoleProjectAdmin},
		repoByName: map[string]*repository{}}
	s.nextProject++
	s.projects[p.id] = p
	s.projByName[name] = p
	i := sort.Search(len(s.projOrder), func(i int) bool { return s.projOrder[i].name >= name })
	s.projOrder = append(s.projOrder, nil)
	copy(s.projOrder[i+1:], s.projOrder[i:])
	s.projOrder[i] = p
	return p
}

// SetProjectMetadata sets one metadata value (stored as a string, like Harbor).
func (s *Server) SetProjectMetadata(projectName, key, value string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.projByName[projectName]
	if p == nil {
		return fmt.Errorf("project %s: %w", projectName, ErrNotFound)
	}
	p.metadata[key] = value
	p.updated = s.now()
	return nil
}

// DeleteProject deletes an empty project; with repositories it fails with Harbor's 412 message.
func (s *Server) DeleteProject(name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.projByName[name]
	if p == nil {
		return fmt.Errorf("project %s not found: %w", name, ErrNotFound)
	}
	if len(p.repos) > 0 {
		return errors.New("precondition failed: the project contains repositories, can not be deleted")
	}
	delete(s.projects, p.id)
	delete(s.projByName, name)
	for i, q := range s.projOrder {
		if q == p {
			s.projOrder = append(s.projOrder[:i], s.projOrder[i+1:]...)
			break
		}
	}
	s.auditLocked(s.now(), projectAuditRecord("delete", p, s.opts.AdminUser))
	return nil
}

func (s *Server) findRepoLocked(projectName, repo string) (*repository, error) {
	p := s.projByName[projectName]
	if p == nil {
		return nil, fmt.Errorf("project %s: %w", projectName, ErrNotFound)
	}
	full := projectName + "/" + repo
	if r := p.repoByName[full]; r != nil {
		return r, nil
	}
	return nil, fmt.Errorf("repository %s: %w", full, ErrNotFound)
}

func (s *Server) findArtifactLocked(projectName, repo, ref string) (*repository, *artifact, *tag, error) {
	r, err := s.findRepoLocked(projectName, repo)
	if err != nil {
		return nil, nil, nil, err
	}
	if strings.HasPrefix(ref, "sha256:") {
		if a := r.byDigest[ref]; a != nil {
			return r, a, nil, nil
		}
		return r, nil, nil, fmt.Errorf("artifact %s@%s: %w", r.name, ref, ErrNotFound)
	}
	if t := r.byTag[ref]; t != nil {
		return r, t.art, t, nil
	}
	return r, nil, nil, fmt.Errorf("artifact %s:%s: %w", r.name, ref, ErrNotFound)
}

// PushArtifact simulates `docker push project/repo:tag...`: it creates the repository on first
// push, the artifact (or, with opts.Children, an OCI index plus its untagged child manifests),
// and moves tags that already pointed elsewhere. Re-pushing a known digest only adds tags; the
// artifact's push_time stays (real-api-artifact-tags-list.json). Events: one PUSH_ARTIFACT per
// manifest, children first (tag = child digest), as Harbor fires them
// (internal/harbor/API-NOTES.md "Webhook payloads").
func (s *Server) PushArtifact(projectName, repo string, tags []string, opts PushOptions) (string, error) {
	s.mu.Lock()
	evs, digest, err := s.pushLocked(projectName, repo, tags, opts, true)
	s.auditArtifactEventsLocked(evs)
	s.startScansLocked(evs)
	s.mu.Unlock()
	s.emit(evs)
	return digest, err
}

func (s *Server) pushLocked(projectName, repo string, tags []string, opts PushOptions, events bool) ([]Event, string, error) {
	p := s.projByName[projectName]
	if p == nil {
		return nil, "", fmt.Errorf("project %s: %w", projectName, ErrNotFound)
	}
	if err := validateRepoName(projectName, repo); err != nil {
		return nil, "", err
	}
	for _, t := range tags {
		if err := validateTag(t); err != nil {
			return nil, "", err
		}
	}
	if opts.Digest != "" {
		if err := validateDigest(opts.Digest); err != nil {
			return nil, "", err
		}
	}
	if opts.Children < 0 || opts.Children > 64 {
		return nil, "", fmt.Errorf("children must be between 0 and 64, got %d", opts.Children)
	}
	operator := opts.Operator
	if operator == "" {
		operator = s.opts.AdminUser
	}
	r, _ := s.findRepoLocked(projectName, repo)
	if r == nil {
		now := s.now()
		r = &repository{id: s.nextRepo, project: p, name: projectName + "/" + repo, created: now, updated: now,
			byDigest: map[string]*artifact{}, byTag: map[string]*tag{}}
		s.nextRepo++
		p.repos = append(p.repos, r)
		p.repoByName[r.name] = r
		s.repos = append(s.repos, r)
	}
	digest := opts.Digest
	if digest == "" {
		digest = fakeDigest(fmt.Sprintf("%s@%d", r.name, s.nextArtifact+1))
	}
	var evs []Event
	a := r.byDigest[digest]
	if a != nil && opts.Children > 0 && len(a.references) == 0 {
		return nil, "", fmt.Errorf("digest %s already exists in %s as a single-platform image", digest, r.name)
	}
	if a == nil {
		var refs []*reference
		var total int64
		for i := 0; i < opts.Children; i++ {
			cd := fakeDigest(fmt.Sprintf("%s/child/%d", digest, i))
			c := r.byDigest[cd]
			if c == nil {
				c = s.newArtifactLocked(r, cd, 0, childPlatforms[i%len(childPlatforms)])
				if events {
					evs = append(evs, s.artifactEvent("PUSH_ARTIFACT", operator, c, nil))
				}
			}
			if c.parents == 0 {
				r.children++
			}
			c.parents++
			total += c.size
			refs = append(refs, &reference{child: c, architecture: c.arch, os: c.os})
		}
		size := opts.Size
		if opts.Children > 0 && size == 0 {
			size = total + 1024
		}
		a = s.newArtifactLocked(r, digest, size, "amd64")
		if opts.Children > 0 {
			a.mediaType, a.manifestType, a.artifactType, a.references = mediaTypeOCIIndex, mediaTypeOCIIndex, "", refs
			a.arch, a.os = "", ""
		}
	}
	var tagNames []string
	for _, name := range tags {
		s.attachTagLocked(r, a, name)
		tagNames = append(tagNames, name)
	}
	r.updated = s.now()
	if events {
		evs = append(evs, s.artifactEvent("PUSH_ARTIFACT", operator, a, tagNames))
	}
	return evs, digest, nil
}

func (s *Server) newArtifactLocked(r *repository, digest string, size int64, arch string) *artifact {
	now := s.now()
	s.nextArtifact++
	if size == 0 {
		sum := sha256.Sum256([]byte(digest))
		size = 1_000_000 + int64(sum[0])<<16 + int64(sum[1])<<8 + int64(sum[2])
	}
	a := &artifact{id: s.nextArtifact, repo: r, digest: digest, size: size, mediaType: mediaTypeImageConfig,
		manifestType: mediaTypeManifestV2, artifactType: mediaTypeImageConfig, kind: "IMAGE", pushTime: now,
		arch: arch, os: "linux", created: now.Add(-time.Hour)}
	r.arts = append(r.arts, a)
	r.byDigest[digest] = a
	return a
}

// attachTagLocked adds or moves a tag to a (a pushed tag moves, keeping its id).
func (s *Server) attachTagLocked(r *repository, a *artifact, name string) {
	now := s.now()
	if t := r.byTag[name]; t != nil {
		if t.art == a {
			return
		}
		old := t.art
		old.tags = removeTag(old.tags, t)
		t.art, t.pushTime, t.pullTime = a, now, time.Time{}
		a.tags = append(a.tags, t)
		return
	}
	s.nextTag++
	t := &tag{id: s.nextTag, name: name, art: a, pushTime: now}
	r.byTag[name] = t
	a.tags = append(a.tags, t)
}

func removeTag(ts []*tag, t *tag) []*tag {
	for i, x := range ts {
		if x == t {
			return append(ts[:i:i], ts[i+1:]...)
		}
	}
	return ts
}

// AddTag attaches a new tag through the API path (POST …/artifacts/{ref}/tags): it fails when the
// tag exists in the repository and fires no webhook (CREATE_TAG is not deliverable,
// internal/harbor/API-NOTES.md "Events Harbor does not deliver").
func (s *Server) AddTag(projectName, repo, digest, tagName string) error {
	if err := validateTag(tagName); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, a, _, err := s.findArtifactLocked(projectName, repo, digest)
	if err != nil {
		return err
	}
	if r.byTag[tagName] != nil {
		return fmt.Errorf("tag %s already exists in %s", tagName, r.name)
	}
	s.attachTagLocked(r, a, tagName)
	s.auditLocked(s.now(), tagAuditRecord("create", r, tagName, s.opts.AdminUser))
	return nil
}

// DeleteTag removes a tag from the artifact with digest; no webhook (DELETE_TAG is not delivered).
func (s *Server) DeleteTag(projectName, repo, digest, tagName string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, a, _, err := s.findArtifactLocked(projectName, repo, digest)
	if err != nil {
		return err
	}
	t := r.byTag[tagName]
	if t == nil || t.art != a {
		return fmt.Errorf("tag %s on %s@%s: %w", tagName, r.name, digest, ErrNotFound)
	}
	a.tags = removeTag(a.tags, t)
	delete(r.byTag, tagName)
	s.auditLocked(s.now(), tagAuditRecord("delete", r, tagName, s.opts.AdminUser))
	return nil
}

// DeleteArtifact deletes a root artifact (an index takes its otherwise unreferenced children
// with it). Deleting a child still referenced by an index fails like Harbor's 412. One
// DELETE_ARTIFACT event for the root only (internal/harbor/API-NOTES.md "Webhook payloads"). The
// repository stays, even empty.
func (s *Server) DeleteArtifact(projectName, repo, digest string) error {
	s.mu.Lock()
	r, a, _, err := s.findArtifactLocked(projectName, repo, digest)
	if err != nil {
		s.mu.Unlock()
		return err
	}
	if a.parents > 0 {
		s.mu.Unlock()
		return fmt.Errorf("the deleting artifact %s@%s is referenced by others", r.name, digest)
	}
	var tagNames []string
	for _, t := range a.sortedTags() {
		tagNames = append(tagNames, t.name)
	}
	ev := s.artifactEvent("DELETE_ARTIFACT", s.opts.AdminUser, a, tagNames)
	s.removeArtifactLocked(r, a)
	for _, ref := range a.references {
		c := ref.child
		c.parents--
		if c.parents == 0 {
			r.children--
			if len(c.tags) == 0 {
				s.removeArtifactLocked(r, c)
			}
		}
	}
	r.updated = s.now()
	s.auditArtifactEventsLocked([]Event{ev})
	s.mu.Unlock()
	s.emit([]Event{ev})
	return nil
}

func (s *Server) removeArtifactLocked(r *repository, a *artifact) {
	for _, t := range a.tags {
		delete(r.byTag, t.name)
	}
	delete(r.byDigest, a.digest)
	for i, x := range r.arts {
		if x == a {
			r.arts = append(r.arts[:i], r.arts[i+1:]...)
			break
		}
	}
}

// Severities accepted by ScanArtifact, highest first (src/pkg/scan/vuln/severity.go).
var severityOrder = []string{"Critical", "High", "Medium", "Low", "Negligible", "Unknown"}

// ScanArtifact stores a successful Trivy report with the given counts per severity
// (e.g. {"High":2,"Low":51}); zero counts are dropped so the summary lists only the severities
// that occur, and no counts at all means severity "None" with summary {}
// (internal/harbor/API-NOTES.md "Scan overview"). Fires SCANNING_COMPLETED. reference is a
// digest or a tag; scanning by tag puts that tag into the event. See ScanArtifactWithStatus for
// failed and stopped scans.
func (s *Server) ScanArtifact(projectName, repo, reference string, counts map[string]int) error {
	return s.ScanArtifactWithStatus(projectName, repo, reference, "Success", counts)
}

// PullArtifact simulates a pull by tag or digest: the artifact's pull_time, the tag's pull_time
// (by tag only) and the repository's pull_count change; fires PULL_ARTIFACT.
func (s *Server) PullArtifact(projectName, repo, reference string) error {
	s.mu.Lock()
	r, a, t, err := s.findArtifactLocked(projectName, repo, reference)
	if err != nil {
		s.mu.Unlock()
		return err
	}
	now := s.now()
	a.pullTime = now
	var tagNames []string
	if t != nil {
		t.pullTime = now
		tagNames = []string{t.name}
	}
	r.pullCount++
	r.updated = now
	ev := s.artifactEvent("PULL_ARTIFACT", s.opts.AdminUser, a, tagNames)
	s.auditArtifactEventsLocked([]Event{ev})
	s.mu.Unlock()
	s.emit([]Event{ev})
	return nil
}

func (s *Server) artifactEvent(typ, operator string, a *artifact, tags []string) Event {
	r := a.repo
	ev := Event{Type: typ, OccurAt: s.now(), Operator: operator, ProjectID: r.project.id, ProjectName: r.project.name,
		Public: r.project.public(), RepoName: r.name, RepoCreated: r.created, Digest: a.digest, Tags: tags, Tag: a.digest}
	if len(tags) > 0 {
		ev.Tag = tags[0]
	}
	return ev
}

// sortedTags returns tags newest first (push_time desc, id desc), the order Harbor lists them.
func (a *artifact) sortedTags() []*tag {
	out := append([]*tag(nil), a.tags...)
	sort.Slice(out, func(i, j int) bool {
		if !out[i].pushTime.Equal(out[j].pushTime) {
			return out[i].pushTime.After(out[j].pushTime)
		}
		return out[i].id > out[j].id
	})
	return out
}

func fakeDigest(seed string) string {
	sum := sha256.Sum256([]byte(seed))
	return "sha256:" + hex.EncodeToString(sum[:])
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
