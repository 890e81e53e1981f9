// Package serve is `terraform-provider-harborport serve`: it reads flags and
// environment, builds the Harbor and Port clients and the catalog engine
// exactly as the provider does, and runs the webhook listener on them, with
// the audit-log feed (internal/auditfeed), the periodic resync and the report
// of projects without a webhook policy beside it.
package serve

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/harborport/terraform-provider-harborport/internal/mapping"
)

// Options is the listener's configuration once flags and environment are read.
type Options struct {
	Listen         string
	MappingFile    string
	DataDir        string
	WebhookSecret  string
	InsecureNoAuth bool
	ResyncInterval time.Duration
	TLSCert        string
	TLSKey         string
	Concurrency    int
	LogFormat      string // text | json
	LogLevel       string // debug | info | warn | error
	// AuditPollInterval is how often the audit-log feed polls Harbor; 0 = off.
	AuditPollInterval time.Duration
	// WebhookPolicyName is harborport_webhook's policy name, for the report of
	// projects without a policy.
	WebhookPolicyName string

	// WebhookSecretPrevious is accepted beside WebhookSecret during a rotation.
	WebhookSecretPrevious string

	// Scope and PrefixIdentifiers are harborport_sync's scope and
	// prefix_identifiers: the listener writes within the same scope
	// (internal/DESIGN.md "Scoped ownership").
	Scope             string
	PrefixIdentifiers bool

	HarborURL, HarborUsername, HarborPassword, HarborCACertificate string
	HarborInsecure                                                 bool
	PortClientID, PortClientSecret, PortBaseURL                    string
}

// setting is a flag with its environment fallback, named together in errors.
type setting struct{ flag, env string }

func (s setting) String() string { return "--" + s.flag + " (or " + s.env + ")" }

var (
	fListen      = setting{"listen", "HARBORPORT_LISTEN"}
	fMapping     = setting{"mapping", "HARBORPORT_MAPPING"}
	fDataDir     = setting{"data-dir", "HARBORPORT_DATA_DIR"}
	fSecret      = setting{"webhook-secret", "HARBORPORT_WEBHOOK_SECRET"}
	fSecretPrev  = setting{"webhook-secret-previous", "HARBORPORT_WEBHOOK_SECRET_PREVIOUS"}
	fResync      = setting{"resync-interval", "HARBORPORT_RESYNC_INTERVAL"}
	fTLSCert     = setting{"tls-cert", "HARBORPORT_TLS_CERT"}
	fTLSKey      = setting{"tls-key", "HARBORPORT_TLS_KEY"}
	fConcurrency = setting{"concurrency", "HARBORPORT_MAX_CONCURRENCY"}
	fLogFormat   = setting{"log-format", "HARBORPORT_LOG_FORMAT"}
	fLogLevel    = setting{"log-level", "HARBORPORT_LOG_LEVEL"}
	fAuditPoll   = setting{"audit-poll-interval", "HARBORPORT_AUDIT_POLL_INTERVAL"}
	fPolicyName  = setting{"webhook-policy-name", "HARBORPORT_WEBHOOK_POLICY_NAME"}
	fScope       = setting{"scope", "HARBORPORT_SCOPE"}
	fPrefixIDs   = setting{"prefix-identifiers", "HARBORPORT_PREFIX_IDENTIFIERS"}
)

// Parse reads args (after "serve") with getenv as the fallback for every
// flag; Harbor and Port credentials come only from the environment, the same
// variables the provider reads, so they never show in `ps`.
func Parse(args []string, getenv func(string) string, stderr io.Writer) (Options, error) {
	fs := flag.NewFlagSet("terraform-provider-harborport serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	env := func(s setting, def string) string {
		if v := strings.TrimSpace(getenv(s.env)); v != "" {
			return v
		}
		return def
	}
	var o Options
	var resync, concurrency, auditPoll string
	fs.StringVar(&o.Listen, fListen.flag, env(fListen, ":8000"), "address to listen on "+envNote(fListen))
	fs.StringVar(&o.MappingFile, fMapping.flag, env(fMapping, ""), "port-app-config YAML file; default the built-in mapping "+envNote(fMapping))
	fs.StringVar(&o.DataDir, fDataDir.flag, env(fDataDir, "./harborport-data"), "directory of the durable event spool "+envNote(fDataDir))
	fs.StringVar(&o.WebhookSecret, fSecret.flag, "", "the Authorization value Harbor sends (harborport_webhook.secret); prefer "+fSecret.env)
	fs.StringVar(&o.WebhookSecretPrevious, fSecretPrev.flag, "", "the old secret, also accepted while a rotation of harborport_webhook's secret is under way; prefer "+fSecretPrev.env)
	fs.BoolVar(&o.InsecureNoAuth, "insecure-no-auth", false, "accept webhooks without a secret (local experiments only)")
	fs.StringVar(&resync, fResync.flag, env(fResync, "0"), "periodic full resync, e.g. 1h; 0 = off "+envNote(fResync))
	fs.StringVar(&o.TLSCert, fTLSCert.flag, env(fTLSCert, ""), "serve HTTPS with this certificate (PEM) "+envNote(fTLSCert))
	fs.StringVar(&o.TLSKey, fTLSKey.flag, env(fTLSKey, ""), "private key of --tls-cert (PEM) "+envNote(fTLSKey))
	fs.StringVar(&concurrency, fConcurrency.flag, env(fConcurrency, "8"), "requests in flight per service and reconcile workers "+envNote(fConcurrency))
	fs.StringVar(&o.LogFormat, fLogFormat.flag, env(fLogFormat, "json"), "log format: json or text "+envNote(fLogFormat))
	fs.StringVar(&o.LogLevel, fLogLevel.flag, env(fLogLevel, "info"), "log level: debug, info, warn, error "+envNote(fLogLevel))
	fs.StringVar(&auditPoll, fAuditPoll.flag, env(fAuditPoll, "10s"), "poll Harbor's audit log this often for the changes webhooks do not report; 0 = off "+envNote(fAuditPoll))
	fs.StringVar(&o.WebhookPolicyName, fPolicyName.flag, env(fPolicyName, "harborport"),
		"harborport_webhook's policy name: projects without an enabled policy of this name are reported "+envNote(fPolicyName))
	var prefixIDs string
	fs.StringVar(&o.Scope, fScope.flag, env(fScope, ""), "ownership scope: the same as harborport_sync's scope; unset = unscoped "+envNote(fScope))
	fs.StringVar(&prefixIDs, fPrefixIDs.flag, env(fPrefixIDs, "true"),
		"with --scope: the same as harborport_sync's prefix_identifiers (true or false) "+envNote(fPrefixIDs))
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return o, errFlagHelp
		}
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q; see --help", fs.Arg(0))
	}
	if o.WebhookSecret == "" {
		o.WebhookSecret = getenv(fSecret.env)
	}
	if o.WebhookSecretPrevious == "" {
		o.WebhookSecretPrevious = getenv(fSecretPrev.env)
	}

	var errs []error
	bad := func(s setting, format string, a ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", s, fmt.Sprintf(format, a...)))
	}
	var err error
	if o.ResyncInterval, err = time.ParseDuration(resync); err != nil || o.ResyncInterval < 0 {
		if n, nerr := strconv.Atoi(resync); nerr == nil && n == 0 {
			o.ResyncInterval = 0
		} else {
			bad(fResync, "%q is not a duration; write e.g. 30m or 6h, or 0 to turn it off", resync)
		}
	} else if o.ResyncInterval > 0 && o.ResyncInterval < time.Minute {
		bad(fResync, "%s is shorter than a minute; a full resync reads all of Harbor, so use minutes or hours", o.ResyncInterval)
	}
	if o.AuditPollInterval, err = time.ParseDuration(auditPoll); err != nil || o.AuditPollInterval < 0 {
		if n, nerr := strconv.Atoi(auditPoll); nerr == nil && n == 0 {
			o.AuditPollInterval = 0
		} else {
			bad(fAuditPoll, "%q is not a duration; write e.g. 10s or 1m, or 0 to turn the audit-log feed off", auditPoll)
		}
	} else if o.AuditPollInterval > 0 && o.AuditPollInterval < time.Second {
		bad(fAuditPoll, "%s is shorter than a second; every poll is a request to Harbor, so use seconds or minutes", o.AuditPollInterval)
	}
	if err := mapping.ValidScope(o.Scope); err != nil {
		bad(fScope, "%s; it must equal harborport_sync's scope", err)
	}
	if o.PrefixIdentifiers, err = strconv.ParseBool(prefixIDs); err != nil {
		bad(fPrefixIDs, "%q is not true or false", prefixIDs)
	}
	if strings.TrimSpace(o.WebhookPolicyName) == "" {
		bad(fPolicyName, "is empty; it is harborport_webhook's name (default harborport)")
	}
	if o.Concurrency, err = strconv.Atoi(concurrency); err != nil || o.Concurrency < 1 || o.Concurrency > 64 {
		bad(fConcurrency, "%q must be a whole number from 1 to 64", concurrency)
	}
	if o.WebhookSecret == "" && !o.InsecureNoAuth {
		bad(fSecret, "no webhook secret: the listener would accept anyone's events. Set it to harborport_webhook's secret, "+
			"or pass --insecure-no-auth for a local experiment")
	}
	if o.WebhookSecret != "" && o.InsecureNoAuth {
		errs = append(errs, errors.New("--insecure-no-auth and a webhook secret are both set; drop one"))
	}
	switch {
	case o.WebhookSecretPrevious == "":
	case o.WebhookSecret == "" || o.InsecureNoAuth:
		bad(fSecretPrev, "is set without a current webhook secret: during a rotation set %s to the new value and this to the old one", fSecret)
	case o.WebhookSecretPrevious == o.WebhookSecret:
		bad(fSecretPrev, "equals %s: during a rotation the new value goes in %s and the old one here; after it, unset this", fSecret, fSecret)
	}
	if (o.TLSCert == "") != (o.TLSKey == "") {
		bad(fTLSCert, "--tls-cert and --tls-key go together; set both or neither")
	}
	switch o.LogFormat {
	case "json", "text":
	default:
		bad(fLogFormat, "%q is not json or text", o.LogFormat)
	}
	switch o.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		bad(fLogLevel, "%q is not debug, info, warn or error", o.LogLevel)
	}

	o.HarborURL = strings.TrimSpace(getenv("HARBOR_URL"))
	o.HarborUsername = strings.TrimSpace(getenv("HARBOR_USERNAME"))
	o.HarborPassword = getenv("HARBOR_PASSWORD")
	o.HarborCACertificate = getenv("HARBOR_CA_CERTIFICATE")
	if v := strings.TrimSpace(getenv("HARBOR_INSECURE")); v != "" {
		if o.HarborInsecure, err = strconv.ParseBool(v); err != nil {
			errs = append(errs, fmt.Errorf("HARBOR_INSECURE: %q is not true or false", v))
		}
	}
	o.PortClientID = strings.TrimSpace(getenv("PORT_CLIENT_ID"))
	o.PortClientSecret = getenv("PORT_CLIENT_SECRET")
	o.PortBaseURL = strings.TrimSpace(getenv("PORT_BASE_URL"))
	if o.PortBaseURL == "" {
		o.PortBaseURL = "https://api.getport.io"
	}
	for name, v := range map[string]string{"HARBOR_URL": o.HarborURL, "HARBOR_USERNAME": o.HarborUsername,
		"HARBOR_PASSWORD": o.HarborPassword, "PORT_CLIENT_ID": o.PortClientID, "PORT_CLIENT_SECRET": o.PortClientSecret} {
		if v == "" {
			errs = append(errs, fmt.Errorf("%s is not set; the listener reads Harbor and writes Port with the same variables as the provider", name))
		}
	}
	for name, v := range map[string]string{"HARBOR_URL": o.HarborURL, "PORT_BASE_URL": o.PortBaseURL} {
		if v == "" {
			continue
		}
		u, perr := url.Parse(v)
		switch {
		case perr != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https"):
			errs = append(errs, fmt.Errorf("%s is not an http(s) URL like https://harbor.example.com", name))
		case u.User != nil:
			errs = append(errs, fmt.Errorf("%s carries credentials in the URL; put them in the *_USERNAME/*_PASSWORD variables", name))
		}
	}
	sortErrors(errs)
	return o, errors.Join(errs...)
}

func envNote(s setting) string { return "(env " + s.env + ")" }

// sortErrors keeps error output stable (map iteration above is random).
func sortErrors(errs []error) {
	for i := 1; i < len(errs); i++ {
		for j := i; j > 0 && errs[j].Error() < errs[j-1].Error(); j-- {
			errs[j], errs[j-1] = errs[j-1], errs[j]
		}
	}
}

// defaultWorkers is the reconcile worker count when not tied to concurrency.
func defaultWorkers(concurrency int) int { return max(2, min(concurrency, 4*runtime.NumCPU())) }
