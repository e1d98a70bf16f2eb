// Package workflow is the definition of FuzzyLlama's gated workflow, as data: for each project
// type, the nine gates in order with their name, phase, the agent roles that work in them, and
// the deliverables (document types) and proofs each requires before it can be approved. The
// projects service enforces it, serves it read-only (GetWorkflow), and the agents service and
// clients read it from there, so there is one definition.
//
// A gate requiring a coverage proof also says how much the tests must cover for it to pass
// (CoverageThreshold, 80 % at G6 in every workflow, as in the system FuzzyLlama replaces): the
// agents service measures coverage against it and records the proof's result; a person attesting
// coverage attests to it. The projects service records the result it is given.
package workflow

// Project types.
const (
	Traditional = "traditional"
	AIML        = "ai_ml"
	Hybrid      = "hybrid"
	Enhancement = "enhancement"
)

// Agent roles.
const (
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

// Document types a gate can require.
const (
	DocIntake          = "intake"
	DocRequirements    = "requirements"
	DocUserStory       = "user_story"
	DocArchitecture    = "architecture"
	DocAPISpec         = "api_spec"
	DocDatabaseSchema  = "database_schema"
	DocDesign          = "design"
	DocCode            = "code"
	DocTestPlan        = "test_plan"
	DocSecurityAudit   = "security_audit"
	DocDeploymentGuide = "deployment_guide"
	DocRunbook         = "runbook"
	DocOther           = "other"
)

// Proof types a gate can require.
const (
	ProofSpecValidation     = "spec_validation"
	ProofBuild              = "build"
	ProofLint               = "lint"
	ProofUnitTests          = "unit_tests"
	ProofIntegrationTests   = "integration_tests"
	ProofE2ETests           = "e2e_tests"
	ProofCoverage           = "coverage"
	ProofSecurityScan       = "security_scan"
	ProofDeployment         = "deployment"
	ProofSmokeTest          = "smoke_test"
	ProofManualVerification = "manual_verification"
	// ProofPreviewStartup: the project's preview started in the sandbox and answered its health
	// probe. Only the agents service produces it; no gate requires it.
	ProofPreviewStartup = "preview_startup"
)

// Gate is one step of the workflow.
type Gate struct {
	Number       int
	Name         string
	Phase        string
	Roles        []string
	Deliverables []string
	Proofs       []string
	// CoverageThreshold is, for a gate requiring a coverage proof, the share of statements in
	// percent the tests must cover for it to pass; 0 for no threshold.
	CoverageThreshold int
}

// CoverageThreshold is the coverage G6's tests must reach, in percent.
const CoverageThreshold = 80

// Count is the number of gates of every workflow.
const Count = 9

// For returns the gates of a project type, G1 first, and whether the type exists. The slice is
// shared: do not modify it.
func For(projectType string) ([]Gate, bool) {
	gates, ok := workflows[projectType]
	return gates, ok
}

// GateOf returns gate n (1-9) of a project type.
func GateOf(projectType string, n int) (Gate, bool) {
	gates, ok := workflows[projectType]
	if !ok || n < 1 || n > len(gates) {
		return Gate{}, false
	}
	return gates[n-1], true
}

// ProjectTypes lists the project types.
func ProjectTypes() []string { return []string{Traditional, AIML, Hybrid, Enhancement} }

// build assembles a workflow from the roles that differ by project type.
func build(developers, testers, operators []string) []Gate {
	return []Gate{
		{Number: 1, Name: "Scope", Phase: "intake", Roles: []string{ProductManager}, Deliverables: []string{DocIntake}},
		{Number: 2, Name: "PRD", Phase: "planning", Roles: []string{ProductManager}, Deliverables: []string{DocRequirements, DocUserStory}},
		{Number: 3, Name: "Architecture", Phase: "architecture", Roles: []string{Architect},
			Deliverables: []string{DocArchitecture, DocAPISpec, DocDatabaseSchema}, Proofs: []string{ProofSpecValidation}},
		{Number: 4, Name: "Design", Phase: "design", Roles: []string{UXDesigner}, Deliverables: []string{DocDesign}},
		{Number: 5, Name: "Development", Phase: "development", Roles: developers, Deliverables: []string{DocCode},
			Proofs: []string{ProofBuild, ProofLint}},
		{Number: 6, Name: "Testing", Phase: "testing", Roles: testers, Deliverables: []string{DocTestPlan},
			Proofs: []string{ProofUnitTests, ProofCoverage}, CoverageThreshold: CoverageThreshold},
		{Number: 7, Name: "Security", Phase: "security_review", Roles: []string{SecurityEngineer}, Deliverables: []string{DocSecurityAudit},
			Proofs: []string{ProofSecurityScan}},
		{Number: 8, Name: "Staging", Phase: "pre_deployment", Roles: operators, Deliverables: []string{DocDeploymentGuide},
			Proofs: []string{ProofDeployment, ProofSmokeTest}},
		{Number: 9, Name: "Production", Phase: "production", Roles: operators, Deliverables: []string{DocRunbook},
			Proofs: []string{ProofDeployment, ProofSmokeTest, ProofManualVerification}},
	}
}

var (
	softwareWorkflow = build(
		[]string{FrontendDeveloper, BackendDeveloper},
		[]string{QAEngineer},
		[]string{DevOpsEngineer})
	// AI/ML and hybrid projects add data, ML and prompt engineers at G5, a model evaluator at
	// G6, and AIOps instead of DevOps at G8 and G9.
	aiWorkflow = build(
		[]string{FrontendDeveloper, BackendDeveloper, DataEngineer, MLEngineer, PromptEngineer},
		[]string{QAEngineer, ModelEvaluator},
		[]string{AIOpsEngineer})

	workflows = map[string][]Gate{
		Traditional: softwareWorkflow,
		Enhancement: softwareWorkflow,
		AIML:        aiWorkflow,
		Hybrid:      aiWorkflow,
	}
)
