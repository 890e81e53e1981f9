// Command sandbox runs the Port and Harbor simulators as a standalone process
// for `make demo`, benchmarks and manual experiments.
//
//	go run ./internal/sandbox/cmd/sandbox -port-listen 127.0.0.1:9001 -harbor-listen 127.0.0.1:9002
//
// Benchmarks run it with -demo-data=false -harbor-no-library -harbor-seed
// PxRxA -latency 5ms -addr-file F, so the simulators' CPU and memory are
// not counted against the engine.
//
// It prints KEY=URL lines (PORT_BASE_URL, HARBOR_URL), then serves until
// SIGINT or SIGTERM. GET /_sandbox/catalog on the Port simulator prints the
// blueprints and entities it holds, for a person to read; the Harbor
// simulator's admin API (POST /_sim/push, /_sim/scan, …) changes the registry.
// Harbor's admin user is admin / Harbor12345, as in harbor.yml.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/pprof"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/harborport/terraform-provider-harborport/internal/sandbox/harborsim"
	"github.com/harborport/terraform-provider-harborport/internal/sandbox/portsim"
)

func main() {
	portListen := flag.String("port-listen", "127.0.0.1:0", "address of the Port simulator")
	clientID := flag.String("port-client-id", envOr("PORT_CLIENT_ID", "sandbox-client"), "client ID the Port simulator accepts")
	clientSecret := flag.String("port-client-secret", envOr("PORT_CLIENT_SECRET", "sandbox-secret"), "client secret the Port simulator accepts")
	harborListen := flag.String("harbor-listen", "127.0.0.1:0", "address of the Harbor simulator")
	demo := flag.Bool("demo-data", true, "fill Harbor with the demo registry (a few projects with the awkward cases)")
	seed := flag.String("harbor-seed", "", "also seed Harbor deterministically: PROJECTSxREPOSxARTIFACTS, e.g. 20x100x50")
	seedUsers := flag.Int("harbor-seed-users", 3, "users -harbor-seed adds besides admin")
	noLibrary := flag.Bool("harbor-no-library", false, "start Harbor without its default public \"library\" project")
	harborVersion := flag.String("harbor-version", harborsim.Version215, "the Harbor release to simulate, e.g. "+harborsim.Version211+
		" (no auditlog-exts, robots without user:list)")
	latency := flag.Duration("latency", 0, "fixed delay added to every API request of both simulators (e.g. 5ms), for benchmarks")
	addrFile := flag.String("addr-file", "", "write KEY=URL lines here once listening (for scripts)")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the whole run here (for profiling the simulators under a benchmark)")
	flag.Parse()
	if *latency < 0 {
		log.Fatalf("sandbox: -latency %v: must not be negative", *latency)
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			log.Fatalf("sandbox: -cpuprofile: %v", err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			log.Fatalf("sandbox: -cpuprofile: %v", err)
		}
		defer pprof.StopCPUProfile()
	}

	ps := portsim.New(portsim.Options{ClientID: *clientID, ClientSecret: *clientSecret})
	ps.SetFaults(portsim.Faults{Latency: *latency})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /_sandbox/catalog", func(w http.ResponseWriter, _ *http.Request) { writeCatalog(w, ps) })
	// Empties a blueprint, so a plan finds every entity pending again
	// (scripts/scale.sh's full-drift step).
	mux.HandleFunc("POST /_sandbox/clear", func(w http.ResponseWriter, r *http.Request) {
		_, _ = fmt.Fprintf(w, "%d\n", ps.ClearEntities(r.URL.Query().Get("blueprint")))
	})
	mux.Handle("/", ps)

	hs := harborsim.New(harborsim.Options{Clock: time.Now, NoLibraryProject: *noLibrary, Version: *harborVersion})
	hs.SetFaults(harborsim.Faults{Latency: *latency})
	if *demo {
		if err := demoRegistry(hs); err != nil {
			log.Fatalf("sandbox: demo data: %v", err)
		}
	}
	if *seed != "" {
		var p, r, a int
		if _, err := fmt.Sscanf(*seed, "%dx%dx%d", &p, &r, &a); err != nil {
			log.Fatalf("sandbox: -harbor-seed %q: want PROJECTSxREPOSxARTIFACTS, e.g. 20x100x50", *seed)
		}
		hs.Seed(harborsim.SeedConfig{Projects: p, ReposPerProject: r, ArtifactsPerRepo: a, Users: *seedUsers, Seed: 1})
	}

	portURL, portSrv := serve(*portListen, mux)
	harborURL, harborSrv := serve(*harborListen, hs)
	lines := fmt.Sprintf("PORT_BASE_URL=%s\nHARBOR_URL=%s\n", portURL, harborURL)
	fmt.Print(lines)
	if *addrFile != "" {
		if err := os.WriteFile(*addrFile, []byte(lines), 0o600); err != nil {
			log.Fatalf("sandbox: %v", err)
		}
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = portSrv.Shutdown(shutdown)
	_ = harborSrv.Shutdown(shutdown)
}

func serve(addr string, h http.Handler) (string, *http.Server) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		log.Fatalf("sandbox: listen %s: %v", addr, err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && err != http.ErrServerClosed {
			log.Fatalf("sandbox: %v", err)
		}
	}()
	return "http://" + ln.Addr().String(), srv
}

// demoRegistry is a small registry with the cases that trip integrations up:
// a private project, a nested repository, a multi-tag and an untagged
// artifact, a scanned and a never-scanned one, a multi-arch index, an empty
// project.
func demoRegistry(hs *harborsim.Server) error {
	hs.CreateProject("platform", true)
	hs.CreateProject("payments", false)
	hs.CreateProject("sandbox-empty", false)
	hs.AddUser("alice", "Alice12345", false)
	steps := []struct {
		project, repo string
		tags          []string
		scan          map[string]int
		children      int
	}{
		{"platform", "web", []string{"latest", "1.4.2"}, map[string]int{"High": 1, "Medium": 4, "Low": 12}, 0},
		{"platform", "web", []string{"1.4.1"}, map[string]int{"Critical": 2, "High": 3}, 0},
		{"platform", "tools/builder", []string{"2025.11"}, nil, 2},
		{"payments", "ledger-api", []string{"v3.0.0", "stable"}, map[string]int{}, 0},
		{"payments", "ledger-api", nil, nil, 0},
		{"library", "nginx", []string{"1.27"}, map[string]int{"Low": 3}, 0},
	}
	for _, s := range steps {
		d, err := hs.PushArtifact(s.project, s.repo, s.tags, harborsim.PushOptions{Children: s.children})
		if err != nil {
			return err
		}
		if s.scan != nil {
			if err := hs.ScanArtifact(s.project, s.repo, d, s.scan); err != nil {
				return err
			}
		}
	}
	return nil
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// writeCatalog prints the blueprints and their entities, a few per blueprint. It stops at the
// first failed write (the client went away).
func writeCatalog(w http.ResponseWriter, ps *portsim.Server) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	ids := ps.BlueprintIDs()
	sort.Strings(ids)
	for _, id := range ids {
		bp, _ := ps.Blueprint(id)
		schema, _ := bp["schema"].(map[string]any)
		props, _ := schema["properties"].(map[string]any)
		names := make([]string, 0, len(props))
		for p := range props {
			names = append(names, p)
		}
		sort.Strings(names)
		rels := []string{}
		if rm, ok := bp["relations"].(map[string]any); ok {
			for r, v := range rm {
				rel, _ := v.(map[string]any)
				target, _ := rel["target"].(string)
				rels = append(rels, r+"→"+target)
			}
		}
		sort.Strings(rels)
		ents := ps.Entities(id)
		if _, err := fmt.Fprintf(w, "blueprint %-18s %q  properties: %s  relations: %s  entities: %d\n",
			id, bp["title"], strings.Join(names, ","), strings.Join(rels, ","), len(ents)); err != nil {
			return
		}
		for i, e := range ents {
			if i == 5 {
				if _, err := fmt.Fprintf(w, "    … %d more\n", len(ents)-5); err != nil {
					return
				}
				break
			}
			b, _ := json.Marshal(e["properties"])
			if _, err := fmt.Fprintf(w, "    %s  %s\n", e["identifier"], b); err != nil {
				return
			}
		}
	}
}
