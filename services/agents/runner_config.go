package agents

import (
	"fmt"
	"log/slog"
	"path/filepath"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/fuzzyllama/fuzzyllama/platform/config"
	"github.com/fuzzyllama/fuzzyllama/services/agents/sandbox"
	"github.com/fuzzyllama/fuzzyllama/services/agents/sandbox/bwrap"
	"github.com/fuzzyllama/fuzzyllama/services/agents/sandbox/kubejob"
)

// Sandbox runners SANDBOX_RUNNER names.
const (
	RunnerLocal      = "local"
	RunnerKubernetes = "kubernetes"
	RunnerOff        = "off"
)

// SandboxConfig chooses and configures the runner that verifies the agents' code.
type SandboxConfig struct {
	Runner       string
	Dir          string
	Namespace    string
	Image        string
	RuntimeClass string
}

// Register declares the sandbox's variables.
func (c *SandboxConfig) Register(s *config.Set) {
	s.StringVar(&c.Runner, "SANDBOX_RUNNER", RunnerLocal, "where the agents' code is built and tested: \"local\" (bubblewrap on this machine; "+
		"when bubblewrap cannot run here, verification is off and a warning says why), \"kubernetes\" (a Job per verification in "+
		"SANDBOX_NAMESPACE), or \"off\" (build, lint and test proofs are left to people)")
	s.StringVar(&c.Dir, "SANDBOX_DIR", "", "where the local runner keeps each project's dependency and build caches and the trees it runs "+
		"(default: DATA_DIR/sandbox)")
	s.StringVar(&c.Namespace, "SANDBOX_NAMESPACE", "fuzzyllama-sandbox", "the Kubernetes namespace of the sandbox Jobs (SANDBOX_RUNNER=kubernetes)")
	s.StringVar(&c.Image, "SANDBOX_IMAGE", "", "the runner image of the sandbox Jobs: the sandbox driver (services/agents/sandbox/kubejob/image) with Go, Node.js and Chromium "+
		"(SANDBOX_RUNNER=kubernetes; see deploy/k8s)")
	s.StringVar(&c.RuntimeClass, "SANDBOX_RUNTIME_CLASS", "", "the RuntimeClass of the sandbox pods, e.g. gvisor (SANDBOX_RUNNER=kubernetes)")
	s.Check(func() error {
		switch c.Runner {
		case RunnerLocal, RunnerOff:
		case RunnerKubernetes:
			if c.Image == "" {
				return config.Errorf("SANDBOX_IMAGE", "is required with SANDBOX_RUNNER=kubernetes")
			}
		default:
			return config.Errorf("SANDBOX_RUNNER", "must be local, kubernetes or off")
		}
		return nil
	})
}

// NewRunner makes the configured runner; nil with SANDBOX_RUNNER=off. A local runner that
// cannot run here (no bubblewrap, no user namespaces) is no runner: the embedded default must
// start on any machine; the warning says why verification is off.
func (c *SandboxConfig) NewRunner(dataDir string, logger *slog.Logger) (sandbox.Runner, error) {
	switch c.Runner {
	case RunnerLocal:
		dir := c.Dir
		if dir == "" {
			dir = filepath.Join(dataDir, "sandbox")
		}
		r, err := bwrap.New(bwrap.Config{CacheDir: filepath.Join(dir, "cache"), WorkDir: filepath.Join(dir, "work"), Logger: logger})
		if err != nil {
			logger.Warn("verification is off: the local sandbox cannot run here; build, lint and test proofs are left to people",
				"reason", err.Error())
			return nil, nil
		}
		return r, nil
	case RunnerKubernetes:
		rc, err := rest.InClusterConfig()
		if err != nil {
			return nil, fmt.Errorf("SANDBOX_RUNNER=kubernetes needs to run in a cluster: %w", err)
		}
		client, err := kubernetes.NewForConfig(rc)
		if err != nil {
			return nil, fmt.Errorf("kubernetes client: %w", err)
		}
		return kubejob.New(kubejob.Config{Client: client, Namespace: c.Namespace, Image: c.Image, RuntimeClassName: c.RuntimeClass,
			Logger: logger})
	}
	return nil, nil
}
