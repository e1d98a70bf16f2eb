package offline

import (
	"fmt"
	"strings"

	"github.com/fuzzyllama/fuzzyllama/services/agents/catalog"
)

// intake is the G1 "Project Intake": the owner's description restated as scope.
func (p *project) intake(title string) string {
	var m md
	p.start(&m, title)
	m.h2("Summary")
	m.para("%s is %s %s project. In one sentence: %s", p.name, article(p.typeLabel()), p.typeLabel(), p.summary)
	m.h2("The owner's description")
	if p.description == "" {
		m.para("No description was given; the capabilities below are placeholders to be replaced at revision.")
	} else {
		m.quote(p.description)
	}
	m.h2("Project type")
	m.para("%s", p.typeNote())
	m.h2("Users and stakeholders")
	var people []string
	for _, who := range p.personas() {
		people = append(people, fmt.Sprintf("**%s**: %s", upperFirst(who), p.needsOf(who)))
	}
	people = append(people, "**Project owner**: decides the scope and approves each of the nine gates.")
	m.bullets(people...)
	m.h2("Key capabilities")
	m.para("Read from the description; the PRD at G2 turns each into a numbered functional requirement.")
	var caps []string
	for _, f := range p.features {
		caps = append(caps, f.text())
	}
	m.bullets(caps...)
	m.h2("Goals and success criteria")
	var rows [][]string
	for i, f := range p.features[:min(len(p.features), 6)] {
		rows = append(rows, []string{fmt.Sprintf("G-%d", i+1), cell(f.title()),
			fmt.Sprintf("Share of %s who complete it unaided in acceptance testing", cell(plural(f.persona()))), "≥ 90%"})
	}
	rows = append(rows, []string{fmt.Sprintf("G-%d", len(rows)+1), "The product is dependable", "Monthly availability in production", "≥ 99.5%"},
		[]string{fmt.Sprintf("G-%d", len(rows)+2), "The product is responsive", "95th percentile API response time", "< 300 ms"})
	m.table([]string{"Id", "Goal", "Measure", "Target"}, rows)
	m.h2("Scope")
	m.bullets("**In scope for the first release:** the key capabilities above, for the users listed.",
		"**Out of scope:** anything not listed above, integrations with third-party systems the description does not name, and native mobile apps (the first release is a responsive web application).")
	m.h2("Constraints")
	m.bullets(p.constraints()...)
	m.h2("Assumptions")
	m.bullets(p.assumptions()...)
	m.h2("Open questions for the owner")
	m.numbered(
		"Is there existing code, data or a system this must work with? If so, where, and what must keep working?",
		"Who will run and maintain the product, and what technology are they comfortable with?",
		"Which of the success criteria above matter most, and are the targets right?",
		"What are the constraints on budget, timeline, compliance and where data may be stored?",
		"Where should staging and production run, and who approves a release?")
	return m.String()
}

// typeNote says what the project type changes about the work.
func (p *project) typeNote() string {
	roles := func(gate int) string {
		var names []string
		for _, r := range catalog.All() {
			if r.ID != catalog.Orchestrator && r.Serves(gate, p.typ) {
				names = append(names, r.Name)
			}
		}
		if len(names) == 0 {
			return "no agent"
		}
		return list(names)
	}
	return fmt.Sprintf("This is %s %s project: development (G5) is done by the %s, testing (G6) by the %s, and staging and production (G8, G9) by the %s.",
		article(p.typeLabel()), p.typeLabel(), roles(5), roles(6), roles(8))
}

// needsOf summarises what a persona does in the product.
func (p *project) needsOf(persona string) string {
	var acts []string
	for _, f := range p.features {
		if f.persona() == persona && f.phrase {
			acts = append(acts, lowerFirst(f.title()))
		}
	}
	if len(acts) == 0 {
		return "uses " + p.name + "."
	}
	return "needs to " + list(acts[:min(len(acts), 4)]) + "."
}

func (p *project) constraints() []string {
	out := []string{
		"Runs as a web application and an HTTP API; works in current evergreen browsers.",
		"Personal data is kept to what the capabilities need, and can be exported and deleted on request.",
	}
	switch {
	case p.typ == catalog.Enhancement:
		out = append(out, "This changes an existing system: current users, data and integrations must keep working, and the change must be releasable behind a flag and reversible.")
	case p.ai():
		out = append(out, "Model features need data whose owner and licence are known; model output is treated as untrusted and is never the only safeguard for a user-visible decision.",
			"Each model call has a latency budget and a cost budget, and the product degrades gracefully when a model is slow or unavailable.")
	}
	return out
}

func (p *project) assumptions() []string {
	out := []string{
		"Assumption: users sign in with email and password; single sign-on can come later.",
		"Assumption: one deployment serves all users (no per-customer installations).",
		fmt.Sprintf("Assumption: the main things the product keeps are %s.", list(p.resourceLabels())),
	}
	if p.ai() {
		out = append(out, "Assumption: a hosted model can be used for the first release; training an own model is decided at G3 once the data is known.")
	}
	return out
}

// priority is the MoSCoW priority of the i-th feature: the description's order is its order.
func priority(i int) string {
	switch {
	case i < 3:
		return "Must"
	case i < 6:
		return "Should"
	}
	return "Could"
}

// requirements is the G2 "Product Requirements Document".
func (p *project) requirements(title string) string {
	var m md
	p.start(&m, title)
	m.h2("1. Overview")
	m.para("%s: %s The requirements below are numbered FR-1 to FR-%d; the user stories trace to them, and later gates cite them by number.",
		p.name, strings.TrimRight(p.summary, ".")+".", len(p.features))
	m.h2("2. Goals and non-goals")
	m.bullets("**Goal:** every user listed below can do what the functional requirements describe, unaided, on desktop and mobile browsers.",
		"**Goal:** the product meets the non-functional targets of section 5 in production.",
		"**Non-goal:** capabilities the intake puts out of scope, which need a change request.")
	m.h2("3. Personas")
	var rows [][]string
	for _, who := range p.personas() {
		rows = append(rows, []string{cell(upperFirst(who)), cell(p.needsOf(who))})
	}
	m.table([]string{"Persona", "Needs"}, rows)
	m.h2("4. Functional requirements")
	for i, f := range p.features {
		m.h3(fmt.Sprintf("FR-%d: %s", i+1, oneLine(f.text(), 180)))
		m.para("**Priority:** %s", priority(i))
		m.bullets(p.acceptance(f)...)
	}
	m.h2("5. Non-functional requirements")
	m.table([]string{"Id", "Area", "Requirement", "Target"}, p.nonFunctional())
	m.h2("6. Data")
	rows = nil
	for _, r := range p.resources {
		use := "Kept for the product's users."
		if f, i, ok := p.featureOf(r); ok {
			use = fmt.Sprintf("Needed by FR-%d (%s).", i+1, cell(f.title()))
		}
		rows = append(rows, []string{cell(upperFirst(r.labelPlural())), use, "id, name, description, status, owner, created and updated times"})
	}
	m.table([]string{"Entity", "Why", "Main fields"}, rows)
	m.h2("7. Milestones")
	rows = nil
	for g := 3; g <= catalog.GateCount; g++ {
		rows = append(rows, []string{fmt.Sprintf("G%d %s", g, catalog.GateName(g)), milestones[g]})
	}
	m.table([]string{"Gate", "Exit criterion"}, rows)
	m.h2("8. Risks")
	m.table([]string{"Risk", "Mitigation"}, p.risks())
	if points := p.feedbackPoints(); len(points) > 0 {
		m.h2("9. Change requests")
		m.para("The reviewer's points at revision %d are tracked as requirements until they are confirmed:", p.brief.Revision)
		var items []string
		for i, pt := range points {
			items = append(items, fmt.Sprintf("**CR-%d:** %s", i+1, pt))
		}
		m.bullets(items...)
	}
	return m.String()
}

var milestones = [catalog.GateCount + 1]string{
	3: "Architecture, API specification (validated) and database schema approved.",
	4: "Design system and the screens of every user story approved.",
	5: "The implementation builds and passes lint.",
	6: "Unit tests pass with the agreed coverage; the test plan is approved.",
	7: "Security audit approved with no open critical or high finding.",
	8: "Deployed to staging; smoke tests pass.",
	9: "Deployed to production; smoke tests and manual verification pass.",
}

// acceptance is the acceptance criteria of a feature.
func (p *project) acceptance(f feature) []string {
	if !f.phrase {
		return []string{
			"**Description:** " + f.text() + ".",
			"**Acceptance:** the reviewer confirms at G6 that the product does this, with a test case for it.",
		}
	}
	who := f.persona()
	outcome := "the change is saved and shown to them within 2 seconds"
	invalid := "**Acceptance:** invalid input is refused with a message naming the field, and nothing is stored."
	if f.reads() {
		outcome = "what they asked for is shown within 2 seconds, newest first and paginated"
		invalid = "**Acceptance:** when nothing matches, the screen says so and offers a next step instead of an empty page."
	}
	return []string{
		fmt.Sprintf("**Description:** %s %s, signed in, can %s in %s.", upperFirst(article(who)), who, f.action, p.name),
		fmt.Sprintf("**Acceptance:** given a signed-in %s, when they %s, then %s.", who, f.action, outcome),
		invalid,
		"**Acceptance:** the user can only see and change what they are allowed to; any other attempt is refused and logged.",
	}
}

func (p *project) nonFunctional() [][]string {
	rows := [][]string{
		{"Performance", "95th percentile API response time under expected load", "< 300 ms"},
		{"Availability", "Monthly availability of the production service", "≥ 99.5%"},
		{"Security", "OWASP ASVS level 1; TLS everywhere; secrets never in code or logs", "No open critical or high finding at G7"},
		{"Accessibility", "WCAG 2.2 AA for every screen", "No failing automated check; keyboard-only walkthrough passes"},
		{"Privacy", "Personal data minimised, exportable and deletable", "Export and deletion within 30 days of a request"},
		{"Observability", "Structured logs, metrics and traces for every request", "Every alert of the runbook has a dashboard"},
	}
	switch {
	case p.ai():
		rows = append(rows, []string{"Model quality", "Model output meets the thresholds of the model evaluation plan", "Agreed at G6 per metric"},
			[]string{"Model resilience", "A slow or failed model call falls back without blocking the user", "Inference timeout 5 s, fallback always available"})
	case p.typ == catalog.Enhancement:
		rows = append(rows, []string{"Compatibility", "Existing users, data and integrations keep working", "No regression in the existing test suite; change behind a flag"})
	}
	for i := range rows {
		rows[i] = append([]string{fmt.Sprintf("NFR-%d", i+1)}, rows[i]...)
	}
	return rows
}

func (p *project) risks() [][]string {
	rows := [][]string{
		{"Scope grows beyond the first release", "Changes go through change requests at the gate they affect."},
		{"The description leaves questions open", "The open questions of the intake are answered before G3 is approved."},
	}
	if p.ai() {
		rows = append(rows, []string{"The data is not good enough for the model features", "The data engineer profiles the data at G5; the model evaluation plan sets go/no-go thresholds."})
	}
	if p.typ == catalog.Enhancement {
		rows = append(rows, []string{"The change breaks the existing system", "Release behind a flag, with the existing test suite in CI and a rollback plan."})
	}
	return rows
}

// userStories is the G2 "User Stories".
func (p *project) userStories(title string) string {
	var m md
	p.start(&m, title)
	m.para("One story per functional requirement of the Product Requirements Document (US-n traces to FR-n), ordered by priority.")
	var rows [][]string
	for i, f := range p.features {
		n := i + 1
		who := f.persona()
		m.h3(fmt.Sprintf("US-%d: %s", n, f.title()))
		m.para("As %s %s, I want %s, so that %s.", article(who), who, f.want(p.name), p.benefit(f))
		m.para("**Acceptance criteria**")
		action := f.action
		if !f.phrase {
			action = "use this capability"
		}
		m.bullets(
			fmt.Sprintf("*Given* a signed-in %s, *when* they %s with valid input, *then* the result is saved and shown to them.", who, action),
			fmt.Sprintf("*Given* a signed-in %s, *when* they %s with invalid input, *then* they see which field is wrong and nothing is saved.", who, action),
			fmt.Sprintf("*Given* a visitor who is not signed in, *when* they try to %s, *then* they are asked to sign in.", action))
		size := "S"
		if l := len(strings.Fields(f.action)); l > 8 {
			size = "L"
		} else if l > 4 {
			size = "M"
		}
		m.para("**Traces to:** FR-%d · **Priority:** %s · **Size:** %s", n, priority(i), size)
		rows = append(rows, []string{fmt.Sprintf("US-%d", n), cell(upperFirst(who)), cell(f.title()), fmt.Sprintf("FR-%d", n), priority(i)})
	}
	m.h2("Story map")
	m.table([]string{"Story", "Persona", "Capability", "Requirement", "Priority"}, rows)
	return m.String()
}

// benefit is the "so that" of a story, by the kind of action.
func (p *project) benefit(f feature) string {
	switch verb := f.verb(); {
	case benefitShare[verb]:
		return "others can find and use it"
	case benefitTrack[verb]:
		return "I can see how things change over time"
	case benefitFind[verb]:
		return "I find what I need quickly"
	case benefitOpinion[verb]:
		return "my opinion is recorded and others can see it"
	case benefitNotify[verb]:
		return "nobody misses what matters"
	case benefitOut[verb]:
		return "I have the information where and when I need it"
	case benefitKeep[verb]:
		return "everything I work on is kept in one place in " + p.name
	}
	return "I can rely on " + p.name + " for it"
}

var (
	benefitShare   = set("share", "publish", "post", "invite", "send", "upload")
	benefitTrack   = set("track", "monitor", "log", "record", "forecast", "predict")
	benefitFind    = set("search", "find", "browse", "filter", "sort", "discover", "explore", "recommend", "suggest")
	benefitOpinion = set("rate", "review", "comment", "vote", "like", "reply", "flag")
	benefitNotify  = set("notify", "remind", "message", "chat")
	benefitOut     = set("export", "download", "print", "report", "see", "view", "show", "display", "visualise", "visualize", "summarise", "summarize")
	benefitKeep    = set("create", "add", "build", "manage", "edit", "update", "organise", "organize", "plan", "save", "store", "assign", "schedule", "book", "order")
)
