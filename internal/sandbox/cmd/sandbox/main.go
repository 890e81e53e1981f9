// Command sandbox runs the Port (and, later, Harbor) simulators as a
// standalone process for `make demo` and manual experiments.
//
//	go run ./internal/sandbox/cmd/sandbox -port-listen 127.0.0.1:9001
//
// It prints one line per simulator with its URL, then serves until SIGINT or
// SIGTERM. GET /_sandbox/catalog on the Port simulator prints the blueprints
// and entity counts it holds, for a person to read.
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
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/harborport/terraform-provider-harborport/internal/sandbox/portsim"
)

func main() {
	portListen := flag.String("port-listen", "127.0.0.1:0", "address of the Port simulator")
	clientID := flag.String("port-client-id", envOr("PORT_CLIENT_ID", "sandbox-client"), "client ID the Port simulator accepts")
	clientSecret := flag.String("port-client-secret", envOr("PORT_CLIENT_SECRET", "sandbox-secret"), "client secret the Port simulator accepts")
	addrFile := flag.String("addr-file", "", "write KEY=URL lines here once listening (for scripts)")
	flag.Parse()

	ps := portsim.New(portsim.Options{ClientID: *clientID, ClientSecret: *clientSecret})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /_sandbox/catalog", func(w http.ResponseWriter, _ *http.Request) { writeCatalog(w, ps) })
	mux.Handle("/", ps)

	ln, err := net.Listen("tcp", *portListen)
	if err != nil {
		log.Fatalf("sandbox: listen %s: %v", *portListen, err)
	}
	portURL := "http://" + ln.Addr().String()
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && err != http.ErrServerClosed {
			log.Fatalf("sandbox: %v", err)
		}
	}()
	lines := fmt.Sprintf("PORT_BASE_URL=%s\n", portURL)
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
	_ = srv.Shutdown(shutdown)
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// writeCatalog prints the blueprints and their entities, a few per blueprint.
func writeCatalog(w http.ResponseWriter, ps *portsim.Server) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	ids := ps.BlueprintIDs()
	sort.Strings(ids)
	for _, id := range ids {
		bp, _ := ps.Blueprint(id)
		props, _ := bp["schema"].(map[string]any)["properties"].(map[string]any)
		names := make([]string, 0, len(props))
		for p := range props {
			names = append(names, p)
		}
		sort.Strings(names)
		rels := []string{}
		if rm, ok := bp["relations"].(map[string]any); ok {
			for r, v := range rm {
				target, _ := v.(map[string]any)["target"].(string)
				rels = append(rels, r+"→"+target)
			}
		}
		sort.Strings(rels)
		ents := ps.Entities(id)
		fmt.Fprintf(w, "blueprint %-18s %q  properties: %s  relations: %s  entities: %d\n",
			id, bp["title"], strings.Join(names, ","), strings.Join(rels, ","), len(ents))
		for i, e := range ents {
			if i == 5 {
				fmt.Fprintf(w, "    … %d more\n", len(ents)-5)
				break
			}
			b, _ := json.Marshal(e["properties"])
			fmt.Fprintf(w, "    %s  %s\n", e["identifier"], b)
		}
	}
}
