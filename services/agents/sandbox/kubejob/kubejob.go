// Package kubejob is the Kubernetes sandbox runner: each sandbox.Job runs as Kubernetes Jobs in
// a namespace of its own, where a NetworkPolicy denies the pods every connection.
//
// A job with dependencies runs in two pods, one after the other. The fetch pod, the only one a
// NetworkPolicy lets reach the package registries, downloads them with commands that run no
// code of the project, onto a volume made for this job. The steps pod then gets that volume
// read-only, has no network at all, and runs the steps. Why two pods and not an init container:
// a NetworkPolicy applies to a whole pod, so the steps would have had the fetch's network too.
//
// In each pod the driver (cmd/fuzzyllama-sandbox, in the runner image) reads the job's spec
// and tree from a Secret, runs the fetches or steps with their limits, and writes the results
// as framed lines on its stdout; the runner reads them back from the pod's log. The steps Job
// owns everything else of the run (the Secret, the volume, the fetch Job), so deleting it, or
// its TTL, removes them all.
package kubejob

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/fuzzyllama/fuzzyllama/services/agents/sandbox"
)

// Config is what the runner needs of the cluster.
type Config struct {
	// Client reaches the API server with the agents' service account, which may manage Jobs,
	// Secrets and PersistentVolumeClaims in Namespace only.
	Client kubernetes.Interface
	// Namespace is the sandbox namespace, not the application's: its NetworkPolicies deny
	// sandbox pods every connection, and nothing of the application lives there.
	Namespace string
	// Image is the runner image (image/Dockerfile): the driver, Go, Node.js and Chromium,
	// running as nobody.
	Image string
	// RuntimeClassName, when set, runs the pods under that RuntimeClass ("gvisor" for a
	// kernel between the untrusted code and the node's).
	RuntimeClassName string
	// ServiceAccountName is the pods' account, which has no permissions and no token.
	// Default "fuzzyllama-sandbox".
	ServiceAccountName string
	// CPU is each pod's CPU (request and limit). Default 1.
	CPU resource.Quantity
	// StorageClassName is the fetch volume's class; "" takes the cluster's default.
	StorageClassName string
	// FetchVolumeBytes is the fetch volume's size (the tree, the module cache, node_modules).
	// Default 4 GiB.
	FetchVolumeBytes int64
	// StartTimeout is how long a pod may take to be scheduled, pull the image, mount its
	// volumes and unpack the tree, on top of the limits of what it runs. Default 5 minutes.
	StartTimeout time.Duration
	// TTL is how long a finished Job stays (for a look with kubectl) when the runner could not
	// delete it. Default 10 minutes.
	TTL time.Duration
	// PollInterval is how often the runner looks at a running Job. Default 2 seconds.
	PollInterval time.Duration
	Logger       *slog.Logger
}

// Runner runs sandbox jobs as Kubernetes Jobs.
type Runner struct{ c Config }

var _ sandbox.Runner = (*Runner)(nil)

// New returns a Runner, or why the configuration cannot work.
func New(c Config) (*Runner, error) {
	switch {
	case c.Client == nil:
		return nil, errors.New("kubejob: no Kubernetes client")
	case c.Namespace == "":
		return nil, errors.New("kubejob: no sandbox namespace (SANDBOX_NAMESPACE)")
	case c.Image == "":
		return nil, errors.New("kubejob: no runner image (SANDBOX_IMAGE)")
	}
	if c.ServiceAccountName == "" {
		c.ServiceAccountName = "fuzzyllama-sandbox"
	}
	if c.CPU.IsZero() {
		c.CPU = resource.MustParse("1")
	}
	if c.FetchVolumeBytes <= 0 {
		c.FetchVolumeBytes = 4 << 30
	}
	if c.StartTimeout <= 0 {
		c.StartTimeout = 5 * time.Minute
	}
	if c.TTL <= 0 {
		c.TTL = 10 * time.Minute
	}
	if c.PollInterval <= 0 {
		c.PollInterval = 2 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return &Runner{c: c}, nil
}

// Name is the runner's name in proofs.
func (r *Runner) Name() string { return "kubernetes" }

// Run runs job: its fetches in a fetch pod, then its steps in a steps pod with no network.
func (r *Runner) Run(ctx context.Context, job sandbox.Job) (sandbox.Result, error) {
	limits := job.Limits.WithDefaults()
	if err := checkJob(job, limits); err != nil {
		return sandbox.Result{}, err
	}
	specJSON, err := json.Marshal(spec{Fetches: job.Fetch, Steps: job.Steps, Limits: limits})
	if err != nil {
		return sandbox.Result{}, err
	}
	tree, err := packTree(job.Files)
	if err != nil {
		return sandbox.Result{}, err
	}
	if size := len(specJSON) + len(tree); size > MaxBundleBytes {
		return sandbox.Result{}, fmt.Errorf("%w: it compresses to %d KiB with the steps, more than the %d KiB a Kubernetes Secret carries to the sandbox",
			sandbox.ErrBadTree, size>>10, MaxBundleBytes>>10)
	}
	rn := run{name: "sandbox-" + randomHex(5), job: job, limits: limits}

	jobs := r.c.Client.BatchV1().Jobs(r.c.Namespace)
	owner, err := jobs.Create(ctx, rn.stepsJob(&r.c), metav1.CreateOptions{})
	if err != nil {
		return sandbox.Result{}, fmt.Errorf("creating the sandbox Job in namespace %s: %w", r.c.Namespace, err)
	}
	defer r.delete(ctx, owner.Name)
	if _, err := r.c.Client.CoreV1().Secrets(r.c.Namespace).Create(ctx, rn.bundleSecret(owner, specJSON, tree), metav1.CreateOptions{}); err != nil {
		return sandbox.Result{}, fmt.Errorf("creating the sandbox's Secret: %w", err)
	}

	var res sandbox.Result
	if len(job.Fetch) > 0 {
		if res.Fetches, err = r.fetch(ctx, rn, owner); err != nil {
			return res, err
		}
		for _, f := range res.Fetches {
			if !f.OK {
				return res, nil
			}
		}
	}
	patch := []byte(`{"spec":{"suspend":false}}`)
	if _, err := jobs.Patch(ctx, owner.Name, types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
		return res, fmt.Errorf("starting the sandbox Job %s: %w", owner.Name, err)
	}
	deadline := time.Duration(len(job.Steps))*limits.WallClock + r.c.StartTimeout
	t, stop, err := r.wait(ctx, rn, PhaseSteps, deadline)
	if err != nil {
		return res, err
	}
	if !t.Done && t.Running < 0 && len(t.Steps) == 0 {
		return res, fmt.Errorf("the sandbox pod ran no step: %s", stop)
	}
	res.Steps = stepResults(job.Steps, t, stop)
	return res, nil
}

// fetch runs the fetch pod and returns one result per fetch.
func (r *Runner) fetch(ctx context.Context, rn run, owner *batchv1.Job) ([]sandbox.FetchResult, error) {
	if _, err := r.c.Client.CoreV1().PersistentVolumeClaims(r.c.Namespace).Create(ctx, rn.fetchVolume(&r.c, owner), metav1.CreateOptions{}); err != nil {
		return nil, fmt.Errorf("creating the sandbox's dependency volume: %w", err)
	}
	if _, err := r.c.Client.BatchV1().Jobs(r.c.Namespace).Create(ctx, rn.fetchJob(&r.c, owner), metav1.CreateOptions{}); err != nil {
		return nil, fmt.Errorf("creating the sandbox's fetch Job: %w", err)
	}
	deadline := time.Duration(len(rn.job.Fetch))*rn.limits.WallClock + r.c.StartTimeout
	t, stop, err := r.wait(ctx, rn, PhaseFetch, deadline)
	if err != nil {
		return nil, err
	}
	if !t.Done && len(t.Fetches) == 0 {
		return nil, fmt.Errorf("the sandbox's fetch pod fetched nothing: %s", stop)
	}
	out := t.Fetches
	for _, f := range rn.job.Fetch[min(len(out), len(rn.job.Fetch)):] {
		out = append(out, sandbox.FetchResult{Kind: f.Kind, Dir: f.Dir, Log: []byte("not done: " + stop + "\n")})
	}
	return out, nil
}

// stepResults is one result per step: those the log has, then, when the pod was stopped, the
// step it was running and those it never started.
func stepResults(steps []sandbox.Step, t transcript, stop string) []sandbox.StepResult {
	out := t.Steps
	if t.Done {
		return out
	}
	running := ""
	for i, s := range steps[min(len(out), len(steps)):] {
		res := sandbox.StepResult{Name: s.Name, Command: sandbox.CommandLine(s.Dir, s.Command), ExitCode: -1}
		if i == 0 && t.Running >= 0 {
			res.Stopped = stop
			res.Log = []byte("The sandbox was stopped during this step (" + stop + "); its output is lost.\n")
			running = s.Name
		} else if running != "" {
			res.Stopped = "not run: the sandbox was stopped during " + running
		} else {
			res.Stopped = "not run: " + stop
		}
		out = append(out, res)
	}
	return out
}

// wait waits for the Job to end and reads its pod's log. stop says why the pod ended before the
// end of its work, when it did ("memory limit of 2.0 GiB reached").
func (r *Runner) wait(ctx context.Context, rn run, phase string, deadline time.Duration) (transcript, string, error) {
	name := rn.name
	if phase == PhaseFetch {
		name = rn.fetchName()
	}
	jobs := r.c.Client.BatchV1().Jobs(r.c.Namespace)
	// The Job controller fails the Job at its deadline; this covers a controller that is late.
	giveUp := time.NewTimer(deadline + time.Minute)
	defer giveUp.Stop()
	tick := time.NewTicker(r.c.PollInterval)
	defer tick.Stop()
	var job *batchv1.Job
	for {
		var err error
		job, err = jobs.Get(ctx, name, metav1.GetOptions{})
		if err != nil && ctx.Err() == nil {
			return transcript{}, "", fmt.Errorf("watching the sandbox Job %s: %w", name, err)
		}
		if err == nil && finished(job) != "" {
			break
		}
		select {
		case <-ctx.Done():
			return transcript{}, "", ctx.Err()
		case <-giveUp.C:
			return transcript{}, "", fmt.Errorf("the sandbox Job %s did not end within %s", name, deadline+time.Minute)
		case <-tick.C:
		}
	}
	pod, err := r.pod(ctx, rn.name, phase)
	if err != nil {
		return transcript{}, "", err
	}
	if pod == nil {
		return transcript{}, "", fmt.Errorf("the sandbox's %s pod never started (%s)", phase, jobMessage(job))
	}
	log, err := r.c.Client.CoreV1().Pods(r.c.Namespace).GetLogs(pod.Name, &corev1.PodLogOptions{
		Container: containerName, LimitBytes: ptr.To[int64](maxLogBytes)}).DoRaw(ctx)
	if err != nil {
		return transcript{}, "", fmt.Errorf("reading the log of sandbox pod %s: %w", pod.Name, err)
	}
	t, err := parseLog(log)
	if err != nil {
		return transcript{}, "", err
	}
	stop := ""
	if !t.Done {
		stop = stopReason(job, pod, rn.limits, deadline)
	}
	if finished(job) == batchv1.JobComplete && !t.Done {
		return t, stop, fmt.Errorf("the sandbox pod %s ended without its results", pod.Name)
	}
	return t, stop, nil
}

// maxLogBytes bounds what the runner reads of a pod's log: every step's log, results and
// screenshot are bounded far below it.
const maxLogBytes = 64 << 20

// finished is the condition that ended the Job, "" while it runs.
func finished(j *batchv1.Job) batchv1.JobConditionType {
	for _, c := range j.Status.Conditions {
		if (c.Type == batchv1.JobComplete || c.Type == batchv1.JobFailed) && c.Status == corev1.ConditionTrue {
			return c.Type
		}
	}
	return ""
}

func jobMessage(j *batchv1.Job) string {
	for _, c := range j.Status.Conditions {
		if c.Type == batchv1.JobFailed && c.Status == corev1.ConditionTrue {
			return fmt.Sprintf("%s: %s", c.Reason, c.Message)
		}
	}
	return "no reason given"
}

// pod is the pod of the run's Job of phase (nil when it never had one).
func (r *Runner) pod(ctx context.Context, runName, phase string) (*corev1.Pod, error) {
	sel := labels.SelectorFromSet(labels.Set{LabelRun: runName, LabelPhase: phase})
	pods, err := r.c.Client.CoreV1().Pods(r.c.Namespace).List(ctx, metav1.ListOptions{LabelSelector: sel.String()})
	if err != nil {
		return nil, fmt.Errorf("finding the %s pod of sandbox run %s: %w", phase, runName, err)
	}
	if len(pods.Items) == 0 {
		return nil, nil
	}
	return &pods.Items[0], nil
}

// stopReason says why the pod ended before its work was done, in a StepResult.Stopped's words.
func stopReason(j *batchv1.Job, pod *corev1.Pod, limits sandbox.Limits, deadline time.Duration) string {
	for _, cs := range pod.Status.ContainerStatuses {
		if t := cs.State.Terminated; cs.Name == containerName && t != nil && t.Reason == "OOMKilled" {
			return "memory limit of " + sandbox.FormatBytes(limits.MemoryBytes) + " reached"
		}
	}
	if pod.Status.Reason == "Evicted" {
		return "disk limit reached (" + pod.Status.Message + ")"
	}
	for _, c := range j.Status.Conditions {
		if c.Type == batchv1.JobFailed && c.Status == corev1.ConditionTrue && c.Reason == batchv1.JobReasonDeadlineExceeded {
			return fmt.Sprintf("the sandbox's time limit of %s reached", deadline)
		}
	}
	for _, cs := range pod.Status.ContainerStatuses {
		if t := cs.State.Terminated; cs.Name == containerName && t != nil {
			return fmt.Sprintf("the sandbox ended with exit code %d (%s)", t.ExitCode, t.Reason)
		}
	}
	return "the sandbox ended: " + jobMessage(j)
}

// delete removes the run: the steps Job and, through their owner references, its pods, the
// Secret, the volume and the fetch Job. It runs even when ctx has ended.
func (r *Runner) delete(ctx context.Context, name string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	err := r.c.Client.BatchV1().Jobs(r.c.Namespace).Delete(ctx, name, metav1.DeleteOptions{PropagationPolicy: ptr.To(metav1.DeletePropagationBackground)})
	if err != nil {
		r.c.Logger.Warn("sandbox: could not delete the Job; its TTL will", "namespace", r.c.Namespace, "job", name, "error", err)
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
