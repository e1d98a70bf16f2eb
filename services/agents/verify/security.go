package verify

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/fuzzyllama/fuzzyllama/services/agents/sandbox"
)

// The security scan is govulncheck (golang.org/x/vuln) over each Go component, against the Go
// vulnerability database the runner provides (sandbox.FetchGoVulnCheck): it works offline, on
// the source, and reports a vulnerability only where the code can reach the vulnerable
// function, so a finding is one to act on. Its report is read in OpenVEX form (a statement per
// known vulnerability of the modules in the build, "affected" when called), which is small and
// machine-readable, where the JSON stream holds every OSV entry in full.
//
// A called vulnerability in a module the tree requires fails the proof: the tree's go.mod is
// what fixes it. One in the Go standard library is the sandbox toolchain's (govulncheck judges
// the Go it runs with, not the one the project will be built with): it is listed in the
// summary and the log, and does not fail the proof.
//
// Node components are not scanned: npm's advisories are only served online (npm audit posts
// the lock file to the registry), and no offline npm advisory database is provided here. The
// summary says so.

// securityScanCommand is the scan of a Go component, run in its directory.
var securityScanCommand = []string{"govulncheck", "-db", "file://" + sandbox.GoVulnDBDir, "-format", "openvex", "./..."}

// vulnFinding is one called vulnerability.
type vulnFinding struct {
	ID          string
	Description string
	Modules     []string // "module@version", e.g. "golang.org/x/text@v0.3.5" or "stdlib@v1.26.8"
}

// toolchainOnly reports whether the finding is in the Go distribution alone.
func (f vulnFinding) toolchainOnly() bool {
	// A finding placed nowhere is not assumed to be the toolchain's.
	return len(f.Modules) > 0 && !slices.ContainsFunc(f.Modules, func(m string) bool {
		return !strings.HasPrefix(m, "stdlib@") && !strings.HasPrefix(m, "toolchain@")
	})
}

func (f vulnFinding) String() string {
	return fmt.Sprintf("%s in %s (%s)", f.ID, strings.Join(f.Modules, ", "), f.Description)
}

// vexReport is the part of govulncheck's OpenVEX document the scan reads.
type vexReport struct {
	Statements []struct {
		Vulnerability struct {
			Name        string `json:"name"`
			Description string `json:"description"`
		} `json:"vulnerability"`
		Products []struct {
			Subcomponents []struct {
				ID string `json:"@id"`
			} `json:"subcomponents"`
		} `json:"products"`
		Status string `json:"status"`
	} `json:"statements"`
}

// CalledVulnerabilities reads govulncheck's OpenVEX output (anything it printed before the
// document is skipped): the vulnerabilities the code calls, and how many more are known in
// the build's modules but not called.
func CalledVulnerabilities(output []byte) (called []vulnFinding, notCalled int, err error) {
	start := bytes.Index(output, []byte("{\n"))
	if start < 0 {
		return nil, 0, fmt.Errorf("the scanner printed no report")
	}
	var r vexReport
	if err := json.NewDecoder(bytes.NewReader(output[start:])).Decode(&r); err != nil {
		return nil, 0, fmt.Errorf("the scanner's report cannot be read (%v)", err)
	}
	for _, st := range r.Statements {
		if st.Status != "affected" {
			notCalled++
			continue
		}
		f := vulnFinding{ID: st.Vulnerability.Name, Description: oneLine(st.Vulnerability.Description, 200)}
		for _, p := range st.Products {
			for _, sc := range p.Subcomponents {
				// A package URL: "pkg:golang/golang.org%2Fx%2Ftext@v0.3.5".
				m := strings.TrimPrefix(sc.ID, "pkg:golang/")
				if unescaped, err := url.PathUnescape(m); err == nil {
					m = unescaped
				}
				f.Modules = append(f.Modules, m)
			}
		}
		called = append(called, f)
	}
	return called, notCalled, nil
}

// securityScan is the security_scan proof: every Go component scanned, none calling a
// vulnerable function of a module it requires.
func (p Plan) securityScan(steps map[string]sandbox.StepResult) Proof {
	pr := Proof{Type: ProofSecurityScan, Pass: true}
	var log bytes.Buffer
	var t transcript
	var clean, problems, toolchain []string
	stepFailed := false
	for c, s := range p.stepsOf(ProofSecurityScan, steps, &t) {
		problem := ""
		if !s.Passed() {
			problem = stepProblem(s)
			pr.ExitCode = s.ExitCode
			stepFailed = true
		} else if called, notCalled, err := CalledVulnerabilities(s.Log); err != nil {
			problem = err.Error()
			fmt.Fprintf(&log, "%s: %s\n", c.component.Dir, problem)
		} else {
			var inModules []string
			for _, f := range called {
				if f.toolchainOnly() {
					toolchain = appendNew(toolchain, f.ID)
					fmt.Fprintf(&log, "%s: called, in the sandbox's Go toolchain: %s\n", c.component.Dir, f)
					continue
				}
				inModules = append(inModules, f.ID+" in "+strings.Join(f.Modules, ", "))
				fmt.Fprintf(&log, "%s: called, in a required module: %s. Upgrade the module in go.mod to a version that fixes it (https://pkg.go.dev/vuln/%s)\n", c.component.Dir, f, f.ID)
			}
			fmt.Fprintf(&log, "%s: %d known vulnerabilities of the build's modules are not called\n", c.component.Dir, notCalled)
			if len(inModules) > 0 {
				problem = "calls vulnerable code: " + strings.Join(inModules, "; ")
				pr.ExitCode = 3 // govulncheck's own code for "vulnerable code called"
			}
		}
		if problem == "" {
			clean = append(clean, c.component.Dir)
			continue
		}
		pr.Pass = false
		pr.FailedDirs = append(pr.FailedDirs, c.component.Dir)
		problems = append(problems, fmt.Sprintf("%s (%s)", c.component.Dir, problem))
	}
	pr.Command, pr.Duration = strings.Join(t.cmds, "; "), t.duration
	db := fmt.Sprintf("govulncheck %s, database %s@%s", sandbox.GovulncheckVersion, sandbox.GoVulnDBModule, sandbox.GoVulnDBVersion)
	if pr.Pass {
		pr.Summary = fmt.Sprintf("security_scan passed in %s: no vulnerable function of a required module is called (%s)", strings.Join(clean, ", "), db)
	} else {
		pr.Summary = fmt.Sprintf("security_scan failed in %s (%s)", strings.Join(problems, "; "), db)
	}
	if len(toolchain) > 0 {
		pr.Summary += fmt.Sprintf("; the sandbox's Go toolchain has %d called vulnerabilities (%s), fixed by building with a newer Go release", len(toolchain), strings.Join(toolchain, ", "))
	}
	if unscanned := p.unscanned(); len(unscanned) > 0 {
		pr.Summary += "; not scanned: " + strings.Join(unscanned, ", ") + " (no offline vulnerability database for npm packages)"
	}
	if pr.ExitCode == 0 && !pr.Pass {
		pr.ExitCode = 1
	}
	findings := log.String()
	log.WriteByte('\n')
	log.Write(t.log.Bytes())
	pr.Log = bound(log.Bytes())
	switch {
	case stepFailed: // the scan could not run (code that does not compile): its errors say why
		pr.Failure = failureExcerpt(t.log.Bytes())
	case !pr.Pass: // the findings, not the report they were read from
		pr.Failure = failureExcerpt([]byte(findings))
	}
	pr.Summary = oneLine(pr.Summary, 900)
	return pr
}

// unscanned are the components the security scan does not read.
func (p Plan) unscanned() []string {
	var out []string
	for _, c := range p.Components {
		if c.Toolchain != ToolchainGo {
			out = append(out, c.Dir)
		}
	}
	return out
}

// appendNew appends s to list unless it is there.
func appendNew(list []string, s string) []string {
	if slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}
