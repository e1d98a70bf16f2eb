package agents

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/riverqueue/river"
	"google.golang.org/grpc"

	pb "github.com/fuzzyllama/fuzzyllama/gen/go/fuzzyllama/agents/v1"
	"github.com/fuzzyllama/fuzzyllama/platform/config"
	"github.com/fuzzyllama/fuzzyllama/platform/edge"
	"github.com/fuzzyllama/fuzzyllama/services/agents/pricing"
	"github.com/fuzzyllama/fuzzyllama/services/agents/provider"
	"github.com/fuzzyllama/fuzzyllama/services/agents/provider/anthropic"
	"github.com/fuzzyllama/fuzzyllama/services/agents/provider/offline"
	"github.com/fuzzyllama/fuzzyllama/services/agents/provider/openai"
	"github.com/fuzzyllama/fuzzyllama/services/agents/store"
)

// Config is the agents service's configuration, read from the environment.
type Config struct {
	Workers       int
	RunTimeout    time.Duration
	RescueAfter   time.Duration
	LeaseTTL      time.Duration
	OutageWait    time.Duration
	PollInterval  time.Duration
	SweepInterval time.Duration
	IdleTimeout   time.Duration
	Model         string
	Prices        string

	AnthropicKey, AnthropicURL string
	OpenAIKey, OpenAIURL       string
	OfflineChunkDelay          time.Duration

	MaxAttempts          int
	RetryBase, RetryMax  time.Duration
	GateTokenBudget      int64
	GateCostBudget       string
	GateMaxReruns        int
	UserMonthlyTokens    int64
	UserMonthlyCost      string
	VerifyRepairs        int
	Sandbox              SandboxConfig
	gateCost, monthlyUSD int64
	prices               map[string]pricing.Price
}

// Register declares the agents service's variables.
func (c *Config) Register(s *config.Set) {
	s.IntVar(&c.Workers, "AGENT_WORKERS", 4, "how many agent runs this process executes at once")
	s.DurationVar(&c.RunTimeout, "AGENT_RUN_TIMEOUT", 15*time.Minute, "longest one attempt of a run may take")
	s.DurationVar(&c.LeaseTTL, "AGENT_LEASE_TTL", 30*time.Second, "how long the worker running a run may go without renewing its lease (it renews every third of this) before any agents process hands the run to another worker: a run whose worker died resumes within about 1.33 times this")
	s.DurationVar(&c.OutageWait, "AGENT_OUTAGE_WAIT", 15*time.Minute, "how long a run waits for FuzzyLlama's own services (projects, documents, auth, its database) to come back before it fails; waiting spends none of its AGENT_MAX_ATTEMPTS")
	s.DurationVar(&c.RescueAfter, "AGENT_RESCUE_AFTER", 0, "how long a job may stay running before the job queue's own rescuer takes it back (runs are rescued sooner by their leases, AGENT_LEASE_TTL; this cleans up the jobs of dead workers); must exceed AGENT_RUN_TIMEOUT (0: AGENT_RUN_TIMEOUT plus a minute)")
	s.DurationVar(&c.PollInterval, "AGENT_QUEUE_POLL_INTERVAL", 250*time.Millisecond, "how often idle workers look for queued runs (PostgreSQL also notifies them at once)")
	s.DurationVar(&c.SweepInterval, "AGENT_SWEEP_INTERVAL", 30*time.Second, "how often every project in progress is reconciled, to catch gate events the event bus lost")
	s.DurationVar(&c.IdleTimeout, "AGENT_STREAM_IDLE_TIMEOUT", 90*time.Second, "a provider stream silent this long is a timeout (retried)")
	s.StringVar(&c.Model, "AGENT_MODEL", "", "model for every role instead of the catalog's defaults, e.g. llama3.1:8b on a local OpenAI-compatible server; \"offline\" forces the offline provider")
	s.StringVar(&c.Prices, "AGENT_MODEL_PRICES", "", "extra or replaced prices in USD per million tokens in/out, e.g. \"llama3=0/0,my-model=0.25/1.25\"")
	s.StringVar(&c.AnthropicKey, "ANTHROPIC_API_KEY", "", "Anthropic API key; with neither it nor an OpenAI provider configured, runs use the offline provider")
	s.StringVar(&c.AnthropicURL, "ANTHROPIC_BASE_URL", "https://api.anthropic.com", "Anthropic API base URL")
	s.StringVar(&c.OpenAIKey, "OPENAI_API_KEY", "", "OpenAI API key (empty for local servers that need none)")
	s.StringVar(&c.OpenAIURL, "OPENAI_BASE_URL", "", "base URL of the OpenAI API or any OpenAI-compatible server, e.g. http://localhost:11434/v1 for Ollama (default https://api.openai.com/v1 when OPENAI_API_KEY is set)")
	s.DurationVar(&c.OfflineChunkDelay, "OFFLINE_CHUNK_DELAY", 0, "pause between the offline provider's chunks, to watch it stream")
	s.IntVar(&c.MaxAttempts, "AGENT_MAX_ATTEMPTS", 4, "attempts of a run on transient provider failures before it fails")
	s.DurationVar(&c.RetryBase, "AGENT_RETRY_BASE", 2*time.Second, "first backoff between attempts (doubling, with jitter)")
	s.DurationVar(&c.RetryMax, "AGENT_RETRY_MAX", 2*time.Minute, "longest backoff between attempts")
	s.Int64Var(&c.GateTokenBudget, "AGENT_GATE_TOKEN_BUDGET", 2_000_000, "tokens a gate's runs may use before the gate is blocked (0: no limit); unblocking grants as many again")
	s.StringVar(&c.GateCostBudget, "AGENT_GATE_COST_BUDGET", "20", "USD a gate's runs may cost before the gate is blocked (0: no limit)")
	s.IntVar(&c.GateMaxReruns, "AGENT_GATE_MAX_RERUNS", 3, "times each role of a gate may run again (changes requested, or after a failure) before the gate is blocked (0: no limit)")
	c.Sandbox.Register(s)
	s.IntVar(&c.VerifyRepairs, "AGENT_VERIFY_REPAIRS", 2, "times a gate's failed verification (its code's build, lint or tests in the sandbox) is sent back to the developers with the errors before the gate blocks for the owner to decide")
	s.Int64Var(&c.UserMonthlyTokens, "AGENT_USER_MONTHLY_TOKENS", 0, "tokens one user's runs may use per calendar month, UTC (0: no limit)")
	s.StringVar(&c.UserMonthlyCost, "AGENT_USER_MONTHLY_COST", "100", "USD one user's runs may cost per calendar month, UTC (0: no limit)")
	s.Check(func() error {
		var err error
		if c.gateCost, err = parseUSD(c.GateCostBudget); err != nil {
			return config.Errorf("AGENT_GATE_COST_BUDGET", "%v", err)
		}
		if c.monthlyUSD, err = parseUSD(c.UserMonthlyCost); err != nil {
			return config.Errorf("AGENT_USER_MONTHLY_COST", "%v", err)
		}
		if c.prices, err = pricing.Parse(c.Prices); err != nil {
			return config.Errorf("AGENT_MODEL_PRICES", "%v", err)
		}
		return nil
	})
	s.Check(func() error {
		switch {
		case c.Workers < 1:
			return config.Errorf("AGENT_WORKERS", "must be at least 1")
		case c.VerifyRepairs < 1:
			return config.Errorf("AGENT_VERIFY_REPAIRS", "must be at least 1")
		case c.MaxAttempts < 1:
			return config.Errorf("AGENT_MAX_ATTEMPTS", "must be at least 1")
		case c.RunTimeout < time.Second:
			return config.Errorf("AGENT_RUN_TIMEOUT", "must be at least 1s")
		case c.LeaseTTL < 300*time.Millisecond:
			return config.Errorf("AGENT_LEASE_TTL", "must be at least 300ms")
		case c.OutageWait < time.Second:
			return config.Errorf("AGENT_OUTAGE_WAIT", "must be at least 1s")
		case c.RescueAfter != 0 && c.RescueAfter <= c.RunTimeout:
			return config.Errorf("AGENT_RESCUE_AFTER", "must be longer than AGENT_RUN_TIMEOUT, or a live run would be handed to a second worker")
		case c.PollInterval < time.Millisecond || c.SweepInterval < time.Second:
			return config.Errorf("AGENT_QUEUE_POLL_INTERVAL", "must be at least 1ms, and AGENT_SWEEP_INTERVAL at least 1s")
		case c.RetryBase <= 0 || c.RetryMax < c.RetryBase:
			return config.Errorf("AGENT_RETRY_BASE", "must be positive and at most AGENT_RETRY_MAX")
		case c.AnthropicKey == "" && c.openAIConfigured() && c.Model == "":
			return config.Errorf("AGENT_MODEL", "is required with only an OpenAI-compatible provider configured: the catalog's default models are Anthropic's")
		}
		return nil
	})
	s.Check(func() error { return config.CheckURL("ANTHROPIC_BASE_URL", c.AnthropicURL, "https", "http") })
	s.Check(func() error { return config.CheckURL("OPENAI_BASE_URL", c.OpenAIURL, "https", "http") })
}

func (c *Config) openAIConfigured() bool { return c.OpenAIKey != "" || c.OpenAIURL != "" }

// parseUSD reads an amount of US dollars ("20", "0.5", "$1.25") as micro-dollars.
func parseUSD(s string) (int64, error) {
	f, err := strconv.ParseFloat(strings.TrimPrefix(strings.TrimSpace(s), "$"), 64)
	if err != nil || f < 0 || f > 1e9 || math.IsNaN(f) {
		return 0, fmt.Errorf("must be an amount of US dollars such as 20 or 0.50, got %q", s)
	}
	return int64(math.Round(f * 1e6)), nil
}

// Router chooses a run's provider by its model's name.
type Router struct {
	Anthropic, OpenAI, Offline provider.Provider
}

// For implements Providers.
func (r Router) For(model string) (provider.Provider, error) {
	switch {
	case model == "offline":
		return r.Offline, nil
	case strings.HasPrefix(model, "claude"):
		if r.Anthropic == nil {
			return nil, fmt.Errorf("model %s needs ANTHROPIC_API_KEY", model)
		}
		return r.Anthropic, nil
	case r.OpenAI == nil:
		return nil, fmt.Errorf("model %s needs an OpenAI-compatible provider (OPENAI_API_KEY or OPENAI_BASE_URL)", model)
	}
	return r.OpenAI, nil
}

// Providers returns the router the configuration describes, and the model every role uses
// instead of its default ("" for the defaults): offline when no provider is configured.
func (c *Config) Providers(client *http.Client) (Router, string) {
	r := Router{Offline: &offline.Provider{ChunkDelay: c.OfflineChunkDelay}}
	if c.AnthropicKey != "" {
		r.Anthropic = &anthropic.Client{APIKey: c.AnthropicKey, BaseURL: c.AnthropicURL, HTTPClient: client, IdleTimeout: c.IdleTimeout}
	}
	if c.openAIConfigured() {
		r.OpenAI = &openai.Client{APIKey: c.OpenAIKey, BaseURL: c.OpenAIURL, HTTPClient: client, IdleTimeout: c.IdleTimeout}
	}
	model := c.Model
	if model == "" && r.Anthropic == nil && r.OpenAI == nil {
		model = "offline"
	}
	return r, model
}

// Limits returns the limits the configuration sets.
func (c *Config) Limits() Limits {
	return Limits{MaxAttempts: c.MaxAttempts, RetryBase: c.RetryBase, RetryMax: c.RetryMax,
		GateTokenBudget: c.GateTokenBudget, GateCostBudgetMicros: c.gateCost, GateMaxReruns: c.GateMaxReruns,
		UserMonthlyTokens: c.UserMonthlyTokens, UserMonthlyCostMicros: c.monthlyUSD,
		ContextPerDocument: 24 << 10, ContextTotal: 96 << 10, LeaseTTL: c.LeaseTTL, OutageWait: c.OutageWait,
		VerifyRepairs: c.VerifyRepairs}
}

// PriceTable returns the default price table with the configured overrides.
func (c *Config) PriceTable() *pricing.Table { return pricing.Default().With(c.prices) }

// Queue returns the job queue configuration, with the workers to register into.
func (c *Config) Queue(workers *river.Workers, logger *slog.Logger) store.QueueConfig {
	rescue := c.RescueAfter
	if rescue == 0 {
		rescue = c.RunTimeout + time.Minute
	}
	return store.QueueConfig{Workers: workers, MaxWorkers: c.Workers, JobTimeout: c.RunTimeout, RescueAfter: rescue,
		PollInterval: c.PollInterval, SweepInterval: c.SweepInterval, Logger: logger}
}

// OpenStore opens PostgreSQL when databaseURL is set, otherwise SQLite at dataDir/agents.db.
func OpenStore(ctx context.Context, databaseURL, dataDir string, q store.QueueConfig) (*store.DB, error) {
	if databaseURL != "" {
		return store.OpenPostgres(ctx, databaseURL, q)
	}
	return store.OpenSQLite(ctx, filepath.Join(dataDir, "agents.db"), q)
}

// RegisterGRPC registers the AgentsService on s.
func RegisterGRPC(s grpc.ServiceRegistrar, svc *Service) {
	pb.RegisterAgentsServiceServer(s, &Handler{Service: svc})
}

// RegisterWorkers adds the service's job workers (runs, reconciles and sweeps) and the rescuer
// of runs whose worker stopped, which runs while the store's queue works.
func RegisterWorkers(workers *river.Workers, svc *Service) {
	river.AddWorker(workers, &runWorker{s: svc})
	river.AddWorker(workers, &reconcileWorker{s: svc})
	river.AddWorker(workers, &sweepWorker{s: svc})
	river.AddWorker(workers, &verifyWorker{s: svc})
	svc.Store.WhileWorking(svc.rescueStalledRuns)
}

// PublicRun encodes a run as the JSON of the Run message (protojson): what live clients of its
// project receive when its state changes.
func PublicRun(r store.Run) ([]byte, error) { return edge.JSON.Marshal(runPB(r)) }
