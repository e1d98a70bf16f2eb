package kubejob

import (
	"bytes"
	"os"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/kubernetes/fake"
	"sigs.k8s.io/yaml"

	"github.com/fuzzyllama/fuzzyllama/services/agents/sandbox"
)

// TestPodLabelsMatchTheSandboxPolicies: the labels the runner gives its pods are those the
// sandbox namespace's NetworkPolicies select (deploy/k8s/components/kubernetes-sandbox): the
// fetch pod is the only one let out, the steps pod is not.
func TestPodLabelsMatchTheSandboxPolicies(t *testing.T) {
	raw, err := os.ReadFile("../../../../deploy/k8s/components/kubernetes-sandbox/networkpolicies.yaml")
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(Config{Client: fake.NewClientset(), Namespace: testNamespace, Image: "x"})
	if err != nil {
		t.Fatal(err)
	}
	rn := run{name: "sandbox-0", job: testJob, limits: sandbox.DefaultLimits}
	steps := rn.stepsJob(&c.c)
	fetch := rn.fetchJob(&c.c, steps)
	found := false
	for _, doc := range bytes.Split(raw, []byte("\n---\n")) {
		var p networkingv1.NetworkPolicy
		if err := yaml.UnmarshalStrict(doc, &p); err != nil {
			t.Fatal(err)
		}
		if p.Name != "sandbox-fetch" {
			continue
		}
		found = true
		sel, err := metav1.LabelSelectorAsSelector(&p.Spec.PodSelector)
		if err != nil {
			t.Fatal(err)
		}
		if !sel.Matches(labels.Set(fetch.Spec.Template.Labels)) || sel.Matches(labels.Set(steps.Spec.Template.Labels)) {
			t.Errorf("NetworkPolicy sandbox-fetch selects %v: want the fetch pod (%v) and not the steps pod (%v)", sel, fetch.Spec.Template.Labels, steps.Spec.Template.Labels)
		}
	}
	if !found {
		t.Fatal("no NetworkPolicy sandbox-fetch")
	}
}

// TestImageShipsThePinnedScanner: the runner image builds govulncheck and takes the Go
// vulnerability database at the versions the local runner fetches, and puts them where steps
// look, so a security scan means the same on both runners.
func TestImageShipsThePinnedScanner(t *testing.T) {
	raw, err := os.ReadFile("image/Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"ARG GOVULNCHECK_VERSION=" + sandbox.GovulncheckVersion + "\n",
		"ARG GOVULNDB_VERSION=" + sandbox.GoVulnDBVersion + "\n",
		" " + sandbox.ToolsBinDir + "/govulncheck\n",
		" " + sandbox.GoVulnDBDir + "\n",
	} {
		if !bytes.Contains(raw, []byte(want)) {
			t.Errorf("image/Dockerfile lacks %q", want)
		}
	}
}
