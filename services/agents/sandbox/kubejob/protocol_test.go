package kubejob

import (
	"strings"
	"testing"

	"github.com/fuzzyllama/fuzzyllama/services/agents/sandbox"
)

func TestParseLogRefusesWhatTheDriverDoesNotWrite(t *testing.T) {
	step := sandbox.StepResult{Name: "build"}
	for name, tc := range map[string]struct {
		log     string
		wantErr string
	}{
		"result before start":  {string(encodeLine(line{Step: &step})), "ends a step that was not started"},
		"step started twice":   {string(encodeLine(line{Started: intp(0)})) + string(encodeLine(line{Started: intp(0)})), "starts step 0 after 0 results"},
		"step out of order":    {string(encodeLine(line{Started: intp(1)})), "starts step 1 after 0 results"},
		"done during a step":   {string(encodeLine(line{Started: intp(0)})) + string(encodeLine(line{Done: true})), "ends it during step 0"},
		"line after the end":   {string(encodeLine(line{Done: true})) + string(encodeLine(line{Done: true})), "comes after its end"},
		"not JSON":             {linePrefix + "{\n", "line 1 of the sandbox's log"},
		"empty line":           {linePrefix + "{}\n", "says nothing"},
		"other lines are fine": {"panic: x\n" + string(encodeLine(line{Done: true})) + "goroutine 1\n", ""},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := parseLog([]byte(tc.log))
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("error %v, want %q", err, tc.wantErr)
			}
		})
	}
}
