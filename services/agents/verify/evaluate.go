package verify

import (
	"bytes"
	"encoding/json"
	"fmt"
	"iter"
	"regexp"
	"strings"
	"time"

	"github.com/fuzzyllama/fuzzyllama/services/agents/sandbox"
)

// MaxLogBytes bounds the log of one proof (the logs of its steps together).
const MaxLogBytes = 256 << 10

// Proof is what a verification proves of one proof type.
type Proof struct {
	Type    string
	Pass    bool
	Summary string // one line
	// Command is the proof's commands as a person would type them, joined by "; ".
	Command  string
	ExitCode int // of the first step that failed; 0 when all passed; -1 when the sandbox stopped one
	Duration time.Duration
	Log      []byte
	// Screenshot is the preview's PNG, when one was taken.
	Screenshot []byte
	// FailedDirs are the components (directories of the tree) that failed it.
	FailedDirs []string
	// Failure is the part of the log that says what went wrong (bounded, for a repair prompt);
	// "" when it passed.
	Failure string
}

// Evaluate reads the sandbox's result as the plan's proofs, in the plan's order.
func (p Plan) Evaluate(res sandbox.Result) []Proof {
	steps := make(map[string]sandbox.StepResult, len(res.Steps))
	for _, s := range res.Steps {
		steps[s.Name] = s
	}
	var fetchFailed []sandbox.FetchResult
	for _, f := range res.Fetches {
		if !f.OK {
			fetchFailed = append(fetchFailed, f)
		}
	}
	var out []Proof
	for _, proof := range p.Proofs {
		if len(fetchFailed) > 0 {
			out = append(out, fetchProof(proof, fetchFailed))
			continue
		}
		switch proof {
		case ProofCoverage:
			out = append(out, p.coverage(steps))
		case ProofSecurityScan:
			out = append(out, p.securityScan(steps))
		default:
			out = append(out, p.stepsProof(proof, steps))
		}
	}
	return out
}

// fetchProof fails a proof because the dependencies could not be downloaded.
func fetchProof(proof string, failed []sandbox.FetchResult) Proof {
	pr := Proof{Type: proof, ExitCode: 1}
	var log bytes.Buffer
	var dirs, cmds []string
	for _, f := range failed {
		dirs = append(dirs, f.Dir)
		pr.FailedDirs = append(pr.FailedDirs, f.Dir)
		cmds = append(cmds, Display(f.Dir, strings.Fields(f.Command)))
		pr.Duration += f.Duration
		fmt.Fprintf(&log, "$ %s\n%s\n", f.Command, plainText(f.Log))
	}
	pr.Command = strings.Join(cmds, "; ")
	pr.Log = bound(log.Bytes())
	pr.Summary = oneLine(fmt.Sprintf("%s not run: the dependencies of %s could not be downloaded", proof, strings.Join(dirs, ", ")), 900)
	pr.Failure = failureExcerpt(pr.Log)
	return pr
}

// stepsProof is a proof made of its steps: it passes when every one did.
func (p Plan) stepsProof(proof string, steps map[string]sandbox.StepResult) Proof {
	pr := Proof{Type: proof, Pass: true}
	var t transcript
	var passed, failures []string
	for c, s := range p.stepsOf(proof, steps, &t) {
		if len(s.Screenshot) > 0 {
			pr.Screenshot = s.Screenshot
		}
		if s.Passed() {
			passed = append(passed, c.component.Dir)
			continue
		}
		if pr.Pass {
			pr.ExitCode = s.ExitCode
		}
		pr.Pass = false
		pr.FailedDirs = append(pr.FailedDirs, c.component.Dir)
		failures = append(failures, fmt.Sprintf("%s (%s)", c.component.Dir, stepProblem(s)))
	}
	pr.Command, pr.Duration = strings.Join(t.cmds, "; "), t.duration
	pr.Log = bound(t.log.Bytes())
	switch {
	case len(t.cmds) == 0:
		pr.Pass, pr.Summary = false, fmt.Sprintf("%s: no component of the tree has a %s command", proof, strings.ReplaceAll(proof, "_", " "))
		pr.ExitCode = -1
	case pr.Pass:
		pr.Summary = fmt.Sprintf("%s passed in %s (%s)", proof, strings.Join(passed, ", "), pr.Duration.Round(100*time.Millisecond))
	default:
		pr.Summary = fmt.Sprintf("%s failed in %s", proof, strings.Join(failures, "; "))
		pr.Failure = failureExcerpt(pr.Log)
	}
	if len(p.Skipped) > 0 {
		pr.Summary += "; " + strings.Join(p.Skipped, "; ")
	}
	pr.Summary = oneLine(pr.Summary, 900)
	return pr
}

// transcript gathers the steps of one proof: their commands, time and output.
type transcript struct {
	cmds     []string
	duration time.Duration
	log      bytes.Buffer
}

// stepsOf yields the plan's checks of proof with their step's result (one that did not run as
// stopped), each added to t.
func (p Plan) stepsOf(proof string, steps map[string]sandbox.StepResult, t *transcript) iter.Seq2[check, sandbox.StepResult] {
	return func(yield func(check, sandbox.StepResult) bool) {
		for _, c := range p.checks {
			if c.proof != proof {
				continue
			}
			s, ran := steps[c.step]
			if !ran {
				s = sandbox.StepResult{Name: c.step, ExitCode: -1, Stopped: "the step did not run"}
			}
			t.cmds = append(t.cmds, s.Command)
			t.duration += s.Duration
			writeStep(&t.log, s)
			if !yield(c, s) {
				return
			}
		}
	}
}

// stepProblem says in a few words why a step failed.
func stepProblem(s sandbox.StepResult) string {
	if s.Stopped != "" {
		return "stopped: " + s.Stopped
	}
	if line := firstErrorLine(plainText(s.Log)); line != "" {
		return fmt.Sprintf("exit %d: %s", s.ExitCode, oneLine(line, 200))
	}
	return fmt.Sprintf("exit %d", s.ExitCode)
}

// ansiEscape matches the terminal escape sequences tools write even without a terminal
// (Vitest and Vite colour their output when CI is set): CSI sequences and two-byte escapes.
var ansiEscape = regexp.MustCompile(`\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[@-Z\\-_]`)

// plainText is a tool's output as text to read: without terminal escapes, and with every other
// control character but line breaks and tabs dropped (the projects service refuses them).
func plainText(b []byte) []byte {
	b = ansiEscape.ReplaceAll(b, nil)
	return bytes.Map(func(r rune) rune {
		if r < 0x20 && r != '\n' && r != '\t' || r == 0x7f {
			return -1
		}
		return r
	}, bytes.ToValidUTF8(b, []byte("\uFFFD")))
}

// writeStep appends a step's transcript to a proof's log.
func writeStep(log *bytes.Buffer, s sandbox.StepResult) {
	fmt.Fprintf(log, "$ %s\n", s.Command)
	log.Write(plainText(s.Log))
	if len(s.Log) > 0 && s.Log[len(s.Log)-1] != '\n' {
		log.WriteByte('\n')
	}
	switch {
	case s.Stopped != "":
		fmt.Fprintf(log, "[stopped by the sandbox after %s: %s]\n\n", s.Duration.Round(time.Millisecond), s.Stopped)
	default:
		fmt.Fprintf(log, "[exit %d after %s]\n\n", s.ExitCode, s.Duration.Round(time.Millisecond))
	}
}

// coverage is the coverage proof: the unit tests' coverage reports together against the
// threshold.
func (p Plan) coverage(steps map[string]sandbox.StepResult) Proof {
	pr := Proof{Type: ProofCoverage, Pass: true}
	var log bytes.Buffer
	var covered, total int64
	var parts, cmds, missing []string
	for _, c := range p.checks {
		if c.proof != ProofUnitTests {
			continue
		}
		s := steps[c.step]
		cmds = append(cmds, s.Command)
		pr.Duration += s.Duration
		if !s.Passed() {
			pr.Pass = false
			if pr.ExitCode == 0 {
				pr.ExitCode = s.ExitCode
			}
			missing = append(missing, c.component.Dir+" (its tests failed)")
			pr.FailedDirs = append(pr.FailedDirs, c.component.Dir)
			continue
		}
		if c.component.coverage == "" {
			missing = append(missing, c.component.Dir+" (no coverage report: add a \"coverage\" script writing "+nodeCoverageSummary+")")
			continue
		}
		report, ok := s.Results[c.component.coverage]
		var cv, tot int64
		var err error
		if !ok {
			err = fmt.Errorf("the tests left no %s", c.component.coverage)
		} else if c.component.Toolchain == ToolchainGo {
			cv, tot, err = GoCoverage(report)
		} else {
			cv, tot, err = NodeCoverage(report)
		}
		if err != nil {
			missing = append(missing, fmt.Sprintf("%s (%v)", c.component.Dir, err))
			continue
		}
		covered, total = covered+cv, total+tot
		parts = append(parts, fmt.Sprintf("%s %s", c.component.Dir, percent(cv, tot)))
		fmt.Fprintf(&log, "%s: %d of %d statements covered (%s)\n", c.component.Dir, cv, tot, percent(cv, tot))
	}
	pr.Command = strings.Join(cmds, "; ")
	if len(missing) > 0 {
		pr.Pass = false
		fmt.Fprintf(&log, "not measured: %s\n", strings.Join(missing, "; "))
	}
	whole := percent(covered, total)
	fmt.Fprintf(&log, "total: %d of %d statements covered (%s); threshold %d %%\n", covered, total, whole, p.CoverageThreshold)
	pct := 0.0
	if total > 0 {
		pct = 100 * float64(covered) / float64(total)
	}
	if total == 0 || pct < float64(p.CoverageThreshold) {
		pr.Pass = false
	}
	switch {
	case pr.Pass:
		pr.Summary = fmt.Sprintf("coverage %s of statements (threshold %d %%): %s", whole, p.CoverageThreshold, strings.Join(parts, ", "))
	case len(missing) > 0:
		pr.Summary = fmt.Sprintf("coverage not measured for %s", strings.Join(missing, "; "))
	default:
		pr.Summary = fmt.Sprintf("coverage %s of statements is below the threshold of %d %%: %s", whole, p.CoverageThreshold, strings.Join(parts, ", "))
	}
	if pr.ExitCode == 0 && !pr.Pass {
		pr.ExitCode = 1
	}
	pr.Log = bound(log.Bytes())
	if !pr.Pass {
		pr.Failure = failureExcerpt(pr.Log)
	}
	pr.Summary = oneLine(pr.Summary, 900)
	return pr
}

func percent(covered, total int64) string {
	if total == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.1f %%", 100*float64(covered)/float64(total))
}

// GoCoverage totals a Go coverage profile ("mode: set" then "file:start,end statements count"
// lines): statements covered and in all. A block listed twice (several test binaries) counts
// once, covered if any covered it.
func GoCoverage(profile []byte) (covered, total int64, err error) {
	lines := strings.Split(string(profile), "\n")
	if len(lines) == 0 || !strings.HasPrefix(lines[0], "mode: ") {
		return 0, 0, fmt.Errorf("not a Go coverage profile")
	}
	type block struct {
		stmts   int64
		covered bool
	}
	blocks := map[string]*block{}
	for _, line := range lines[1:] {
		if line = strings.TrimSpace(line); line == "" {
			continue
		}
		f := strings.Fields(line)
		var stmts, count int64
		if len(f) != 3 {
			return 0, 0, fmt.Errorf("malformed coverage line %q", oneLine(line, 80))
		}
		if _, err := fmt.Sscan(f[1], &stmts); err != nil {
			return 0, 0, fmt.Errorf("malformed coverage line %q", oneLine(line, 80))
		}
		if _, err := fmt.Sscan(f[2], &count); err != nil {
			return 0, 0, fmt.Errorf("malformed coverage line %q", oneLine(line, 80))
		}
		b := blocks[f[0]]
		if b == nil {
			b = &block{stmts: stmts}
			blocks[f[0]] = b
		}
		b.covered = b.covered || count > 0
	}
	for _, b := range blocks {
		total += b.stmts
		if b.covered {
			covered += b.stmts
		}
	}
	return covered, total, nil
}

// NodeCoverage reads an Istanbul json-summary (Vitest's json-summary reporter): the total
// statements covered and in all.
func NodeCoverage(summary []byte) (covered, total int64, err error) {
	var s struct {
		Total struct {
			Statements struct {
				Total   *int64 `json:"total"`
				Covered *int64 `json:"covered"`
			} `json:"statements"`
		} `json:"total"`
	}
	if err := json.Unmarshal(summary, &s); err != nil || s.Total.Statements.Total == nil || s.Total.Statements.Covered == nil {
		return 0, 0, fmt.Errorf("not a coverage summary (json-summary) with total statements")
	}
	return *s.Total.Statements.Covered, *s.Total.Statements.Total, nil
}

// bound keeps a log within MaxLogBytes: its start and its end, which say most.
func bound(log []byte) []byte {
	if len(log) <= MaxLogBytes {
		return log
	}
	const note = "\n[… %d bytes of the log left out …]\n"
	head, tail := MaxLogBytes/4, MaxLogBytes*3/4-len(note)-10
	out := append([]byte{}, log[:head]...)
	out = append(out, fmt.Sprintf(note, len(log)-head-tail)...)
	return append(out, log[len(log)-tail:]...)
}

// failureExcerpt is what a repair prompt shows of a failing log: the lines that name errors,
// with a little context, else its end; at most maxFailure bytes.
func failureExcerpt(log []byte) string {
	const maxFailure = 6000
	lines := strings.Split(strings.ToValidUTF8(string(log), "\uFFFD"), "\n")
	keep := make([]bool, len(lines))
	found := false
	for i, l := range lines {
		if isErrorLine(l) || strings.HasPrefix(l, "$ ") || strings.HasPrefix(l, "[exit") || strings.HasPrefix(l, "[stopped") {
			for j := max(i-1, 0); j <= min(i+2, len(lines)-1); j++ {
				keep[j] = true
			}
			found = found || isErrorLine(l)
		}
	}
	var b strings.Builder
	if !found {
		text := strings.Join(lines, "\n")
		if len(text) > maxFailure {
			text = "…\n" + text[len(text)-maxFailure:]
		}
		return strings.ToValidUTF8(text, "")
	}
	skipped := false
	for i, l := range lines {
		if !keep[i] {
			skipped = true
			continue
		}
		if skipped && b.Len() > 0 {
			b.WriteString("…\n")
		}
		skipped = false
		if b.Len()+len(l) > maxFailure {
			b.WriteString("[… more errors left out]\n")
			break
		}
		b.WriteString(l)
		b.WriteByte('\n')
	}
	return b.String()
}

// isErrorLine reports whether a log line looks like it names an error: a compiler's
// "file.go:12:3:" position, a failing test, an npm/TypeScript error.
func isErrorLine(l string) bool {
	t := strings.TrimSpace(l)
	switch {
	case strings.HasPrefix(t, "--- FAIL"), strings.HasPrefix(t, "FAIL"), strings.HasPrefix(t, "panic:"),
		strings.Contains(t, "error TS"), strings.HasPrefix(t, "npm ERR!"), strings.HasPrefix(t, "npm error"),
		strings.Contains(t, "Error:"), strings.HasPrefix(t, "×"), strings.HasPrefix(t, "✗"):
		return true
	}
	// file.go:12:3: message
	if i := strings.Index(t, ".go:"); i > 0 && strings.Count(t[i:], ":") >= 2 {
		return true
	}
	return false
}

// firstErrorLine is the first line of a log that names an error, "" if none does.
func firstErrorLine(log []byte) string {
	for _, l := range strings.Split(string(log), "\n") {
		if isErrorLine(l) {
			return strings.TrimSpace(l)
		}
	}
	return ""
}

// oneLine makes s one line of at most n bytes, without control characters.
func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(string(plainText([]byte(s)))), " ")
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n] + "…"
}
