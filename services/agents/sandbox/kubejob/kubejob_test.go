package kubejob

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/fuzzyllama/fuzzyllama/services/agents/sandbox"
)

const testNamespace = "fuzzyllama-sandbox"

// podOutcome is what the simulated cluster makes of a Job's pod: its log, its container's end
// and the Job's final condition. A nil outcome leaves the Job running.
type podOutcome struct {
	log        []byte
	terminated *corev1.ContainerStateTerminated
	condition  batchv1.JobCondition
	noPod      bool // the pod never got created (the Job failed first)
}

func completed(log []byte) *podOutcome {
	return &podOutcome{log: log, terminated: &corev1.ContainerStateTerminated{ExitCode: 0, Reason: "Completed"},
		condition: batchv1.JobCondition{Type: batchv1.JobComplete, Status: corev1.ConditionTrue}}
}

// cluster stands in for the Job controller and the kubelet on a fake clientset: each Job that
// is not suspended gets a pod, which ends as outcome says.
type cluster struct {
	client  *fake.Clientset
	outcome func(job *batchv1.Job) *podOutcome
	mu      sync.Mutex
	log     []byte // the last ended pod's (the fake's GetLogs does not say which pod it asks for)
}

func newCluster(t *testing.T, outcome func(job *batchv1.Job) *podOutcome) *cluster {
	c := &cluster{client: fake.NewClientset(), outcome: outcome}
	c.client.PrependReactor("get", "pods", func(a k8stesting.Action) (bool, runtime.Object, error) {
		if a.GetSubresource() != "log" {
			return false, nil, nil
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		return true, &runtime.Unknown{Raw: c.log}, nil
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			c.step(ctx, t)
			time.Sleep(5 * time.Millisecond)
		}
	}()
	t.Cleanup(func() { cancel(); <-done })
	return c
}

func (c *cluster) step(ctx context.Context, t *testing.T) {
	jobs, err := c.client.BatchV1().Jobs(testNamespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return
	}
	for i := range jobs.Items {
		j := &jobs.Items[i]
		if (j.Spec.Suspend != nil && *j.Spec.Suspend) || finished(j) != "" {
			continue
		}
		o := c.outcome(j)
		if o == nil {
			continue
		}
		if !o.noPod {
			pod := &corev1.Pod{
				ObjectMeta: metav1.ObjectMeta{Name: j.Name + "-pod", Namespace: testNamespace, Labels: j.Spec.Template.Labels},
				Spec:       j.Spec.Template.Spec,
				Status: corev1.PodStatus{Phase: corev1.PodSucceeded, ContainerStatuses: []corev1.ContainerStatus{
					{Name: containerName, State: corev1.ContainerState{Terminated: o.terminated}}}},
			}
			if _, err := c.client.CoreV1().Pods(testNamespace).Create(ctx, pod, metav1.CreateOptions{}); err != nil {
				t.Errorf("creating the pod: %v", err)
			}
		}
		c.mu.Lock()
		c.log = o.log
		c.mu.Unlock()
		j.Status.Conditions = append(j.Status.Conditions, o.condition)
		if _, err := c.client.BatchV1().Jobs(testNamespace).UpdateStatus(ctx, j, metav1.UpdateOptions{}); err != nil && ctx.Err() == nil {
			t.Errorf("ending the Job: %v", err)
		}
	}
}

func newRunner(t *testing.T, c *cluster) *Runner {
	t.Helper()
	r, err := New(Config{Client: c.client, Namespace: testNamespace, Image: "registry.example.com/fuzzyllama-sandbox:1",
		RuntimeClassName: "gvisor", PollInterval: 5 * time.Millisecond, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// logOf is a driver's log: its lines, with a line of stderr between them as a real log has.
func logOf(lines ...line) []byte {
	var b bytes.Buffer
	b.WriteString("a line of the driver's stderr\n")
	for _, l := range lines {
		b.Write(encodeLine(l))
	}
	return b.Bytes()
}

func intp(i int) *int { return &i }

var testJob = sandbox.Job{
	ProjectID: "p1",
	Files:     []sandbox.File{{Path: "backend/go.mod", Content: []byte("module m\n")}, {Path: "backend/main.go", Content: []byte("package main\n")}},
	Fetch:     []sandbox.Fetch{{Kind: sandbox.FetchGo, Dir: "backend"}},
	Steps: []sandbox.Step{
		{Name: "build", Dir: "backend", Command: []string{"go", "build", "./..."}},
		{Name: "unit_tests", Dir: "backend", Command: []string{"go", "test", "./..."}},
	},
}

func TestRunFetchesThenRunsStepsWithoutNetwork(t *testing.T) {
	build := sandbox.StepResult{Name: "build", Command: "cd backend && go build ./...", Log: []byte("ok\n")}
	tests := sandbox.StepResult{Name: "unit_tests", Command: "cd backend && go test ./...", ExitCode: 1, Log: []byte("FAIL\n"),
		Results: map[string][]byte{"backend/cover.out": []byte("mode: set\n")}}
	fetched := sandbox.FetchResult{Kind: sandbox.FetchGo, Dir: "backend", Command: "go mod download", OK: true, Log: []byte("$ go mod download\n")}
	c := newCluster(t, func(j *batchv1.Job) *podOutcome {
		if j.Labels[LabelPhase] == PhaseFetch {
			return completed(logOf(line{Fetch: &fetched}, line{Done: true}))
		}
		return completed(logOf(line{Started: intp(0)}, line{Step: &build}, line{Started: intp(1)}, line{Step: &tests}, line{Done: true}))
	})
	res, err := newRunner(t, c).Run(context.Background(), testJob)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Fetches) != 1 || !res.Fetches[0].OK || len(res.Steps) != 2 || !res.Steps[0].Passed() ||
		res.Steps[1].ExitCode != 1 || string(res.Steps[1].Results["backend/cover.out"]) != "mode: set\n" {
		t.Fatalf("result %+v", res)
	}

	created := map[string][]runtime.Object{}
	var deleted []k8stesting.DeleteAction
	for _, a := range c.client.Actions() {
		switch a := a.(type) {
		case k8stesting.CreateAction:
			// The cluster's own creates are pods; UpdateActions match CreateAction too.
			if r := a.GetResource().Resource; a.GetVerb() == "create" && r != "pods" {
				created[r] = append(created[r], a.GetObject())
			}
		case k8stesting.DeleteAction:
			deleted = append(deleted, a)
		}
	}
	if len(created["jobs"]) != 2 || len(created["secrets"]) != 1 || len(created["persistentvolumeclaims"]) != 1 {
		t.Fatalf("created %d Jobs, %d Secrets, %d PVCs, want two Jobs, a Secret and a PVC", len(created["jobs"]), len(created["secrets"]), len(created["persistentvolumeclaims"]))
	}
	steps, fetch := created["jobs"][0].(*batchv1.Job), created["jobs"][1].(*batchv1.Job)
	if steps.Spec.Suspend == nil || !*steps.Spec.Suspend {
		t.Error("the steps Job was created running, before its bundle and dependencies were there")
	}
	checkPodJob(t, steps, PhaseSteps, 2*sandbox.DefaultLimits.WallClock+5*time.Minute, true)
	checkPodJob(t, fetch, PhaseFetch, sandbox.DefaultLimits.WallClock+5*time.Minute, true)

	secret := created["secrets"][0].(*corev1.Secret)
	pvc := created["persistentvolumeclaims"][0].(*corev1.PersistentVolumeClaim)
	for _, o := range []metav1.Object{secret, pvc, fetch} {
		refs := o.GetOwnerReferences()
		if len(refs) != 1 || refs[0].Kind != "Job" || refs[0].Name != steps.Name {
			t.Errorf("%s: owners %+v, want the steps Job %s", o.GetName(), refs, steps.Name)
		}
	}
	if secret.Name != steps.Name || len(secret.Data[specKey]) == 0 || len(secret.Data[treeKey]) == 0 {
		t.Errorf("bundle Secret %s with keys %d/%d", secret.Name, len(secret.Data[specKey]), len(secret.Data[treeKey]))
	}
	if got := pvc.Spec.Resources.Requests[corev1.ResourceStorage]; got.Value() != 4<<30 {
		t.Errorf("dependency volume of %s", got.String())
	}
	// Everything goes with the steps Job, deleted once the results are read.
	if len(deleted) != 1 || deleted[0].GetName() != steps.Name || deleted[0].GetDeleteOptions().PropagationPolicy == nil ||
		*deleted[0].GetDeleteOptions().PropagationPolicy != metav1.DeletePropagationBackground {
		t.Errorf("deleted %+v, want the steps Job with its dependents", deleted)
	}
}

// checkPodJob checks what confines a sandbox pod.
func checkPodJob(t *testing.T, j *batchv1.Job, phase string, deadline time.Duration, withDeps bool) {
	t.Helper()
	spec := j.Spec.Template.Spec
	if j.Spec.BackoffLimit == nil || *j.Spec.BackoffLimit != 0 || j.Spec.ActiveDeadlineSeconds == nil ||
		*j.Spec.ActiveDeadlineSeconds != int64(deadline/time.Second) || j.Spec.TTLSecondsAfterFinished == nil || *j.Spec.TTLSecondsAfterFinished != 600 {
		t.Errorf("%s: backoffLimit %v, activeDeadlineSeconds %v (want %v), ttl %v", j.Name, j.Spec.BackoffLimit, j.Spec.ActiveDeadlineSeconds, deadline, j.Spec.TTLSecondsAfterFinished)
	}
	labels := j.Spec.Template.Labels
	if labels[LabelName] != NameValue || labels[LabelPhase] != phase {
		t.Errorf("%s: pod labels %v, want the sandbox's (the NetworkPolicies select them) in phase %s", j.Name, labels, phase)
	}
	if spec.AutomountServiceAccountToken == nil || *spec.AutomountServiceAccountToken || spec.ServiceAccountName != "fuzzyllama-sandbox" ||
		spec.EnableServiceLinks == nil || *spec.EnableServiceLinks || spec.HostNetwork || spec.HostPID || spec.HostIPC ||
		spec.RestartPolicy != corev1.RestartPolicyNever {
		t.Errorf("%s: token %v, account %q, service links %v, host namespaces %v/%v/%v, restart %s", j.Name, spec.AutomountServiceAccountToken,
			spec.ServiceAccountName, spec.EnableServiceLinks, spec.HostNetwork, spec.HostPID, spec.HostIPC, spec.RestartPolicy)
	}
	if spec.RuntimeClassName == nil || *spec.RuntimeClassName != "gvisor" {
		t.Errorf("%s: runtime class %v", j.Name, spec.RuntimeClassName)
	}
	psc := spec.SecurityContext
	if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot || psc.RunAsUser == nil || *psc.RunAsUser != 65534 ||
		psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("%s: pod security context %+v", j.Name, psc)
	}
	if len(spec.Containers) != 1 || len(spec.InitContainers) != 0 {
		t.Fatalf("%s: %d containers, %d init containers, want the driver alone", j.Name, len(spec.Containers), len(spec.InitContainers))
	}
	ctr := spec.Containers[0]
	sc := ctr.SecurityContext
	if sc == nil || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem ||
		sc.Capabilities == nil || len(sc.Capabilities.Drop) != 1 || sc.Capabilities.Drop[0] != "ALL" || len(sc.Capabilities.Add) != 0 {
		t.Errorf("%s: container security context %+v", j.Name, sc)
	}
	if strings.Join(ctr.Command, " ") != "fuzzyllama-sandbox "+phase {
		t.Errorf("%s: command %v", j.Name, ctr.Command)
	}
	want := corev1.ResourceList{
		corev1.ResourceMemory:           *resource.NewQuantity(sandbox.DefaultLimits.MemoryBytes+64<<20, resource.BinarySI),
		corev1.ResourceCPU:              resource.MustParse("1"),
		corev1.ResourceEphemeralStorage: *resource.NewQuantity(3*sandbox.DefaultLimits.TreeBytes+64<<20, resource.BinarySI),
	}
	for name, q := range want {
		if l, r := ctr.Resources.Limits[name], ctr.Resources.Requests[name]; l.Cmp(q) != 0 || r.Cmp(q) != 0 {
			t.Errorf("%s: %s limit %s request %s, want %s", j.Name, name, l.String(), r.String(), q.String())
		}
	}
	volumes := map[string]corev1.Volume{}
	for _, v := range spec.Volumes {
		volumes[v.Name] = v
	}
	for _, name := range []string{"work", "tmp", "home"} {
		if e := volumes[name].EmptyDir; e == nil || e.SizeLimit == nil || e.SizeLimit.Value() != sandbox.DefaultLimits.TreeBytes {
			t.Errorf("%s: volume %s is not an emptyDir bounded by the tree's limit", j.Name, name)
		}
	}
	if s := volumes["bundle"].Secret; s == nil || s.SecretName != j.Labels[LabelRun] {
		t.Errorf("%s: no bundle Secret volume", j.Name)
	}
	deps, ok := volumes["deps"]
	if ok != withDeps || ok && (deps.PersistentVolumeClaim == nil || deps.PersistentVolumeClaim.ReadOnly != (phase == PhaseSteps)) {
		t.Errorf("%s: dependency volume %+v, want one (read-only for the steps): %v", j.Name, deps, withDeps)
	}
	for _, m := range ctr.VolumeMounts {
		if m.Name == "deps" && m.ReadOnly != (phase == PhaseSteps) || m.Name == "bundle" && !m.ReadOnly {
			t.Errorf("%s: mount %s read-only %v", j.Name, m.Name, m.ReadOnly)
		}
	}
	if phase == PhaseSteps && spec.DNSPolicy != corev1.DNSNone {
		t.Errorf("%s: DNS policy %s, want None for the steps", j.Name, spec.DNSPolicy)
	}
}

func TestRunWithoutFetchHasOneJob(t *testing.T) {
	job := testJob
	job.Fetch = nil
	build := sandbox.StepResult{Name: "build"}
	c := newCluster(t, func(*batchv1.Job) *podOutcome {
		return completed(logOf(line{Started: intp(0)}, line{Step: &build}, line{Started: intp(1)}, line{Step: &build}, line{Done: true}))
	})
	res, err := newRunner(t, c).Run(context.Background(), job)
	if err != nil || len(res.Fetches) != 0 || len(res.Steps) != 2 {
		t.Fatalf("result %+v, %v", res, err)
	}
	var jobs []*batchv1.Job
	for _, a := range c.client.Actions() {
		if a, ok := a.(k8stesting.CreateAction); ok && a.GetVerb() == "create" {
			if r := a.GetResource().Resource; r == "persistentvolumeclaims" {
				t.Error("a dependency volume for a job without fetches")
			} else if r == "jobs" {
				jobs = append(jobs, a.GetObject().(*batchv1.Job))
			}
		}
	}
	if len(jobs) != 1 {
		t.Fatalf("%d Jobs", len(jobs))
	}
	checkPodJob(t, jobs[0], PhaseSteps, 2*sandbox.DefaultLimits.WallClock+5*time.Minute, false)
}

func TestRunFailedFetchRunsNoStep(t *testing.T) {
	failed := sandbox.FetchResult{Kind: sandbox.FetchGo, Dir: "backend", Log: []byte("no such module\n")}
	c := newCluster(t, func(j *batchv1.Job) *podOutcome {
		if j.Labels[LabelPhase] == PhaseSteps {
			t.Error("the steps Job was started after a failed fetch")
		}
		return completed(logOf(line{Fetch: &failed}, line{Done: true}))
	})
	res, err := newRunner(t, c).Run(context.Background(), testJob)
	if err != nil || len(res.Fetches) != 1 || res.Fetches[0].OK || len(res.Steps) != 0 {
		t.Fatalf("result %+v, %v; want the failed fetch and no steps", res, err)
	}
}

func TestRunOOMKilledStopsTheStep(t *testing.T) {
	job := testJob
	job.Fetch = nil
	c := newCluster(t, func(*batchv1.Job) *podOutcome {
		return &podOutcome{log: logOf(line{Started: intp(0)}),
			terminated: &corev1.ContainerStateTerminated{ExitCode: 137, Reason: "OOMKilled"},
			condition:  batchv1.JobCondition{Type: batchv1.JobFailed, Status: corev1.ConditionTrue, Reason: batchv1.JobReasonBackoffLimitExceeded}}
	})
	res, err := newRunner(t, c).Run(context.Background(), job)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Steps) != 2 {
		t.Fatalf("%d step results, want one per step", len(res.Steps))
	}
	build, tests := res.Steps[0], res.Steps[1]
	if build.ExitCode != -1 || build.Stopped != "memory limit of 2 GiB reached" || build.Command != "cd backend && go build ./..." {
		t.Errorf("build: %+v", build)
	}
	if tests.ExitCode != -1 || tests.Stopped != "not run: the sandbox was stopped during build" {
		t.Errorf("unit_tests: %+v", tests)
	}
}

func TestRunDeadline(t *testing.T) {
	job := testJob
	job.Fetch = nil
	deadline := batchv1.JobCondition{Type: batchv1.JobFailed, Status: corev1.ConditionTrue, Reason: batchv1.JobReasonDeadlineExceeded, Message: "Job was active longer than specified deadline"}
	build := sandbox.StepResult{Name: "build"}
	t.Run("during a step", func(t *testing.T) {
		c := newCluster(t, func(*batchv1.Job) *podOutcome {
			return &podOutcome{log: logOf(line{Started: intp(0)}, line{Step: &build}, line{Started: intp(1)}), condition: deadline,
				terminated: &corev1.ContainerStateTerminated{ExitCode: 137, Reason: "Error"}}
		})
		res, err := newRunner(t, c).Run(context.Background(), job)
		if err != nil || len(res.Steps) != 2 || !res.Steps[0].Passed() || res.Steps[1].Stopped != "the sandbox's time limit of 15m0s reached" {
			t.Fatalf("result %+v, %v", res, err)
		}
	})
	t.Run("before the pod started", func(t *testing.T) {
		c := newCluster(t, func(*batchv1.Job) *podOutcome { return &podOutcome{noPod: true, condition: deadline} })
		_, err := newRunner(t, c).Run(context.Background(), job)
		if err == nil || !strings.Contains(err.Error(), "the sandbox's steps pod never started (DeadlineExceeded: Job was active longer than specified deadline)") {
			t.Fatalf("error %v, want the pod never started", err)
		}
	})
}

func TestRunCompleteWithoutResultsIsAnError(t *testing.T) {
	job := testJob
	job.Fetch = nil
	c := newCluster(t, func(*batchv1.Job) *podOutcome { return completed([]byte("fake logs")) })
	if _, err := newRunner(t, c).Run(context.Background(), job); err == nil || !strings.Contains(err.Error(), "without its results") {
		t.Fatalf("error %v", err)
	}
}

func TestRunCancelDeletesTheJob(t *testing.T) {
	started := make(chan string, 1)
	c := newCluster(t, func(j *batchv1.Job) *podOutcome {
		select {
		case started <- j.Name:
		default:
		}
		return nil // runs until deleted
	})
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	job := testJob
	job.Fetch = nil
	go func() { _, err := newRunner(t, c).Run(ctx, job); errc <- err }()
	name := <-started
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
	if _, err := c.client.BatchV1().Jobs(testNamespace).Get(context.Background(), name, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("the Job %s is still there after the cancel: %v", name, err)
	}
}

func TestRunRefusesBadTrees(t *testing.T) {
	big := func(n int) []byte { b := make([]byte, n); _, _ = rand.Read(b); return b }
	for name, files := range map[string][]sandbox.File{
		"outside":      {{Path: "../etc/passwd", Content: []byte("x")}},
		"absolute":     {{Path: "/etc/passwd", Content: []byte("x")}},
		"twice":        {{Path: "a", Content: nil}, {Path: "a", Content: nil}},
		"file and dir": {{Path: "a", Content: nil}, {Path: "a/b", Content: nil}},
		// Random bytes do not compress: more than a Secret carries.
		"too large": {{Path: "a.bin", Content: big(500 << 10)}, {Path: "b.bin", Content: big(500 << 10)}},
	} {
		t.Run(name, func(t *testing.T) {
			c := newCluster(t, func(*batchv1.Job) *podOutcome { return nil })
			_, err := newRunner(t, c).Run(context.Background(), sandbox.Job{Files: files, Steps: testJob.Steps})
			if !errors.Is(err, sandbox.ErrBadTree) {
				t.Fatalf("error %v, want ErrBadTree", err)
			}
			if name == "too large" && !strings.Contains(err.Error(), "more than the 900 KiB a Kubernetes Secret carries") {
				t.Errorf("error %q does not say why", err)
			}
			for _, a := range c.client.Actions() {
				if a.GetVerb() == "create" {
					t.Errorf("refused tree still created a %s", a.GetResource().Resource)
				}
			}
		})
	}
}
