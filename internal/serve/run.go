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

	"github.com/harborport/terraform-provider-harborport/internal/auditfeed"
	"github.com/harborport/terraform-provider-harborport/internal/catalog"
	"github.com/harborport/terraform-provider-harborport/internal/harbor"
	"github.com/harborport/terraform-provider-harborport/internal/listener"
	"github.com/harborport/terraform-provider-harborport/internal/mapping"
	"github.com/harborport/terraform-provider-harborport/internal/port"
	"github.com/harborport/terraform-provider-harborport/internal/version"
	"github.com/harborport/terraform-provider-harborport/internal/webhookpolicy"
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
	opts := mapping.Options{Scope: o.Scope, PrefixIdentifiers: o.PrefixIdentifiers}
	m := mapping.DefaultWith(opts)
	if o.MappingFile != "" {
		src, err := os.ReadFile(o.MappingFile)
		if err != nil {
			return fmt.Errorf("--mapping: %w", err)
		}
		if m, err = mapping.ParseWith(string(src), o.MappingFile, opts); err != nil {
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
	if gaps := eng.RepositoryDeleteGaps(); len(gaps) > 0 {
		log.Warn("when Harbor deletes a repository, the artifact entities of these mapping resources cannot be found by repository "+
			"(their identifiers do not start with the repository's name): they stay in Port until the next resync or apply",
			"resources", strings.Join(gaps, "; "))
	}
	skips := &kindSkips{log: log}
	if sks, err := eng.UnreadableKinds(ctx); err != nil {
		skips.probeFailed(err)
	} else {
		skips.set(sks)
	}
	rs := &resyncer{eng: eng, log: log, skips: skips}

	var follower *auditfeed.ScanFollower
	if o.AuditPollInterval > 0 && eng.ArtifactsFollowScans() {
		follower = &auditfeed.ScanFollower{Harbor: hc, Logger: log}
	}
	rec := listener.ReconcileFunc(func(ctx context.Context, k catalog.Key) error {
		var again time.Duration
		var why string
		if k.FollowScan && follower != nil {
			// Read before the reconcile, so a scan that ends meanwhile is seen
			// at the next look (auditfeed.ScanFollower.Check).
			var err error
			if again, why, err = follower.Check(ctx, k, listener.FollowUps(ctx)); err != nil {
				return err
			}
		}
		cs, res, err := eng.Reconcile(ctx, k)
		var itemErr *mapping.ItemError
		var conflict *catalog.ScopeConflictError
		if errors.As(err, &itemErr) || errors.As(err, &conflict) {
			return listener.Permanent(err) // the mapping or scope must change; retrying cannot help
		}
		var unreadable *catalog.KindUnreadableError
		if errors.As(err, &unreadable) {
			// The account cannot read the kind at all: say so once, drop the
			// key; its entities stay as they are, as a resync leaves them.
			skips.note(unreadable.Skip)
			return nil
		}
		if err == nil && !cs.Empty() {
			log.Info("port updated", "key", k.String(), "created", res.Created, "updated", res.Updated, "deleted", res.Deleted)
		}
		if err == nil && again > 0 {
			return listener.Again(again, why)
		}
		return err
	})
	var feed *auditfeed.Feed
	cov := &coverage{policies: &webhookpolicy.Client{Harbor: hc, Concurrency: o.Concurrency, User: o.HarborUsername},
		name: o.WebhookPolicyName, log: log}
	srv, err := listener.New(listener.Config{
		Secret: o.WebhookSecret, PreviousSecret: o.WebhookSecretPrevious, NoAuth: o.InsecureNoAuth, SpoolDir: o.DataDir, Workers: defaultWorkers(o.Concurrency),
		Reconciler: rec, Logger: log, Registry: registry(cov),
		Ready: func(ctx context.Context) error {
			if _, err := hc.Verify(ctx); err != nil {
				return fmt.Errorf("harbor: %w", err)
			}
			if err := pc.Authenticate(ctx); err != nil {
				return fmt.Errorf("port: %w", err)
			}
			return nil
		},
		Parts: func() map[string]listener.PartStatus {
			parts := map[string]listener.PartStatus{"webhook_policies": cov.status(feed != nil), "harbor_kinds": skips.status()}
			if feed == nil {
				parts["audit_feed"] = listener.PartStatus{State: "off", Reason: "--audit-poll-interval is 0: tag, repository, project and user changes " +
					"made through Harbor's API reach Port only with resyncs and applies"}
			} else {
				parts["audit_feed"] = feed.Status()
			}
			return parts
		},
	})
	if err != nil {
		return err
	}
	if o.AuditPollInterval > 0 {
		feed, err = auditfeed.New(auditfeed.Config{Harbor: hc, Sink: feedSink{srv}, Interval: o.AuditPollInterval, Logger: log,
			Mapping:  auditfeed.Mapping{ArtifactsReadPulls: eng.ArtifactsReadPulls(), FollowScans: follower != nil},
			Resync:   rs.run,
			Registry: srv.Registry()})
		if err != nil {
			return errors.Join(err, srv.Close())
		}
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
		"port", o.PortBaseURL, "blueprints", strings.Join(eng.Owned(), ","), "scope", eng.Scope(), "version", version.Version)
	if ready != nil {
		ready(ln.Addr().String())
	}
	if o.ResyncInterval > 0 {
		go rs.loop(ctx, o.ResyncInterval)
	}
	if feed != nil {
		go feed.Run(ctx)
	} else {
		log.Warn("the audit-log feed is off (--audit-poll-interval 0): tags added or removed through Harbor's API, deleted repositories, " +
			"new or deleted projects and user changes reach Port only with resyncs and applies")
	}
	go cov.loop(ctx, coverageEvery, feed != nil)
	var serveFn func(*http.Server, net.Listener) error
	if o.TLSCert != "" {
		serveFn = func(hs *http.Server, l net.Listener) error { return hs.ServeTLS(l, o.TLSCert, o.TLSKey) }
	}
	return srv.Run(ctx, ln, 30*time.Second, serveFn)
}
