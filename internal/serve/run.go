package serve

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/hashicorp/go-retryablehttp"

	"github.com/harborport/terraform-provider-harborport/internal/catalog"
	"github.com/harborport/terraform-provider-harborport/internal/harbor"
	"github.com/harborport/terraform-provider-harborport/internal/listener"
	"github.com/harborport/terraform-provider-harborport/internal/mapping"
	"github.com/harborport/terraform-provider-harborport/internal/port"
	"github.com/harborport/terraform-provider-harborport/internal/version"
)

// Main runs `serve` with args (after "serve") until ctx ends; it returns the
// process exit code.
func Main(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) int {
	o, err := Parse(args, getenv, stderr)
	if errors.Is(err, errFlagHelp) {
		return 0
	}
	if err != nil {
		_, _ = fmt.Fprintf(stderr, "harborport serve: configuration errors:\n  %s\n", strings.ReplaceAll(err.Error(), "\n", "\n  "))
		return 2
	}
	log := newLogger(o, stderr)
	if err := Run(ctx, o, log, nil); err != nil {
		log.Error("serve stopped", "error", err.Error())
		return 1
	}
	return 0
}

var errFlagHelp = errors.New("help requested")

func newLogger(o Options, w io.Writer) *slog.Logger {
	lvl := map[string]slog.Level{"debug": slog.LevelDebug, "info": slog.LevelInfo, "warn": slog.LevelWarn, "error": slog.LevelError}[o.LogLevel]
	hopts := &slog.HandlerOptions{Level: lvl}
	if o.LogFormat == "text" {
		return slog.New(slog.NewTextHandler(w, hopts))
	}
	return slog.New(slog.NewJSONHandler(w, hopts))
}

// slogLeveled forwards the clients' retry logs to slog.
type slogLeveled struct {
	l    *slog.Logger
	comp string
}

func (s slogLeveled) Error(msg string, kv ...any) { s.l.Error(msg, append(kv, "component", s.comp)...) }
func (s slogLeveled) Warn(msg string, kv ...any)  { s.l.Warn(msg, append(kv, "component", s.comp)...) }
func (s slogLeveled) Info(msg string, kv ...any)  { s.l.Debug(msg, append(kv, "component", s.comp)...) }
func (s slogLeveled) Debug(msg string, kv ...any) { s.l.Debug(msg, append(kv, "component", s.comp)...) }

var _ retryablehttp.LeveledLogger = slogLeveled{}

// Run builds the clients and the engine, checks credentials, and serves.
// ready, if not nil, receives the listening address once accepting.
func Run(ctx context.Context, o Options, log *slog.Logger, ready func(addr string)) error {
	m := mapping.Default(mapping.DefaultIDs())
	if o.MappingFile != "" {
		src, err := os.ReadFile(o.MappingFile)
		if err != nil {
			return fmt.Errorf("--mapping: %w", err)
		}
		if m, err = mapping.Parse(string(src), o.MappingFile); err != nil {
			return fmt.Errorf("--mapping: %w", err)
		}
	}
	hc, err := harbor.New(harbor.Config{URL: o.HarborURL, Username: o.HarborUsername, Password: o.HarborPassword,
		InsecureSkipVerify: o.HarborInsecure, CACertPEM: o.HarborCACertificate, MaxConcurrency: o.Concurrency,
		UserAgent: version.UserAgent(), Logger: slogLeveled{log, "harbor"}})
	if err != nil {
		return fmt.Errorf("HARBOR_URL: %w", err)
	}
	pc, err := port.New(port.Config{BaseURL: o.PortBaseURL, ClientID: o.PortClientID, ClientSecret: o.PortClientSecret,
		UserAgent: version.UserAgent(), Logger: slogLeveled{log, "port"}, Concurrency: o.Concurrency})
	if err != nil {
		return fmt.Errorf("PORT_BASE_URL: %w", err)
	}
	info, err := hc.Verify(ctx)
	if err != nil {
		return fmt.Errorf("checking Harbor at %s: %w", hc.BaseURL(), err)
	}
	if !info.NotificationEnable {
		log.Warn("Harbor has notifications disabled (notification_enable=false): it will deliver no webhooks; only --resync-interval keeps Port current")
	}
	if err := pc.Authenticate(ctx); err != nil {
		return fmt.Errorf("checking Port credentials (PORT_CLIENT_ID/PORT_CLIENT_SECRET) at %s: %w", o.PortBaseURL, err)
	}
	eng, err := catalog.New(hc, pc, m)
	if err != nil {
		return err
	}

	rec := listener.ReconcileFunc(func(ctx context.Context, k catalog.Key) error {
		cs, res, err := eng.Reconcile(ctx, k)
		var itemErr *mapping.ItemError
		if errors.As(err, &itemErr) {
			return listener.Permanent(err) // the mapping must change; retrying cannot help
		}
		if err == nil && !cs.Empty() {
			log.Info("port updated", "key", k.String(), "created", res.Created, "updated", res.Updated, "deleted", res.Deleted)
		}
		return err
	})
	srv, err := listener.New(listener.Config{
		Secret: o.WebhookSecret, PreviousSecret: o.WebhookSecretPrevious, NoAuth: o.InsecureNoAuth, SpoolDir: o.DataDir, Workers: defaultWorkers(o.Concurrency),
		Reconciler: rec, Logger: log,
		Ready: func(ctx context.Context) error {
			if _, err := hc.Verify(ctx); err != nil {
				return fmt.Errorf("harbor: %w", err)
			}
			if err := pc.Authenticate(ctx); err != nil {
				return fmt.Errorf("port: %w", err)
			}
			return nil
		},
	})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", o.Listen)
	if err != nil {
		lerr := fmt.Errorf("--listen %s: %w", o.Listen, err)
		if cerr := srv.Spool().Close(); cerr != nil {
			return errors.Join(lerr, fmt.Errorf("close spool: %w", cerr))
		}
		return lerr
	}
	log.Info("listening", "addr", ln.Addr().String(), "tls", o.TLSCert != "", "harbor", hc.BaseURL(), "harbor_version", info.Version,
		"port", o.PortBaseURL, "blueprints", strings.Join(eng.Owned(), ","), "version", version.Version)
	if ready != nil {
		ready(ln.Addr().String())
	}
	if o.ResyncInterval > 0 {
		go resyncLoop(ctx, eng, o.ResyncInterval, log)
	}
	var serveFn func(*http.Server, net.Listener) error
	if o.TLSCert != "" {
		serveFn = func(hs *http.Server, l net.Listener) error { return hs.ServeTLS(l, o.TLSCert, o.TLSKey) }
	}
	return srv.Run(ctx, ln, 30*time.Second, serveFn)
}

// resyncLoop runs a full sync every interval: Harbor drops events after 3
// failed attempts (internal/harbor/API-NOTES.md "Webhook delivery"), so this is
// what bounds staleness. The deletion threshold guards it as it guards
// terraform apply.
//
// While it runs, the engine logs at info what terraform shows under
// TF_LOG=INFO: per Harbor kind the items read and mapped and the rate (at
// most every 2 s, and when the kind is done), per blueprint the writes, and
// a summary line for the plan and for the apply.
func resyncLoop(ctx context.Context, eng *catalog.Engine, every time.Duration, log *slog.Logger) {
	eng = eng.WithProgress(func(msg string, kv ...any) { log.Info(msg, append(kv, "component", "resync")...) })
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		start := time.Now()
		rep, err := eng.Compute(ctx)
		if err != nil {
			log.Error("periodic resync: reading failed", "error", err.Error())
			continue
		}
		cs := rep.Changeset
		if cs.DeletesBlocked != "" {
			log.Error("periodic resync: deletes blocked", "reason", cs.DeletesBlocked)
		}
		res, err := eng.Apply(ctx, cs)
		c := cs.Counts()
		attrs := []any{"created", res.Created, "updated", res.Updated, "deleted", res.Deleted, "unchanged", c.Unchanged,
			"already_done", res.AlreadyDone, "skipped", len(res.Skipped), "failed", len(res.Failed), "seconds", time.Since(start).Seconds()}
		if len(res.Skipped) > 0 {
			// The workers wrote these entities while the resync computed: their
			// write is newer than the resync's read, so it stands.
			log.Info("periodic resync left entities the workers changed meanwhile", "skipped", len(res.Skipped), "first", res.Skipped[0].String())
		}
		if err != nil {
			log.Error("periodic resync: applying failed", append(attrs, "error", err.Error())...)
			continue
		}
		log.Info("periodic resync done", attrs...)
	}
}
