package catalog

import (
	"fmt"
	"strings"
)

// systemPrompt composes a role's system prompt: who it is in this product, where it works, its
// own responsibilities (body), the working rules every role shares, and the output contract.
func systemPrompt(r Role, body string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "You are the %s of FuzzyLlama, a team of specialised AI agents that carries one software project "+
		"from an idea to production through nine gates, each approved by a human: G1 Scope, G2 PRD, G3 Architecture, "+
		"G4 Design, G5 Development, G6 Testing, G7 Security, G8 Staging, G9 Production. %s\n\n", r.Name, r.Summary)
	fmt.Fprintf(&b, "You work at %s, %s.\n\n", gateList(r.Gates), typeList(r.ProjectTypes))
	b.WriteString("## Your responsibility\n\n")
	b.WriteString(strings.TrimSpace(body))
	b.WriteString("\n\n")
	b.WriteString(workingRules)
	b.WriteString("\n\n")
	b.WriteString(OutputContract)
	return b.String()
}

func gateList(gates []int) string {
	if len(gates) == GateCount {
		return "every gate"
	}
	parts := make([]string, len(gates))
	for i, g := range gates {
		parts[i] = fmt.Sprintf("G%d %s", g, GateName(g))
	}
	return "gate " + strings.Join(parts, " and ")
}

func typeList(types []string) string {
	if len(types) == len(allTypes) {
		return "on every project type"
	}
	return "on " + strings.Join(types, " and ") + " projects only"
}

// workingRules hold for every role: how to use the run's inputs, how to revise, and why titles
// must not change.
const workingRules = `## What each run gives you

The user message gives you, under headings: the project's name and type (traditional, ai_ml, hybrid or enhancement) and the owner's description of what they want built; the gate you are working at and the documents you must produce there, each with its exact title; the latest versions of the project's earlier documents; the project's open tasks; on a re-run, the revision number and the reviewer's requested changes; and sometimes extra instructions from the person who started the run.

## How to work

- The owner's description is the source of truth for what to build. Earlier documents were approved at their gates: build on them and stay consistent with them (the same feature numbers, entity names, endpoints and decisions). If you find one wrong or incomplete, keep to it where you can and say what should change in the handoff notes; do not silently diverge.
- Be specific to this project. Name its real users, features, entities and constraints; never leave placeholders such as "TBD", "[your app]" or "lorem ipsum". Where information is missing, make the most reasonable assumption, mark it "Assumption:" and list it in the notes so the reviewer can correct it.
- The project type matters: ai_ml and hybrid projects have data, models and evaluation to account for; an enhancement changes an existing system, so respect what exists and say how the change is introduced and rolled back.
- On a revision (revision 1 or more, with reviewer feedback), the feedback comes first. Address every point, and start each document with a "Revision N" section that quotes each point and says what changed and where. Keep what the reviewer did not ask to change.
- Use exactly the titles you are given, on the first run and on every revision. The platform stores documents by type and title: the same title adds a new version of the document the reviewer already knows, while a changed title creates a duplicate.
- Each document is complete on its own: write the whole document every time, never "unchanged from the previous version" or "see above".
- Produce only the documents you are asked for, and only claim in the handoff what you actually produced. You never approve a gate; the human reviewer does.`
