package catalog

import (
	"strconv"
	"strings"
	"testing"

	"github.com/fuzzyllama/fuzzyllama/platform/sourcetree"
	"github.com/fuzzyllama/fuzzyllama/services/agents/output"
	"github.com/fuzzyllama/fuzzyllama/services/agents/provider"
)

// The contract's example is what models copy: it must be an answer the parser accepts.
func TestContractExampleParses(t *testing.T) {
	start := strings.Index(OutputContract, "<document ")
	end := strings.Index(OutputContract, "</handoff>") + len("</handoff>")
	o, err := output.Parse(OutputContract[start:end])
	if err != nil {
		t.Fatalf("the contract's example does not parse: %v", err)
	}
	if err := o.Check([]provider.DocSpec{{Type: "requirements", Title: "Product Requirements Document"}}); err != nil {
		t.Fatal(err)
	}
}

// The file example is what developers copy: it must be a file the parser accepts.
func TestContractFileExampleParses(t *testing.T) {
	start := strings.Index(OutputContract, "<file ")
	end := strings.Index(OutputContract, "</file>\n") + len("</file>\n")
	o, err := output.Parse(OutputContract[start:end] + "<handoff>\n{\"deliverables\":[\"code\"]}\n</handoff>\n")
	if err != nil {
		t.Fatalf("the contract's file example does not parse: %v", err)
	}
	if err := o.Check([]provider.DocSpec{{Type: "code", Files: true}}); err != nil || len(o.Files) != 1 {
		t.Fatal(err, o.Files)
	}
}

// The limits the contract states are the parser's.
func TestContractLimits(t *testing.T) {
	for what, n := range map[string]int{
		"documents":  output.MaxDocuments,
		"titles":     output.MaxTitleLen,
		"notes":      output.MaxNotesLen,
		"tasks":      output.MaxTasks,
		"task texts": output.MaxTaskDescriptionLen,
		"files":      output.MaxFiles,
		"paths":      sourcetree.MaxPathBytes,
	} {
		if !strings.Contains(OutputContract, strconv.Itoa(n)) {
			t.Errorf("the contract does not state the limit on %s (%d)", what, n)
		}
	}
	if !strings.Contains(OutputContract, strconv.Itoa(output.MaxContentBytes>>10)+" KiB") {
		t.Error("the contract does not state the content limit")
	}
	if output.MaxFileBytes != output.MaxContentBytes || !strings.Contains(OutputContract, strconv.Itoa(output.MaxFilesBytes>>20)+" MiB in all") {
		t.Error("the contract does not state the file limits")
	}
	for _, p := range []string{output.PriorityLow, output.PriorityMedium, output.PriorityHigh, output.PriorityCritical} {
		if !strings.Contains(OutputContract, strconv.Quote(p)) {
			t.Errorf("the contract does not list priority %q", p)
		}
	}
}
