package soak

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"time"

	"github.com/harborport/terraform-provider-harborport/internal/sandbox/harborsim"
)

// world is the driver's model of the registry it mutates (only the driver
// mutates Harbor), so that each random operation is a valid one. Choices
// go through sorted slices, so a seed gives the same sequence of decisions.
type world struct {
	hs       *harborsim.Server
	r        *rand.Rand
	projects map[string]*wProject
	users    map[string]bool
	deleted  []wDeleted // artifacts deleted, for re-pushes of the same digest
	next     int
	counts   map[string]int // operations done, by type
	failed   map[string]int // operations Harbor refused (a model bug if ever > 0)
}

type wProject struct {
	public bool
	repos  map[string]*wRepo // short repository name →
}

type wRepo struct {
	arts map[string]map[string]bool // digest → tags
}

type wDeleted struct{ project, repo, digest string }

func newWorld(hs *harborsim.Server, r *rand.Rand) *world {
	return &world{hs: hs, r: r, projects: map[string]*wProject{}, users: map[string]bool{},
		counts: map[string]int{}, failed: map[string]int{}}
}

func (w *world) name(prefix string) string {
	w.next++
	return fmt.Sprintf("%s%d", prefix, w.next)
}

// initial builds the registry the first apply syncs: three projects with
// two repositories of two artifacts each, one of them nested, and two users.
func (w *world) initial() {
	for i, p := range []string{"apps", "data", "ml"} {
		w.must(w.hs.CreateProjectE(p, i == 0))
		w.projects[p] = &wProject{public: i == 0, repos: map[string]*wRepo{}}
		for _, repo := range []string{"web", "team/api"} {
			for range 2 {
				w.must(w.push(p, repo, []string{w.name("t")}, ""))
			}
		}
	}
	for range 2 {
		u := w.name("user")
		w.must(w.hs.AddUserE(u, "Soak-pass1", false))
		w.users[u] = true
	}
}

func (w *world) must(_ any, err error) {
	if err != nil {
		panic(err)
	}
}

func (w *world) push(project, repo string, tags []string, digest string) (string, error) {
	d, err := w.hs.PushArtifact(project, repo, tags, harborsim.PushOptions{Digest: digest})
	if err != nil {
		return "", err
	}
	p := w.projects[project]
	if p.repos[repo] == nil {
		p.repos[repo] = &wRepo{arts: map[string]map[string]bool{}}
	}
	r := p.repos[repo]
	if r.arts[d] == nil {
		r.arts[d] = map[string]bool{}
	}
	for _, t := range tags {
		for _, other := range r.arts { // a tag moves to the newly pushed artifact
			delete(other, t)
		}
		r.arts[d][t] = true
	}
	return d, nil
}

// op is one kind of operation: its weight in the random choice and what it
// does; do returns the object it changed (kind and id, as the stamps name
// them), or ok false when the world has nothing it applies to right now.
type op struct {
	name   string
	weight int
	do     func(w *world) (kind, id string, ok bool, err error)
}

var ops = []op{
	{"push (new artifact)", 18, (*world).opPushNew},
	{"push (existing digest, new tag)", 5, (*world).opRepush},
	{"push (digest deleted before)", 3, (*world).opRepushDeleted},
	{"tag add (API)", 9, (*world).opTagAdd},
	{"tag remove (API)", 6, (*world).opTagDel},
	{"artifact delete", 7, (*world).opArtifactDelete},
	{"repository delete", 2, (*world).opRepoDelete},
	{"scan complete", 9, (*world).opScan},
	{"scan failed", 2, (*world).opScanFailed},
	{"pull", 6, (*world).opPull},
	{"project create", 3, (*world).opProjectCreate},
	{"project delete", 2, (*world).opProjectDelete},
	{"project public flip", 3, (*world).opProjectFlip},
	{"user create", 3, (*world).opUserCreate},
	{"user update", 3, (*world).opUserUpdate},
	{"user delete", 2, (*world).opUserDelete},
}

// step performs one random operation and tells the monitor.
func (w *world) step(m *monitor) {
	total := 0
	for _, o := range ops {
		total += o.weight
	}
	for range 10 { // an operation with nothing to act on: pick again
		n := w.r.IntN(total)
		var o op
		for _, c := range ops {
			if n < c.weight {
				o = c
				break
			}
			n -= c.weight
		}
		kind, id, ok, err := o.do(w)
		if !ok {
			continue
		}
		if err != nil {
			w.failed[o.name]++
			panic(fmt.Errorf("%s on %s %s: Harbor refused: %w", o.name, kind, id, err))
		}
		w.counts[o.name]++
		v, _ := w.hs.Stamp(kind, id)
		m.operation(o.name, harborsim.StampKey(kind, id), v, time.Now())
		return
	}
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func pick[T any](r *rand.Rand, s []T) T { return s[r.IntN(len(s))] }

type artRef struct{ project, repo, digest string }

func (a artRef) id() string { return a.project + "/" + a.repo + "@" + a.digest }

func (w *world) artifacts(filter func(tags map[string]bool) bool) []artRef {
	var out []artRef
	for _, p := range sortedKeys(w.projects) {
		for _, r := range sortedKeys(w.projects[p].repos) {
			arts := w.projects[p].repos[r].arts
			for _, d := range sortedKeys(arts) {
				if filter == nil || filter(arts[d]) {
					out = append(out, artRef{p, r, d})
				}
			}
		}
	}
	return out
}

func (w *world) opPushNew() (string, string, bool, error) {
	if len(w.projects) == 0 {
		return "", "", false, nil
	}
	p := pick(w.r, sortedKeys(w.projects))
	repos := sortedKeys(w.projects[p].repos)
	repo := w.name("r")
	switch {
	case len(repos) > 0 && w.r.IntN(10) < 7:
		repo = pick(w.r, repos)
	case w.r.IntN(3) == 0:
		repo = "team/" + repo
	}
	var tags []string
	for range w.r.IntN(3) {
		tags = append(tags, w.name("t"))
	}
	d, err := w.push(p, repo, tags, "")
	return "artifact", p + "/" + repo + "@" + d, true, err
}

func (w *world) opRepush() (string, string, bool, error) {
	arts := w.artifacts(nil)
	if len(arts) == 0 {
		return "", "", false, nil
	}
	a := pick(w.r, arts)
	_, err := w.push(a.project, a.repo, []string{w.name("t")}, a.digest)
	return "artifact", a.id(), true, err
}

func (w *world) opRepushDeleted() (string, string, bool, error) {
	var live []wDeleted
	for _, d := range w.deleted {
		if p := w.projects[d.project]; p != nil && (p.repos[d.repo] == nil || p.repos[d.repo].arts[d.digest] == nil) {
			live = append(live, d)
		}
	}
	if len(live) == 0 {
		return "", "", false, nil
	}
	d := pick(w.r, live)
	_, err := w.push(d.project, d.repo, []string{w.name("t")}, d.digest)
	return "artifact", d.project + "/" + d.repo + "@" + d.digest, true, err
}

func (w *world) opTagAdd() (string, string, bool, error) {
	arts := w.artifacts(nil)
	if len(arts) == 0 {
		return "", "", false, nil
	}
	a := pick(w.r, arts)
	t := w.name("t")
	err := w.hs.AddTag(a.project, a.repo, a.digest, t)
	if err == nil {
		w.projects[a.project].repos[a.repo].arts[a.digest][t] = true
	}
	return "artifact", a.id(), true, err
}

func (w *world) opTagDel() (string, string, bool, error) {
	arts := w.artifacts(func(tags map[string]bool) bool { return len(tags) > 0 })
	if len(arts) == 0 {
		return "", "", false, nil
	}
	a := pick(w.r, arts)
	tags := w.projects[a.project].repos[a.repo].arts[a.digest]
	t := pick(w.r, sortedKeys(tags))
	err := w.hs.DeleteTag(a.project, a.repo, a.digest, t)
	if err == nil {
		delete(tags, t)
	}
	return "artifact", a.id(), true, err
}

func (w *world) opArtifactDelete() (string, string, bool, error) {
	arts := w.artifacts(nil)
	if len(arts) == 0 {
		return "", "", false, nil
	}
	a := pick(w.r, arts)
	err := w.hs.DeleteArtifact(a.project, a.repo, a.digest)
	if err == nil {
		delete(w.projects[a.project].repos[a.repo].arts, a.digest)
		w.deleted = append(w.deleted, wDeleted(a))
	}
	return "artifact", a.id(), true, err
}

func (w *world) opRepoDelete() (string, string, bool, error) {
	type ref struct{ p, r string }
	var repos []ref
	for _, p := range sortedKeys(w.projects) {
		for _, r := range sortedKeys(w.projects[p].repos) {
			repos = append(repos, ref{p, r})
		}
	}
	if len(repos) == 0 {
		return "", "", false, nil
	}
	x := pick(w.r, repos)
	err := w.hs.DeleteRepository(x.p, x.r)
	if err == nil {
		for _, d := range sortedKeys(w.projects[x.p].repos[x.r].arts) {
			w.deleted = append(w.deleted, wDeleted{x.p, x.r, d})
		}
		delete(w.projects[x.p].repos, x.r)
	}
	return "repository", x.p + "/" + x.r, true, err
}

func (w *world) opScan() (string, string, bool, error) {
	arts := w.artifacts(nil)
	if len(arts) == 0 {
		return "", "", false, nil
	}
	a := pick(w.r, arts)
	counts := map[string]int{}
	for range w.r.IntN(3) {
		counts[pick(w.r, []string{"Critical", "High", "Medium", "Low"})] = 1 + w.r.IntN(9)
	}
	return "artifact", a.id(), true, w.hs.ScanArtifact(a.project, a.repo, a.digest, counts)
}

func (w *world) opScanFailed() (string, string, bool, error) {
	arts := w.artifacts(nil)
	if len(arts) == 0 {
		return "", "", false, nil
	}
	a := pick(w.r, arts)
	return "artifact", a.id(), true, w.hs.ScanArtifactWithStatus(a.project, a.repo, a.digest, "Error", nil)
}

func (w *world) opPull() (string, string, bool, error) {
	arts := w.artifacts(nil)
	if len(arts) == 0 {
		return "", "", false, nil
	}
	a := pick(w.r, arts)
	return "artifact", a.id(), true, w.hs.PullArtifact(a.project, a.repo, a.digest)
}

func (w *world) opProjectCreate() (string, string, bool, error) {
	if len(w.projects) >= 8 {
		return "", "", false, nil
	}
	p := w.name("proj")
	public := w.r.IntN(2) == 0
	_, err := w.hs.CreateProjectE(p, public)
	if err == nil {
		w.projects[p] = &wProject{public: public, repos: map[string]*wRepo{}}
	}
	return "project", p, true, err
}

func (w *world) opProjectDelete() (string, string, bool, error) {
	var empty []string
	for _, p := range sortedKeys(w.projects) {
		if len(w.projects[p].repos) == 0 {
			empty = append(empty, p)
		}
	}
	if len(empty) == 0 {
		return "", "", false, nil
	}
	p := pick(w.r, empty)
	err := w.hs.DeleteProject(p)
	if err == nil {
		delete(w.projects, p)
		w.deleted = slices.DeleteFunc(w.deleted, func(d wDeleted) bool { return d.project == p })
	}
	return "project", p, true, err
}

func (w *world) opProjectFlip() (string, string, bool, error) {
	if len(w.projects) == 0 {
		return "", "", false, nil
	}
	p := pick(w.r, sortedKeys(w.projects))
	wp := w.projects[p]
	err := w.hs.SetProjectMetadata(p, "public", fmt.Sprint(!wp.public))
	if err == nil {
		wp.public = !wp.public
	}
	return "project", p, true, err
}

func (w *world) opUserCreate() (string, string, bool, error) {
	if len(w.users) >= 8 {
		return "", "", false, nil
	}
	u := w.name("user")
	_, err := w.hs.AddUserE(u, "Soak-pass1", false)
	if err == nil {
		w.users[u] = true
	}
	return "user", u, true, err
}

func (w *world) opUserUpdate() (string, string, bool, error) {
	if len(w.users) == 0 {
		return "", "", false, nil
	}
	u := pick(w.r, sortedKeys(w.users))
	name := w.name("Real Name ")
	return "user", u, true, w.hs.UpdateUser(u, harborsim.UserUpdate{Realname: &name})
}

func (w *world) opUserDelete() (string, string, bool, error) {
	if len(w.users) == 0 {
		return "", "", false, nil
	}
	u := pick(w.r, sortedKeys(w.users))
	err := w.hs.DeleteUser(u)
	if err == nil {
		delete(w.users, u)
	}
	return "user", u, true, err
}
