// Command fuzzyllama runs FuzzyLlama. With no arguments and no configuration it runs every
// service and the gateway in one process on the embedded default (SQLite under ./data, an
// in-process Redis); -target runs one part, configured by environment variables (see -help).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"

	"github.com/fuzzyllama/fuzzyllama/cmd/fuzzyllama/internal/app"
	"github.com/fuzzyllama/fuzzyllama/services/agents/sandbox/bwrap"
)

// defaultGCPercent is the garbage collector's target unless GOGC says otherwise. The services
// keep small live heaps (tens of MiB) and allocate per request, so Go's default of 100 collects
// very often; 200 trades a little memory for noticeably less CPU (docs/PERFORMANCE.md). Set
// GOMEMLIMIT to cap memory in tight containers.
const defaultGCPercent = 200

func main() {
	bwrap.Init() // the sandbox runner re-executes this binary as its helper; that never returns here
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(defaultGCPercent)
	}
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	var cfg app.Config
	env := app.NewConfigSet(&cfg)
	flags := flag.NewFlagSet("fuzzyllama", flag.ContinueOnError)
	target := flags.String("target", "all", "what this process runs: "+strings.Join(app.Targets, ", "))
	flags.Usage = func() {
		fmt.Fprintf(os.Stderr, "Usage: fuzzyllama [-target=%s]\n\nFlags:\n", strings.Join(app.Targets, "|"))
		flags.PrintDefaults()
		fmt.Fprintln(os.Stderr, "\nEnvironment variables:")
		env.Usage(os.Stderr)
		fmt.Fprintf(os.Stderr, "\nGo runtime: GOGC (default %d here), GOMEMLIMIT, GOMAXPROCS.\n", defaultGCPercent)
	}
	if err := flags.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	cfg.Target = *target
	if err := env.Parse(os.LookupEnv); err != nil {
		fmt.Fprintf(os.Stderr, "fuzzyllama: invalid configuration:\n  %s\nRun fuzzyllama -help for every variable.\n",
			strings.ReplaceAll(err.Error(), "\n", "\n  "))
		return 2
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	a, err := app.Start(ctx, cfg, os.Stderr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "fuzzyllama: %v\n", err)
		return 1
	}
	fmt.Fprintln(os.Stderr, banner(*target, a.HTTPAddr()))
	if err := a.Wait(ctx); err != nil {
		fmt.Fprintf(os.Stderr, "fuzzyllama: %v\n", err)
		return 1
	}
	return 0
}

// banner is the line that says the process is up and what its HTTP port serves. Its prefix
// "is up: http://<addr>" is parsed by scripts and tests (web/test/server.js, the e2e tests), so
// it stays first. Only the gateway (alone or in "all") serves the API, docs and console; a lone
// service's HTTP port serves health and metrics only (its API is gRPC).
func banner(target, addr string) string {
	serves := "health at /healthz and /readyz, metrics at /metrics; no API on this port"
	if target == "all" || target == "gateway" {
		serves = "API under /api/v1, docs at /api/docs, console at /"
	}
	return fmt.Sprintf("FuzzyLlama (%s) is up: http://%s  (%s)", target, addr, serves)
}
