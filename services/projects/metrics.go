package projects

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the projects service's product metrics: gate transitions and how long owners take
// to review. Labels are bounded by the workflow (gate: 9 values; state: 6).
type Metrics struct {
	transitions *prometheus.CounterVec
	review      *prometheus.HistogramVec
}

// NewMetrics registers the projects metrics on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		transitions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "fuzzyllama_gate_transitions_total", Help: "Gate state changes, by gate and the state reached.",
		}, []string{"gate", "to"}),
		review: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "fuzzyllama_gate_review_duration_seconds", Help: "Time a gate waited in review before the owner approved it or asked for changes, by gate and decision.",
			Buckets: []float64{60, 300, 900, 3600, 4 * 3600, 24 * 3600, 3 * 24 * 3600, 7 * 24 * 3600},
		}, []string{"gate", "decision"}),
	}
	reg.MustRegister(m.transitions, m.review)
	return m
}

// transitioned records a committed gate transition; inReviewSince is when the gate entered
// review, for a decision on it.
func (m *Metrics) transitioned(gate int, from, to string, inReviewSince, at time.Time) {
	if m == nil {
		return
	}
	g := strconv.Itoa(gate)
	m.transitions.WithLabelValues(g, to).Inc()
	if from == GateInReview && (to == GateApproved || to == GateChangesRequested) {
		m.review.WithLabelValues(g, to).Observe(at.Sub(inReviewSince).Seconds())
	}
}
