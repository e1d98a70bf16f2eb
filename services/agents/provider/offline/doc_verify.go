package offline

import (
	"fmt"

	"github.com/fuzzyllama/fuzzyllama/services/agents/catalog"
)

// testPlan is a G6 test plan: the QA engineer's, or the model evaluator's evaluation plan.
func (p *project) testPlan(title string) string {
	if p.brief.Role == catalog.ModelEvaluator {
		return p.evaluationPlan(title)
	}
	var m md
	p.start(&m, title)
	m.h2("1. Scope")
	m.para("Every functional requirement of the Product Requirements Document (FR-1 to FR-%d) through its user story, every operation of the API specification, and the non-functional targets. Out of scope: load beyond the PRD's expected volume and third-party services, which are stubbed.", len(p.features))
	m.h2("2. Strategy")
	m.table([]string{"Level", "What", "Tools", "Target"}, [][]string{
		{"Unit", "Domain rules, validation, store", "`go test`, Vitest", "≥ 80% line coverage of the backend, ≥ 70% of the frontend"},
		{"Contract", "Every operation against the API specification: status codes, schemas, error shape", "Schemathesis against staging", "All operations, including error responses"},
		{"Integration", "API with PostgreSQL", "`go test` with a disposable PostgreSQL", "Every store method"},
		{"End to end", "The user stories in a browser", "Playwright", "Every Must story"},
		{"Accessibility", "Every screen", "axe in Playwright, keyboard-only walkthrough", "No violations at WCAG 2.2 AA"},
		{"Performance", "List and create endpoints at expected load", "k6", "p95 < 300 ms"},
	})
	m.h2("3. Test cases")
	var rows [][]string
	n := 0
	add := func(covers, steps, expected, level, prio string) {
		n++
		rows = append(rows, []string{fmt.Sprintf("TC-%d", n), covers, steps, expected, level, prio})
	}
	for i, f := range p.features {
		who := f.persona()
		add(fmt.Sprintf("US-%d, FR-%d", i+1, i+1), fmt.Sprintf("Sign in as %s %s; %s with valid input", article(who), cell(who), cell(lowerFirst(f.title()))),
			"The result is saved and shown within 2 s", "End to end", priority(i))
		add(fmt.Sprintf("US-%d, FR-%d", i+1, i+1), "Repeat with an empty required field", "The field is named in the error; nothing is saved", "End to end", priority(i))
	}
	for _, r := range p.resources {
		add("API "+r.path(), "Create, get, update, list and delete as the owner", "201, 200, 200, 200, 204 with schema-valid bodies", "Contract", "Must")
		add("API "+r.path(), "Get another user's item by id", "404, not 403, so ids cannot be probed", "Contract", "Must")
		add("API "+r.path(), "List with limit=0 and limit=101", "400 naming limit", "Contract", "Should")
	}
	add("All endpoints", "Call without a token, with an expired token", "401 with the error shape", "Contract", "Must")
	m.table([]string{"Id", "Covers", "Steps", "Expected", "Level", "Priority"}, rows)
	m.h2("4. Test data and environments")
	m.bullets("Each test creates its own users and data through the API; no shared fixtures, so tests run in any order and in parallel.",
		"CI runs unit, contract (against an ephemeral instance) and integration tests on every change; end-to-end and performance run against staging.")
	m.h2("5. Entry and exit criteria")
	m.bullets("**Entry:** G5 approved; the build and lint proofs pass.",
		"**Exit (G6):** all Must cases pass; coverage targets met (unit test and coverage proofs); no open defect of severity critical or high.",
		"**Defects:** triaged daily by severity; a failing Must case blocks the gate.")
	return m.String()
}

// evaluationPlan is the model evaluator's plan.
func (p *project) evaluationPlan(title string) string {
	var m md
	p.start(&m, title)
	m.h2("1. What is evaluated")
	m.para("The models and prompts behind `POST /predictions` and the AI-backed requirements of the PRD, before release (offline) and after (online).")
	m.h2("2. Metrics and release thresholds")
	m.table([]string{"Metric", "Why", "Threshold"}, [][]string{
		{"Macro F1 on the held-out set", "Balanced quality across labels", "≥ 0.70, and not below the previous release"},
		{"Calibration (expected calibration error)", "Confidence shown to users must mean something", "≤ 0.10"},
		{"Fallback rate", "How often users get the fallback answer", "≤ 2% of requests"},
		{"p95 inference latency", "The architecture's 5 s budget, with margin", "≤ 1.5 s"},
		{"Prompt-injection resistance", "Injected instructions must not be followed", "0 failures on the injection suite"},
		{"Cost per 1,000 predictions", "Keeps the product affordable", "Within the budget agreed at G1"},
	})
	m.h2("3. Datasets")
	m.bullets("Curated data from the data pipeline, split 80/20 stratified by label with a fixed seed; no owner appears in both splits, to prevent leakage.",
		"A frozen regression set of at least 200 labelled examples, reviewed by a person, versioned with the model.",
		"An injection and abuse suite: instructions hidden in input, delimiter breaking, oversized input, empty input.")
	m.h2("4. Baselines and comparison")
	m.bullets("Majority-class and keyword baselines; the model must beat both with a 95% bootstrap confidence interval that excludes them.",
		"Every candidate is compared with the production model on the same frozen set before release.")
	m.h2("5. Robustness and fairness")
	var slices []string
	for _, who := range p.personas() {
		slices = append(slices, plural(who))
	}
	m.bullets(fmt.Sprintf("Quality is reported per slice that matters: %s, short versus long input, and language.", list(slices)),
		"No slice may be more than 10 points of F1 below the overall score.",
		"Noisy input (typos, casing, extra whitespace) must not change the answer on more than 5% of the regression set.")
	m.h2("6. Online evaluation")
	m.bullets("Shadow the candidate behind production for a week, comparing answers; then a canary at 5% of traffic.",
		"Monitored after release: drift of input statistics, answer distribution, fallback rate, user corrections (see the production runbook).")
	m.h2("7. Reporting and decision")
	m.para("A report per candidate with every metric, slice and failure example goes to the reviewer at G6; the owner makes the go/no-go decision.")
	return m.String()
}

// securityAudit is the G7 "Security Audit".
func (p *project) securityAudit(title string) string {
	var m md
	p.start(&m, title)
	m.para("**Status of this audit:** a design-level review generated without running tools. Every item below is *to verify*: none is a confirmed finding, and none has been ruled out. The security scan proof of G7 must come from a real scan.")
	m.h2("1. Scope and assets")
	var eps []string
	for _, r := range p.resources {
		eps = append(eps, "`"+apiBase+r.path()+"`")
	}
	m.bullets("**Components:** web app, API service, PostgreSQL"+when(p.ai(), ", model service and data pipeline")+".",
		"**Endpoints:** "+list(eps)+", and the account endpoints.",
		"**Assets:** user accounts and credentials, the users' "+list(p.resourceLabels())+", access tokens, secrets of the deployment.",
		"**Trust boundaries:** browser ↔ API (internet), API ↔ database (private network)"+when(p.ai(), ", API ↔ model service, model ↔ untrusted user input")+".")
	m.h2("2. Threat model (STRIDE)")
	m.table([]string{"Threat", "Where", "Mitigation in the design", "Verify"}, [][]string{
		{"Spoofing", "Sign-in, tokens", "argon2id hashes, short-lived JWTs, rotating refresh tokens", "Token expiry and revocation tests"},
		{"Tampering", "Request bodies", "Schema validation, unknown fields refused", "Contract tests with malformed bodies"},
		{"Repudiation", "Changes to items", "Audit log of who changed what, when", "Log entries exist for every write"},
		{"Information disclosure", "Item endpoints", "Owner checks; 404 for others' items", "TC cases for cross-user access"},
		{"Denial of service", "List and create", "Rate limits, body size limit (1 MiB), pagination", "Load test at 10× expected traffic"},
		{"Elevation of privilege", "Roles", "Roles checked server-side on every request", "Tests with each role"},
	})
	m.h2("3. OWASP Top 10 (2021)")
	m.table([]string{"Category", "Check for this project", "Status"}, [][]string{
		{"A01 Broken access control", "Every item endpoint checks the owner; ids are UUIDs", "To verify"},
		{"A02 Cryptographic failures", "TLS 1.2+ everywhere; password hashes argon2id; secrets encrypted at rest", "To verify"},
		{"A03 Injection", "Parameterised SQL only; output encoding in the web app", "To verify"},
		{"A04 Insecure design", "Threat model above reviewed at each change", "To verify"},
		{"A05 Security misconfiguration", "Security headers (CSP, HSTS), no debug endpoints, least-privilege database user", "To verify"},
		{"A06 Vulnerable components", "Dependency scanning (govulncheck, npm audit" + when(p.ai(), ", pip-audit") + ") in CI", "To verify"},
		{"A07 Identification and authentication failures", "Rate-limited sign-in, lockout, no user enumeration", "To verify"},
		{"A08 Software and data integrity failures", "Signed container images, pinned CI actions, reviewed migrations", "To verify"},
		{"A09 Security logging and monitoring failures", "Sign-in failures, access denials and admin actions logged and alerted", "To verify"},
		{"A10 Server-side request forgery", "The API fetches no user-supplied URLs", "To verify"},
	})
	if p.ai() {
		m.h2("4. OWASP Top 10 for LLM applications")
		m.table([]string{"Risk", "Check", "Status"}, [][]string{
			{"LLM01 Prompt injection", "User input only inside delimiters; injection suite of the evaluation plan passes", "To verify"},
			{"LLM02 Insecure output handling", "Model output escaped before display, never executed or used in queries", "To verify"},
			{"LLM03 Training data poisoning", "Training data only from the validated pipeline, with provenance", "To verify"},
			{"LLM06 Sensitive information disclosure", "No personal data in prompts beyond the request's own; owners pseudonymised in training data", "To verify"},
			{"LLM10 Model theft", "Model artifacts in a private registry; the model service is not public", "To verify"},
		})
	}
	m.h2("Findings")
	m.table([]string{"Id", "Severity", "Location", "Description", "Remediation", "Status"}, [][]string{
		{"SA-1", "High", "Backend `DevAuth`", "The G5 skeleton takes the bearer token as the user id", "Verify JWT signatures and expiry before staging", "Open"},
		{"SA-2", "Medium", "API service", "No rate limiting in the skeleton", "Add per-user and per-IP limits at the edge", "Open"},
		{"SA-3", "Low", "Web app", "Access token in sessionStorage", "Prefer an HttpOnly cookie for the refresh token; keep access tokens in memory", "Open"},
	})
	m.h2("Verdict")
	m.para("Not ready for staging until SA-1 is fixed and a real dependency and static-analysis scan has run with no critical or high result.")
	return m.String()
}
