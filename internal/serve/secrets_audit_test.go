package serve

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/harborport/terraform-provider-harborport/internal/catalog"
	"github.com/harborport/terraform-provider-harborport/internal/harbor"
	"github.com/harborport/terraform-provider-harborport/internal/mapping"
	"github.com/harborport/terraform-provider-harborport/internal/port"
	"github.com/harborport/terraform-provider-harborport/internal/sandbox/harborsim"
	"github.com/harborport/terraform-provider-harborport/internal/sandbox/portsim"
	"github.com/harborport/terraform-provider-harborport/internal/testenv"
	"github.com/harborport/terraform-provider-harborport/internal/testenv/synccheck"
)

// The secrets audit: the whole demo — terraform init/plan/apply/plan/show
// under every TF_LOG flavour, the listener at debug level, webhooks, error
// paths — runs with recognisable secrets, and then every byte the product
// wrote or sent is scanned for them (raw and encoded): terraform output and
// logs, state and `terraform show -json` outside sensitive attributes, the
// listener's logs, responses and spool, every Port entity and blueprint, and
// every request the simulators received except where a secret belongs (the
// Authorization header, Port's token request, Harbor's auth_header).

// Recognisable secret values. The "+/&=" makes the JSON (\u0026), URL and
// base64 forms differ from the raw one, so each encoding is really checked.
const (
	auditHarborPassword = "SA1harbor-admin-pw+/&=Kq7"
	auditRobotSecret    = "SA2harbor-robot-secret+/&=Zx9"
	auditPortSecret     = "SA3port-client-secret+/&=Rm8"
	auditWebhookToken   = "SA4webhook-secret+/&=Jd5"
	auditWrongHarbor    = "SA5wrong-harbor-pw+/&=Lp3"
	auditWrongPort      = "SA6wrong-port-secret+/&=Nv1"
	auditWrongWebhook   = "SA7wrong-webhook-secret+/&=Hc2"
	auditDriftedWebhook = "SA8drifted-webhook-secret+/&=Qw4"
	auditWriteOnly      = "SA9write-only-webhook-secret+/&=Wo6"

	auditPortClientID = "audit-client"
	auditRobotName    = "audit"
	auditRobotUser    = "robot$audit"
)

var auditWebhookSecret = "Bearer " + auditWebhookToken

// auditWOConfig is pass C: the webhook secret as secret_wo from an ephemeral
// variable, in a working directory of its own.
const auditWOConfig = `terraform {
  required_providers {
    harborport = {
      source = "harborport/harborport"
    }
  }
}

provider "harborport" {}

variable "listener_url" {
  type = string
}

variable "webhook_secret_wo" {
  type      = string
  sensitive = true
  ephemeral = true
}

resource "harborport_webhook" "listener" {
  endpoint          = "${var.listener_url}/integration/webhook"
  secret_wo         = var.webhook_secret_wo
  secret_wo_version = 1
}
`

// ---- the scanner -----------------------------------------------------------

type auditNeedle struct{ secret, form, text string }

type leakScanner struct {
	mu       sync.Mutex
	needles  []auditNeedle
	sources  []scannedSource
	findings []string
}

type scannedSource struct {
	where        string
	bytes, lines int
}

// secretForms is every way a secret may be written: raw, JSON (Go escapes
// & as \u0026; other encoders escape /), doubly JSON-escaped (JSON inside a
// JSON log line), Go-quoted, URL query/path escaped, hex, and base64 (std and
// URL alphabets) at the three byte alignments — the part of the encoding that
// depends only on the secret, so "admin:<password>" in a Basic header is found.
func secretForms(v string) map[string]string {
	forms := map[string]string{"raw": v}
	j, _ := json.Marshal(v)
	forms["json"] = string(j[1 : len(j)-1])
	forms["json-escaped-slash"] = strings.ReplaceAll(forms["json"], "/", `\/`)
	jj, _ := json.Marshal(string(j))
	forms["json-in-json"] = string(jj[3 : len(jj)-3])
	q := strconv.Quote(v)
	forms["go-quoted"] = q[1 : len(q)-1]
	forms["url-query"] = url.QueryEscape(v)
	forms["url-path"] = url.PathEscape(v)
	forms["hex"] = hex.EncodeToString([]byte(v))
	for name, enc := range map[string]*base64.Encoding{"base64": base64.StdEncoding, "base64url": base64.URLEncoding} {
		for k := range 3 {
			b := enc.EncodeToString(append(make([]byte, k), v...))
			g0, g1 := (k+2)/3, (k+len(v))/3
			forms[fmt.Sprintf("%s@%d", name, k)] = b[g0*4 : g1*4]
		}
	}
	return forms
}

func newLeakScanner(secrets map[string]string) *leakScanner {
	s := &leakScanner{}
	for name, v := range secrets {
		s.addSecret(name, v)
	}
	return s
}

func (s *leakScanner) addSecret(name, v string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	seen := map[string]bool{}
	for _, n := range s.needles {
		seen[n.text] = true
	}
	forms := secretForms(v)
	keys := make([]string, 0, len(forms))
	for k := range forms {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { // raw first: a leak is named by its plainest form
		if (keys[i] == "raw") != (keys[j] == "raw") {
			return keys[i] == "raw"
		}
		return keys[i] < keys[j]
	})
	for _, form := range keys {
		text := forms[form]
		if len(text) < 12 || seen[text] {
			continue // too short to be specific, or the same bytes as another form
		}
		seen[text] = true
		s.needles = append(s.needles, auditNeedle{name, form, text})
	}
}

// find returns the leaks in data, without recording anything.
func (s *leakScanner) find(data []byte) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, n := range s.needles {
		if i := bytes.Index(data, []byte(n.text)); i >= 0 {
			lo, hi := max(0, i-80), min(len(data), i+len(n.text)+80)
			out = append(out, fmt.Sprintf("%s (%s form) at byte %d: …%q…", n.secret, n.form, i, data[lo:hi]))
		}
	}
	return out
}

// holds reports whether data holds the named secret in any form.
func (s *leakScanner) holds(data []byte, secret string) bool {
	for _, l := range s.find(data) {
		if strings.HasPrefix(l, secret+" (") {
			return true
		}
	}
	return false
}

// scan records data as scanned under where and any leak in it.
func (s *leakScanner) scan(where string, data []byte) { s.scanExcept(where, data) }

// scanExcept is scan for data where the named secrets belong.
func (s *leakScanner) scanExcept(where string, data []byte, allowed ...string) {
	var leaks []string
	for _, l := range s.find(data) {
		ok := false
		for _, a := range allowed {
			ok = ok || strings.HasPrefix(l, a+" (")
		}
		if !ok {
			leaks = append(leaks, l)
		}
	}
	if len(allowed) > 0 {
		where += " (" + strings.Join(allowed, ", ") + " allowed)"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sources = append(s.sources, scannedSource{where, len(data), bytes.Count(data, []byte("\n"))})
	for _, l := range leaks {
		s.findings = append(s.findings, where+": "+l)
	}
}

// ---- sensitive-value redaction for state and `terraform show -json` --------

// redactMasked removes from v every value the parallel mask marks true (the
// shape of show -json's sensitive_values / before_sensitive / after_sensitive)
// and returns what it removed.
func redactMasked(v, mask any) (any, []any) {
	if b, ok := mask.(bool); ok && b {
		return "<sensitive>", []any{v}
	}
	var removed []any
	switch vv := v.(type) {
	case map[string]any:
		m, _ := mask.(map[string]any)
		out := make(map[string]any, len(vv))
		for k, x := range vv {
			var r []any
			out[k], r = redactMasked(x, m[k])
			removed = append(removed, r...)
		}
		return out, removed
	case []any:
		m, _ := mask.([]any)
		out := make([]any, len(vv))
		for i, x := range vv {
			var mi any
			if i < len(m) {
				mi = m[i]
			}
			var r []any
			out[i], r = redactMasked(x, mi)
			removed = append(removed, r...)
		}
		return out, removed
	}
	return v, nil
}

// as asserts v's dynamic type in a decoded terraform document, failing the test with what was
// found instead of panicking.
func as[T any](t *testing.T, v any) T {
	t.Helper()
	x, ok := v.(T)
	if !ok {
		t.Fatalf("got %T %v, want %T", v, v, x)
	}
	return x
}

// redactShowJSON redacts a `terraform show -json` document (state or plan):
// resource values by sensitive_values, changes by before/after_sensitive,
// variables declared sensitive. It fails the test when the document has a
// shape it does not know, so nothing escapes the scan unredacted by accident.
func redactShowJSON(t *testing.T, doc map[string]any) (map[string]any, []any) {
	t.Helper()
	var removed []any
	var module func(m map[string]any)
	module = func(m map[string]any) {
		rs, _ := m["resources"].([]any)
		for _, r := range rs {
			rm := as[map[string]any](t, r)
			v, rem := redactMasked(rm["values"], rm["sensitive_values"])
			rm["values"] = v
			removed = append(removed, rem...)
		}
		cms, _ := m["child_modules"].([]any)
		for _, c := range cms {
			module(as[map[string]any](t, c))
		}
	}
	values := func(key string, d map[string]any) {
		if vs, ok := d[key].(map[string]any); ok {
			if rm, ok := vs["root_module"].(map[string]any); ok {
				module(rm)
			}
		}
	}
	values("values", doc)         // show -json of state
	values("planned_values", doc) // of a plan
	if ps, ok := doc["prior_state"].(map[string]any); ok {
		values("values", ps)
	}
	var rcs []any
	for _, k := range []string{"resource_changes", "resource_drift"} {
		l, _ := doc[k].([]any)
		rcs = append(rcs, l...)
	}
	for _, rc := range rcs {
		ch := as[map[string]any](t, as[map[string]any](t, rc)["change"])
		for _, side := range []string{"before", "after"} {
			v, rem := redactMasked(ch[side], ch[side+"_sensitive"])
			ch[side] = v
			removed = append(removed, rem...)
		}
	}
	if vars, ok := doc["variables"].(map[string]any); ok {
		decl := map[string]any{}
		if cfg, ok := doc["configuration"].(map[string]any); ok {
			if rm, ok := cfg["root_module"].(map[string]any); ok {
				decl, _ = rm["variables"].(map[string]any)
			}
		}
		for name, v := range vars {
			if d, _ := decl[name].(map[string]any); d != nil && d["sensitive"] == true {
				removed = append(removed, v)
				vars[name] = "<sensitive variable>"
			}
		}
	}
	return doc, removed
}

// redactState redacts a terraform.tfstate (format 4): the attributes the
// provider schema marks sensitive and the paths in sensitive_attributes.
func redactState(t *testing.T, raw []byte, sensitive map[string][]string) ([]byte, []any) {
	t.Helper()
	var st map[string]any
	if err := json.Unmarshal(raw, &st); err != nil {
		t.Fatalf("state is not JSON: %v", err)
	}
	if st["version"] != float64(4) {
		t.Fatalf("state format %v; the audit knows format 4", st["version"])
	}
	var removed []any
	rs, _ := st["resources"].([]any)
	for _, r := range rs {
		rm := as[map[string]any](t, r)
		typ, _ := rm["type"].(string)
		insts, _ := rm["instances"].([]any)
		for _, in := range insts {
			im := as[map[string]any](t, in)
			attrs, _ := im["attributes"].(map[string]any)
			for _, a := range sensitive[typ] {
				if v, ok := attrs[a]; ok {
					removed = append(removed, v)
					attrs[a] = "<sensitive>"
				}
			}
			paths, _ := im["sensitive_attributes"].([]any)
			for _, p := range paths {
				steps, _ := p.([]any)
				var cur any = attrs
				for i, st := range steps {
					sm := as[map[string]any](t, st)
					key := sm["value"] // get_attr: the name; index: {"value": key, "type": …}
					if ix, ok := key.(map[string]any); ok && sm["type"] == "index" {
						key = ix["value"]
					}
					last := i == len(steps)-1
					switch c := cur.(type) {
					case map[string]any:
						k := fmt.Sprint(key)
						if last {
							if v, ok := c[k]; ok {
								removed = append(removed, v)
								c[k] = "<sensitive>"
							}
						}
						cur = c[k]
					case []any:
						n, _ := key.(float64)
						if int(n) < len(c) {
							if last {
								removed = append(removed, c[int(n)])
								c[int(n)] = "<sensitive>"
							}
							cur = c[int(n)]
						}
					}
				}
			}
		}
	}
	out, _ := json.MarshalIndent(st, "", "  ")
	return out, removed
}

// ---- an HTTP tap in front of each simulator --------------------------------

type tapEntry struct {
	req, resp string
	auth      string
}

type httpTap struct {
	name string
	next http.Handler
	// redact takes a request's path and a JSON body (request or response)
	// and removes the fields where a secret legitimately travels.
	redact func(path string, body map[string]any)
	// tokens collects Port access tokens from token responses.
	onResp func(path string, body map[string]any)

	mu      sync.Mutex
	entries []tapEntry
}

type captureWriter struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (c *captureWriter) WriteHeader(code int) {
	if c.status == 0 {
		c.status = code
	}
	c.ResponseWriter.WriteHeader(code)
}

func (c *captureWriter) Write(b []byte) (int, error) {
	if c.status == 0 {
		c.status = http.StatusOK
	}
	c.body.Write(b)
	return c.ResponseWriter.Write(b)
}

func (h *httpTap) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	cw := &captureWriter{ResponseWriter: w}
	h.next.ServeHTTP(cw, r)

	var req strings.Builder
	fmt.Fprintf(&req, "%s %s\n", r.Method, r.URL.RequestURI())
	keys := make([]string, 0, len(r.Header))
	for k := range r.Header {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if k == "Authorization" {
			continue // where credentials belong
		}
		fmt.Fprintf(&req, "%s: %s\n", k, strings.Join(r.Header[k], ", "))
	}
	req.Write(h.filter(r.URL.Path, body, false))
	resp := fmt.Sprintf("%d\n%s", cw.status, h.filter(r.URL.Path, cw.body.Bytes(), true))
	h.mu.Lock()
	h.entries = append(h.entries, tapEntry{req: req.String(), resp: resp, auth: r.Header.Get("Authorization")})
	h.mu.Unlock()
}

func (h *httpTap) filter(path string, body []byte, isResp bool) []byte {
	if len(bytes.TrimSpace(body)) == 0 {
		return body
	}
	var v any
	if json.Unmarshal(body, &v) != nil {
		return body
	}
	var each func(v any)
	each = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if isResp && h.onResp != nil {
				h.onResp(path, x)
			}
			if h.redact != nil {
				h.redact(path, x)
			}
			for _, c := range x {
				each(c)
			}
		case []any:
			for _, c := range x {
				each(c)
			}
		}
	}
	each(v)
	out, _ := json.Marshal(v)
	return out
}

func (h *httpTap) dump() (reqs, resps []byte, auths []string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	var a, b bytes.Buffer
	for _, e := range h.entries {
		a.WriteString(e.req + "\n")
		b.WriteString(e.resp + "\n")
		auths = append(auths, e.auth)
	}
	return a.Bytes(), b.Bytes(), auths
}

// ---- terraform -------------------------------------------------------------

type auditTF struct {
	t       *testing.T
	bin     string
	dir     string
	logDir  string
	env     []string
	sc      *leakScanner
	n       int
	outputs map[string][]byte // name → stdout, for later parsing
}

// cleanEnv is the test's environment without anything that could steer
// terraform or the provider (TF_*, HARBOR_*, PORT_*, HARBORPORT_*).
func cleanEnv() []string {
	var out []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "TF_") || strings.HasPrefix(k, "HARBOR_") || strings.HasPrefix(k, "PORT_") || strings.HasPrefix(k, "HARBORPORT_") {
			continue
		}
		out = append(out, kv)
	}
	return out
}

// run runs terraform with extra env (TF_LOG etc. included), scans stdout,
// stderr and the TF_LOG_PATH file, and checks the exit code.
func (a *auditTF) run(label string, extra []string, wantCode int, args ...string) (stdout, stderr string) {
	t := a.t
	t.Helper()
	a.n++
	name := fmt.Sprintf("%02d-%s", a.n, label)
	logPath := filepath.Join(a.logDir, name+".log")
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, a.bin, args...)
	cmd.Dir = a.dir
	cmd.Env = append(append(append([]string{}, a.env...), extra...), "TF_LOG_PATH="+logPath)
	var so, se bytes.Buffer
	cmd.Stdout, cmd.Stderr = &so, &se
	start := time.Now()
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("terraform %s: %v", strings.Join(args, " "), err)
	}
	logData, _ := os.ReadFile(logPath)
	if strings.HasPrefix(label, "show-") {
		// show -json prints sensitive values in clear (documented terraform
		// behaviour); it is scanned once redacted, below.
	} else {
		a.sc.scan("terraform "+name+" stdout", so.Bytes())
	}
	a.sc.scan("terraform "+name+" stderr", se.Bytes())
	a.sc.scan("terraform "+name+" TF_LOG file", logData)
	a.outputs[label] = so.Bytes()
	t.Logf("terraform %s: exit %d in %s (log %d KiB)", strings.Join(args, " "), code, time.Since(start).Round(time.Millisecond), len(logData)>>10)
	if code != wantCode {
		t.Fatalf("terraform %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, wantCode, so.String(), se.String())
	}
	return so.String(), se.String()
}

// ---- the test --------------------------------------------------------------

// The exfiltration attempt: properties that would carry the environment's
// secrets if a mapping could read it (Ocean's guard makes env and $ENV {}).
func auditMapping() string {
	y := mapping.DefaultYAML(mapping.DefaultIDs())
	for old, repl := range map[string]string{
		"            ownerName: .owner_name\n": "            ownerName: '.owner_name + (env.HARBOR_PASSWORD // \"\") + ($ENV.PORT_CLIENT_SECRET // \"\") + ($ENV.HARBORPORT_WEBHOOK_SECRET // \"\")'\n",
		"            name: .name\n":            "            name: '.name + ($ENV.HARBOR_PASSWORD // \"\") + (env.PORT_CLIENT_SECRET // \"\") + (env | tostring | if . == \"{}\" then \"\" else . end)'\n",
	} {
		if !strings.Contains(y, old) {
			panic("audit mapping: the default mapping no longer has " + old)
		}
		y = strings.Replace(y, old, repl, 1)
	}
	return y
}

const auditConfigTemplate = `terraform {
  required_providers {
    harborport = {
      source = "harborport/harborport"
    }
  }
}

%s

variable "listener_url" {
  type = string
}

variable "webhook_secret" {
  type      = string
  sensitive = true
}

resource "harborport_blueprints" "harbor" {
  delete_entities = true
}

resource "harborport_sync" "harbor" {
  blueprints = harborport_blueprints.harbor.identifiers
  mapping    = file("${path.module}/mapping.yaml")
}

resource "harborport_webhook" "listener" {
  endpoint   = "${var.listener_url}/integration/webhook"
  secret     = var.webhook_secret
  depends_on = [harborport_sync.harbor]
}
`

func TestAccSecretsAudit(t *testing.T) {
	if os.Getenv("TF_ACC") == "" {
		t.Skip("acceptance test: set TF_ACC=1 (make test does)")
	}
	if testing.Short() {
		t.Skip("runs terraform and the listener binary")
	}
	tfBin := testenv.TerraformBinary(t)
	began := time.Now()
	bin := testenv.ProviderBinary(t)

	sc := newLeakScanner(map[string]string{
		"harbor admin password": auditHarborPassword, "harbor robot secret": auditRobotSecret,
		"port client secret": auditPortSecret, "webhook secret": auditWebhookToken,
		"wrong harbor password": auditWrongHarbor, "wrong port secret": auditWrongPort,
		"wrong webhook secret": auditWrongWebhook, "drifted webhook secret": auditDriftedWebhook,
		"write-only webhook secret": auditWriteOnly,
	})

	// Simulators behind taps.
	hs := harborsim.New(harborsim.Options{AdminPassword: auditHarborPassword, Clock: time.Now,
		Delivery: harborsim.DeliveryOptions{BackoffScale: 0.001}})
	t.Cleanup(func() {
		if err := hs.Close(); err != nil {
			t.Error(err)
		}
	})
	hs.AddRobot(auditRobotName, auditRobotSecret, true)
	hs.CreateProject("apps", false)
	for _, repo := range []string{"web", "api"} {
		if _, err := hs.PushArtifact("apps", repo, []string{"1.0"}, harborsim.PushOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	htap := &httpTap{name: "harbor", next: hs, redact: func(path string, body map[string]any) {
		if strings.Contains(path, "/webhook/policies") {
			if _, ok := body["auth_header"]; ok {
				body["auth_header"] = "<auth_header>" // the webhook secret belongs in Harbor's policy
			}
		}
	}}
	hsrv := httptest.NewServer(htap)
	t.Cleanup(hsrv.Close)

	ps := portsim.New(portsim.Options{ClientID: auditPortClientID, ClientSecret: auditPortSecret})
	var tokMu sync.Mutex
	tokens := map[string]bool{}
	ptap := &httpTap{name: "port", next: ps,
		onResp: func(path string, body map[string]any) {
			if tok, ok := body["accessToken"].(string); ok && path == "/v1/auth/access_token" {
				tokMu.Lock()
				if !tokens[tok] {
					tokens[tok] = true
					sc.addSecret(fmt.Sprintf("port access token #%d", len(tokens)), tok)
				}
				tokMu.Unlock()
			}
		},
		redact: func(path string, body map[string]any) {
			if path == "/v1/auth/access_token" {
				for _, k := range []string{"clientSecret", "accessToken"} {
					if _, ok := body[k]; ok {
						body[k] = "<" + k + ">"
					}
				}
			}
		}}
	psrv := httptest.NewServer(ptap)
	t.Cleanup(psrv.Close)

	work := t.TempDir()
	mappingYAML := auditMapping()
	mappingFile := filepath.Join(work, "tf", "mapping.yaml")

	// The listener: robot credentials from the environment, debug logs, the
	// exfiltrating mapping.
	listenerEnv := append(cleanEnv(), "HARBOR_URL="+hsrv.URL, "HARBOR_USERNAME="+auditRobotUser, "HARBOR_PASSWORD="+auditRobotSecret,
		"PORT_BASE_URL="+psrv.URL, "PORT_CLIENT_ID="+auditPortClientID, "PORT_CLIENT_SECRET="+auditPortSecret,
		"HARBORPORT_WEBHOOK_SECRET="+auditWebhookSecret)
	if err := os.MkdirAll(filepath.Dir(mappingFile), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(mappingFile, []byte(mappingYAML), 0o644); err != nil {
		t.Fatal(err)
	}
	spool := filepath.Join(work, "spool")
	lis := &testenv.Listener{Bin: bin, Env: listenerEnv, StartTimeout: 60 * time.Second,
		Args: []string{"--data-dir", spool, "--log-format", "json", "--log-level", "debug", "--mapping", mappingFile}}
	lis.Start(t)

	// Terraform, offline: the provider from a filesystem mirror, so init runs.
	mirror := filepath.Join(work, "mirror", "registry.terraform.io", "harborport", "harborport", "0.0.1", runtime.GOOS+"_"+runtime.GOARCH)
	if err := os.MkdirAll(mirror, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := copyFile(bin, filepath.Join(mirror, "terraform-provider-harborport_v0.0.1")); err != nil {
		t.Fatal(err)
	}
	rc := filepath.Join(work, "terraformrc")
	if err := os.WriteFile(rc, []byte(fmt.Sprintf(`provider_installation {
  filesystem_mirror {
    path    = %q
    include = ["registry.terraform.io/harborport/harborport"]
  }
}
`, filepath.Join(work, "mirror"))), 0o644); err != nil {
		t.Fatal(err)
	}
	tfDir := filepath.Dir(mappingFile)
	logDir := filepath.Join(work, "tflogs")
	if err := os.MkdirAll(logDir, 0o755); err != nil {
		t.Fatal(err)
	}
	tf := &auditTF{t: t, bin: tfBin, dir: tfDir, logDir: logDir, sc: sc, outputs: map[string][]byte{},
		env: append(cleanEnv(), "TF_CLI_CONFIG_FILE="+rc, "TF_IN_AUTOMATION=1", "CHECKPOINT_DISABLE=1",
			"TF_VAR_listener_url="+lis.URL(), "TF_VAR_webhook_secret="+auditWebhookSecret)}
	writeConfig := func(provider string) {
		if err := os.WriteFile(filepath.Join(tfDir, "main.tf"), []byte(fmt.Sprintf(auditConfigTemplate, provider)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	trace := []string{"TF_LOG=TRACE", "TF_LOG_PROVIDER=TRACE"}
	envCreds := []string{"HARBOR_URL=" + hsrv.URL, "HARBOR_USERNAME=admin", "HARBOR_PASSWORD=" + auditHarborPassword,
		"PORT_BASE_URL=" + psrv.URL, "PORT_CLIENT_ID=" + auditPortClientID, "PORT_CLIENT_SECRET=" + auditPortSecret}
	with := func(a ...[]string) []string {
		var out []string
		for _, x := range a {
			out = append(out, x...)
		}
		return out
	}

	// Pass A: credentials in the environment, TF_LOG=TRACE, the demo's flow.
	writeConfig(`provider "harborport" {}`)
	tf.run("init", with(trace), 0, "init", "-input=false", "-no-color")
	tf.run("schema", nil, 0, "providers", "schema", "-json")
	sensitiveAttrs := schemaSensitive(t, tf.outputs["schema"])
	if got := strings.Join(sensitiveAttrs["harborport_webhook"], ","); got != "secret,secret_wo" {
		t.Fatalf("harborport_webhook's sensitive attributes are %q; the audit expects exactly secret and secret_wo", got)
	}
	out, _ := tf.run("plan-A", with(trace, envCreds), 0, "plan", "-input=false", "-no-color")
	if !strings.Contains(out, "harborport_webhook.listener will be created") {
		t.Fatalf("first plan:\n%s", out)
	}
	tf.run("apply-A", with(trace, envCreds), 0, "apply", "-input=false", "-no-color", "-auto-approve")
	// A change while webhooks are paused, so the saved plan has work to do.
	hs.PauseDeliveries()
	if _, err := hs.PushArtifact("apps", "batch", []string{"0.1"}, harborsim.PushOptions{}); err != nil {
		t.Fatal(err)
	}
	tf.run("plan-out-A", with(trace, envCreds), 0, "plan", "-input=false", "-no-color", "-out=audit.tfplan")
	tf.run("show-plan-A", with(trace, envCreds), 0, "show", "-json", "audit.tfplan")
	tf.run("apply-plan-A", with(trace, envCreds), 0, "apply", "-input=false", "-no-color", "audit.tfplan")
	hs.ResumeDeliveries()
	waitIdle(t, hs)

	// The listener at work: push, tag, scan after Port's tokens were revoked
	// (401 → new token), delete.
	waitCond(t, "listener caught up on the paused push", 30*time.Second, lis, func() bool { return listenerLine(lis, "webhook accepted") >= 1 })
	web, err := hs.PushArtifact("apps", "web", []string{"2.0"}, harborsim.PushOptions{})
	if err != nil {
		t.Fatal(err)
	}
	waitCond(t, "pushed artifact in Port", 30*time.Second, lis, func() bool { _, ok := ps.Entity("harborArtifact", "apps/web@"+web); return ok })
	ps.ExpireTokens()
	if err := hs.ScanArtifact("apps", "web", web, map[string]int{"High": 1}); err != nil {
		t.Fatal(err)
	}
	waitCond(t, "scan in Port after a token refresh", 30*time.Second, lis, func() bool {
		e, _ := ps.Entity("harborArtifact", "apps/web@"+web)
		so, _ := e["properties"].(map[string]any)["scanOverview"].(map[string]any)
		return so != nil && so["severity"] == "High"
	})
	if err := hs.DeleteArtifact("apps", "web", web); err != nil {
		t.Fatal(err)
	}
	waitCond(t, "deleted artifact gone from Port", 30*time.Second, lis, func() bool { _, ok := ps.Entity("harborArtifact", "apps/web@"+web); return !ok })
	waitIdle(t, hs)

	// Refused requests: a wrong secret, no secret, a right secret with a bad body.
	var listenerResponses bytes.Buffer
	for _, c := range []struct{ auth, ctype, body string }{
		{"Bearer " + auditWrongWebhook, "application/json", `{}`},
		{"", "application/json", `{}`},
		{auditWebhookSecret, "application/json", `{"type":"PUSH_ARTIFACT","event_data":`},
		{auditWebhookSecret, "text/plain", `x`},
	} {
		req, _ := http.NewRequest(http.MethodPost, lis.URL()+"/integration/webhook", strings.NewReader(c.body))
		req.Header.Set("Content-Type", c.ctype)
		if c.auth != "" {
			req.Header.Set("Authorization", c.auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode < 400 {
			t.Errorf("listener answered %d to %+v", resp.StatusCode, c)
		}
		_ = resp.Header.Write(&listenerResponses)
		fmt.Fprintf(&listenerResponses, "%d %s\n", resp.StatusCode, b)
	}
	for _, p := range []string{"/metrics", "/readyz", "/healthz"} {
		resp, err := http.Get(lis.URL() + p)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		fmt.Fprintf(&listenerResponses, "GET %s %d\n%s\n", p, resp.StatusCode, b)
	}
	sc.scan("listener HTTP responses (refused webhooks, /metrics, /readyz, /healthz)", listenerResponses.Bytes())

	// The listener has nothing left to do once Port equals what the mapping
	// makes of Harbor; then terraform must find nothing either.
	syncCheck := auditEngine(t, hsrv.URL, psrv.URL, mappingYAML)
	waitCond(t, "Port in sync with Harbor", 60*time.Second, lis, syncCheck)
	tf.run("plan-empty-A", with(trace, envCreds), 0, "plan", "-input=false", "-no-color", "-detailed-exitcode")
	tf.run("show-state-A", with(trace, envCreds), 0, "show", "-json")

	// Pass B: credentials as provider attributes (the robot), TF_LOG=JSON
	// (trace in JSON), and a mapping change so apply has work.
	writeConfig(fmt.Sprintf(`provider "harborport" {
  harbor_url         = %q
  harbor_username    = %q
  harbor_password    = %q
  port_base_url      = %q
  port_client_id     = %q
  port_client_secret = %q
}`, hsrv.URL, auditRobotUser, auditRobotSecret, psrv.URL, auditPortClientID, auditPortSecret))
	if err := os.WriteFile(mappingFile, []byte(strings.Replace(mappingYAML, "entityDeletionThreshold: 0.9", "entityDeletionThreshold: 0.8", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	// Someone changed the secret of the apps policy in Harbor: the plan must
	// name the drift (pending "update: secret") without either value.
	admin, err := harbor.New(harbor.Config{URL: hsrv.URL, Username: "admin", Password: auditHarborPassword})
	if err != nil {
		t.Fatal(err)
	}
	pols, err := admin.ListWebhookPolicies(context.Background(), "apps")
	if err != nil || len(pols) != 1 || len(pols[0].Targets) != 1 {
		t.Fatalf("apps webhook policies: %+v, %v", pols, err)
	}
	pols[0].Targets[0].AuthHeader = "Bearer " + auditDriftedWebhook
	if err := admin.UpdateWebhookPolicy(context.Background(), "apps", pols[0]); err != nil {
		t.Fatal(err)
	}
	jsonLog := []string{"TF_LOG=JSON", "TF_LOG_PROVIDER=TRACE"}
	out, _ = tf.run("plan-B", jsonLog, 0, "plan", "-input=false", "-no-color")
	if !strings.Contains(out, `"apps" = "update: secret"`) {
		t.Errorf("the plan does not name the drifted webhook secret:\n%s", out)
	}
	tf.run("apply-B", jsonLog, 0, "apply", "-input=false", "-no-color", "-auto-approve")
	tf.run("plan-empty-B", jsonLog, 0, "plan", "-input=false", "-no-color", "-detailed-exitcode")
	tf.run("show-state-B", jsonLog, 0, "show", "-json")

	// Pass C: the secret moves to a write-only secret_wo (an ephemeral
	// variable), rotated in the documented order: the listener first accepts
	// the new secret and the old one, then a saved plan is applied. The
	// write-only value must be nowhere in terraform's files and output, not
	// even where sensitive values are allowed (state, saved plan, show -json).
	lis.Stop(syscall.SIGTERM)
	lis.Env = append(slices.DeleteFunc(slices.Clone(listenerEnv), func(kv string) bool { return strings.HasPrefix(kv, "HARBORPORT_WEBHOOK_SECRET=") }),
		"HARBORPORT_WEBHOOK_SECRET=Bearer "+auditWriteOnly, "HARBORPORT_WEBHOOK_SECRET_PREVIOUS="+auditWebhookSecret)
	lis.Start(t)
	woDir := filepath.Join(work, "tf-wo")
	if err := os.MkdirAll(woDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(woDir, "main.tf"), []byte(auditWOConfig), 0o644); err != nil {
		t.Fatal(err)
	}
	tfWO := &auditTF{t: t, bin: tfBin, dir: woDir, logDir: logDir, sc: sc, outputs: map[string][]byte{}, n: tf.n,
		env: append(cleanEnv(), "TF_CLI_CONFIG_FILE="+rc, "TF_IN_AUTOMATION=1", "CHECKPOINT_DISABLE=1",
			"TF_VAR_listener_url="+lis.URL(), "TF_VAR_webhook_secret_wo=Bearer "+auditWriteOnly)}
	tfWO.run("init-C", with(trace), 0, "init", "-input=false", "-no-color")
	tfWO.run("plan-out-C", with(trace, envCreds), 0, "plan", "-input=false", "-no-color", "-out=wo.tfplan")
	tfWO.run("show-plan-C", with(trace, envCreds), 0, "show", "-json", "wo.tfplan")
	tfWO.run("apply-plan-C", with(trace, envCreds), 0, "apply", "-input=false", "-no-color", "wo.tfplan")
	tfWO.run("show-state-C", with(trace, envCreds), 0, "show", "-json")
	tf.n = tfWO.n
	pols, err = admin.ListWebhookPolicies(context.Background(), "apps")
	if err != nil || len(pols) != 1 || pols[0].Targets[0].AuthHeader != "Bearer "+auditWriteOnly {
		t.Fatalf("after pass C the apps policy does not hold the write-only secret (%d policies, %v)", len(pols), err)
	}
	wo, err := hs.PushArtifact("apps", "wo", []string{"1.0"}, harborsim.PushOptions{})
	if err != nil {
		t.Fatal(err)
	}
	waitCond(t, "a push delivered with the write-only secret in Port", 30*time.Second, lis, func() bool {
		_, ok := ps.Entity("harborArtifact", "apps/wo@"+wo)
		return ok
	})
	waitIdle(t, hs)
	for _, name := range []string{"show-plan-C", "show-state-C"} {
		sc.scan("terraform show -json ("+name+", nothing redacted)", tfWO.outputs[name])
	}
	err = filepath.WalkDir(woDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(woDir, p)
		switch {
		case d.IsDir() && rel == filepath.Join(".terraform", "providers"):
			return filepath.SkipDir
		case rel == "wo.tfplan":
			zr, err := zip.OpenReader(p)
			if err != nil {
				return err
			}
			defer func() { _ = zr.Close() }()
			for _, f := range zr.File {
				rc, err := f.Open()
				if err != nil {
					return err
				}
				b, err := io.ReadAll(rc)
				_ = rc.Close()
				if err != nil {
					return err
				}
				sc.scan("pass C saved plan wo.tfplan: "+f.Name+" (nothing allowed)", b)
			}
		case !d.IsDir():
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			sc.scan("pass C terraform directory: "+rel+" (nothing allowed)", b)
		}
		return nil
	})
	if err != nil {
		t.Errorf("scanning pass C's terraform directory: %v", err)
	}
	if st, err := os.ReadFile(filepath.Join(woDir, "terraform.tfstate")); err != nil || !bytes.Contains(st, []byte(`"secret_wo": null`)) ||
		!bytes.Contains(st, []byte(`"secret_wo_version": 1`)) {
		t.Errorf("pass C's state is not the one expected (secret_wo null, secret_wo_version 1): %v", err)
	}

	// Error paths, each secret where users put it: a wrong Harbor password in
	// a variable that is not marked sensitive (TF_LOG=DEBUG), a wrong Port
	// secret as a literal (TF_LOG=INFO), a wrong Harbor password in the
	// environment (TF_LOG=WARN); the provider logs at TRACE throughout.
	writeConfig(`provider "harborport" {
  harbor_username = var.harbor_username
  harbor_password = var.harbor_password
}

variable "harbor_username" {
  type = string
}

variable "harbor_password" {
  type = string
}`)
	wrongVars := filepath.Join(tfDir, "wrong.auto.tfvars")
	if err := os.WriteFile(wrongVars, []byte(fmt.Sprintf("harbor_username = %q\nharbor_password = %q\n", "admin", auditWrongHarbor)), 0o600); err != nil {
		t.Fatal(err)
	}
	_, errOut := tf.run("plan-wrong-harbor-var", with([]string{"TF_LOG=DEBUG", "TF_LOG_PROVIDER=TRACE"}, envCreds), 1, "plan", "-input=false", "-no-color")
	if !strings.Contains(errOut, "Harbor Rejected the Credentials") {
		t.Errorf("wrong Harbor password in a variable: not the expected error:\n%s", errOut)
	}
	if err := os.Remove(wrongVars); err != nil {
		t.Fatal(err)
	}
	writeConfig(fmt.Sprintf(`provider "harborport" {
  port_client_id     = %q
  port_client_secret = %q
}`, auditPortClientID, auditWrongPort))
	_, errOut = tf.run("plan-wrong-port-literal", with([]string{"TF_LOG=INFO", "TF_LOG_PROVIDER=TRACE"}, envCreds), 1, "plan", "-input=false", "-no-color")
	if !strings.Contains(errOut, "Port Rejected the Credentials") || !strings.Contains(errOut, "401") {
		t.Errorf("wrong Port secret: not the expected error with Port's 401:\n%s", errOut)
	}
	writeConfig(`provider "harborport" {}`)
	_, errOut = tf.run("plan-wrong-harbor-env", with([]string{"TF_LOG=WARN", "TF_LOG_PROVIDER=TRACE"}, envCreds, []string{"HARBOR_PASSWORD=" + auditWrongHarbor}), 1,
		"plan", "-input=false", "-no-color")
	if !strings.Contains(errOut, "anonymous") {
		t.Errorf("wrong Harbor password in the environment: the error does not say Harbor answered as anonymous:\n%s", errOut)
	}

	// serve's error paths: wrong Harbor password, wrong Port secret.
	for _, c := range []struct{ name, kv, want string }{
		{"wrong Harbor password", "HARBOR_PASSWORD=" + auditWrongHarbor, "anonymous"},
		{"wrong Port secret", "PORT_CLIENT_SECRET=" + auditWrongPort, "401"},
	} {
		l := &testenv.Listener{Bin: bin, Env: append(append([]string{}, listenerEnv...), c.kv)}
		l.RunToExit(t, []string{"--listen", "127.0.0.1:0", "--data-dir", t.TempDir(), "--log-format", "text", "--log-level", "debug"}, 60*time.Second)
		if code := l.ExitCode(); code != 1 || !strings.Contains(l.Log(), c.want) {
			t.Errorf("serve with a %s: exit %d, want 1 and %q in:\n%s", c.name, code, c.want, l.Log())
		}
		sc.scan("serve with a "+c.name+": stdout+stderr", []byte(l.Log()))
	}

	// The running listener: stop it (its spool is closed), then its log and spool.
	lis.Stop(syscall.SIGTERM)
	listenerLog := []byte(lis.Log())
	sc.scan("listener stdout+stderr (debug, JSON)", listenerLog)
	spoolFiles := 0
	_ = filepath.WalkDir(spool, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, rerr := os.ReadFile(p)
			if rerr == nil {
				sc.scan("listener spool file "+filepath.Base(p), b)
				spoolFiles++
			}
		}
		return nil
	})
	if spoolFiles == 0 {
		t.Error("the listener's spool directory holds no file to scan")
	}

	// The saved plan (a zip: plan, prior state, configuration snapshot) holds
	// the webhook secret by design (a sensitive variable and attribute), but
	// none of the credentials, which came from the environment.
	zr, err := zip.OpenReader(filepath.Join(tfDir, "audit.tfplan"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		if err != nil {
			t.Fatalf("saved plan audit.tfplan: %s: %v", f.Name, err)
		}
		_ = rc.Close()
		sc.scanExcept("saved plan audit.tfplan: "+f.Name, b, "webhook secret")
	}
	_ = zr.Close()
	// Everything else terraform left in its directory (.terraform, the lock
	// file, any crash log), but the provider binary and the files the test wrote.
	skip := map[string]bool{"main.tf": true, "mapping.yaml": true, "audit.tfplan": true, "terraform.tfstate": true, "terraform.tfstate.backup": true}
	// A file the walk cannot read fails the audit: skipping it would let a leak pass unseen.
	err = filepath.WalkDir(tfDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(tfDir, p)
		switch {
		case skip[rel]:
			return nil
		case d.IsDir() && rel == filepath.Join(".terraform", "providers"):
			return filepath.SkipDir
		case !d.IsDir():
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			sc.scan("terraform directory: "+rel, b)
		}
		return nil
	})
	if err != nil {
		t.Errorf("scanning the terraform directory: %v", err)
	}

	// State and show -json: secrets only where sensitive.
	for _, f := range []string{"terraform.tfstate", "terraform.tfstate.backup"} {
		raw, err := os.ReadFile(filepath.Join(tfDir, f))
		if err != nil {
			t.Fatal(err)
		}
		if !sc.holds(raw, "webhook secret") {
			t.Errorf("%s does not hold the webhook secret at all: the sensitive-attribute check below would prove nothing", f)
		}
		red, removed := redactState(t, raw, sensitiveAttrs)
		sc.scan(f+" (sensitive attributes removed)", red)
		requireRemoved(t, sc, f, removed)
	}
	for _, name := range []string{"show-plan-A", "show-state-A", "show-state-B"} {
		var doc map[string]any
		if err := json.Unmarshal(tf.outputs[name], &doc); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		red, removed := redactShowJSON(t, doc)
		b, _ := json.MarshalIndent(red, "", "  ")
		sc.scan("terraform show -json ("+name+", sensitive values removed)", b)
		requireRemoved(t, sc, name, removed)
	}

	// Port: every blueprint and entity.
	var entities int
	for _, bp := range ps.BlueprintIDs() {
		def, _ := ps.Blueprint(bp)
		b, _ := json.Marshal(def)
		sc.scan("Port blueprint "+bp, b)
		es := ps.Entities(bp)
		entities += len(es)
		b, _ = json.Marshal(es)
		sc.scan("Port entities of "+bp, b)
	}
	if entities < 5 {
		t.Errorf("Port holds %d entities; the demo should have filled it", entities)
	}
	// The exfiltration mapping ran and yielded nothing from the environment.
	for _, c := range []struct{ bp, id, prop, want string }{
		{"harborRepository", "apps/web", "name", "apps/web"},
		{"harborRepository", "apps/batch", "name", "apps/batch"},
		{"harborProject", "apps", "ownerName", "admin"},
	} {
		e, ok := ps.Entity(c.bp, c.id)
		if !ok {
			t.Errorf("%s/%s is not in Port", c.bp, c.id)
			continue
		}
		if got := as[map[string]any](t, e["properties"])[c.prop]; got != c.want {
			t.Errorf("%s/%s.%s = %v, want %q: a mapping reading env/$ENV got something", c.bp, c.id, c.prop, got, c.want)
		}
	}

	// Every request the simulators saw (Authorization header, Port's token
	// exchange and Harbor's auth_header aside), their responses, their own
	// request logs, and Harbor's webhook deliveries.
	for _, tp := range []*httpTap{htap, ptap} {
		reqs, resps, auths := tp.dump()
		sc.scan(tp.name+" simulator: requests (method, URL, headers, bodies)", reqs)
		sc.scan(tp.name+" simulator: responses", resps)
		if tp == ptap {
			tokMu.Lock()
			n := len(tokens)
			used := map[string]bool{}
			for _, a := range auths {
				if tokens[strings.TrimPrefix(a, "Bearer ")] {
					used[a] = true
				}
			}
			tokMu.Unlock()
			if n < 2 || len(used) < 2 {
				t.Errorf("Port issued %d tokens and %d were used; the audit wants at least 2 of each (one after ExpireTokens)", n, len(used))
			}
		}
	}
	hl, _ := json.Marshal(hs.RequestLog())
	sc.scan("harbor simulator request log", hl)
	pl, _ := json.Marshal(ps.RequestLog())
	sc.scan("port simulator request log", pl)
	dl, _ := json.Marshal(hs.DeliveryLog())
	sc.scan("harbor webhook delivery log (payloads, listener answers)", dl)

	// The logs really are the verbose ones.
	traceLog, _ := os.ReadFile(filepath.Join(logDir, "04-apply-A.log"))
	for _, want := range []string{"[TRACE]", "harborport_client", "sdk.framework", "sdk.proto"} {
		if !bytes.Contains(traceLog, []byte(want)) {
			t.Errorf("the TRACE log of apply holds no %q: TF_LOG/TF_LOG_PROVIDER did not reach the provider", want)
		}
	}
	if !bytes.Contains(listenerLog, []byte(`"level":"DEBUG"`)) {
		t.Error("the listener's log holds no DEBUG line")
	}

	// Report.
	var total, lines int
	for _, s := range sc.sources {
		total += s.bytes
		lines += s.lines
		t.Logf("scanned %-80s %9d bytes %7d lines", s.where, s.bytes, s.lines)
	}
	t.Logf("secrets audit: %d sources, %d bytes, %d lines, %d needles (secrets × forms), %d Port entities, %s",
		len(sc.sources), total, lines, len(sc.needles), entities, time.Since(began).Round(time.Second))
	for _, f := range sc.findings {
		t.Errorf("LEAK: %s", f)
	}
}

// requireRemoved checks the redacted values hold a secret (so the scan
// outside them is meaningful) and records their count in the log.
func requireRemoved(t *testing.T, sc *leakScanner, where string, removed []any) {
	t.Helper()
	b, _ := json.Marshal(removed)
	if !sc.holds(b, "webhook secret") {
		t.Errorf("%s: the sensitive values removed (%d) do not hold the webhook secret; the redaction is not what the audit assumes", where, len(removed))
	}
}

// schemaSensitive is resource type → its top-level sensitive attributes,
// from `terraform providers schema -json`.
func schemaSensitive(t *testing.T, out []byte) map[string][]string {
	t.Helper()
	var doc struct {
		ProviderSchemas map[string]struct {
			ResourceSchemas map[string]struct {
				Block struct {
					Attributes map[string]struct {
						Sensitive bool `json:"sensitive"`
					} `json:"attributes"`
					BlockTypes map[string]any `json:"block_types"`
				} `json:"block"`
			} `json:"resource_schemas"`
		} `json:"provider_schemas"`
	}
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatalf("providers schema -json: %v", err)
	}
	res := map[string][]string{}
	for _, p := range doc.ProviderSchemas {
		for typ, rs := range p.ResourceSchemas {
			if len(rs.Block.BlockTypes) > 0 {
				t.Fatalf("%s has nested blocks; the audit's state redaction handles top-level attributes only", typ)
			}
			for name, a := range rs.Block.Attributes {
				if a.Sensitive {
					res[typ] = append(res[typ], name)
				}
			}
			sort.Strings(res[typ])
		}
	}
	if len(res) == 0 && len(doc.ProviderSchemas) == 0 {
		t.Fatal("providers schema -json holds no provider")
	}
	return res
}

// auditEngine returns a check that Port holds exactly what a full sync with
// the mapping would write.
func auditEngine(t *testing.T, harborURL, portURL, mappingYAML string) func() bool {
	t.Helper()
	hc, err := harbor.New(harbor.Config{URL: harborURL, Username: auditRobotUser, Password: auditRobotSecret})
	if err != nil {
		t.Fatal(err)
	}
	pc, err := port.New(port.Config{BaseURL: portURL, ClientID: auditPortClientID, ClientSecret: auditPortSecret})
	if err != nil {
		t.Fatal(err)
	}
	m, err := mapping.Parse(mappingYAML, "audit mapping")
	if err != nil {
		t.Fatal(err)
	}
	eng, err := catalog.New(hc, pc, m)
	if err != nil {
		t.Fatal(err)
	}
	return func() bool {
		ok, _ := synccheck.InSync(context.Background(), eng)
		return ok
	}
}

func waitIdle(t *testing.T, hs *harborsim.Server) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := hs.WaitIdle(ctx); err != nil {
		t.Fatalf("Harbor's webhook deliveries did not finish: %v", err)
	}
}

func waitCond(t *testing.T, what string, timeout time.Duration, lis *testenv.Listener, cond func() bool) {
	t.Helper()
	testenv.WaitFor(t, what, timeout, cond, func() string { return "\nlistener log:\n" + lis.Log() })
}

func listenerLine(l *testenv.Listener, msg string) int {
	return l.Count(`"msg":"` + msg + `"`)
}

func copyFile(src, dst string) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, b, 0o755)
}

// The scanner must be able to fail: every form of a planted secret is found,
// in the places it would appear (a Basic header, a JSON log line, a URL),
// and the redaction keeps a secret outside sensitive values in the scan.
func TestSecretsAuditScannerFindsPlantedSecrets(t *testing.T) {
	const pw = auditHarborPassword
	sc := newLeakScanner(map[string]string{"planted": pw})
	basic := func(user string) string { return base64.StdEncoding.EncodeToString([]byte(user + ":" + pw)) }
	jsonLine, _ := json.Marshal(map[string]string{"msg": "config", "password": pw})
	inner, _ := json.Marshal(map[string]string{"password": pw})
	outer, _ := json.Marshal(map[string]string{"@message": string(inner)})
	for _, planted := range []string{
		"2026/01/02 [DEBUG] password=" + pw + " end",
		"Authorization: Basic " + basic("admin"),
		"Authorization: Basic " + basic("robot$audit"),
		"Authorization: Basic " + basic("a"),
		"Authorization: Basic " + basic("ab"),
		string(jsonLine),
		string(outer),
		"GET /api?password=" + url.QueryEscape(pw),
		"GET /api/" + url.PathEscape(pw),
		"x" + base64.URLEncoding.EncodeToString([]byte("zz"+pw)),
		fmt.Sprintf("%q", pw),
		strings.ReplaceAll(string(jsonLine), "/", `\/`),
		hex.EncodeToString([]byte(pw)),
	} {
		if len(sc.find([]byte(planted))) == 0 {
			t.Errorf("the scanner misses the secret in %q", planted)
		}
	}
	if got := sc.find([]byte("nothing secret here: SA1harbor-admin-pw without the rest")); len(got) != 0 {
		t.Errorf("false positive: %v", got)
	}
	sc.scan("planted", []byte("x "+pw))
	if len(sc.findings) != 1 {
		t.Errorf("scan recorded %d findings for one planted secret", len(sc.findings))
	}

	// show -json redaction: a secret under a sensitive mask is removed; one
	// next to it is not.
	doc := map[string]any{"values": map[string]any{"root_module": map[string]any{"resources": []any{map[string]any{
		"values":           map[string]any{"secret": pw, "endpoint": "http://x/" + pw},
		"sensitive_values": map[string]any{"secret": true},
	}}}}}
	red, removed := redactShowJSON(t, doc)
	b, _ := json.Marshal(red)
	if len(sc.find(b)) == 0 {
		t.Error("a secret in a non-sensitive show -json value was redacted away")
	}
	if rb, _ := json.Marshal(removed); len(sc.find(rb)) == 0 {
		t.Error("the sensitive show -json value was not removed")
	}
	// State redaction: schema-sensitive attributes go, the rest stays.
	state1, _ := json.Marshal(map[string]any{"version": 4, "resources": []any{map[string]any{
		"type": "x", "instances": []any{map[string]any{
			"attributes": map[string]any{"m": map[string]any{"k": pw}, "l": []any{"a", pw}, "endpoint": "e"},
			"sensitive_attributes": []any{
				[]any{map[string]any{"type": "get_attr", "value": "m"}, map[string]any{"type": "index", "value": map[string]any{"value": "k", "type": "string"}}},
				[]any{map[string]any{"type": "get_attr", "value": "l"}, map[string]any{"type": "index", "value": map[string]any{"value": 1, "type": "number"}}},
			},
		}}}}})
	if rs, removed := redactState(t, state1, nil); len(sc.find(rs)) != 0 || len(removed) != 2 {
		t.Errorf("state redaction by sensitive_attributes paths: %d removed, left %s", len(removed), rs)
	}
	state2, _ := json.Marshal(map[string]any{"version": 4, "resources": []any{map[string]any{
		"type": "harborport_webhook", "instances": []any{map[string]any{
			"attributes": map[string]any{"secret": pw, "endpoint": "http://x/" + pw},
		}}}}})
	rs2, _ := redactState(t, state2, map[string][]string{"harborport_webhook": {"secret"}})
	if got := sc.find(rs2); len(got) == 0 || bytes.Contains(rs2, []byte(`"secret": "`+pw)) {
		t.Errorf("state redaction: want the endpoint's secret found and the secret attribute removed, got %v in %s", got, rs2)
	}
}
