package offline

import (
	"fmt"
	"strings"

	"github.com/fuzzyllama/fuzzyllama/services/agents/catalog"
)

// The stack every offline document agrees on, so that the architecture, code, deployment guide
// and runbook describe the same system.
const (
	apiPort   = 8080
	webPort   = 5173
	modelPort = 8090
	apiBase   = "/api/v1"
)

// endpointFor is the API call that serves a feature's action on a resource.
func endpointFor(f feature, r resource) string {
	item := r.path() + "/{" + r.idParam() + "}"
	switch verb := f.verb(); {
	case changeVerbs[verb]:
		return "PUT " + item
	case removeVerbs[verb]:
		return "DELETE " + item
	case f.reads() || verb == "track" || verb == "monitor":
		return "GET " + r.path()
	}
	return "POST " + r.path()
}

var (
	changeVerbs = set("edit", "update", "rate", "mark", "complete", "approve", "reject", "assign")
	removeVerbs = set("delete", "remove", "archive", "cancel")
)

// architecture is the G3 "Architecture".
func (p *project) architecture(title string) string {
	var m md
	p.start(&m, title)
	m.h2("1. Context and goals")
	m.para("%s: %s This architecture serves the %d functional requirements of the Product Requirements Document and the non-functional targets there (p95 < 300 ms, availability ≥ 99.5%%, WCAG 2.2 AA, OWASP ASVS level 1).",
		p.name, strings.TrimRight(p.summary, ".")+".", len(p.features))
	m.h2("2. Components")
	m.code("mermaid", p.diagram())
	m.table([]string{"Component", "Responsibility", "Technology"}, p.components())
	m.h2("3. Technology stack")
	m.table([]string{"Choice", "Reason", "Alternative rejected"}, p.stack())
	m.h2("4. Modules")
	var mods []string
	for _, r := range p.resources {
		why := "core entity"
		if f, i, ok := p.featureOf(r); ok {
			why = fmt.Sprintf("FR-%d, %s", i+1, cell(f.title()))
		}
		mods = append(mods, fmt.Sprintf("**%s** (%s): endpoints under `%s%s`, table `%s`, owner checks on every item.",
			r.labelPlural(), why, apiBase, r.path(), r.snakePlural()))
	}
	mods = append(mods, "**accounts**: sign-up, sign-in, sessions and the `users` table; every other module reads the signed-in user from the request context.")
	m.bullets(mods...)
	m.h2("5. Data flow of the functional requirements")
	m.table([]string{"Requirement", "Flow"}, p.flows())
	m.h2("6. Cross-cutting concerns")
	m.bullets(
		"**Authentication:** email and password (argon2id hashes); short-lived JWT access tokens (15 min) sent as `Authorization: Bearer`, with rotating refresh tokens.",
		"**Authorisation:** every item has an owner; handlers check ownership or a role before reading or changing it, and refuse with 404 so ids cannot be probed.",
		"**Validation and errors:** requests are validated against the API specification's schemas; errors use one shape, `{code, message, details}`, with the failing fields in details.",
		"**Configuration:** environment variables only, validated at start-up, secrets from the platform's secret store.",
		"**Observability:** JSON logs with a request id, OpenTelemetry traces from the browser call to the database, Prometheus metrics for rate, errors and duration per endpoint.",
		"**Performance and scaling:** the API is stateless and scales horizontally; list endpoints are paginated with cursors and backed by the indexes of the database schema.")
	if p.ai() {
		m.bullets("**Model calls:** the API calls the model service with a 5 s timeout and a circuit breaker; on failure it answers with the documented fallback, never an error page.",
			"**Evaluation hooks:** every prediction is stored with its model version and inputs, so the model evaluator can replay and score it.")
	}
	m.h2("7. Deployment topology")
	model := ""
	if p.ai() {
		model = fmt.Sprintf("the model service (port %d), ", modelPort)
	}
	m.para("Containers for the web app (static files behind a CDN), the API (port %d), %sand PostgreSQL 16 as a managed service; staging mirrors production at a smaller size. The deployment guide at G8 gives the commands.",
		apiPort, model)
	m.h2("8. Decisions")
	m.bullets(p.decisions()...)
	return m.String()
}

func (p *project) diagram() string {
	lines := []string{"flowchart LR",
		"  users([" + mermaidText(strings.Join(upperAll(p.personas()), ", ")) + "]) --> web[Web app]",
		"  web -->|HTTPS JSON| api[API service]",
		"  api --> db[(PostgreSQL)]"}
	if p.ai() {
		lines = append(lines, "  api -->|inference| model[Model service]", "  pipeline[Data pipeline] --> db",
			"  pipeline --> features[(Feature store)]", "  model --> registry[(Model registry)]")
	}
	if p.typ == catalog.Enhancement {
		lines = append(lines, "  api -->|adapter| legacy[Existing system]")
	}
	return strings.Join(lines, "\n")
}

// mermaidText keeps a label from breaking the diagram's syntax.
func mermaidText(s string) string {
	return strings.Map(func(r rune) rune {
		if strings.ContainsRune(`[](){}<>"|;#`, r) {
			return ' '
		}
		return r
	}, oneLine(s, 60))
}

func upperAll(ws []string) []string {
	out := make([]string, len(ws))
	for i, w := range ws {
		out[i] = upperFirst(plural(w))
	}
	return out
}

func (p *project) components() [][]string {
	rows := [][]string{
		{"Web app", "The screens of the design system; calls the API only", "TypeScript, React 18, Vite"},
		{"API service", fmt.Sprintf("The endpoints of the API specification under %s: validation, rules, authorisation", apiBase), "Go 1.22, net/http"},
		{"Database", "The tables of the database schema; the only state of the system", "PostgreSQL 16"},
	}
	if p.ai() {
		rows = append(rows, []string{"Model service", "Inference behind POST /predictions, with model versioning", "Python 3.12, FastAPI, scikit-learn"},
			[]string{"Data pipeline", "Ingestion, validation and features for training and inference", "Python 3.12, scheduled jobs"})
	}
	if p.typ == catalog.Enhancement {
		rows = append(rows, []string{"Adapter", "The only code that talks to the existing system, behind a feature flag", "Go, the existing system's API"})
	}
	return rows
}

func (p *project) stack() [][]string {
	rows := [][]string{
		{"Go for the API", "Fast, small static binaries, strong standard library for HTTP and testing", "Node.js (slower cold paths, larger images)"},
		{"PostgreSQL", "Relational data with constraints and transactions; mature managed offerings", "A document store (the data is relational)"},
		{"React with TypeScript", "The most widely known UI stack; types shared with the API's schemas", "Server-rendered templates (less interactive)"},
	}
	if p.ai() {
		rows = append(rows, []string{"Python model service", "The ML ecosystem lives in Python; isolates model dependencies from the API", "Calling models from the Go API directly"})
	}
	return rows
}

func (p *project) flows() [][]string {
	var rows [][]string
	for i, f := range p.features {
		flow := "Web app → API service → PostgreSQL"
		if r, ok := p.resourceOf(i); ok && f.phrase {
			flow = fmt.Sprintf("Web app → `%s` → validation and owner check → `%s` table → response", endpointFor(f, r), r.snakePlural())
		}
		rows = append(rows, []string{fmt.Sprintf("FR-%d %s", i+1, cell(f.title())), flow})
	}
	if p.ai() {
		rows = append(rows, []string{"Predictions", "Web app → `POST /predictions` → model service (5 s timeout) → stored with the model version → response, or the fallback"})
	}
	return rows
}

func (p *project) decisions() []string {
	out := []string{
		"**ADR-1: one API service, modular by resource.** A single deployable keeps the first release simple; the modules can be split later along their tables.",
		"**ADR-2: the API specification is the contract.** The frontend client and the backend handlers follow it; it is validated at this gate.",
		"**ADR-3: cursor pagination on every list.** Stable under concurrent inserts, and cheap with the (owner, created) indexes.",
	}
	if p.ai() {
		out = append(out, "**ADR-4: models behind their own service.** Models are released, scaled and rolled back independently of the API.")
	}
	if p.typ == catalog.Enhancement {
		out = append(out, "**ADR-4: adapter and feature flag.** The existing system is reached only through one adapter, and the change is released behind a flag that can be turned off.")
	}
	return out
}

// databaseSchema is the G3 "Database Schema".
func (p *project) databaseSchema(title string) string {
	var m md
	p.start(&m, title)
	m.h2("Entities")
	var ents []string
	ents = append(ents, "**users**: the people who sign in; every other row has an owner among them.")
	for _, r := range p.resources {
		why := ""
		if f, i, ok := p.featureOf(r); ok {
			why = fmt.Sprintf(" (FR-%d, %s)", i+1, cell(f.title()))
		}
		ents = append(ents, fmt.Sprintf("**%s**: %s kept by the product%s; each belongs to one user.", r.snakePlural(), r.labelPlural(), why))
	}
	if p.ai() {
		ents = append(ents, "**model_versions**: the models released to production.", "**predictions**: every model answer with its inputs and model version, for evaluation and audit.")
	}
	m.bullets(ents...)
	m.h2("DDL (PostgreSQL 16)")
	m.code("sql", p.ddl())
	m.h2("Indexes")
	var rows [][]string
	for _, r := range p.resources {
		rows = append(rows, []string{"`" + r.snakePlural() + "_owner_created_idx`", fmt.Sprintf("Listing a user's %s, newest first (`GET %s`)", r.labelPlural(), r.path())})
	}
	m.table([]string{"Index", "Serves"}, rows)
	m.h2("Migrations and retention")
	m.bullets("Migrations are numbered SQL files applied in order at deploy time, each in a transaction; a migration never rewrites a large table in place.",
		"Deleting a user deletes their rows (ON DELETE CASCADE), which is how data deletion requests are honoured.",
		"`updated_at` is set by the application on every change; timestamps are UTC (`timestamptz`).")
	return m.String()
}

func (p *project) ddl() string {
	var b strings.Builder
	b.WriteString("-- " + comment(p.name) + ": schema generated by FuzzyLlama's offline provider.\n\n")
	b.WriteString(`CREATE TABLE users (
    id            uuid PRIMARY KEY,
    email         text NOT NULL UNIQUE CHECK (position('@' in email) > 1),
    display_name  text NOT NULL CHECK (char_length(display_name) BETWEEN 1 AND 100),
    password_hash text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
`)
	for _, r := range p.resources {
		t := r.snakePlural()
		fmt.Fprintf(&b, `
CREATE TABLE %[1]s (
    id          uuid PRIMARY KEY,
    owner_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name        text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
    description text NOT NULL DEFAULT '' CHECK (char_length(description) <= 10000),
    status      text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'archived')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX %[1]s_owner_created_idx ON %[1]s (owner_id, created_at DESC, id);
`, t)
	}
	if p.ai() {
		b.WriteString(`
CREATE TABLE model_versions (
    id          uuid PRIMARY KEY,
    name        text NOT NULL,
    version     text NOT NULL,
    artifact    text NOT NULL,
    released_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (name, version)
);

CREATE TABLE predictions (
    id               uuid PRIMARY KEY,
    owner_id         uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    model_version_id uuid NOT NULL REFERENCES model_versions (id),
    input            jsonb NOT NULL,
    output           jsonb,
    fallback         boolean NOT NULL DEFAULT false,
    latency_ms       integer NOT NULL CHECK (latency_ms >= 0),
    created_at       timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX predictions_model_created_idx ON predictions (model_version_id, created_at DESC);
`)
	}
	return b.String()
}
