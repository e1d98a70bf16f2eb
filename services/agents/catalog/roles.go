package catalog

import "github.com/fuzzyllama/fuzzyllama/services/agents/provider"

// Role words, as the words of commonv1.AgentRole.
const (
	Orchestrator      = "orchestrator"
	ProductManager    = "product_manager"
	Architect         = "architect"
	UXDesigner        = "ux_designer"
	FrontendDeveloper = "frontend_developer"
	BackendDeveloper  = "backend_developer"
	DataEngineer      = "data_engineer"
	MLEngineer        = "ml_engineer"
	PromptEngineer    = "prompt_engineer"
	QAEngineer        = "qa_engineer"
	ModelEvaluator    = "model_evaluator"
	SecurityEngineer  = "security_engineer"
	DevOpsEngineer    = "devops_engineer"
	AIOpsEngineer     = "aiops_engineer"
)

// DefaultModel is the model a role runs with unless the run names another.
const DefaultModel = "claude-sonnet-4-5"

// Token budgets: code and the architecture's three documents need room; the orchestrator's
// plan is short by design.
const (
	defaultMaxTokens = 8000
	largeMaxTokens   = 16000
	planMaxTokens    = 4000
)

var (
	allTypes      = []string{Traditional, AIML, Hybrid, Enhancement}
	aiTypes       = []string{AIML, Hybrid}
	softwareTypes = []string{Traditional, Enhancement}
)

func doc(docType, title string) provider.DocSpec {
	return provider.DocSpec{Type: docType, Title: title}
}

// sourceFiles is the Outputs of a developer: its code, as source files, at G5 Development.
func sourceFiles() map[int][]provider.DocSpec {
	return map[int][]provider.DocSpec{5: {{Type: "code", Files: true}}}
}

// one is the Outputs of a role that works at one gate and produces one document there.
func one(gate int, docType, title string) map[int][]provider.DocSpec {
	return map[int][]provider.DocSpec{gate: {doc(docType, title)}}
}

// everyGate is the Outputs of a role that produces the same document at every gate.
func everyGate(spec provider.DocSpec) map[int][]provider.DocSpec {
	out := make(map[int][]provider.DocSpec, GateCount)
	for g := 1; g <= GateCount; g++ {
		out[g] = []provider.DocSpec{spec}
	}
	return out
}

// define fills a role's defaults and composes its system prompt from the role-specific body.
func define(r Role, body string) Role {
	if r.DefaultModel == "" {
		r.DefaultModel = DefaultModel
	}
	if r.MaxTokens == 0 {
		r.MaxTokens = defaultMaxTokens
	}
	if r.Priority == 0 {
		r.Priority = PriorityLow
	}
	r.Gates = nil
	for g := 1; g <= GateCount; g++ {
		if len(r.Outputs[g]) > 0 {
			r.Gates = append(r.Gates, g)
		}
	}
	r.SystemPrompt = systemPrompt(r, body)
	return r
}

// roles is the catalog. A role's Gates are the gates it has Outputs for (define derives them),
// so the two cannot disagree.
var roles = []Role{
	define(Role{ID: Orchestrator, Name: "Orchestrator",
		Summary:      "Keeps the project plan: where the project stands, what each gate still needs and who works next.",
		ProjectTypes: allTypes, Outputs: everyGate(doc("other", "Project Plan")),
		MaxTokens: planMaxTokens, Priority: PriorityCritical}, orchestratorPrompt),
	define(Role{ID: ProductManager, Name: "Product Manager",
		Summary:      "Turns the owner's description into a scoped intake, then a product requirements document and user stories.",
		ProjectTypes: allTypes, Priority: PriorityHigh,
		Outputs: map[int][]provider.DocSpec{
			1: {doc("intake", "Project Intake")},
			2: {doc("requirements", "Product Requirements Document"), doc("user_story", "User Stories")},
		}}, productManagerPrompt),
	define(Role{ID: Architect, Name: "Architect",
		Summary:      "Designs the system: architecture, an OpenAPI 3 API specification and the database schema.",
		ProjectTypes: allTypes, Priority: PriorityHigh, MaxTokens: largeMaxTokens,
		Outputs: map[int][]provider.DocSpec{3: {
			doc("architecture", "Architecture"), doc("api_spec", "API Specification"), doc("database_schema", "Database Schema"),
		}}}, architectPrompt),
	define(Role{ID: UXDesigner, Name: "UX Designer",
		Summary:      "Designs the experience: design system, screens and flows for the user stories.",
		ProjectTypes: allTypes, Outputs: one(4, "design", "Design System")}, uxDesignerPrompt),
	define(Role{ID: FrontendDeveloper, Name: "Frontend Developer",
		Summary:      "Implements the user interface against the API specification and the design system.",
		ProjectTypes: allTypes, Priority: PriorityMedium, MaxTokens: largeMaxTokens,
		SourceDir: "frontend", Outputs: sourceFiles()}, frontendPrompt),
	define(Role{ID: BackendDeveloper, Name: "Backend Developer",
		Summary:      "Implements the API, the domain logic and the persistence behind the specification and schema.",
		ProjectTypes: allTypes, Priority: PriorityMedium, MaxTokens: largeMaxTokens,
		SourceDir: "backend", Outputs: sourceFiles()}, backendPrompt),
	define(Role{ID: DataEngineer, Name: "Data Engineer",
		Summary:      "Builds the data pipelines that feed the models: ingestion, validation, transformation, storage.",
		ProjectTypes: aiTypes, SourceDir: "pipeline", Outputs: sourceFiles()}, dataEngineerPrompt),
	define(Role{ID: MLEngineer, Name: "ML Engineer",
		Summary:      "Builds, trains and serves the models the product needs.",
		ProjectTypes: aiTypes, SourceDir: "model", Outputs: sourceFiles()}, mlEngineerPrompt),
	define(Role{ID: PromptEngineer, Name: "Prompt Engineer",
		Summary:      "Writes the versioned prompts, guardrails and prompt evaluations of the product's LLM features.",
		ProjectTypes: aiTypes, SourceDir: "prompts", Outputs: sourceFiles()}, promptEngineerPrompt),
	define(Role{ID: QAEngineer, Name: "QA Engineer",
		Summary:      "Plans and specifies the tests that show the product meets its requirements.",
		ProjectTypes: allTypes, Priority: PriorityHigh, Outputs: one(6, "test_plan", "Test Plan")}, qaPrompt),
	define(Role{ID: ModelEvaluator, Name: "Model Evaluator",
		Summary:      "Defines how the models are evaluated and what quality they must reach before release.",
		ProjectTypes: aiTypes, Outputs: one(6, "test_plan", "Model Evaluation Plan")}, modelEvaluatorPrompt),
	define(Role{ID: SecurityEngineer, Name: "Security Engineer",
		Summary:      "Audits the design and code for security: threat model, OWASP review, findings and fixes.",
		ProjectTypes: allTypes, Priority: PriorityHigh, Outputs: one(7, "security_audit", "Security Audit")}, securityPrompt),
	define(Role{ID: DevOpsEngineer, Name: "DevOps Engineer",
		Summary:      "Ships the software: staging deployment guide, then the production runbook.",
		ProjectTypes: softwareTypes, Outputs: operations}, devopsPrompt),
	define(Role{ID: AIOpsEngineer, Name: "AIOps Engineer",
		Summary:      "Ships the software and its models: staging deployment guide, then the production runbook with model operations.",
		ProjectTypes: aiTypes, Outputs: operations}, aiopsPrompt),
}

// operations are the documents of whoever deploys the project (DevOps or AIOps).
var operations = map[int][]provider.DocSpec{
	8: {doc("deployment_guide", "Deployment Guide")},
	9: {doc("runbook", "Production Runbook")},
}
