package e2e

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/fuzzyllama/fuzzyllama/services/agents/provider/providertest"
)

// streamingRun starts the product against a vendor that stalls mid-answer, starts the work and
// waits until the intake run is streaming.
func streamingRun(t *testing.T, env map[string]string) (*server, *providertest.Server, string, string, runView) {
	t.Helper()
	vendor := providertest.NewAnthropic(t, providertest.Script{Text: intakeAnswer(), Chunks: 8, Fault: providertest.Stall, FaultAfter: 2})
	s := start(t, env, map[string]string{"ANTHROPIC_API_KEY": "sk-ant-test", "ANTHROPIC_BASE_URL": vendor.URL,
		"AGENT_QUEUE_POLL_INTERVAL": "20ms", "AGENT_STREAM_IDLE_TIMEOUT": "1h", "RATE_LIMIT_PER_USER_PER_MINUTE": "100000"})
	tok := s.register(t, "owner@example.com", goodPassword, "Owner").AccessToken
	p := s.createProject(t, tok, "Recipes", "PROJECT_TYPE_TRADITIONAL")
	run := s.startWork(t, tok, p.ID)
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		var out struct{ Run runView }
		s.do("GET", fmt.Sprintf("/api/v1/projects/%s/runs/%s", p.ID, run.ID), tok, nil).want(t, 200, "").data(t, &out)
		if out.Run.State == "RUN_STATE_RUNNING" && vendor.Calls() == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the run never started streaming: %+v", out.Run)
		}
	}
	return s, vendor, tok, p.ID, run
}

// openWatch opens a run's SSE stream and reads its first event.
func (s *server) openWatch(t *testing.T, tok, pid, runID string) (*http.Response, *bufio.Scanner) {
	t.Helper()
	req, _ := http.NewRequest("GET", fmt.Sprintf("%s/api/v1/projects/%s/runs/%s:watch", s.base, pid, runID), nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := (&http.Client{}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		t.Fatalf("watch: %d", resp.StatusCode)
	}
	s.checkStream(req, resp)
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "data: ") {
			break
		}
	}
	return resp, sc
}

// TestCloseWithAWatcherConnected: the process shuts down while a browser follows a run that is
// still running: the watch ends (the client reconnects elsewhere) instead of holding the
// shutdown for ever.
func TestCloseWithAWatcherConnected(t *testing.T) {
	s, _, tok, pid, run := streamingRun(t, modes[0].env(t))
	resp, _ := s.openWatch(t, tok, pid, run.ID)
	defer resp.Body.Close()

	a := s.app
	s.app = nil
	closed := make(chan error, 1)
	go func() { closed <- a.Close(context.Background()) }()
	select {
	case <-closed:
	case <-time.After(15 * time.Second):
		resp.Body.Close() // the watcher leaves: now Close can finish
		<-closed
		t.Fatal("App.Close did not return within 15s while a WatchRun client was connected")
	}
}
