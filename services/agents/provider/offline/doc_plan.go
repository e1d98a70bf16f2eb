package offline

import (
	"fmt"

	"github.com/fuzzyllama/fuzzyllama/services/agents/catalog"
)

// gateWork is who works at a gate for the project's type and what they produce.
func (p *project) gateWork(gate int) (roles, docs []string) {
	for _, r := range catalog.All() {
		if r.ID == catalog.Orchestrator || !r.Serves(gate, p.typ) {
			continue
		}
		roles = append(roles, r.Name)
		for _, d := range r.OutputsFor(gate) {
			docs = append(docs, d.Title)
		}
	}
	return roles, docs
}

// projectPlan is the orchestrator's "Project Plan".
func (p *project) projectPlan(title string) string {
	var m md
	p.start(&m, title)
	current := p.brief.Gate
	m.h2("Where the project stands")
	m.para("%s is at G%d %s. Only the human reviewer approves a gate; this plan lists what the gate still needs.", p.name, current, catalog.GateName(current))
	m.h2("Gates")
	have := map[string]bool{}
	for _, d := range p.brief.Documents {
		have[titleKey(d.Title)] = true
	}
	var rows [][]string
	for g := 1; g <= catalog.GateCount; g++ {
		roles, docs := p.gateWork(g)
		status := "upcoming"
		switch {
		case g < current:
			status = "done"
		case g == current:
			status = "**current**"
		}
		var marked []string
		for _, d := range docs {
			if have[titleKey(d)] {
				marked = append(marked, d+" ✓")
			} else {
				marked = append(marked, d)
			}
		}
		rows = append(rows, []string{fmt.Sprintf("G%d %s", g, catalog.GateName(g)), status, cell(list(marked)), cell(list(roles))})
	}
	m.table([]string{"Gate", "Status", "Deliverables (✓ exists)", "Roles"}, rows)
	m.h2(fmt.Sprintf("Checklist for G%d", current))
	roles, docs := p.gateWork(current)
	var checks []string
	for _, d := range docs {
		mark := "[ ]"
		if have[titleKey(d)] {
			mark = "[x]"
		}
		checks = append(checks, mark+" "+d)
	}
	checks = append(checks, "[ ] The reviewer has read every deliverable and approved or requested changes")
	m.bullets(checks...)
	m.h2("Documents so far")
	if len(p.brief.Documents) == 0 {
		m.para("None yet.")
	} else {
		rows = nil
		for _, d := range p.brief.Documents {
			rows = append(rows, []string{cell(clean(d.Title)), cell(d.Type), itoa(d.Version)})
		}
		m.table([]string{"Document", "Type", "Version"}, rows)
	}
	m.h2("Open tasks")
	if len(p.brief.OpenTasks) == 0 {
		m.para("None.")
	} else {
		var tasks []string
		for _, t := range p.brief.OpenTasks[:min(len(p.brief.OpenTasks), 50)] {
			tasks = append(tasks, oneLine(clean(t), 200))
		}
		m.bullets(tasks...)
	}
	m.h2("Next actions")
	next := []string{fmt.Sprintf("%s produce %s for G%d.", list(roles), list(docs), current),
		"The reviewer approves the gate, or requests changes with specific feedback (the agents re-run with it)."}
	m.numbered(next...)
	return m.String()
}
