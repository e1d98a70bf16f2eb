package agents

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/fuzzyllama/fuzzyllama/services/agents/store"
)

// Metrics are the agents service's product metrics. Every label is bounded by the catalog or
// the run states (role: 14 values; status: 3; direction: 2), never by projects, users or runs.
type Metrics struct {
	runs     *prometheus.CounterVec
	duration *prometheus.HistogramVec
	wait     *prometheus.HistogramVec
	tokens   *prometheus.CounterVec
	cost     *prometheus.CounterVec
	retries  *prometheus.CounterVec
	waits    *prometheus.CounterVec
	rescues  *prometheus.CounterVec
	dropped  prometheus.Counter
}

// NewMetrics registers the agents metrics on reg, with a collector that reads the queue's depth
// from db on each scrape.
func NewMetrics(reg prometheus.Registerer, db *store.DB) *Metrics {
	m := &Metrics{
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "fuzzyllama_agent_runs_total", Help: "Agent runs that ended, by role and final status.",
		}, []string{"role", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "fuzzyllama_agent_run_duration_seconds", Help: "Time from a run's first attempt to its end, by role and status.",
			Buckets: []float64{1, 5, 15, 30, 60, 120, 300, 600, 1200, 3600},
		}, []string{"role", "status"}),
		wait: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "fuzzyllama_agent_queue_wait_seconds", Help: "Time a run waited in the queue before its first attempt, by role.",
			Buckets: []float64{0.01, 0.05, 0.1, 0.25, 0.5, 1, 5, 15, 60, 300},
		}, []string{"role"}),
		tokens: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "fuzzyllama_agent_tokens_total", Help: "Tokens the providers reported, by role and direction (input, output).",
		}, []string{"role", "direction"}),
		cost: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "fuzzyllama_agent_cost_usd_total", Help: "Cost of the tokens, in US dollars, by role (unpriced models count nothing).",
		}, []string{"role"}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "fuzzyllama_agent_attempt_errors_total", Help: "Attempts that failed, by role and kind (transient: retried; permanent: the run failed).",
		}, []string{"role", "kind"}),
	}
	m.waits = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "fuzzyllama_agent_outage_waits_total", Help: "Times a run paused because one of FuzzyLlama's own services was out (no attempt spent), by role.",
	}, []string{"role"})
	m.rescues = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "fuzzyllama_agent_runs_rescued_total", Help: "Runs handed on to another worker after theirs stopped renewing its lease, by role.",
	}, []string{"role"})
	m.dropped = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "fuzzyllama_agent_events_dropped_total", Help: "Run events and output chunks not published because the event bus (Redis) was out; watchers catch up from the store.",
	})
	reg.MustRegister(m.runs, m.duration, m.wait, m.tokens, m.cost, m.retries, m.waits, m.rescues, m.dropped, queueDepth{db: db})
	return m
}

// ended records a run that ended.
func (m *Metrics) ended(r store.Run) {
	if m == nil {
		return
	}
	m.runs.WithLabelValues(r.Role, r.State).Inc()
	if !r.StartedAt.IsZero() && !r.EndedAt.IsZero() {
		m.duration.WithLabelValues(r.Role, r.State).Observe(r.EndedAt.Sub(r.StartedAt).Seconds())
	}
}

// started records a run's first attempt.
func (m *Metrics) started(r store.Run) {
	if m == nil || r.Attempt != 1 {
		return
	}
	m.wait.WithLabelValues(r.Role).Observe(r.StartedAt.Sub(r.CreatedAt).Seconds())
}

// used records one attempt's usage.
func (m *Metrics) used(role string, u store.Usage) {
	if m == nil {
		return
	}
	m.tokens.WithLabelValues(role, "input").Add(float64(u.InputTokens))
	m.tokens.WithLabelValues(role, "output").Add(float64(u.OutputTokens))
	m.cost.WithLabelValues(role).Add(float64(u.CostMicros) / 1e6)
}

// failed records a failed attempt.
func (m *Metrics) failed(role string, transient bool) {
	if m == nil {
		return
	}
	kind := "permanent"
	if transient {
		kind = "transient"
	}
	m.retries.WithLabelValues(role, kind).Inc()
}

// waited records a run pausing for an outage of one of FuzzyLlama's services.
func (m *Metrics) waited(role string) {
	if m != nil {
		m.waits.WithLabelValues(role).Inc()
	}
}

// rescued records a run handed on after its worker stopped.
func (m *Metrics) rescued(role string) {
	if m != nil {
		m.rescues.WithLabelValues(role).Inc()
	}
}

// droppedEvent records an event the bus could not take.
func (m *Metrics) droppedEvent() {
	if m != nil {
		m.dropped.Inc()
	}
}

// queueDepth reports the runs queued and running, read from the store on each scrape.
type queueDepth struct{ db *store.DB }

var queueDepthDesc = prometheus.NewDesc("fuzzyllama_agent_queue_depth", "Agent runs waiting (queued) and working (running).",
	[]string{"state"}, nil)

func (q queueDepth) Describe(ch chan<- *prometheus.Desc) { ch <- queueDepthDesc }

func (q queueDepth) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	depth, err := q.db.ActiveRuns(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(queueDepthDesc, err)
		return
	}
	for _, state := range []string{store.StateQueued, store.StateRunning} {
		ch <- prometheus.MustNewConstMetric(queueDepthDesc, prometheus.GaugeValue, float64(depth[state]), state)
	}
}
