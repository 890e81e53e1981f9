package harborsim

import (
	"fmt"
	"math/rand/v2"
)

// SeedConfig sizes a deterministic data set.
type SeedConfig struct {
	Projects, ReposPerProject, ArtifactsPerRepo, Users int
	Seed                                               int64
}

var (
	seedProjectBases = []string{"acme", "data.lake", "ml_ops", "web", "infra-core"}
	// Unicode is allowed in user names and free text, never in project, repository or tag
	// names (see names.go for the grammars).
	seedRealnames = []string{"Zoë Ångström", "李雷", "Ñandú Pérez", "Ōsaka Tarō", "Plain User", "Ελένη Παππά"}
	seedRepoDescs = []string{"", "Überwachung — 監視 service", "", "payments API <beta> & \"quotes\""}
)

// Seed adds a deterministic data set: the same config on a fresh server yields byte-identical
// responses. It deliberately mixes the cases clients get wrong:
//   - projects: public (every 4th) and private, empty ones (every 6th has no repositories), one
//     all-digit name per 10 (needs X-Is-Resource-Name), extra metadata strings on some;
//   - repositories: flat, nested two and three levels ("team/svc", "a/b/c"), names with
//     '.', '_', '__' and '--', unicode and HTML-ish descriptions;
//   - artifacts: untagged, single- and multi-tag, multi-arch indexes whose children are hidden
//     from default lists, never scanned, scanned clean (summary {}), scanned with only some
//     severities, never pulled ("0001-01-01T00:00:00.000Z") and pulled;
//   - users: unicode user and real names, one extra sysadmin, project memberships.
//
// Children of an index count toward ArtifactsPerRepo, so the total artifact count is exactly
// Projects' non-empty share × ReposPerProject × ArtifactsPerRepo. Seeding fires no webhooks and
// writes no audit records: seeded state predates the audit log.
func (s *Server) Seed(cfg SeedConfig) {
	rng := rand.New(rand.NewPCG(uint64(cfg.Seed), 0x5eed))
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seedRuns++
	prefix := ""
	if s.seedRuns > 1 {
		prefix = fmt.Sprintf("s%d-", s.seedRuns)
	}
	var users []*user
	for i := 0; i < cfg.Users; i++ {
		name := fmt.Sprintf("%suser-%04d", prefix, i)
		if i%5 == 1 {
			name = fmt.Sprintf("%sjürgen-%04d", prefix, i)
		}
		now := s.now()
		u := &user{id: s.nextUserID, username: name, password: fmt.Sprintf("Passw0rd-%d", i),
			email: fmt.Sprintf("%suser%04d@example.com", prefix, i), realname: seedRealnames[i%len(seedRealnames)],
			admin: i%10 == 9, created: now, updated: now}
		if i%3 == 0 {
			u.comment = "seeded"
		}
		s.nextUserID++
		s.addUserLocked(u)
		users = append(users, u)
	}
	for i := 0; i < cfg.Projects; i++ {
		name := fmt.Sprintf("%s%s-%04d", prefix, seedProjectBases[i%len(seedProjectBases)], i)
		if i%10 == 3 {
			name = fmt.Sprintf("%d", 9000+i+(s.seedRuns-1)*100000)
		}
		p := s.createProjectLocked(name, i%4 == 0, 1)
		if i%5 == 2 {
			p.metadata["auto_scan"] = "true"
			p.metadata["prevent_vul"] = "true"
			p.metadata["severity"] = "high"
		}
		if i%7 == 3 {
			p.metadata["reuse_sys_cve_allowlist"] = "true"
		}
		if len(users) > 0 {
			p.members[users[i%len(users)].id] = 1 + i%4
		}
		if i%6 == 5 {
			continue // empty project
		}
		for j := 0; j < cfg.ReposPerProject; j++ {
			s.seedRepo(rng, p, j, cfg)
		}
	}
}

func (s *Server) seedRepo(rng *rand.Rand, p *project, j int, cfg SeedConfig) {
	var repo string
	switch j % 4 {
	case 0:
		repo = fmt.Sprintf("app-%03d", j)
	case 1:
		repo = fmt.Sprintf("team/svc-%03d", j)
	case 2:
		repo = fmt.Sprintf("a/b/c-%03d", j)
	default:
		repo = fmt.Sprintf("img_x.y__z--w-%03d", j)
	}
	budget := cfg.ArtifactsPerRepo
	for k := 0; budget > 0; k++ {
		opts := PushOptions{Digest: fakeDigest(fmt.Sprintf("seed%d/%s/%s/%d", cfg.Seed, p.name, repo, k)),
			Size: 50_000 + rng.Int64N(400_000_000)}
		if k%11 == 5 && budget >= 3 {
			opts.Children = 2 + rng.IntN(2)
			if opts.Children+1 > budget {
				opts.Children = budget - 1
			}
			opts.Size = 0
		}
		budget -= opts.Children + 1
		var tags []string
		switch {
		case k%10 == 0:
		case k%7 == 3:
			tags = []string{fmt.Sprintf("1.%d.0", k), fmt.Sprintf("1.%d", k), fmt.Sprintf("stable-%d", k)}
		default:
			tags = []string{fmt.Sprintf("v%d", k)}
		}
		if budget == 0 && len(tags) > 0 {
			tags = append(tags, "latest")
		}
		_, digest, err := s.pushLocked(p.name, repo, tags, opts, false)
		if err != nil {
			panic("harborsim: seed: " + err.Error()) // the generator only produces valid names
		}
		r := p.repoByName[p.name+"/"+repo]
		if j%3 == 0 {
			r.description = seedRepoDescs[k%len(seedRepoDescs)]
		}
		a := r.byDigest[digest]
		switch k % 3 {
		case 1:
			if s.opts.NoScanner {
				break
			}
			s.scanLocked(a, map[string]int{})
		case 2:
			if s.opts.NoScanner {
				break
			}
			counts := map[string]int{}
			for _, sev := range severityOrder {
				if rng.IntN(3) == 0 {
					counts[sev] = 1 + rng.IntN(40)
				}
			}
			if len(counts) == 0 {
				counts["Medium"] = 1
			}
			s.scanLocked(a, counts)
		}
		if k%4 == 1 {
			now := s.now()
			a.pullTime = now
			if len(a.tags) > 0 {
				a.tags[0].pullTime = now
			}
			r.pullCount++
		}
	}
}
