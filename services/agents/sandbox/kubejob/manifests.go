package kubejob

import (
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/fuzzyllama/fuzzyllama/services/agents/sandbox"
)

// Labels of every sandbox object. The sandbox namespace's NetworkPolicies select pods by them
// (deploy/k8s/components/kubernetes-sandbox): every sandbox pod is denied all traffic, and only
// a fetch pod may reach the package registries.
const (
	LabelName  = "app.kubernetes.io/name"
	NameValue  = "fuzzyllama-sandbox"
	LabelRun   = "fuzzyllama.dev/sandbox-run"
	LabelPhase = "fuzzyllama.dev/sandbox-phase"
	PhaseFetch = "fetch"
	PhaseSteps = "steps"
)

// sandboxUID is the user every sandbox process runs as (nobody), never root.
const sandboxUID = 65534

// driverMemory is what the driver itself may use on top of the steps' memory limit.
const driverMemory = 64 << 20

// containerName is the pod's one container, whose log the runner reads.
const containerName = "sandbox"

// run names the objects of one Job: the steps Job (which owns all the others), the fetch Job,
// the bundle Secret and the fetch volume.
type run struct {
	name   string
	job    sandbox.Job
	limits sandbox.Limits
}

func (r run) fetchName() string { return r.name + "-fetch" }

func (r run) labels(phase string) map[string]string {
	l := map[string]string{LabelName: NameValue, "app.kubernetes.io/part-of": "fuzzyllama", LabelRun: r.name}
	if phase != "" {
		l[LabelPhase] = phase
	}
	return l
}

// ownedBy makes an object go with the steps Job: deleting it (or its TTL) deletes them all.
func ownedBy(owner *batchv1.Job) []metav1.OwnerReference {
	return []metav1.OwnerReference{{APIVersion: "batch/v1", Kind: "Job", Name: owner.Name, UID: owner.UID}}
}

func (r run) bundleSecret(owner *batchv1.Job, spec, tree []byte) *corev1.Secret {
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: r.name, Labels: r.labels(""), OwnerReferences: ownedBy(owner)},
		Type:       corev1.SecretTypeOpaque,
		Immutable:  ptr.To(true),
		Data:       map[string][]byte{specKey: spec, treeKey: tree},
	}
}

func (r run) fetchVolume(c *Config, owner *batchv1.Job) *corev1.PersistentVolumeClaim {
	pvc := &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Name: r.name, Labels: r.labels(""), OwnerReferences: ownedBy(owner)},
		Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			Resources: corev1.VolumeResourceRequirements{
				Requests: corev1.ResourceList{corev1.ResourceStorage: *resource.NewQuantity(c.FetchVolumeBytes, resource.BinarySI)},
			},
		},
	}
	if c.StorageClassName != "" {
		pvc.Spec.StorageClassName = ptr.To(c.StorageClassName)
	}
	return pvc
}

// stepsJob is created suspended: the runner resumes it once its bundle (and dependencies) are
// in place.
func (r run) stepsJob(c *Config) *batchv1.Job {
	deadline := time.Duration(len(r.job.Steps))*r.limits.WallClock + c.StartTimeout
	j := r.podJob(c, r.name, PhaseSteps, deadline, len(r.job.Fetch) > 0)
	j.Spec.Suspend = ptr.To(true)
	return j
}

func (r run) fetchJob(c *Config, owner *batchv1.Job) *batchv1.Job {
	deadline := time.Duration(len(r.job.Fetch))*r.limits.WallClock + c.StartTimeout
	j := r.podJob(c, r.fetchName(), PhaseFetch, deadline, true)
	j.OwnerReferences = ownedBy(owner)
	return j
}

// podJob is a Job of one pod that runs the driver in mode phase, once, confined: no API token,
// no host namespaces, no privilege, a read-only image, nobody's uid, bounded memory, CPU and
// disk, and (for the steps) no network: the namespace's NetworkPolicies deny the pod every
// connection, and it has no DNS server to ask.
func (r run) podJob(c *Config, name, phase string, deadline time.Duration, withDeps bool) *batchv1.Job {
	tree := r.limits.TreeBytes
	emptyDir := func(name string) corev1.Volume {
		return corev1.Volume{Name: name, VolumeSource: corev1.VolumeSource{
			EmptyDir: &corev1.EmptyDirVolumeSource{SizeLimit: resource.NewQuantity(tree, resource.BinarySI)}}}
	}
	volumes := []corev1.Volume{
		{Name: "bundle", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: r.name, DefaultMode: ptr.To[int32](0o444)}}},
		emptyDir("work"), emptyDir("tmp"), emptyDir("home"),
	}
	mounts := []corev1.VolumeMount{
		{Name: "bundle", MountPath: podLayout.Bundle, ReadOnly: true},
		{Name: "work", MountPath: podLayout.Work},
		{Name: "tmp", MountPath: podLayout.Tmp},
		{Name: "home", MountPath: podLayout.Home},
	}
	if withDeps {
		volumes = append(volumes, corev1.Volume{Name: "deps", VolumeSource: corev1.VolumeSource{
			PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: r.name, ReadOnly: phase == PhaseSteps}}})
		mounts = append(mounts, corev1.VolumeMount{Name: "deps", MountPath: podLayout.Deps, ReadOnly: phase == PhaseSteps})
	}
	memory := *resource.NewQuantity(r.limits.MemoryBytes+driverMemory, resource.BinarySI)
	// The three emptyDirs and the container's own logs.
	disk := *resource.NewQuantity(3*tree+64<<20, resource.BinarySI)
	resources := corev1.ResourceList{corev1.ResourceMemory: memory, corev1.ResourceCPU: c.CPU, corev1.ResourceEphemeralStorage: disk}

	pod := corev1.PodSpec{
		RestartPolicy:                 corev1.RestartPolicyNever,
		ServiceAccountName:            c.ServiceAccountName,
		AutomountServiceAccountToken:  ptr.To(false),
		EnableServiceLinks:            ptr.To(false),
		HostNetwork:                   false,
		HostPID:                       false,
		HostIPC:                       false,
		ShareProcessNamespace:         ptr.To(false),
		TerminationGracePeriodSeconds: ptr.To[int64](5),
		SecurityContext: &corev1.PodSecurityContext{
			RunAsNonRoot:        ptr.To(true),
			RunAsUser:           ptr.To[int64](sandboxUID),
			RunAsGroup:          ptr.To[int64](sandboxUID),
			FSGroup:             ptr.To[int64](sandboxUID),
			FSGroupChangePolicy: ptr.To(corev1.FSGroupChangeOnRootMismatch),
			SeccompProfile:      &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
		},
		Containers: []corev1.Container{{
			Name:            containerName,
			Image:           c.Image,
			ImagePullPolicy: corev1.PullIfNotPresent,
			Command:         []string{driverCommand, phase},
			WorkingDir:      podLayout.Work,
			Resources:       corev1.ResourceRequirements{Requests: resources, Limits: resources},
			SecurityContext: &corev1.SecurityContext{
				RunAsNonRoot:             ptr.To(true),
				AllowPrivilegeEscalation: ptr.To(false),
				Privileged:               ptr.To(false),
				ReadOnlyRootFilesystem:   ptr.To(true),
				Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
				ProcMount:                ptr.To(corev1.DefaultProcMount),
			},
			VolumeMounts:             mounts,
			TerminationMessagePolicy: corev1.TerminationMessageReadFile,
		}},
		Volumes: volumes,
	}
	if phase == PhaseSteps {
		// Nothing to resolve names with: the NetworkPolicy already refuses DNS, this is a
		// second wall.
		pod.DNSPolicy = corev1.DNSNone
		pod.DNSConfig = &corev1.PodDNSConfig{Nameservers: []string{"127.0.0.1"}}
	}
	if c.RuntimeClassName != "" {
		pod.RuntimeClassName = ptr.To(c.RuntimeClassName)
	}
	labels := r.labels(phase)
	return &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels},
		Spec: batchv1.JobSpec{
			BackoffLimit:            ptr.To[int32](0),
			ActiveDeadlineSeconds:   ptr.To(int64(deadline / time.Second)),
			TTLSecondsAfterFinished: ptr.To(int32(c.TTL / time.Second)),
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       pod,
			},
		},
	}
}
