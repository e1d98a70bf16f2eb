package offline

import (
	"fmt"
	"strings"

	"github.com/fuzzyllama/fuzzyllama/services/agents/catalog"
)

// models reports whether the operations documents cover model services.
func (p *project) models() bool { return p.ai() || p.brief.Role == catalog.AIOpsEngineer }

// envVars are the configuration of the services, shared by the deployment guide and runbook.
func (p *project) envVars() [][]string {
	rows := [][]string{
		{"`PORT`", "API listen port", fmt.Sprint(apiPort), "no"},
		{"`DATABASE_URL`", "PostgreSQL connection string", "none (required)", "yes"},
		{"`JWT_SIGNING_KEY`", "Key that signs access tokens", "none (required)", "yes"},
		{"`LOG_LEVEL`", "debug, info, warn or error", "info", "no"},
		{"`OTEL_EXPORTER_OTLP_ENDPOINT`", "Where traces are sent", "unset (tracing off)", "no"},
	}
	if p.models() {
		rows = append(rows, []string{"`MODEL_SERVICE_URL`", "Model service base URL, for the API", fmt.Sprintf("http://model:%d", modelPort), "no"},
			[]string{"`MODEL_PATH`", "Model artifact, for the model service", "artifacts/model.joblib", "no"},
			[]string{"`MODEL_VERSION`", "Version reported with every prediction", "none (required)", "no"},
			[]string{"`OWNER_SALT`", "Salt pseudonymising owners in the data pipeline", "none (required)", "yes"})
	}
	return rows
}

// deploymentGuide is the G8 "Deployment Guide".
func (p *project) deploymentGuide(title string) string {
	var m md
	p.start(&m, title)
	slug := p.slug()
	m.h2("1. Environments")
	m.table([]string{"Environment", "Purpose", "Data"}, [][]string{
		{"Local", "Development with `docker compose up`", "Throw-away"},
		{"Staging", "Release candidates, smoke and end-to-end tests (G8)", "Synthetic; never production data"},
		{"Production", "Users (G9)", "Real; backed up"},
	})
	m.h2("2. Prerequisites")
	m.bullets("A container registry and a container platform (any that runs OCI images with secrets and health checks).",
		"A managed PostgreSQL 16 per environment, reachable only from the platform's private network.",
		"CI with access to the registry; the deployer's credentials stored as CI secrets."+when(p.models(), " A model registry (any object store with versioned paths)."))
	m.h2("3. Configuration")
	m.table([]string{"Variable", "Purpose", "Default", "Secret"}, p.envVars())
	m.para("Secrets come from the platform's secret store, never from files in the image or the repository. The services refuse to start when a required variable is missing, and name it.")
	m.h2("4. Build")
	build := fmt.Sprintf("docker build -t registry.example.com/%[1]s/api:$GIT_SHA backend\ndocker build -t registry.example.com/%[1]s/web:$GIT_SHA frontend", slug)
	if p.models() {
		build += fmt.Sprintf("\ndocker build -t registry.example.com/%s/model:$GIT_SHA model", slug)
	}
	m.code("sh", build+fmt.Sprintf("\ndocker push --all-tags registry.example.com/%s/api", slug))
	m.h2("5. CI/CD pipeline")
	m.numbered("On every change: build, lint, unit tests with coverage, dependency scan (the G5-G7 proofs).",
		"On merge to main: build and push images tagged with the commit, deploy to staging, run migrations, run smoke tests.",
		"Promotion to production is a manual approval of the same images (G9).")
	m.h2("6. Deploy to staging")
	steps := []string{
		"Apply the migrations (the Database Schema's DDL as numbered files in `backend/migrations`): `migrate -path backend/migrations -database \"$DATABASE_URL\" up`.",
		"Deploy the API image with the variables of section 3; wait for `/api/v1/health` to answer 200 on every instance.",
		"Deploy the web image (static files) behind the CDN with `/api/v1` routed to the API.",
	}
	if p.models() {
		steps = append(steps, "Upload the model artifact to the registry at `models/"+slug+"/$MODEL_VERSION/`, deploy the model service with `MODEL_VERSION` set, and check its `/health` reports the model as loaded.")
	}
	steps = append(steps, "Run the smoke tests of section 7.")
	m.numbered(steps...)
	m.h2("7. Smoke tests")
	var smoke []string
	smoke = append(smoke, "curl -fsS https://staging.example.com/api/v1/health")
	for _, r := range p.resources {
		smoke = append(smoke, fmt.Sprintf("curl -fsS -H \"Authorization: Bearer $SMOKE_TOKEN\" https://staging.example.com%s%s?limit=1", apiBase, r.path()))
	}
	if p.models() {
		smoke = append(smoke, "curl -fsS -H \"Authorization: Bearer $SMOKE_TOKEN\" -H 'Content-Type: application/json' -d '{\"input\":\"smoke test\"}' https://staging.example.com/api/v1/predictions")
	}
	m.code("sh", strings.Join(smoke, "\n"))
	m.para("Each command must exit 0; the list calls must return a JSON page. The results are the smoke test proof of G8.")
	m.h2("8. Rollback")
	m.bullets("Redeploy the previous image tags; migrations are backwards compatible for one release, so the previous API runs on the new schema.",
		"A migration that cannot be reversed is released on its own, after a backup, with its down path written in the change."+when(p.models(), " For a model, set `MODEL_VERSION` back to the previous version and restart the model service."))
	if p.typ == catalog.Enhancement {
		m.bullets("For this enhancement, the feature flag is turned off first: the existing system keeps working without a redeploy.")
	}
	return m.String()
}

// runbook is the G9 "Production Runbook".
func (p *project) runbook(title string) string {
	var m md
	p.start(&m, title)
	m.h2("1. Service overview")
	m.para("%s runs as the web app, the API service%s and PostgreSQL, as described in the Architecture and deployed as in the Deployment Guide.", p.name, when(p.models(), ", the model service"))
	m.h2("2. Service level objectives")
	m.table([]string{"SLO", "Target", "Error budget (30 days)"}, [][]string{
		{"Availability of `/api/v1` (non-5xx share)", "99.5%", "3 h 36 min"},
		{"Latency: p95 of API requests", "< 300 ms", "5% of minutes may breach"},
	})
	m.h2("3. Alerts")
	rows := [][]string{
		{"API 5xx rate > 2% for 5 min", "Page", "Playbook 5.1"},
		{"API p95 latency > 600 ms for 10 min", "Page", "Playbook 5.2"},
		{"Database connections > 80% of the limit", "Ticket", "Playbook 5.3"},
		{"Disk of the database > 80%", "Ticket", "Playbook 5.3"},
		{"Error budget burn > 10× for 1 h", "Page", "Freeze releases, then the matching playbook"},
	}
	if p.models() {
		rows = append(rows, []string{"Prediction fallback rate > 2% for 15 min", "Page", "Playbook 5.4"},
			[]string{"Input drift score above threshold for 1 day", "Ticket", "Playbook 5.5"})
	}
	m.table([]string{"Alert", "Severity", "Action"}, rows)
	m.h2("4. On call")
	m.bullets("One primary and one secondary on call per week; pages are acknowledged within 15 minutes.",
		"Escalation: primary → secondary (after 15 min) → engineering lead (after 30 min). The owner is informed of any incident users notice.",
		"Every page gets an incident note; every incident that breaches an SLO gets a blameless review within 5 working days.")
	m.h2("5. Playbooks")
	m.h3("5.1 API errors")
	m.numbered("Check the error dashboard: which endpoints, since when, which release.",
		"If it started with a release, roll back (section 6) first and investigate after.",
		"Otherwise check the dependencies (database, "+when(p.models(), "model service, ")+"network) and the logs by request id.")
	m.h3("5.2 Slow responses")
	m.numbered("Find the slow endpoints and their database queries in the traces.",
		"Check for a missing index (the database schema's indexes serve every list) or a lock; scale the API out if CPU-bound.")
	m.h3("5.3 Database capacity")
	m.numbered("Check connection pools and long-running queries; kill runaway queries.",
		"Grow storage before 90%; plan a larger instance if the trend continues.")
	if p.models() {
		m.h3("5.4 Model fallbacks")
		m.numbered("Check the model service's health and logs; restart an unhealthy instance.",
			"If a new model version causes it, set `MODEL_VERSION` back to the previous one.",
			"Users get the fallback meanwhile; say so on the status page if it lasts more than 30 minutes.")
		m.h3("5.5 Data drift")
		m.numbered("Compare this week's inputs with the training data in the drift report.",
			"If quality on the regression set dropped below the evaluation plan's thresholds, start retraining on recent curated data, and release it through shadow and canary again.")
	}
	m.h2("6. Deploy and roll back")
	m.bullets("Releases promote the staging images after approval, during working hours, never on Fridays after 14:00.",
		"Roll back by redeploying the previous image tags; the Deployment Guide's rollback section covers migrations"+when(p.models(), " and models")+".")
	m.h2("7. Backups and restore")
	m.bullets("PostgreSQL: point-in-time recovery with 14 days of retention; daily snapshots kept 35 days.",
		"A restore drill every quarter into a scratch instance, timed; the target is under 1 hour.",
		"Backups are encrypted and stored in another region.")
	m.h2("8. Routine maintenance")
	m.bullets("Dependency and base image updates weekly, through the normal pipeline.",
		"Review of alerts and SLOs monthly; remove alerts nobody acts on.",
		"Rotate `JWT_SIGNING_KEY` and database credentials every 90 days.")
	return m.String()
}
