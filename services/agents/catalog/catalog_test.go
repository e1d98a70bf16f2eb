package catalog

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	commonv1 "github.com/fuzzyllama/fuzzyllama/gen/go/fuzzyllama/common/v1"
	"github.com/fuzzyllama/fuzzyllama/platform/protoenum"
)

// workflowGate mirrors one gate of services/projects/workflow (which the agents service must
// not import): the roles that work at it and the document types it requires.
type workflowGate struct {
	roles        []string
	deliverables []string
}

// mirrorWorkflow is a copy of workflow.go's build(): the gates are the same for every project
// type except for the developers (G5), testers (G6) and operators (G8, G9).
func mirrorWorkflow(developers, testers, operators []string) [GateCount]workflowGate {
	return [GateCount]workflowGate{
		{[]string{ProductManager}, []string{"intake"}},
		{[]string{ProductManager}, []string{"requirements", "user_story"}},
		{[]string{Architect}, []string{"architecture", "api_spec", "database_schema"}},
		{[]string{UXDesigner}, []string{"design"}},
		{developers, []string{"code"}},
		{testers, []string{"test_plan"}},
		{[]string{SecurityEngineer}, []string{"security_audit"}},
		{operators, []string{"deployment_guide"}},
		{operators, []string{"runbook"}},
	}
}

var (
	softwareWorkflow = mirrorWorkflow([]string{FrontendDeveloper, BackendDeveloper}, []string{QAEngineer},
		[]string{DevOpsEngineer})
	aiWorkflow = mirrorWorkflow(
		[]string{FrontendDeveloper, BackendDeveloper, DataEngineer, MLEngineer, PromptEngineer},
		[]string{QAEngineer, ModelEvaluator}, []string{AIOpsEngineer})
	workflows = map[string][GateCount]workflowGate{
		Traditional: softwareWorkflow, Enhancement: softwareWorkflow, AIML: aiWorkflow, Hybrid: aiWorkflow,
	}
)

func TestCatalogMatchesWorkflow(t *testing.T) {
	if len(workflows) != len(ProjectTypes()) {
		t.Fatalf("mirror has %d project types, catalog %d", len(workflows), len(ProjectTypes()))
	}
	for _, pt := range ProjectTypes() {
		for i, gate := range workflows[pt] {
			n := i + 1
			var serving []string
			produced := map[string]bool{}
			for _, r := range All() {
				if !r.Serves(n, pt) {
					continue
				}
				if r.ID != Orchestrator {
					serving = append(serving, r.ID)
				}
				for _, d := range r.OutputsFor(n) {
					produced[d.Type] = true
					if r.ID != Orchestrator && !slices.Contains(gate.deliverables, d.Type) {
						t.Errorf("%s G%d: %s produces %q, which the gate does not require", pt, n, r.ID, d.Type)
					}
				}
			}
			if !slices.Equal(serving, gate.roles) {
				t.Errorf("%s G%d: catalog roles %v, workflow roles %v", pt, n, serving, gate.roles)
			}
			for _, d := range gate.deliverables {
				if !produced[d] {
					t.Errorf("%s G%d: no role serving the gate produces the required %q", pt, n, d)
				}
			}
		}
	}
}

func TestWordsAreProtoEnums(t *testing.T) {
	for _, r := range All() {
		if protoenum.Value[commonv1.AgentRole](r.ID, commonv1.AgentRole_value, "AGENT_ROLE_") == 0 {
			t.Errorf("role %q is not a commonv1.AgentRole", r.ID)
		}
		for _, pt := range r.ProjectTypes {
			if protoenum.Value[commonv1.ProjectType](pt, commonv1.ProjectType_value, "PROJECT_TYPE_") == 0 {
				t.Errorf("role %s: project type %q is not a commonv1.ProjectType", r.ID, pt)
			}
		}
		for g, specs := range r.Outputs {
			for _, d := range specs {
				if protoenum.Value[commonv1.DocumentType](d.Type, commonv1.DocumentType_value, "DOCUMENT_TYPE_") == 0 {
					t.Errorf("role %s G%d: %q is not a commonv1.DocumentType", r.ID, g, d.Type)
				}
			}
		}
	}
	// Every proto role is in the catalog, so no run can name a role without a prompt.
	for v := range commonv1.AgentRole_name {
		if v == 0 {
			continue
		}
		word := protoenum.Word(commonv1.AgentRole(v), commonv1.AgentRole_name, "AGENT_ROLE_")
		if _, ok := Get(word); !ok {
			t.Errorf("commonv1 role %q has no catalog entry", word)
		}
	}
}

func TestRoleData(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range All() {
		if seen[r.ID] {
			t.Errorf("role %q twice", r.ID)
		}
		seen[r.ID] = true
		if r.Name == "" || r.Summary == "" || r.DefaultModel == "" || r.MaxTokens <= 0 {
			t.Errorf("%s: incomplete: %+v", r.ID, r)
		}
		if r.Priority < PriorityCritical || r.Priority > PriorityLow {
			t.Errorf("%s: priority %d", r.ID, r.Priority)
		}
		if !slices.IsSorted(r.Gates) || len(r.Gates) == 0 {
			t.Errorf("%s: gates %v", r.ID, r.Gates)
		}
		for _, g := range r.Gates {
			if len(r.OutputsFor(g)) == 0 {
				t.Errorf("%s: works at G%d but produces nothing there", r.ID, g)
			}
			for _, d := range r.OutputsFor(g) {
				switch {
				case d.Files && (d.Type != "code" || d.Title != "" || r.SourceDir == ""):
					t.Errorf("%s G%d: files %+v, source dir %q", r.ID, g, d, r.SourceDir)
				case !d.Files && (strings.TrimSpace(d.Title) != d.Title || d.Title == "" || len(d.Title) > 200):
					t.Errorf("%s G%d: title %q", r.ID, g, d.Title)
				}
			}
		}
	}
	want := map[string]struct{ priority, maxTokens int }{
		Orchestrator: {1, 4000}, ProductManager: {2, 8000}, Architect: {2, 16000}, UXDesigner: {4, 8000},
		FrontendDeveloper: {3, 16000}, BackendDeveloper: {3, 16000}, DataEngineer: {4, 8000},
		MLEngineer: {4, 8000}, PromptEngineer: {4, 8000}, QAEngineer: {2, 8000}, ModelEvaluator: {4, 8000},
		SecurityEngineer: {2, 8000}, DevOpsEngineer: {4, 8000}, AIOpsEngineer: {4, 8000},
	}
	for id, w := range want {
		r, ok := Get(id)
		if !ok {
			t.Errorf("%s missing", id)
			continue
		}
		if r.Priority != w.priority || r.MaxTokens != w.maxTokens {
			t.Errorf("%s: priority %d maxTokens %d, want %d %d", id, r.Priority, r.MaxTokens, w.priority, w.maxTokens)
		}
	}
	if len(want) != len(All()) {
		t.Errorf("catalog has %d roles, expected %d", len(All()), len(want))
	}
	orch, _ := Get(Orchestrator)
	if len(orch.Gates) != GateCount || len(orch.ProjectTypes) != len(ProjectTypes()) {
		t.Errorf("orchestrator serves %v %v", orch.Gates, orch.ProjectTypes)
	}
}

// Two roles at one gate writing the same type and title, or files under the same directory,
// would overwrite each other's versions.
func TestTitlesDistinctPerGate(t *testing.T) {
	for _, pt := range ProjectTypes() {
		for g := 1; g <= GateCount; g++ {
			owner := map[string]string{}
			for _, r := range All() {
				if !r.Serves(g, pt) {
					continue
				}
				for _, d := range r.OutputsFor(g) {
					k := d.Type + "/" + strings.ToLower(d.Title)
					if d.Files {
						k = "files under " + r.SourceDir + "/"
					}
					if o, dup := owner[k]; dup {
						t.Errorf("%s G%d: %s and %s both produce %s", pt, g, o, r.ID, k)
					}
					owner[k] = r.ID
				}
			}
		}
	}
}

func TestSystemPrompts(t *testing.T) {
	for _, r := range All() {
		if !strings.HasSuffix(r.SystemPrompt, OutputContract) {
			t.Errorf("%s: system prompt does not end with the output contract", r.ID)
		}
		if !strings.Contains(r.SystemPrompt, "You are the "+r.Name+" of FuzzyLlama") {
			t.Errorf("%s: system prompt does not introduce the role", r.ID)
		}
		for _, g := range r.Gates {
			for _, d := range r.OutputsFor(g) {
				if d.Files && !strings.Contains(r.SystemPrompt, "Put your component under "+r.SourceDir+"/") {
					t.Errorf("%s: system prompt never says where its files go", r.ID)
				}
				if !d.Files && !strings.Contains(r.SystemPrompt, fmt.Sprintf("%q", d.Title)) {
					t.Errorf("%s: system prompt never names its document %q", r.ID, d.Title)
				}
			}
		}
		if (r.SourceDir != "") != strings.Contains(r.SystemPrompt, "## Your code") {
			t.Errorf("%s: source rules and source dir %q disagree", r.ID, r.SourceDir)
		}
	}
	for _, w := range []string{"intake", "requirements", "user_story", "architecture", "api_spec", "database_schema",
		"design", "code", "test_plan", "security_audit", "deployment_guide", "runbook", "other"} {
		if !strings.Contains(OutputContract, w) {
			t.Errorf("output contract does not list document type %q", w)
		}
	}
	for _, r := range All() {
		if !strings.Contains(OutputContract, r.ID) {
			t.Errorf("output contract does not list role %q", r.ID)
		}
	}
}

func TestCopiesAreIndependent(t *testing.T) {
	r, _ := Get(ProductManager)
	r.Gates[0] = 99
	r.Outputs[1][0].Title = "changed"
	r.ProjectTypes[0] = "changed"
	again, _ := Get(ProductManager)
	if again.Gates[0] != 1 || again.OutputsFor(1)[0].Title != "Project Intake" || again.ProjectTypes[0] != Traditional {
		t.Fatalf("catalog changed through a copy: %+v", again)
	}
	if _, ok := Get("wizard"); ok {
		t.Fatal("Get found an unknown role")
	}
	ids := func() (out []string) {
		for _, r := range All() {
			out = append(out, r.ID)
		}
		return out
	}
	if first := ids(); !slices.Equal(first, ids()) || first[0] != Orchestrator {
		t.Fatalf("order not stable: %v", first)
	}
	if GateName(3) != "Architecture" || GateName(0) != "" || GateName(10) != "" {
		t.Fatal("GateName")
	}
}
