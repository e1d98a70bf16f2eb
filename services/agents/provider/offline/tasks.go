package offline

import (
	"fmt"
	"slices"

	"github.com/fuzzyllama/fuzzyllama/services/agents/catalog"
	"github.com/fuzzyllama/fuzzyllama/services/agents/output"
)

// taskPlan is the product manager's G1 decomposition: one task per gate, owned by the role
// that leads that gate for the project's type. The first is the intake itself, which the run
// that proposes the decomposition completes.
type taskPlan struct {
	gate      int
	key       string
	priority  string
	dependsOn []string
}

// Dependencies follow what each gate needs, not only their order: design needs the PRD, not
// the architecture; security reviews the code; staging needs both tests and security.
var taskPlans = []taskPlan{
	{1, "g1-scope", output.PriorityHigh, nil},
	{2, "g2-prd", output.PriorityHigh, []string{"g1-scope"}},
	{3, "g3-architecture", output.PriorityHigh, []string{"g2-prd"}},
	{4, "g4-design", output.PriorityMedium, []string{"g2-prd"}},
	{5, "g5-development", output.PriorityHigh, []string{"g3-architecture", "g4-design"}},
	{6, "g6-testing", output.PriorityHigh, []string{"g5-development"}},
	{7, "g7-security", output.PriorityHigh, []string{"g5-development"}},
	{8, "g8-staging", output.PriorityMedium, []string{"g6-testing", "g7-security"}},
	{9, "g9-production", output.PriorityCritical, []string{"g8-staging"}},
}

// lead is the role that owns a gate's task: the model roles lead G5 and G6 of ai_ml projects,
// the backend developer G5 of the others, and otherwise the most important role serving the
// gate (the first of equals in catalog order).
func lead(gate int, projectType string) string {
	if !slices.Contains(catalog.ProjectTypes(), projectType) {
		projectType = catalog.Traditional
	}
	switch {
	case gate == 5 && projectType == catalog.AIML:
		return catalog.MLEngineer
	case gate == 5:
		return catalog.BackendDeveloper
	case gate == 6 && projectType == catalog.AIML:
		return catalog.ModelEvaluator
	}
	best, bestPriority := catalog.Orchestrator, catalog.PriorityLow+1
	for _, r := range catalog.All() {
		if r.ID != catalog.Orchestrator && r.Serves(gate, projectType) && r.Priority < bestPriority {
			best, bestPriority = r.ID, r.Priority
		}
	}
	return best
}

// decomposition is the tasks of the G1 handoff.
func (p *project) decomposition() []output.Task {
	var out []output.Task
	for _, t := range taskPlans {
		roles, docs := p.gateWork(t.gate)
		desc := fmt.Sprintf("Produce %s for %s at G%d %s (%s), with %s.", list(docs), p.name, t.gate,
			catalog.GateName(t.gate), p.typeLabel(), list(roles))
		switch t.gate {
		case 1:
			desc += " Capture the owner's description as the intake the next gates build on."
		case 2:
			desc += fmt.Sprintf(" Start from the intake's %d key capabilities.", len(p.features))
		case 3, 5:
			desc += fmt.Sprintf(" Cover %s.", list(p.resourceLabels()))
		}
		out = append(out, output.Task{
			Key:         t.key,
			Gate:        output.GateRef(t.gate),
			Title:       oneLine(fmt.Sprintf("G%d %s: %s", t.gate, catalog.GateName(t.gate), list(docs)), output.MaxTitleLen),
			Description: oneLine(desc, output.MaxTaskDescriptionLen),
			OwnerRole:   lead(t.gate, p.typ),
			Priority:    t.priority,
			DependsOn:   t.dependsOn,
		})
	}
	return out
}
