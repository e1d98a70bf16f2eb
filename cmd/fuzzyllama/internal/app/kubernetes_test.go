package app

import (
	"errors"
	"fmt"
	"maps"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"

	"github.com/fuzzyllama/fuzzyllama/services/agents"
)

// k8sDir holds the kustomize base and its overlays.
var k8sDir = filepath.Join(repoRoot, "deploy/k8s")

// callGraph is which target dials which over gRPC, as Start in app.go builds them.
var callGraph = map[string][]string{
	"auth":      nil,
	"projects":  {"auth"},
	"documents": {"auth", "projects"},
	"agents":    {"auth", "projects", "documents"},
	"gateway":   {"auth", "projects", "documents", "agents"},
}

// secretVariables must never be written into a manifest: they come from a Secret.
var secretVariables = []string{"DATABASE_URL", "REDIS_URL", "AUTH_SIGNING_KEY", "AUTH_PREVIOUS_SIGNING_KEYS",
	"SERVICE_CREDENTIAL", "SMTP_URL", "ANTHROPIC_API_KEY", "OPENAI_API_KEY"}

// sampleSecrets stand in for the Secret's values (production keeps its Secret outside the
// repository; staging's are placeholders). Optional keys are left out, as an operator may.
var sampleSecrets = map[string]string{
	"REDIS_URL":              "rediss://:pw@10.20.1.5:6379/0",
	"AUTH_DATABASE_URL":      "postgres://auth:pw@10.20.0.5:5432/fuzzyllama?sslmode=verify-full",
	"PROJECTS_DATABASE_URL":  "postgres://projects:pw@10.20.0.5:5432/fuzzyllama?sslmode=verify-full",
	"DOCUMENTS_DATABASE_URL": "postgres://documents:pw@10.20.0.5:5432/fuzzyllama?sslmode=verify-full",
	"AGENTS_DATABASE_URL":    "postgres://agents:pw@10.20.0.5:5432/fuzzyllama?sslmode=verify-full",
	"AUTH_SIGNING_KEY":       "0tk4v3QUHpPcJwJ2SFGTQm3L1L5TLv6C5EsmQrlhRvQ=",
	"SERVICE_CREDENTIAL":     strings.Repeat("s", 40),
}

// secretPlaceholder is the only value a Secret in the repository may hold.
const secretPlaceholder = "REPLACE_ME"

// runtimeVariables are read by the Go runtime, not by FuzzyLlama's configuration.
var runtimeVariables = []string{"GOMEMLIMIT"}

// shutdownTimeout bounds the graceful shutdown after the drain (Wait in app.go).
const shutdownTimeout = 20 * time.Second

// The namespaces the NetworkPolicies admit traffic from, by their automatic name label.
const (
	ingressNamespace    = "ingress-nginx"
	monitoringNamespace = "monitoring"
)

// manifests are the objects an overlay renders, decoded into the Kubernetes API types.
type manifests struct {
	namespaces      []*corev1.Namespace
	serviceAccounts []*corev1.ServiceAccount
	configMaps      []*corev1.ConfigMap
	secrets         []*corev1.Secret
	services        []*corev1.Service
	deployments     []*appsv1.Deployment
	pdbs            []*policyv1.PodDisruptionBudget
	hpas            []*autoscalingv2.HorizontalPodAutoscaler
	policies        []*networkingv1.NetworkPolicy
	ingresses       []*networkingv1.Ingress
	roles           []*rbacv1.Role
	roleBindings    []*rbacv1.RoleBinding
	// Decoded to be refused: FuzzyLlama needs no permission beyond a namespace.
	clusterRoles        []*rbacv1.ClusterRole
	clusterRoleBindings []*rbacv1.ClusterRoleBinding
	// every object, of whichever kind
	objects []metav1.Object
}

// render builds the kustomization in dir in-process, as kubectl kustomize does, and decodes
// every document strictly.
func render(dir string) (*manifests, error) {
	m, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		return nil, fmt.Errorf("kustomize %s: %w", dir, err)
	}
	out := &manifests{}
	for _, r := range m.Resources() {
		doc, err := r.AsYAML()
		if err != nil {
			return nil, err
		}
		if err := out.decode(doc); err != nil {
			return nil, fmt.Errorf("%s %s: %w", r.GetKind(), r.GetName(), err)
		}
	}
	return out, nil
}

// decode adds one document, refusing a kind it does not know and any field the API type does not
// have (kubectl apply would drop a misspelt or misplaced field with a mere warning).
func (m *manifests) decode(doc []byte) error {
	var tm metav1.TypeMeta
	if err := yaml.Unmarshal(doc, &tm); err != nil {
		return err
	}
	var obj any
	switch tm.APIVersion + " " + tm.Kind {
	case "v1 Namespace":
		obj = appendNew(&m.namespaces)
	case "v1 ServiceAccount":
		obj = appendNew(&m.serviceAccounts)
	case "v1 ConfigMap":
		obj = appendNew(&m.configMaps)
	case "v1 Secret":
		obj = appendNew(&m.secrets)
	case "v1 Service":
		obj = appendNew(&m.services)
	case "apps/v1 Deployment":
		obj = appendNew(&m.deployments)
	case "policy/v1 PodDisruptionBudget":
		obj = appendNew(&m.pdbs)
	case "autoscaling/v2 HorizontalPodAutoscaler":
		obj = appendNew(&m.hpas)
	case "networking.k8s.io/v1 NetworkPolicy":
		obj = appendNew(&m.policies)
	case "networking.k8s.io/v1 Ingress":
		obj = appendNew(&m.ingresses)
	case "rbac.authorization.k8s.io/v1 Role":
		obj = appendNew(&m.roles)
	case "rbac.authorization.k8s.io/v1 RoleBinding":
		obj = appendNew(&m.roleBindings)
	case "rbac.authorization.k8s.io/v1 ClusterRole":
		obj = appendNew(&m.clusterRoles)
	case "rbac.authorization.k8s.io/v1 ClusterRoleBinding":
		obj = appendNew(&m.clusterRoleBindings)
	default:
		return fmt.Errorf("unexpected kind %s %s", tm.APIVersion, tm.Kind)
	}
	// As the API server decodes: field names are case-sensitive (sigs.k8s.io/yaml's
	// UnmarshalStrict goes through encoding/json, which would take "readinessprobe" for
	// readinessProbe), and duplicate or unknown fields are errors naming their path.
	js, err := yaml.YAMLToJSONStrict(doc)
	if err != nil {
		return err
	}
	strict, err := kjson.UnmarshalStrict(js, obj)
	if err := errors.Join(append(strict, err)...); err != nil {
		return err
	}
	m.objects = append(m.objects, obj.(metav1.Object))
	return nil
}

// appendNew appends a new zero object to *list and returns it, to decode into.
func appendNew[T any](list *[]*T) *T {
	v := new(T)
	*list = append(*list, v)
	return v
}

func (m *manifests) configMap(name string) *corev1.ConfigMap {
	for _, c := range m.configMaps {
		if c.Name == name {
			return c
		}
	}
	return nil
}

func (m *manifests) secret(name string) *corev1.Secret {
	for _, s := range m.secrets {
		if s.Name == name {
			return s
		}
	}
	return nil
}

// kustomizations are what an operator may apply: each overlay, and the production overlay with
// each optional component of deploy/k8s/components (in a temporary kustomization).
func kustomizations(t *testing.T) map[string]string {
	t.Helper()
	subdirs := func(dir string) []string {
		entries, err := os.ReadDir(dir)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		var names []string
		for _, e := range entries {
			if e.IsDir() {
				names = append(names, e.Name())
			}
		}
		return names
	}
	dirs := map[string]string{}
	for _, o := range subdirs(filepath.Join(k8sDir, "overlays")) {
		dirs[o] = filepath.Join(k8sDir, "overlays", o)
	}
	if dirs["production"] == "" || dirs["staging"] == "" {
		t.Fatalf("overlays %v: want production and staging", dirs)
	}
	for _, c := range subdirs(filepath.Join(k8sDir, "components")) {
		dir := t.TempDir()
		// kustomize takes relative paths only.
		rel := func(path string) string {
			abs, err := filepath.Abs(path)
			if err != nil {
				t.Fatal(err)
			}
			r, err := filepath.Rel(dir, abs)
			if err != nil {
				t.Fatal(err)
			}
			return r
		}
		k := fmt.Sprintf("resources: [%s]\ncomponents: [%s]\n", rel(dirs["production"]), rel(filepath.Join(k8sDir, "components", c)))
		if err := os.WriteFile(filepath.Join(dir, "kustomization.yaml"), []byte(k), 0o600); err != nil {
			t.Fatal(err)
		}
		dirs["production+"+c] = dir
	}
	return dirs
}

// TestKubernetesManifests renders every overlay and checks what the deployment depends on:
// each target runs with an environment the binary accepts, probed, bounded, confined and
// reachable only along the calls the architecture makes.
func TestKubernetesManifests(t *testing.T) {
	for name, dir := range kustomizations(t) {
		t.Run(name, func(t *testing.T) {
			m, err := render(dir)
			if err != nil {
				t.Fatal(err)
			}
			checkNamespace(t, m)
			checkNames(t, m)
			checkSecrets(t, m)
			pods := map[string]pod{}
			for _, target := range Targets[1:] {
				p, ok := checkDeployment(t, m, target)
				if ok {
					pods[target] = p
				}
			}
			if len(m.deployments) != len(Targets)-1 {
				t.Errorf("%d Deployments, want one per target", len(m.deployments))
			}
			if len(pods) != len(Targets)-1 {
				return // the checks across targets need every one of them
			}
			checkServiceAddresses(t, m, pods)
			checkIngress(t, m, pods["gateway"])
			checkNetworkPolicies(t, m, pods)
			checkAPIAccess(t, m, pods)
			checkSandboxNetwork(t, m, pods)
		})
	}
}

// pod is what the checks across targets need of one target's Deployment.
type pod struct {
	labels         map[string]string
	namespace      string
	serviceAccount string
	container      corev1.Container
	cfg            Config
}

// checkNamespace: the overlay's own namespace, where every Deployment is, and at most the
// sandbox's besides (components/kubernetes-sandbox), both restricted.
func checkNamespace(t *testing.T, m *manifests) {
	if len(m.namespaces) != 1 && (len(m.namespaces) != 2 || m.sandboxNamespace() == "") {
		t.Fatalf("%d Namespaces, want the overlay's own and at most the sandbox's", len(m.namespaces))
	}
	for _, ns := range m.namespaces {
		if ns.Labels["pod-security.kubernetes.io/enforce"] != "restricted" {
			t.Errorf("namespace %s does not enforce the restricted Pod Security Standard", ns.Name)
		}
	}
	app := m.namespaces[0].Name
	if len(m.namespaces) == 2 && app == m.sandboxNamespace() {
		app = m.namespaces[1].Name
	}
	for _, d := range m.deployments {
		if d.Namespace != app {
			t.Errorf("Deployment %s is in namespace %q, want %q", d.Name, d.Namespace, app)
		}
	}
}

// sandboxNamespace is the namespace of the sandbox's pods ("" without the sandbox component):
// the one where its default-deny NetworkPolicy is, with no Deployment of ours.
func (m *manifests) sandboxNamespace() string {
	for _, p := range m.policies {
		if p.Name == "sandbox-default-deny" && !slices.ContainsFunc(m.deployments, func(d *appsv1.Deployment) bool { return d.Namespace == p.Namespace }) {
			return p.Namespace
		}
	}
	return ""
}

// checkNames: what the API server's validation would refuse in names and labels (a port name
// over 15 characters, a Service name with a dot) fails here rather than at apply.
func checkNames(t *testing.T, m *manifests) {
	failed := func(what string, errs []string) {
		if len(errs) > 0 {
			t.Errorf("%s: %s", what, strings.Join(errs, "; "))
		}
	}
	for _, o := range m.objects {
		failed(fmt.Sprintf("name %q", o.GetName()), validation.IsDNS1123Subdomain(o.GetName()))
		for k, v := range o.GetLabels() {
			failed(fmt.Sprintf("%s: label %s", o.GetName(), k), append(validation.IsQualifiedName(k), validation.IsValidLabelValue(v)...))
		}
	}
	for _, s := range m.services {
		failed("Service "+s.Name, validation.IsDNS1035Label(s.Name))
		for _, p := range s.Spec.Ports {
			failed(fmt.Sprintf("Service %s: port %q", s.Name, p.Name), validation.IsValidPortName(p.Name))
		}
	}
	for _, d := range m.deployments {
		for _, c := range d.Spec.Template.Spec.Containers {
			for _, p := range c.Ports {
				failed(fmt.Sprintf("Deployment %s: port %q", d.Name, p.Name), validation.IsValidPortName(p.Name))
			}
		}
	}
}

// checkSecrets: secret values never appear in a ConfigMap or a container's literal environment;
// a Secret in the repository holds placeholders only, and they are refused at start.
func checkSecrets(t *testing.T, m *manifests) {
	for _, c := range m.configMaps {
		for k := range c.Data {
			if slices.Contains(secretVariables, k) {
				t.Errorf("ConfigMap %s holds %s in plain text", c.Name, k)
			}
		}
	}
	for _, s := range m.secrets {
		for k, v := range s.Data {
			if string(v) != secretPlaceholder {
				t.Errorf("Secret %s: %s is not the placeholder %s: real secrets stay out of the repository", s.Name, k, secretPlaceholder)
			}
		}
		for k := range s.StringData {
			t.Errorf("Secret %s: %s in stringData: real secrets stay out of the repository", s.Name, k)
		}
	}
	// One Secret for the deployment, which production creates outside the repository.
	secretNames := map[string]bool{}
	for _, d := range m.deployments {
		for _, c := range d.Spec.Template.Spec.Containers {
			for _, e := range c.Env {
				if slices.Contains(secretVariables, e.Name) && (e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil) {
					t.Errorf("%s: %s does not come from a Secret", d.Name, e.Name)
				}
				if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
					secretNames[e.ValueFrom.SecretKeyRef.Name] = true
				}
			}
		}
	}
	if len(secretNames) != 1 {
		t.Errorf("the containers refer to the Secrets %v, want one", secretNames)
	}
}

// checkDeployment checks the one Deployment of target and returns its pod.
func checkDeployment(t *testing.T, m *manifests, target string) (pod, bool) {
	var found []*appsv1.Deployment
	for _, d := range m.deployments {
		for _, c := range d.Spec.Template.Spec.Containers {
			if slices.Equal(c.Args, []string{"-target=" + target}) {
				found = append(found, d)
			}
		}
	}
	if len(found) != 1 {
		t.Errorf("%d Deployments run -target=%s, want 1", len(found), target)
		return pod{}, false
	}
	d := found[0]
	spec := d.Spec.Template.Spec
	if len(spec.Containers) != 1 {
		t.Errorf("%s: %d containers, want 1", d.Name, len(spec.Containers))
		return pod{}, false
	}
	c := spec.Containers[0]
	sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
	if err != nil || sel.Empty() || !sel.Matches(labels.Set(d.Spec.Template.Labels)) {
		t.Errorf("%s: selector %v does not select its own pods (%v)", d.Name, d.Spec.Selector, err)
	}

	// The base names the image "fuzzyllama"; an overlay must say which build runs.
	slash := strings.LastIndex(c.Image, "/")
	_, tag, tagged := strings.Cut(c.Image[slash+1:], ":")
	if slash < 0 || !strings.Contains(c.Image, "@sha256:") && (!tagged || tag == "latest") {
		t.Errorf("%s: image %q, want a registry's image at a tag or digest the overlay pins", d.Name, c.Image)
	}
	if !slices.ContainsFunc(m.serviceAccounts, func(sa *corev1.ServiceAccount) bool { return sa.Name == spec.ServiceAccountName }) {
		t.Errorf("%s: service account %q is not rendered", d.Name, spec.ServiceAccountName)
	}
	cfg, ok := checkEnvironment(t, m, d.Name, target, c)
	if !ok {
		return pod{}, false
	}
	checkProbes(t, d.Name, c, cfg)
	checkResources(t, d.Name, c)
	checkSecurity(t, d.Name, spec, c, len(m.grants(d.Namespace, spec.ServiceAccountName)) > 0)
	checkShutdown(t, d.Name, spec, c, cfg)
	checkDisruptionAndScaling(t, m, d, target, cfg.Agents.Workers)
	return pod{labels: d.Spec.Template.Labels, namespace: d.Namespace, serviceAccount: spec.ServiceAccountName, container: c, cfg: cfg}, true
}

// checkEnvironment runs the container's environment (ConfigMaps resolved, the Secret's keys
// from sampleSecrets) through the binary's own configuration check, as compose_test.go does.
func checkEnvironment(t *testing.T, m *manifests, name, target string, c corev1.Container) (Config, bool) {
	env := map[string]string{}
	for _, from := range c.EnvFrom {
		if from.ConfigMapRef == nil {
			t.Errorf("%s: envFrom other than a ConfigMap: %+v", name, from)
			continue
		}
		cm := m.configMap(from.ConfigMapRef.Name)
		if cm == nil {
			t.Errorf("%s: ConfigMap %s is not rendered", name, from.ConfigMapRef.Name)
			continue
		}
		for k, v := range cm.Data {
			env[from.Prefix+k] = v
		}
	}
	for _, e := range c.Env {
		switch {
		case e.ValueFrom == nil:
			env[e.Name] = e.Value
		case e.ValueFrom.SecretKeyRef != nil:
			ref := e.ValueFrom.SecretKeyRef
			// An overlay renders the Secret (staging) or leaves it to the cluster (production).
			if s := m.secret(ref.Name); s != nil {
				if _, ok := s.Data[ref.Key]; !ok && (ref.Optional == nil || !*ref.Optional) {
					t.Errorf("%s: %s needs key %s, which Secret %s lacks", name, e.Name, ref.Key, ref.Name)
				}
			} else if len(m.secrets) > 0 {
				t.Errorf("%s: %s: Secret %s is not the one rendered", name, e.Name, ref.Name)
			}
			if v, ok := sampleSecrets[ref.Key]; ok {
				env[e.Name] = v
			} else if ref.Optional == nil || !*ref.Optional {
				t.Errorf("%s: %s comes from Secret key %s, which has no sample in this test", name, e.Name, ref.Key)
			}
		case e.ValueFrom.ConfigMapKeyRef != nil:
			ref := e.ValueFrom.ConfigMapKeyRef
			cm := m.configMap(ref.Name)
			if cm == nil {
				t.Errorf("%s: %s: ConfigMap %s is not rendered", name, e.Name, ref.Name)
				continue
			}
			v, ok := cm.Data[ref.Key]
			if !ok && (ref.Optional == nil || !*ref.Optional) {
				t.Errorf("%s: %s: ConfigMap %s has no key %s", name, e.Name, ref.Name, ref.Key)
			}
			if ok {
				env[e.Name] = v
			}
		default:
			t.Errorf("%s: %s has a source this test does not resolve", name, e.Name)
		}
	}

	declared := map[string]bool{}
	lookup := func(env map[string]string) func(string) (string, bool) {
		return func(k string) (string, bool) { declared[k] = true; v, ok := env[k]; return v, ok }
	}
	cfg := Config{Target: target}
	if err := NewConfigSet(&cfg).Parse(lookup(env)); err != nil {
		t.Errorf("%s (-target=%s) would not start: %v", name, target, err)
		return cfg, false
	}
	for k := range env {
		if !declared[k] && !slices.Contains(runtimeVariables, k) {
			t.Errorf("%s: %s is not a FuzzyLlama variable (a typo is silently ignored)", name, k)
		}
	}
	if !cfg.Production() || cfg.RedisURL == "" || cfg.DatabaseURL == "" && target != "gateway" {
		t.Errorf("%s: not the production shape: env %s, DATABASE_URL %q, REDIS_URL %q", name, cfg.Env, cfg.DatabaseURL, cfg.RedisURL)
	}

	// A Secret rendered from the repository holds placeholders: the process must refuse them.
	if s := m.secret(secretRefName(c)); s != nil {
		placeholders := maps.Clone(env)
		for _, e := range c.Env {
			if ref := e.ValueFrom; ref != nil && ref.SecretKeyRef != nil {
				if v, ok := s.Data[ref.SecretKeyRef.Key]; ok {
					placeholders[e.Name] = string(v)
				}
			}
		}
		if err := NewConfigSet(&Config{Target: target}).Parse(lookup(placeholders)); err == nil {
			t.Errorf("%s starts with the Secret's placeholders", name)
		}
	}
	return cfg, true
}

// secretRefName is the Secret the container's environment refers to ("" for none).
func secretRefName(c corev1.Container) string {
	for _, e := range c.Env {
		if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
			return e.ValueFrom.SecretKeyRef.Name
		}
	}
	return ""
}

// portOf is the port number of addr ("host:port" or ":port").
func portOf(addr string) int32 {
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		return 0
	}
	n, _ := strconv.Atoi(p)
	return int32(n)
}

// containerPort resolves a probe's or Service's port (number or name) on c.
func containerPort(c corev1.Container, port intstr.IntOrString) int32 {
	if port.Type == intstr.Int {
		return port.IntVal
	}
	for _, p := range c.Ports {
		if p.Name == port.StrVal {
			return p.ContainerPort
		}
	}
	return 0
}

// grpcListen is the port the target's gRPC server listens on ("" for the gateway).
func grpcListen(target string, cfg Config) int32 {
	switch target {
	case "auth":
		return portOf(cfg.AuthGRPCAddr)
	case "projects":
		return portOf(cfg.ProjectsGRPCAddr)
	case "documents":
		return portOf(cfg.DocumentsGRPCAddr)
	case "agents":
		return portOf(cfg.AgentsGRPCAddr)
	}
	return 0
}

func checkProbes(t *testing.T, name string, c corev1.Container, cfg Config) {
	opsPort := portOf(cfg.HTTPAddr)
	for _, p := range []struct {
		kind  string
		probe *corev1.Probe
		path  string
	}{{"readiness", c.ReadinessProbe, "/readyz"}, {"liveness", c.LivenessProbe, "/healthz"}, {"startup", c.StartupProbe, "/healthz"}} {
		if p.probe == nil || p.probe.HTTPGet == nil {
			t.Errorf("%s: no HTTP %s probe", name, p.kind)
			continue
		}
		if p.probe.HTTPGet.Path != p.path || containerPort(c, p.probe.HTTPGet.Port) != opsPort || opsPort == 0 {
			t.Errorf("%s: %s probe GET %s on port %v, want %s on HTTP_ADDR's port %d", name, p.kind, p.probe.HTTPGet.Path, p.probe.HTTPGet.Port.String(), p.path, opsPort)
		}
	}
}

func checkResources(t *testing.T, name string, c corev1.Container) {
	for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		req, hasReq := c.Resources.Requests[r]
		limit, hasLimit := c.Resources.Limits[r]
		if !hasReq || !hasLimit || req.Cmp(limit) > 0 {
			t.Errorf("%s: %s request %v, limit %v: want both, request ≤ limit", name, r, req.String(), limit.String())
		}
	}
	for _, e := range c.Env {
		if e.Name != "GOMEMLIMIT" {
			continue
		}
		// GOMEMLIMIT's suffixes are KiB, MiB, GiB: a Quantity's Ki, Mi, Gi with a B.
		soft, err := resource.ParseQuantity(strings.TrimSuffix(e.Value, "B"))
		limit := c.Resources.Limits[corev1.ResourceMemory]
		if err != nil || soft.Cmp(limit) >= 0 {
			t.Errorf("%s: GOMEMLIMIT %s must be below the memory limit %s (%v)", name, e.Value, limit.String(), err)
		}
	}
}

// checkSecurity: confined, and with a Kubernetes API token only when its account is granted
// something (checkAPIAccess bounds what).
func checkSecurity(t *testing.T, name string, spec corev1.PodSpec, c corev1.Container, usesAPI bool) {
	psc, sc := spec.SecurityContext, c.SecurityContext
	if psc == nil || sc == nil {
		t.Errorf("%s: no pod or container securityContext", name)
		return
	}
	isTrue := func(b *bool) bool { return b != nil && *b }
	if !isTrue(psc.RunAsNonRoot) && !isTrue(sc.RunAsNonRoot) {
		t.Errorf("%s: may run as root", name)
	}
	seccomp := sc.SeccompProfile
	if seccomp == nil {
		seccomp = psc.SeccompProfile
	}
	if seccomp == nil || seccomp.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("%s: seccomp profile %v, want RuntimeDefault", name, seccomp)
	}
	if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation || isTrue(sc.Privileged) {
		t.Errorf("%s: privilege escalation not ruled out", name)
	}
	if !isTrue(sc.ReadOnlyRootFilesystem) {
		t.Errorf("%s: root filesystem is writable", name)
	}
	if sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL") || len(sc.Capabilities.Add) > 0 {
		t.Errorf("%s: capabilities %v, want ALL dropped and none added", name, sc.Capabilities)
	}
	mountsToken := spec.AutomountServiceAccountToken == nil || *spec.AutomountServiceAccountToken
	if mountsToken && !usesAPI {
		t.Errorf("%s: mounts a Kubernetes API token it never uses", name)
	}
	if usesAPI && !mountsToken {
		t.Errorf("%s: granted Kubernetes API access, but mounts no token to use it", name)
	}
}

// checkShutdown: Kubernetes kills the pod only after preStop, the gateway's drain and the
// graceful shutdown had their time.
func checkShutdown(t *testing.T, name string, spec corev1.PodSpec, c corev1.Container, cfg Config) {
	need := shutdownTimeout
	if c.Lifecycle != nil && c.Lifecycle.PreStop != nil {
		if c.Lifecycle.PreStop.Sleep == nil {
			t.Errorf("%s: preStop other than sleep (the image has no shell)", name)
		} else {
			need += time.Duration(c.Lifecycle.PreStop.Sleep.Seconds) * time.Second
		}
	}
	if cfg.runs("gateway") {
		need += cfg.Gateway.ShutdownDrainTime
	}
	grace := 30 * time.Second // Kubernetes' default
	if spec.TerminationGracePeriodSeconds != nil {
		grace = time.Duration(*spec.TerminationGracePeriodSeconds) * time.Second
	}
	if grace <= need {
		t.Errorf("%s: terminationGracePeriodSeconds %v, want more than %v (preStop, drain, shutdown)", name, grace, need)
	}
}

// checkDisruptionAndScaling: one PDB per Deployment; HPAs for the gateway and agents, which
// then own the replica count.
func checkDisruptionAndScaling(t *testing.T, m *manifests, d *appsv1.Deployment, target string, workers int) {
	podLabels := labels.Set(d.Spec.Template.Labels)
	pdbs := 0
	for _, p := range m.pdbs {
		sel, err := metav1.LabelSelectorAsSelector(p.Spec.Selector)
		if err == nil && sel.Matches(podLabels) {
			pdbs++
			if p.Spec.MinAvailable == nil && p.Spec.MaxUnavailable == nil {
				t.Errorf("PodDisruptionBudget %s bounds nothing", p.Name)
			}
		}
	}
	if pdbs != 1 {
		t.Errorf("%s: %d PodDisruptionBudgets select its pods, want 1", d.Name, pdbs)
	}
	var hpas []*autoscalingv2.HorizontalPodAutoscaler
	for _, h := range m.hpas {
		if ref := h.Spec.ScaleTargetRef; ref.Kind == "Deployment" && ref.Name == d.Name && ref.APIVersion == "apps/v1" {
			hpas = append(hpas, h)
		}
	}
	wantHPA := target == "gateway" || target == "agents"
	switch {
	case wantHPA && len(hpas) != 1:
		t.Errorf("%s: %d HorizontalPodAutoscalers, want 1", d.Name, len(hpas))
	case !wantHPA && len(hpas) != 0:
		t.Errorf("%s: autoscaled, which this deployment does not plan for", d.Name)
	case wantHPA:
		h := hpas[0]
		if h.Spec.MinReplicas == nil || *h.Spec.MinReplicas < 1 || h.Spec.MaxReplicas < *h.Spec.MinReplicas || len(h.Spec.Metrics) == 0 {
			t.Errorf("%s: HorizontalPodAutoscaler min %v max %d metrics %d", d.Name, h.Spec.MinReplicas, h.Spec.MaxReplicas, len(h.Spec.Metrics))
		}
		for _, metric := range h.Spec.Metrics {
			// Runs per replica: one per worker (see components/agents-queue-autoscaling).
			if e := metric.External; e != nil && e.Metric.Name == "fuzzyllama_agent_runs_active" &&
				(e.Target.AverageValue == nil || e.Target.AverageValue.Value() != int64(workers)) {
				t.Errorf("%s: scales to %v active runs per replica, but each runs AGENT_WORKERS=%d", d.Name, e.Target.AverageValue, workers)
			}
		}
		if d.Spec.Replicas != nil {
			t.Errorf("%s: replicas set beside its HorizontalPodAutoscaler: every apply would reset the count", d.Name)
		}
	}
}

// checkServiceAddresses: each target has a Service at the address the others dial, sending to
// the port the target listens on.
func checkServiceAddresses(t *testing.T, m *manifests, pods map[string]pod) {
	for _, target := range Targets[1:] {
		if target == "gateway" {
			continue
		}
		for caller, p := range pods {
			if !slices.Contains(callGraph[caller], target) {
				continue
			}
			addr := map[string]string{"auth": p.cfg.AuthService, "projects": p.cfg.ProjectsService,
				"documents": p.cfg.DocumentsService, "agents": p.cfg.AgentsService}[target]
			host, _, _ := net.SplitHostPort(addr)
			if got := serviceTarget(m, pods, host, portOf(addr)); got != target {
				t.Errorf("%s dials %s at %s, which reaches %q", caller, target, addr, got)
			}
		}
	}
}

// serviceTarget is the target whose gRPC (or, for the gateway, HTTP) listener the Service name
// forwards port to ("" for none).
func serviceTarget(m *manifests, pods map[string]pod, name string, port int32) string {
	for _, s := range m.services {
		if s.Name != name {
			continue
		}
		sel := labels.SelectorFromSet(s.Spec.Selector)
		for _, sp := range s.Spec.Ports {
			if sp.Port != port {
				continue
			}
			for target, p := range pods {
				listen := grpcListen(target, p.cfg)
				if target == "gateway" {
					listen = portOf(p.cfg.HTTPAddr)
				}
				if len(s.Spec.Selector) > 0 && sel.Matches(labels.Set(p.labels)) && containerPort(p.container, sp.TargetPort) == listen {
					return target
				}
			}
		}
	}
	return ""
}

// checkIngress: the public host is FRONTEND_URL's, and it reaches the gateway.
func checkIngress(t *testing.T, m *manifests, gw pod) {
	if len(m.ingresses) != 1 || len(m.ingresses[0].Spec.Rules) != 1 {
		t.Fatalf("want one Ingress with one rule, got %d", len(m.ingresses))
	}
	rule := m.ingresses[0].Spec.Rules[0]
	if want := "https://" + rule.Host; gw.cfg.FrontendURL != want {
		t.Errorf("FRONTEND_URL %s, but users open %s", gw.cfg.FrontendURL, want)
	}
	if rule.HTTP == nil || len(rule.HTTP.Paths) != 1 || rule.HTTP.Paths[0].Path != "/" {
		t.Fatalf("Ingress rule %+v: want every path to the gateway", rule)
	}
	backend := rule.HTTP.Paths[0].Backend.Service
	port := backend.Port.Number
	for _, s := range m.services {
		for _, sp := range s.Spec.Ports {
			if s.Name == backend.Name && sp.Name == backend.Port.Name && backend.Port.Name != "" {
				port = sp.Port
			}
		}
	}
	if got := serviceTarget(m, map[string]pod{"gateway": gw}, backend.Name, port); got != "gateway" {
		t.Errorf("Ingress sends to %s:%v, which is not the gateway", backend.Name, backend.Port)
	}
}

// endpoint is one end of a connection, for evaluating NetworkPolicies: a pod (labels, in a
// namespace with labels) or an address outside the cluster.
type endpoint struct {
	name      string
	namespace string
	nsLabels  map[string]string
	labels    map[string]string
	ip        netip.Addr
}

func (e endpoint) String() string { return e.name }

func namespaceEndpoint(name, ns string, podLabels map[string]string) endpoint {
	return endpoint{name: name, namespace: ns, nsLabels: map[string]string{"kubernetes.io/metadata.name": ns}, labels: podLabels}
}

// allowed evaluates the NetworkPolicies of namespace ns for a TCP/UDP connection from one
// endpoint to another's port, on each side: the source's egress and the destination's ingress.
// A side that is not a pod of ns is not restricted here.
func allowed(t *testing.T, policies []*networkingv1.NetworkPolicy, ns string, from, to endpoint, proto corev1.Protocol, port int32) (egress, ingress bool) {
	side := func(pod endpoint, kind networkingv1.PolicyType, peer endpoint) bool {
		if pod.namespace != ns || pod.labels == nil {
			return true
		}
		selected := false
		for _, p := range policies {
			if p.Namespace != ns {
				continue
			}
			sel, err := metav1.LabelSelectorAsSelector(&p.Spec.PodSelector)
			if err != nil {
				t.Fatalf("NetworkPolicy %s: %v", p.Name, err)
			}
			if !sel.Matches(labels.Set(pod.labels)) || !slices.Contains(p.Spec.PolicyTypes, kind) {
				continue
			}
			selected = true
			var rules [][]networkingv1.NetworkPolicyPeer
			var ports [][]networkingv1.NetworkPolicyPort
			if kind == networkingv1.PolicyTypeIngress {
				for _, r := range p.Spec.Ingress {
					rules, ports = append(rules, r.From), append(ports, r.Ports)
				}
			} else {
				for _, r := range p.Spec.Egress {
					rules, ports = append(rules, r.To), append(ports, r.Ports)
				}
			}
			for i := range rules {
				if portsMatch(t, p.Name, ports[i], proto, port) && peersMatch(t, p.Name, rules[i], ns, peer) {
					return true
				}
			}
		}
		return !selected
	}
	return side(from, networkingv1.PolicyTypeEgress, to), side(to, networkingv1.PolicyTypeIngress, from)
}

func portsMatch(t *testing.T, policy string, ports []networkingv1.NetworkPolicyPort, proto corev1.Protocol, port int32) bool {
	if len(ports) == 0 {
		return true
	}
	for _, p := range ports {
		pp := corev1.ProtocolTCP
		if p.Protocol != nil {
			pp = *p.Protocol
		}
		if pp != proto {
			continue
		}
		if p.Port == nil {
			return true
		}
		if p.Port.Type != intstr.Int {
			t.Errorf("NetworkPolicy %s: named port %s: use numbers, which this check reads", policy, p.Port.StrVal)
			continue
		}
		end := p.Port.IntVal
		if p.EndPort != nil {
			end = *p.EndPort
		}
		if port >= p.Port.IntVal && port <= end {
			return true
		}
	}
	return false
}

func peersMatch(t *testing.T, policy string, peers []networkingv1.NetworkPolicyPeer, ns string, e endpoint) bool {
	if len(peers) == 0 {
		return true
	}
	matches := func(s *metav1.LabelSelector, set map[string]string) bool {
		sel, err := metav1.LabelSelectorAsSelector(s)
		if err != nil {
			t.Fatalf("NetworkPolicy %s: %v", policy, err)
		}
		return sel.Matches(labels.Set(set))
	}
	for _, p := range peers {
		switch {
		case p.IPBlock != nil:
			if !e.ip.IsValid() {
				continue // pod addresses are the cluster's, which the blocks here exclude
			}
			if prefixContains(t, policy, p.IPBlock.CIDR, e.ip) && !slices.ContainsFunc(p.IPBlock.Except, func(c string) bool { return prefixContains(t, policy, c, e.ip) }) {
				return true
			}
		case e.labels == nil:
		case p.NamespaceSelector == nil:
			if e.namespace == ns && matches(p.PodSelector, e.labels) {
				return true
			}
		case matches(p.NamespaceSelector, e.nsLabels):
			if p.PodSelector == nil || matches(p.PodSelector, e.labels) {
				return true
			}
		}
	}
	return false
}

func prefixContains(t *testing.T, policy, cidr string, ip netip.Addr) bool {
	p, err := netip.ParsePrefix(cidr)
	if err != nil {
		t.Fatalf("NetworkPolicy %s: %v", policy, err)
	}
	return p.Contains(ip)
}

// hasDefaultDeny: a policy of namespace ns selects every pod, ingress and egress, with no rule.
func hasDefaultDeny(m *manifests, ns string) bool {
	return slices.ContainsFunc(m.policies, func(p *networkingv1.NetworkPolicy) bool {
		return p.Namespace == ns && len(p.Spec.PodSelector.MatchLabels)+len(p.Spec.PodSelector.MatchExpressions) == 0 &&
			len(p.Spec.Ingress)+len(p.Spec.Egress) == 0 &&
			slices.Contains(p.Spec.PolicyTypes, networkingv1.PolicyTypeIngress) && slices.Contains(p.Spec.PolicyTypes, networkingv1.PolicyTypeEgress)
	})
}

// checkNetworkPolicies: by default nothing is allowed; between targets exactly the calls of
// callGraph are; outside, each target reaches only what it uses.
func checkNetworkPolicies(t *testing.T, m *manifests, pods map[string]pod) {
	ns := pods["gateway"].namespace
	if !hasDefaultDeny(m, ns) {
		t.Error("no default-deny NetworkPolicy (every pod, ingress and egress, no rule)")
	}
	endpoints := map[string]endpoint{}
	for target, p := range pods {
		endpoints[target] = namespaceEndpoint(target, ns, p.labels)
	}
	postgresIP, postgresPort := policyTarget(t, m, "fuzzyllama-postgres")
	redisIP, redisPort := policyTarget(t, m, "fuzzyllama-redis")
	var (
		postgres                               = endpoint{name: "PostgreSQL", ip: postgresIP}
		redis                                  = endpoint{name: "Redis", ip: redisIP}
		neighbour                              = namespaceEndpoint("another pod of the namespace", ns, map[string]string{"app": "x"})
		internet, internet6, private, metadata = outside.internet, outside.internet6, outside.private, outside.metadata
		kubeDNS, ingress, prometheus, stranger = outside.kubeDNS, outside.ingress, outside.prometheus, outside.stranger
	)
	var conns []conn
	tcp := func(from, to endpoint, port int32, want bool) {
		conns = append(conns, conn{from, to, corev1.ProtocolTCP, port, want})
	}
	for _, caller := range Targets[1:] {
		from := endpoints[caller]
		for _, callee := range Targets[1:] {
			if port := grpcListen(callee, pods[callee].cfg); port != 0 {
				tcp(from, endpoints[callee], port, slices.Contains(callGraph[caller], callee))
			}
		}
		usesDB := caller != "gateway"
		tcp(from, postgres, postgresPort, usesDB)
		tcp(from, redis, redisPort, true)
		tcp(from, postgres, 22, false)
		tcp(from, redis, 22, false)
		tcp(from, internet, postgresPort, false)
		tcp(from, internet, redisPort, false)
		conns = append(conns, conn{from, kubeDNS, corev1.ProtocolUDP, 53, true})
		reachesOut := caller == "documents" || caller == "agents"
		tcp(from, internet, 443, reachesOut)
		tcp(from, internet6, 443, reachesOut)
		tcp(from, private, 443, false)
		tcp(from, metadata, 80, false)
		tcp(from, internet, 587, caller == "auth")
		tcp(from, neighbour, 8080, false)

		opsPort := portOf(pods[caller].cfg.HTTPAddr)
		tcp(prometheus, from, opsPort, true)
		tcp(ingress, from, opsPort, caller == "gateway")
		tcp(stranger, from, opsPort, false)
		tcp(neighbour, from, opsPort, false)
		if port := grpcListen(caller, pods[caller].cfg); port != 0 {
			tcp(prometheus, from, port, false)
			tcp(ingress, from, port, false)
			tcp(stranger, from, port, false)
		}
	}
	checkConnections(t, m.policies, ns, conns)
}

// outside is what the policies are checked against outside the namespace.
var outside = struct{ internet, internet6, private, metadata, kubeDNS, ingress, prometheus, stranger endpoint }{
	internet:   externalEndpoint("a public address", "203.0.113.7"),
	internet6:  externalEndpoint("a public IPv6 address", "2001:db8::7"),
	private:    externalEndpoint("a private address", "10.1.2.3"),
	metadata:   externalEndpoint("the cloud metadata endpoint", "169.254.169.254"),
	kubeDNS:    namespaceEndpoint("kube-dns", "kube-system", map[string]string{"k8s-app": "kube-dns"}),
	ingress:    namespaceEndpoint("the ingress controller", ingressNamespace, map[string]string{"app": "controller"}),
	prometheus: namespaceEndpoint("Prometheus", monitoringNamespace, map[string]string{"app": "prometheus"}),
	stranger:   namespaceEndpoint("a pod of another namespace", "other", map[string]string{"app": "x"}),
}

func externalEndpoint(name, ip string) endpoint {
	return endpoint{name: name, ip: netip.MustParseAddr(ip)}
}

// policyTarget is where a policy's first rule sends, as for a datastore or the API server: the
// overlay's address range and port.
func policyTarget(t *testing.T, m *manifests, policy string) (netip.Addr, int32) {
	for _, p := range m.policies {
		if p.Name != policy || len(p.Spec.Egress) == 0 {
			continue
		}
		r := p.Spec.Egress[0]
		if len(r.To) > 0 && r.To[0].IPBlock != nil && len(r.Ports) > 0 && r.Ports[0].Port != nil {
			if prefix, err := netip.ParsePrefix(r.To[0].IPBlock.CIDR); err == nil {
				return prefix.Addr(), r.Ports[0].Port.IntVal
			}
		}
	}
	t.Fatalf("NetworkPolicy %s does not start with an address range and a port", policy)
	return netip.Addr{}, 0
}

// conn is a connection and whether the NetworkPolicies should let it through.
type conn struct {
	from, to endpoint
	proto    corev1.Protocol
	port     int32
	want     bool
}

// checkConnections evaluates conns against the policies of namespace ns.
func checkConnections(t *testing.T, policies []*networkingv1.NetworkPolicy, ns string, conns []conn) {
	t.Helper()
	ours := func(e endpoint) bool { return e.namespace == ns && e.labels != nil }
	for _, c := range conns {
		egress, ingress := allowed(t, policies, ns, c.from, c.to, c.proto, c.port)
		switch {
		case c.want && !(egress && ingress):
			t.Errorf("NetworkPolicies: %s → %s port %d/%s refused (egress %v, ingress %v), want allowed", c.from, c.to, c.port, c.proto, egress, ingress)
		// A connection not made is refused on each side of ours, so that one policy's mistake
		// does not open it.
		case !c.want && (ours(c.from) && egress || ours(c.to) && ingress):
			t.Errorf("NetworkPolicies: %s → %s port %d/%s allowed (egress %v, ingress %v), want refused on each side", c.from, c.to, c.port, c.proto, egress, ingress)
		}
	}
}

// sandboxRunnerNeeds is what services/agents/sandbox/kubejob does in the sandbox namespace.
var sandboxRunnerNeeds = []rbacv1.PolicyRule{
	{APIGroups: []string{"batch"}, Resources: []string{"jobs"}, Verbs: []string{"create", "get", "patch", "delete"}},
	{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"list"}},
	{APIGroups: []string{""}, Resources: []string{"pods/log"}, Verbs: []string{"get"}},
	{APIGroups: []string{""}, Resources: []string{"secrets", "persistentvolumeclaims"}, Verbs: []string{"create"}},
}

// sandboxRunnerMay bounds a Role of the sandbox namespace: resources and their verbs. Never a
// Secret's content, a pod's exec or attach, an update of RBAC or a verb that grants more.
var sandboxRunnerMay = map[string][]string{
	"jobs":                   {"create", "get", "list", "watch", "patch", "delete"},
	"pods":                   {"get", "list", "watch"},
	"pods/log":               {"get"},
	"secrets":                {"create", "delete"},
	"persistentvolumeclaims": {"create", "delete"},
}

// grants are the rules of the Roles bound to the service account ns/account.
func (m *manifests) grants(ns, account string) []rbacv1.PolicyRule {
	var rules []rbacv1.PolicyRule
	for _, rb := range m.roleBindings {
		if !slices.ContainsFunc(rb.Subjects, func(s rbacv1.Subject) bool {
			return s.Kind == rbacv1.ServiceAccountKind && s.Name == account && s.Namespace == ns
		}) {
			continue
		}
		for _, r := range m.roles {
			if rb.RoleRef.Kind == "Role" && r.Name == rb.RoleRef.Name && r.Namespace == rb.Namespace {
				rules = append(rules, r.Rules...)
			}
		}
	}
	return rules
}

// checkAPIAccess: only the agents call the Kubernetes API, to run the sandbox's Jobs, and they may
// touch nothing outside the sandbox namespace: no cluster-wide grant, no Role elsewhere, and in
// the sandbox namespace only what kubejob does.
func checkAPIAccess(t *testing.T, m *manifests, pods map[string]pod) {
	if len(m.clusterRoles)+len(m.clusterRoleBindings) > 0 {
		t.Error("ClusterRoles or ClusterRoleBindings: FuzzyLlama needs no permission beyond the sandbox namespace")
	}
	sandboxNS := m.sandboxNamespace()
	for _, rb := range m.roleBindings {
		if rb.Namespace != sandboxNS || rb.RoleRef.Kind != "Role" || rb.RoleRef.APIGroup != rbacv1.GroupName {
			t.Errorf("RoleBinding %s/%s binds %s %s: only Roles of the sandbox namespace %q may be bound", rb.Namespace, rb.Name, rb.RoleRef.Kind, rb.RoleRef.Name, sandboxNS)
		}
		for _, s := range rb.Subjects {
			if s.Kind != rbacv1.ServiceAccountKind || s.Namespace != pods["agents"].namespace || s.Name != pods["agents"].serviceAccount {
				t.Errorf("RoleBinding %s/%s grants %s %s/%s: only the agents' account may be granted", rb.Namespace, rb.Name, s.Kind, s.Namespace, s.Name)
			}
		}
	}
	for _, r := range m.roles {
		if r.Namespace != sandboxNS {
			t.Errorf("Role %s/%s: Roles belong in the sandbox namespace %q", r.Namespace, r.Name, sandboxNS)
		}
		for _, rule := range r.Rules {
			if len(rule.ResourceNames)+len(rule.NonResourceURLs) > 0 {
				t.Errorf("Role %s: rule %+v names resources or URLs, which this check does not read", r.Name, rule)
			}
			for _, g := range rule.APIGroups {
				for _, res := range rule.Resources {
					for _, v := range rule.Verbs {
						if may := sandboxRunnerMay[res]; !slices.Contains(may, v) || g != map[bool]string{true: "batch", false: ""}[res == "jobs"] {
							t.Errorf("Role %s may %s %s in group %q: beyond what the sandbox runner does", r.Name, v, res, g)
						}
					}
				}
			}
		}
	}
	for target, p := range pods {
		rules := m.grants(p.namespace, p.serviceAccount)
		if target != "agents" && len(rules) > 0 {
			t.Errorf("%s (account %s) is granted %+v: only the agents call the Kubernetes API", target, p.serviceAccount, rules)
		}
		if target != "agents" || sandboxNS == "" {
			continue
		}
		for _, need := range sandboxRunnerNeeds {
			for _, res := range need.Resources {
				for _, v := range need.Verbs {
					if !slices.ContainsFunc(rules, func(r rbacv1.PolicyRule) bool {
						return slices.Contains(r.APIGroups, need.APIGroups[0]) && slices.Contains(r.Resources, res) && slices.Contains(r.Verbs, v)
					}) {
						t.Errorf("the agents may not %s %s in the sandbox namespace, which the sandbox runner does", v, res)
					}
				}
			}
		}
	}
}

// checkSandboxNetwork: in the sandbox namespace (components/kubernetes-sandbox), a steps pod
// reaches nothing and nothing reaches it; a fetch pod reaches DNS and HTTPS on the internet
// only; any other pod there, nothing. Only the agents reach the API server.
func checkSandboxNetwork(t *testing.T, m *manifests, pods map[string]pod) {
	ns := m.sandboxNamespace()
	sb := pods["agents"].cfg.Agents.Sandbox
	if (sb.Runner == agents.RunnerKubernetes) != (ns != "") || ns != "" && sb.Namespace != ns {
		t.Errorf("the agents run SANDBOX_RUNNER=%s in namespace %q, but the sandbox namespace rendered is %q", sb.Runner, sb.Namespace, ns)
	}
	if ns == "" {
		return
	}
	if !hasDefaultDeny(m, ns) {
		t.Errorf("no default-deny NetworkPolicy in the sandbox namespace %s", ns)
	}
	// The labels services/agents/sandbox/kubejob gives its pods (LabelName, LabelRun, LabelPhase).
	sandboxPod := func(name, phase string) endpoint {
		return namespaceEndpoint(name, ns, map[string]string{"app.kubernetes.io/name": "fuzzyllama-sandbox",
			"fuzzyllama.dev/sandbox-run": "sandbox-0123456789", "fuzzyllama.dev/sandbox-phase": phase})
	}
	steps, fetch := sandboxPod("a sandbox's steps pod", "steps"), sandboxPod("a sandbox's fetch pod", "fetch")
	other := namespaceEndpoint("another pod of the sandbox namespace", ns, map[string]string{"app": "x"})
	agents := namespaceEndpoint("agents", pods["agents"].namespace, pods["agents"].labels)
	apiIP, apiPort := policyTarget(t, m, "fuzzyllama-kube-api")
	api := endpoint{name: "the Kubernetes API server", ip: apiIP}
	postgresIP, postgresPort := policyTarget(t, m, "fuzzyllama-postgres")
	postgres := endpoint{name: "PostgreSQL", ip: postgresIP}
	tcp, udp := corev1.ProtocolTCP, corev1.ProtocolUDP
	var conns []conn
	for _, p := range []endpoint{steps, fetch, other} {
		isFetch := p.name == fetch.name
		conns = append(conns,
			conn{p, outside.kubeDNS, udp, 53, isFetch},
			conn{p, outside.internet, tcp, 443, isFetch},
			conn{p, outside.internet6, tcp, 443, isFetch},
			conn{p, outside.internet, tcp, 80, false},
			conn{p, outside.private, tcp, 443, false},
			conn{p, outside.metadata, tcp, 80, false},
			conn{p, api, tcp, apiPort, false},
			conn{p, postgres, tcp, postgresPort, false},
			conn{p, agents, tcp, grpcListen("agents", pods["agents"].cfg), false},
			conn{agents, p, tcp, 8080, false},
			conn{outside.stranger, p, tcp, 8080, false},
			conn{outside.prometheus, p, tcp, 8080, false},
		)
	}
	conns = append(conns, conn{steps, fetch, tcp, 8080, false}, conn{fetch, steps, tcp, 8080, false})
	checkConnections(t, m.policies, ns, conns)

	var apiCalls []conn
	for target, p := range pods {
		apiCalls = append(apiCalls, conn{namespaceEndpoint(target, p.namespace, p.labels), api, tcp, apiPort, target == "agents"})
	}
	checkConnections(t, m.policies, pods["agents"].namespace, apiCalls)
}

// TestKubernetesDecodingIsStrict: a field the API types do not have fails the render, as a
// misspelt probe or a misplaced securityContext would.
func TestKubernetesDecodingIsStrict(t *testing.T) {
	write := func(dir, name, content string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	deployment := func(containerField string) string {
		return `apiVersion: apps/v1
kind: Deployment
metadata: {name: gateway}
spec:
  selector: {matchLabels: {app: gateway}}
  template:
    metadata: {labels: {app: gateway}}
    spec:
      containers:
        - name: fuzzyllama
          image: fuzzyllama
` + containerField
	}
	for _, tc := range []struct {
		name, manifest, wantErr string
	}{
		{"valid", deployment("          readinessProbe: {httpGet: {path: /readyz, port: 8080}}\n"), ""},
		{"misspelt field", deployment("          readinessprobe: {httpGet: {path: /readyz, port: 8080}}\n"), `unknown field "spec.template.spec.containers[0].readinessprobe"`},
		{"misplaced field", deployment("          readOnlyRootFilesystem: true\n"), `unknown field "spec.template.spec.containers[0].readOnlyRootFilesystem"`},
		{"duplicate field", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {A: x}\ndata: {B: y}\n", `mapping key "data" already defined`}, // kustomize refuses it first
		{"case of a field", deployment("          ReadinessProbe: {httpGet: {path: /readyz, port: 8080}}\n"), `unknown field "spec.template.spec.containers[0].ReadinessProbe"`},
		{"unknown kind", "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n", "unexpected kind example.com/v1 Widget"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			write(dir, "kustomization.yaml", "resources: [manifest.yaml]\n")
			write(dir, "manifest.yaml", tc.manifest)
			m, err := render(dir)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("valid manifest refused: %v", err)
			case tc.wantErr == "" && (len(m.deployments) != 1 || m.deployments[0].Spec.Template.Spec.Containers[0].ReadinessProbe == nil):
				t.Fatalf("valid manifest decoded as %+v", m)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
			}
		})
	}
}
