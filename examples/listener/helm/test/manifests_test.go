package charttest

import (
	"encoding/base64"
	"fmt"
	"maps"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"sigs.k8s.io/yaml"
)

// values reads a testdata values file.
func values(t *testing.T, file string) map[string]any {
	t.Helper()
	raw, err := os.ReadFile("testdata/" + file)
	if err != nil {
		t.Fatal(err)
	}
	var v map[string]any
	if err := yaml.UnmarshalStrict(raw, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func get(v map[string]any, path string) string {
	var cur any = v
	for _, k := range strings.Split(path, ".") {
		m, _ := cur.(map[string]any)
		cur = m[k]
	}
	if cur == nil {
		return ""
	}
	return fmt.Sprint(cur)
}

func statefulSet(t *testing.T, r rendered) (*appsv1.StatefulSet, corev1.Container) {
	t.Helper()
	sts := all[*appsv1.StatefulSet](r)
	if len(sts) != 1 {
		t.Fatalf("%d StatefulSets rendered, want 1: %v", len(sts), kinds(r))
	}
	cs := sts[0].Spec.Template.Spec.Containers
	if len(cs) != 1 {
		t.Fatalf("%d containers, want 1", len(cs))
	}
	return sts[0], cs[0]
}

func envOf(c corev1.Container) map[string]corev1.EnvVar {
	out := map[string]corev1.EnvVar{}
	for _, e := range c.Env {
		out[e.Name] = e
	}
	return out
}

// flagArgs maps --name to its value ("" for a bare boolean flag).
func flagArgs(t *testing.T, c corev1.Container) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, a := range c.Args {
		name, val, _ := strings.Cut(strings.TrimPrefix(a, "--"), "=")
		if !strings.HasPrefix(a, "--") {
			t.Errorf("argument %q is not a --flag", a)
		}
		out[name] = val
	}
	return out
}

// checkCommon is what every render must satisfy: the wiring between the
// objects, the probes, the security context and where secrets come from.
func checkCommon(t *testing.T, r rendered, secretValues ...string) {
	t.Helper()
	sts, c := statefulSet(t, r)
	pod := sts.Spec.Template

	// Selector ⊆ pod labels; the Services select the pods.
	for k, v := range sts.Spec.Selector.MatchLabels {
		if pod.Labels[k] != v {
			t.Errorf("StatefulSet selector %s=%s does not match the pod labels %v", k, v, pod.Labels)
		}
	}
	headless, ok := find[*corev1.Service](r, sts.Spec.ServiceName)
	if !ok || headless.Spec.ClusterIP != corev1.ClusterIPNone {
		t.Errorf("serviceName %q is not a rendered headless Service", sts.Spec.ServiceName)
	}
	ports := map[string]int32{}
	for _, p := range c.Ports {
		ports[p.Name] = p.ContainerPort
	}
	for _, svc := range all[*corev1.Service](r) {
		for k, v := range svc.Spec.Selector {
			if pod.Labels[k] != v {
				t.Errorf("Service %s selects %s=%s, not on the pods", svc.Name, k, v)
			}
		}
		for _, p := range svc.Spec.Ports {
			if _, ok := ports[p.TargetPort.String()]; !ok {
				t.Errorf("Service %s targets port %q, which the container does not name", svc.Name, p.TargetPort.String())
			}
		}
	}

	// Probes: liveness on /healthz, readiness on the configured path, both on the named port.
	for name, p := range map[string]*corev1.Probe{"liveness": c.LivenessProbe, "readiness": c.ReadinessProbe} {
		if p == nil || p.HTTPGet == nil || p.HTTPGet.Port.String() != "http" || !strings.HasPrefix(p.HTTPGet.Path, "/") {
			t.Errorf("%s probe: %+v", name, p)
		}
	}
	if c.LivenessProbe != nil && c.LivenessProbe.HTTPGet.Path != "/healthz" {
		t.Errorf("liveness probe on %s, want /healthz", c.LivenessProbe.HTTPGet.Path)
	}

	// Non-root, read-only root filesystem, no privilege escalation, no capabilities.
	psc, sc := pod.Spec.SecurityContext, c.SecurityContext
	if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot || psc.RunAsUser == nil || *psc.RunAsUser == 0 || psc.FSGroup == nil {
		t.Errorf("pod securityContext: %+v", psc)
	}
	if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem || sc.AllowPrivilegeEscalation == nil ||
		*sc.AllowPrivilegeEscalation || sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) {
		t.Errorf("container securityContext: %+v", sc)
	}
	if pod.Spec.AutomountServiceAccountToken == nil || *pod.Spec.AutomountServiceAccountToken {
		t.Error("the pod mounts a service account token; the listener never calls the Kubernetes API")
	}
	if c.Resources.Requests.Memory().IsZero() || c.Resources.Limits.Memory().IsZero() {
		t.Errorf("resources: %+v", c.Resources)
	}
	if len(c.Command) != 2 || c.Command[1] != "serve" {
		t.Errorf("command %v, want the binary and serve", c.Command)
	}

	// The spool: mounted at --data-dir, from the claim template or an emptyDir.
	args := flagArgs(t, c)
	mounted := false
	for _, m := range c.VolumeMounts {
		if m.Name == "spool" && m.MountPath == args["data-dir"] && !m.ReadOnly {
			mounted = true
		}
		if m.Name != "spool" && !m.ReadOnly {
			t.Errorf("volume %s is mounted writable", m.Name)
		}
	}
	if !mounted {
		t.Errorf("no writable spool volume at --data-dir %q: %+v", args["data-dir"], c.VolumeMounts)
	}

	// Secrets come from Secrets, never inline; every reference resolves to a
	// rendered Secret/ConfigMap key (or an existing one the values name).
	secrets := map[string]*corev1.Secret{}
	for _, s := range all[*corev1.Secret](r) {
		secrets[s.Name] = s
	}
	cms := map[string]*corev1.ConfigMap{}
	for _, cm := range all[*corev1.ConfigMap](r) {
		cms[cm.Name] = cm
	}
	for _, e := range c.Env {
		for _, sv := range secretValues {
			if sv != "" && strings.Contains(e.Value, sv) {
				t.Errorf("env %s holds a secret value inline", e.Name)
			}
		}
		if e.ValueFrom == nil {
			continue
		}
		if ref := e.ValueFrom.SecretKeyRef; ref != nil {
			if s, ok := secrets[ref.Name]; ok {
				if _, ok := s.Data[ref.Key]; !ok && (ref.Optional == nil || !*ref.Optional) {
					t.Errorf("env %s: the rendered Secret %s has no key %s", e.Name, ref.Name, ref.Key)
				}
			}
		}
		if ref := e.ValueFrom.ConfigMapKeyRef; ref != nil {
			if cm, ok := cms[ref.Name]; !ok || cm.Data[ref.Key] == "" {
				t.Errorf("env %s: ConfigMap %s key %s is not rendered", e.Name, ref.Name, ref.Key)
			}
		}
	}
	for _, s := range all[*corev1.Secret](r) {
		if len(s.StringData) > 0 {
			t.Errorf("Secret %s uses stringData", s.Name)
		}
	}
	if strings.Contains(r.manifest, "\n---\n---") {
		t.Error("an empty document is rendered")
	}
}

func secretValue(t *testing.T, r rendered, env corev1.EnvVar) string {
	t.Helper()
	if env.ValueFrom == nil || env.ValueFrom.SecretKeyRef == nil {
		t.Fatalf("env %s is not from a Secret", env.Name)
	}
	s, ok := find[*corev1.Secret](r, env.ValueFrom.SecretKeyRef.Name)
	if !ok {
		t.Fatalf("env %s: Secret %s is not rendered", env.Name, env.ValueFrom.SecretKeyRef.Name)
	}
	return string(s.Data[env.ValueFrom.SecretKeyRef.Key])
}

func TestMinimal(t *testing.T) {
	r := render(t, []string{"minimal.yaml"})
	v := values(t, "minimal.yaml")
	checkCommon(t, r, get(v, "harbor.password"), get(v, "port.clientSecret"), get(v, "webhook.secret"))
	if got := strings.Join(kinds(r), " "); got != "*v1.Secret/harborport-listener *v1.Service/harborport-listener *v1.Service/harborport-listener-headless "+
		"*v1.ServiceAccount/harborport-listener *v1.StatefulSet/harborport-listener" {
		t.Errorf("objects: %s", got)
	}
	sts, c := statefulSet(t, r)
	env := envOf(c)
	for name, want := range map[string]string{"HARBOR_USERNAME": get(v, "harbor.username"), "HARBOR_PASSWORD": get(v, "harbor.password"),
		"PORT_CLIENT_ID": get(v, "port.clientId"), "PORT_CLIENT_SECRET": get(v, "port.clientSecret"), "HARBORPORT_WEBHOOK_SECRET": get(v, "webhook.secret")} {
		if got := secretValue(t, r, env[name]); got != want {
			t.Errorf("%s resolves to %q, want the value from the values", name, got)
		}
	}
	if prev := env["HARBORPORT_WEBHOOK_SECRET_PREVIOUS"]; prev.ValueFrom == nil || prev.ValueFrom.SecretKeyRef.Optional == nil || !*prev.ValueFrom.SecretKeyRef.Optional {
		t.Errorf("the previous secret must be an optional key of the webhook Secret: %+v", prev)
	}
	if env["HARBOR_URL"].Value != "https://harbor.example.com" || env["PORT_BASE_URL"].Value != "https://api.getport.io" || env["HARBOR_INSECURE"].Value != "false" {
		t.Errorf("plain env: %+v", env)
	}
	args := flagArgs(t, c)
	want := map[string]string{"listen": ":8000", "data-dir": "/var/lib/harborport", "resync-interval": "6h", "audit-poll-interval": "10s",
		"webhook-policy-name": "harborport", "concurrency": "8", "log-format": "json", "log-level": "info"}
	if !maps.Equal(args, want) {
		t.Errorf("args %v, want %v", args, want)
	}
	if len(sts.Spec.VolumeClaimTemplates) != 1 || sts.Spec.VolumeClaimTemplates[0].Name != "spool" ||
		sts.Spec.VolumeClaimTemplates[0].Spec.Resources.Requests.Storage().String() != "1Gi" {
		t.Errorf("volumeClaimTemplates: %+v", sts.Spec.VolumeClaimTemplates)
	}
	if c.ReadinessProbe.HTTPGet.Path != "/readyz" || c.ReadinessProbe.TimeoutSeconds <= 5 {
		t.Errorf("readiness probe: %+v (timeout must exceed /readyz's 5 s budget)", c.ReadinessProbe)
	}
	if *sts.Spec.Replicas != 1 || sts.Spec.Template.Spec.ServiceAccountName != "harborport-listener" {
		t.Errorf("replicas %d, service account %q", *sts.Spec.Replicas, sts.Spec.Template.Spec.ServiceAccountName)
	}
}

func TestFull(t *testing.T) {
	r := render(t, []string{"full.yaml"})
	v := values(t, "full.yaml")
	checkCommon(t, r, get(v, "harbor.password"), get(v, "port.clientSecret"), get(v, "webhook.secret"), get(v, "webhook.previousSecret"))
	sts, c := statefulSet(t, r)
	env := envOf(c)
	if got := secretValue(t, r, env["HARBORPORT_WEBHOOK_SECRET_PREVIOUS"]); got != get(v, "webhook.previousSecret") {
		t.Errorf("the previous secret resolves to %q", got)
	}
	if got := secretValue(t, r, env["HARBORPORT_WEBHOOK_SECRET"]); got != get(v, "webhook.secret") {
		t.Errorf("the secret resolves to %q", got)
	}
	if cm, ok := find[*corev1.ConfigMap](r, "hp-config"); !ok || cm.Data["harbor-ca.crt"] != strings.TrimSuffix(get(v, "harbor.caCertificate"), "\n") {
		t.Errorf("CA ConfigMap: %+v", cm)
	}
	if cm, ok := find[*corev1.ConfigMap](r, "hp-mapping"); !ok || cm.Data["mapping.yaml"] != strings.TrimSuffix(get(v, "mapping.inline"), "\n") {
		t.Errorf("mapping ConfigMap: %+v", cm)
	}
	args := flagArgs(t, c)
	want := map[string]string{"listen": ":9443", "data-dir": "/data/spool", "resync-interval": "1h", "audit-poll-interval": "30s",
		"webhook-policy-name": "hp-hooks", "scope": "eu", "prefix-identifiers": "false", "concurrency": "16", "log-format": "text",
		"log-level": "debug", "mapping": "/etc/harborport/mapping/mapping.yaml", "tls-cert": "/etc/harborport/tls/tls.crt", "tls-key": "/etc/harborport/tls/tls.key"}
	if !maps.Equal(args, want) {
		t.Errorf("args %v, want %v", args, want)
	}
	for _, p := range []*corev1.Probe{c.LivenessProbe, c.ReadinessProbe} {
		if p.HTTPGet.Scheme != corev1.URISchemeHTTPS {
			t.Errorf("probe scheme %s with TLS on", p.HTTPGet.Scheme)
		}
	}
	if env["HTTPS_PROXY"].Value != "http://proxy.example.com:3128" || env["HARBOR_INSECURE"].Value != "true" || env["PORT_BASE_URL"].Value != "https://api.us.port.io" {
		t.Errorf("env: %+v", env)
	}
	vct := sts.Spec.VolumeClaimTemplates
	if len(vct) != 1 || *vct[0].Spec.StorageClassName != "fast-ssd" || vct[0].Spec.AccessModes[0] != corev1.ReadWriteOncePod || *sts.Spec.Replicas != 3 {
		t.Errorf("claims %+v, replicas %d", vct, *sts.Spec.Replicas)
	}
	ing, ok := find[*networkingv1.Ingress](r, "hp")
	if !ok || len(ing.Spec.Rules) != 1 || ing.Spec.Rules[0].Host != "harborport.example.com" {
		t.Fatalf("Ingress: %+v", ing)
	}
	paths := ing.Spec.Rules[0].HTTP.Paths
	if len(paths) != 1 || paths[0].Path != "/integration/webhook" || *paths[0].PathType != networkingv1.PathTypeExact ||
		paths[0].Backend.Service.Name != "hp" || paths[0].Backend.Service.Port.Name != "http" || len(ing.Spec.TLS) != 1 {
		t.Errorf("the Ingress must route exactly /integration/webhook to the Service: %+v", ing.Spec)
	}
	sm, ok := find[*monitoringv1.ServiceMonitor](r, "hp")
	if !ok || len(sm.Spec.Endpoints) != 1 || sm.Spec.Endpoints[0].Port != "http" || sm.Spec.Endpoints[0].Path != "/metrics" ||
		sm.Spec.Endpoints[0].Scheme == nil || *sm.Spec.Endpoints[0].Scheme != "https" || sm.Labels["release"] != "prometheus" {
		t.Fatalf("ServiceMonitor: %+v", sm)
	}
	svc, _ := find[*corev1.Service](r, "hp")
	for k, val := range sm.Spec.Selector.MatchLabels {
		if svc.Labels[k] != val {
			t.Errorf("the ServiceMonitor selects %s=%s, not on the Service", k, val)
		}
	}
	if svc.Spec.Type != corev1.ServiceTypeLoadBalancer || svc.Spec.Ports[0].Port != 443 {
		t.Errorf("Service: %+v", svc.Spec)
	}
}

func TestExistingSecretsAndConfigMap(t *testing.T) {
	r := render(t, []string{"existing.yaml"})
	checkCommon(t, r)
	if s := all[*corev1.Secret](r); len(s) != 0 {
		t.Errorf("the chart created a Secret although every group names an existing one: %v", kinds(r))
	}
	if sa := all[*corev1.ServiceAccount](r); len(sa) != 0 {
		t.Errorf("serviceAccount.create=false rendered %v", kinds(r))
	}
	sts, c := statefulSet(t, r)
	env := envOf(c)
	for name, want := range map[string][2]string{"HARBOR_USERNAME": {"harbor-robot", "username"}, "HARBOR_PASSWORD": {"harbor-robot", "password"},
		"PORT_CLIENT_ID": {"port-credentials", "PORT_CLIENT_ID"}, "PORT_CLIENT_SECRET": {"port-credentials", "PORT_CLIENT_SECRET"},
		"HARBORPORT_WEBHOOK_SECRET": {"harborport-webhook", "HARBORPORT_WEBHOOK_SECRET"}, "HARBORPORT_WEBHOOK_SECRET_PREVIOUS": {"harborport-webhook", "HARBORPORT_WEBHOOK_SECRET_PREVIOUS"}} {
		var ref *corev1.SecretKeySelector
		if vf := env[name].ValueFrom; vf != nil {
			ref = vf.SecretKeyRef
		}
		if ref == nil || ref.Name != want[0] || ref.Key != want[1] {
			t.Errorf("%s from %+v, want Secret %s key %s", name, ref, want[0], want[1])
		}
	}
	if len(sts.Spec.VolumeClaimTemplates) != 0 {
		t.Error("persistence.enabled=false still renders volumeClaimTemplates")
	}
	var spool, mapping bool
	for _, vol := range sts.Spec.Template.Spec.Volumes {
		spool = spool || (vol.Name == "spool" && vol.EmptyDir != nil)
		mapping = mapping || (vol.Name == "mapping" && vol.ConfigMap != nil && vol.ConfigMap.Name == "harborport-mapping")
	}
	if !spool || !mapping {
		t.Errorf("volumes: %+v", sts.Spec.Template.Spec.Volumes)
	}
	if sts.Spec.Template.Spec.ServiceAccountName != "default" {
		t.Errorf("service account %q", sts.Spec.Template.Spec.ServiceAccountName)
	}
}

func TestInsecureNoAuth(t *testing.T) {
	r := render(t, []string{"noauth.yaml"})
	checkCommon(t, r)
	_, c := statefulSet(t, r)
	args := flagArgs(t, c)
	if v, ok := args["insecure-no-auth"]; !ok || v != "" || args["resync-interval"] != "0" {
		t.Errorf("args: %v", args)
	}
	if _, ok := envOf(c)["HARBORPORT_WEBHOOK_SECRET"]; ok {
		t.Error("--insecure-no-auth with a webhook secret: serve refuses to start so")
	}
	s, _ := find[*corev1.Secret](r, "harborport-listener")
	if _, ok := s.Data["HARBORPORT_WEBHOOK_SECRET"]; ok {
		t.Error("the chart's Secret holds a webhook secret with insecureNoAuth")
	}
}

// serveFlags is `serve --help` of the listener built from this repository:
// flag name → its environment variable ("" when it has none).
func serveFlags(t *testing.T) (bin string, flags map[string]string) {
	t.Helper()
	bin = os.Getenv("HARBORPORT_BIN")
	if bin == "" {
		bin = t.TempDir() + "/terraform-provider-harborport"
		if _, errOut, err := runIn(t, repoRoot, "go", "build", "-o", bin, "."); err != nil {
			t.Fatalf("building the provider: %v\n%s", err, errOut)
		}
	}
	_, help, err := run(t, bin, "serve", "--help")
	if err != nil {
		t.Fatalf("serve --help: %v\n%s", err, help)
	}
	flags = map[string]string{}
	var cur string
	for _, line := range strings.Split(help, "\n") {
		if m := regexp.MustCompile(`^  -([a-z-]+)`).FindStringSubmatch(line); m != nil {
			cur = m[1]
			flags[cur] = ""
		}
		if m := regexp.MustCompile(`\b(HARBORPORT_[A-Z_]+)\b`).FindStringSubmatch(line); m != nil && cur != "" {
			flags[cur] = m[1]
		}
	}
	if len(flags) < 12 {
		t.Fatalf("parsed %d flags from serve --help:\n%s", len(flags), help)
	}
	return bin, flags
}

// Every flag of serve is reachable from values: across the test renders,
// each is passed as an argument or its environment variable is set. And
// serve itself accepts every rendered argument list (`--help` after them
// stops before the values are checked, but after every flag is parsed).
func TestEveryServeFlagReachable(t *testing.T) {
	bin, flags := serveFlags(t)
	reached := map[string]bool{}
	for _, f := range []string{"minimal.yaml", "full.yaml", "existing.yaml", "noauth.yaml"} {
		_, c := statefulSet(t, render(t, []string{f}))
		for name := range flagArgs(t, c) {
			if _, ok := flags[name]; !ok {
				t.Errorf("%s: the chart passes --%s, which serve does not have", f, name)
			}
			reached[name] = true
		}
		env := envOf(c)
		for name, ev := range flags {
			if _, ok := env[ev]; ok && ev != "" {
				reached[name] = true
			}
		}
		if _, out, err := run(t, bin, append(append([]string{"serve"}, c.Args...), "--help")...); err != nil || strings.Contains(out, "not defined") {
			t.Errorf("%s: serve rejects the rendered arguments %v: %v\n%s", f, c.Args, err, out)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(flags)) {
		if !reached[name] {
			t.Errorf("serve's --%s (env %q) is not reachable from the chart's values", name, flags[name])
		}
	}
}

// Mistakes stop helm with a message naming the value to set.
func TestValueMistakes(t *testing.T) {
	for _, c := range []struct {
		name string
		sets []string
		want string
	}{
		{"no image", []string{"image.repository="}, "image.repository is required"},
		{"no Harbor URL", []string{"harbor.url="}, "harbor.url is required"},
		{"Harbor URL without scheme", []string{"harbor.url=harbor.example.com"}, `harbor.url "harbor.example.com" is not an http(s) URL`},
		{"no Harbor password", []string{"harbor.password="}, "Harbor credentials are missing: set harbor.existingSecret"},
		{"Harbor secret twice", []string{"harbor.existingSecret=x"}, "harbor.existingSecret and harbor.username/password are both set"},
		{"no Port secret", []string{"port.clientSecret="}, "Port credentials are missing: set port.existingSecret"},
		{"no webhook secret", []string{"webhook.secret="}, "the webhook secret is missing: set webhook.secret"},
		{"previous equals secret", []string{"webhook.previousSecret=Bearer 0123456789abcdef0123456789abcdef"}, "webhook.previousSecret equals webhook.secret"},
		{"no auth with a secret", []string{"webhook.insecureNoAuth=true"}, "webhook.insecureNoAuth and a webhook secret are both set"},
		{"two mappings", []string{"mapping.inline=resources: []", "mapping.existingConfigMap=m"}, "mapping.inline and mapping.existingConfigMap are both set"},
		{"TLS without a Secret", []string{"tls.enabled=true"}, "tls.enabled needs tls.secretName"},
		{"Ingress without host", []string{"ingress.enabled=true"}, "ingress.enabled needs ingress.host"},
		{"misspelled key (values.schema.json)", []string{"harbour.url=https://h"}, "additional properties 'harbour' not allowed"},
		{"bad log level (values.schema.json)", []string{"listener.logLevel=verbose"}, "value must be one of 'debug', 'info', 'warn', 'error'"},
		{"concurrency out of range (values.schema.json)", []string{"listener.concurrency=100"}, "maximum"},
	} {
		_, err := template(t, []string{"minimal.yaml"}, c.sets...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want an error with %q", c.name, err, c.want)
		}
	}
}

// `helm lint --strict` passes with every test values file.
func TestLint(t *testing.T) {
	for _, f := range []string{"minimal.yaml", "full.yaml", "existing.yaml", "noauth.yaml"} {
		out, errOut, err := run(t, helm(t), "lint", "--strict", chartDir, "-f", "testdata/"+f)
		if err != nil || !strings.Contains(out, "0 chart(s) failed") {
			t.Errorf("helm lint --strict -f %s: %v\n%s%s", f, err, out, errOut)
		}
	}
}

// The Secret's data is base64 of the values (helm's b64enc), not double-encoded.
func TestSecretEncoding(t *testing.T) {
	r := render(t, []string{"minimal.yaml"})
	s, _ := find[*corev1.Secret](r, "harborport-listener")
	if got := string(s.Data["HARBOR_PASSWORD"]); got != "harbor-robot-secret-0123" {
		t.Errorf("HARBOR_PASSWORD decodes to %q", got)
	}
	if strings.Contains(r.manifest, "harbor-robot-secret-0123") || !strings.Contains(r.manifest, base64.StdEncoding.EncodeToString([]byte("harbor-robot-secret-0123"))) {
		t.Error("the rendered Secret is not base64 of the value")
	}
}
