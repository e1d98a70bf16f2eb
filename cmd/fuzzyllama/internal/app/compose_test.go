package app

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"
	"github.com/prometheus/client_golang/prometheus"
	"gopkg.in/yaml.v3"

	"github.com/fuzzyllama/fuzzyllama/services/agents"
	"github.com/fuzzyllama/fuzzyllama/services/projects"
)

// repoRoot is where docker-compose.yml lives, from this package's directory.
const repoRoot = "../../../.."

// loadCompose loads docker-compose.yml the way docker compose does (interpolation, anchors,
// merges, schema validation), without a Docker engine, with the secrets it asks for set.
func loadCompose(t *testing.T) *types.Project {
	t.Helper()
	env := map[string]string{"POSTGRES_PASSWORD": "pw", "AUTH_SIGNING_KEY": "0tk4v3QUHpPcJwJ2SFGTQm3L1L5TLv6C5EsmQrlhRvQ=",
		"SERVICE_CREDENTIAL": strings.Repeat("s", 40), "GRAFANA_ADMIN_PASSWORD": "admin"}
	p, err := loader.LoadWithContext(context.Background(), types.ConfigDetails{
		WorkingDir:  repoRoot,
		ConfigFiles: []types.ConfigFile{{Filename: filepath.Join(repoRoot, "docker-compose.yml")}},
		Environment: env,
	}, func(o *loader.Options) { o.SetProjectName("fuzzyllama", true) })
	if err != nil {
		t.Fatalf("docker-compose.yml does not load: %v", err)
	}
	return p
}

// TestComposeRunsEveryTarget: each FuzzyLlama container runs one target, with an environment
// the binary accepts as it would at start (every variable declared, every check passing), and
// together they run every part of the product; what they depend on exists.
func TestComposeRunsEveryTarget(t *testing.T) {
	p := loadCompose(t)
	var targets []string
	for name, svc := range p.Services {
		for _, dep := range svc.GetDependencies() {
			if _, ok := p.Services[dep]; !ok {
				t.Errorf("%s depends on %s, which is not a service", name, dep)
			}
		}
		if svc.Image != "fuzzyllama:local" {
			continue
		}
		if len(svc.Command) != 1 || !strings.HasPrefix(svc.Command[0], "-target=") {
			t.Errorf("%s: command %v, want one -target=", name, svc.Command)
			continue
		}
		target := strings.TrimPrefix(svc.Command[0], "-target=")
		targets = append(targets, target)
		env := map[string]string{}
		for k, v := range svc.Environment {
			if v == nil {
				t.Errorf("%s: %s has no value", name, k)
				continue
			}
			env[k] = *v
		}
		declared := map[string]bool{}
		c := Config{Target: target}
		err := NewConfigSet(&c).Parse(func(k string) (string, bool) { declared[k] = true; v, ok := env[k]; return v, ok })
		if err != nil {
			t.Errorf("%s (-target=%s) would not start: %v", name, target, err)
		}
		for k := range env {
			if !declared[k] {
				t.Errorf("%s: %s is not a FuzzyLlama variable (a typo is silently ignored)", name, k)
			}
		}
		if !c.Production() || c.DatabaseURL == "" && target != "gateway" {
			t.Errorf("%s: not the production shape: env %s, DATABASE_URL %q", name, c.Env, c.DatabaseURL)
		}
	}
	slices.Sort(targets)
	want := slices.Clone(Targets[1:]) // every part, each in its own container
	slices.Sort(want)
	if !slices.Equal(targets, want) {
		t.Errorf("compose runs the targets %v, want %v", targets, want)
	}
}

// TestPrometheusScrapesEveryProcess: the scrape configuration names each FuzzyLlama container at
// the port its HTTP_ADDR gives.
func TestPrometheusScrapesEveryProcess(t *testing.T) {
	p := loadCompose(t)
	b, err := os.ReadFile(filepath.Join(repoRoot, "deploy/prometheus/prometheus.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		ScrapeConfigs []struct {
			StaticConfigs []struct {
				Targets []string `yaml:"targets"`
			} `yaml:"static_configs"`
		} `yaml:"scrape_configs"`
	}
	if err := yaml.Unmarshal(b, &cfg); err != nil {
		t.Fatal(err)
	}
	scraped := map[string]bool{}
	for _, sc := range cfg.ScrapeConfigs {
		for _, st := range sc.StaticConfigs {
			for _, target := range st.Targets {
				scraped[target] = true
			}
		}
	}
	for name, svc := range p.Services {
		if svc.Image != "fuzzyllama:local" {
			continue
		}
		addr := svc.Environment["HTTP_ADDR"]
		if addr == nil || !strings.HasPrefix(*addr, ":") {
			t.Errorf("%s: HTTP_ADDR %v, want :port", name, addr)
			continue
		}
		if !scraped[name+*addr] {
			t.Errorf("Prometheus does not scrape %s%s", name, *addr)
		}
	}
}

// TestDashboardQueriesExistingMetrics: every FuzzyLlama metric the Grafana dashboard plots is one
// the services register (a renamed metric would leave an empty panel).
func TestDashboardQueriesExistingMetrics(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(repoRoot, "deploy/grafana/dashboards/fuzzyllama.json"))
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Panels []struct {
			Title   string
			Targets []struct{ Expr string }
		}
	}
	if err := json.Unmarshal(b, &dash); err != nil {
		t.Fatalf("dashboard JSON: %v", err)
	}
	reg := prometheus.NewRegistry()
	projects.NewMetrics(reg)
	agents.NewMetrics(reg, nil) // the queue-depth collector is only described, never collected here
	registered := func(name string) bool {
		// Registering a metric of a name already taken fails, whatever its labels.
		return reg.Register(prometheus.NewGauge(prometheus.GaugeOpts{Name: name, Help: "probe"})) != nil
	}
	metric := regexp.MustCompile(`fuzzyllama_[a-z_]+`)
	suffix := regexp.MustCompile(`_(bucket|count|sum)$`)
	seen := 0
	for _, panel := range dash.Panels {
		for _, target := range panel.Targets {
			for _, name := range metric.FindAllString(target.Expr, -1) {
				seen++
				if base := suffix.ReplaceAllString(name, ""); !registered(base) && !registered(name) {
					t.Errorf("panel %q plots %s, which no service registers", panel.Title, name)
				}
			}
		}
	}
	if seen < 9 {
		t.Errorf("the dashboard plots only %d FuzzyLlama metrics", seen)
	}
}
