package faults_test

import (
	"testing"
	"time"

	"github.com/fuzzyllama/fuzzyllama/services/agents/provider/providertest"
)

// rescueWithin is how soon the issue wants a dead worker's run moving again, with the default
// settings (no AGENT_RESCUE_AFTER or lease tuning here).
const rescueWithin = time.Minute

// TestKilledAgentsWorkerResumes: the agents process is killed with SIGKILL while its run streams
// (the vendor's answer stalls, so the run is certainly mid-work) and a replacement is started at
// once, as an orchestrator would. The run resumes in a new attempt and succeeds within a minute
// of the kill, and its gate goes to review.
func TestKilledAgentsWorkerResumes(t *testing.T) {
	t.Parallel()
	d := deploy(t,
		providertest.Script{Text: intakeAnswer(), Chunks: 8, Fault: providertest.Stall, FaultAfter: 2},
		slowAnswer(2))
	tok := d.api.register(t, "owner@example.com").AccessToken
	w := d.startWork(t, tok, 1)[0]
	time.Sleep(500 * time.Millisecond) // into the stream

	d.procs["agents"].kill(t)
	killed := time.Now()
	d.procs["agents"].start(t)
	replaced := time.Since(killed)

	var resumed, done time.Duration
	var last runView
	for deadline := killed.Add(rescueWithin + 15*time.Second); done == 0 && time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if resumed == 0 && d.vendor.Calls() >= 2 {
			resumed = time.Since(killed)
		}
		var out struct{ Run runView }
		if r, err := d.api.get("/api/v1/projects/"+w.project+"/runs/"+w.run, tok, &out); err != nil || r.status != 200 {
			continue
		}
		last = out.Run
		switch last.State {
		case "RUN_STATE_SUCCEEDED":
			done = time.Since(killed)
		case "RUN_STATE_FAILED", "RUN_STATE_CANCELLED":
			t.Fatalf("the killed worker's run ended %s: %q", last.State, last.Error)
		}
	}
	t.Logf("FAULT worker_kill replacement_up_ms=%d resumed_ms=%d succeeded_ms=%d attempt=%d rescues=%d",
		replaced.Milliseconds(), resumed.Milliseconds(), done.Milliseconds(), last.Attempt, last.Rescues)
	if done == 0 || done > rescueWithin {
		t.Fatalf("the killed worker's run: %s, attempt %d, %v after the kill (vendor called %d times), want succeeded within %v",
			last.State, last.Attempt, time.Since(killed).Round(time.Second), d.vendor.Calls(), rescueWithin)
	}
	if last.Attempt != 2 || d.vendor.Calls() != 2 {
		t.Errorf("resumed run: attempt %d, vendor called %d times; want the second attempt, two calls", last.Attempt, d.vendor.Calls())
	}
	// The rescue is visible on the run and logged by the worker that took it over.
	if last.Rescues != 1 {
		t.Errorf("the resumed run shows %d rescues, want 1", last.Rescues)
	}
	if len(d.procs["agents"].logs.grep("run resumed after its worker stopped")) == 0 {
		t.Error("the replacement worker did not log the rescue")
	}
	if g := d.api.gate(t, tok, w.project, 1); g.State != "GATE_STATE_IN_REVIEW" {
		t.Errorf("G1 after the resumed run: %s %q", g.State, g.BlockedReason)
	}
}
