// Command fuzzyllama-sandbox is the driver of the Kubernetes sandbox's pods (see package
// kubejob): "fuzzyllama-sandbox fetch" downloads a job's dependencies, "fuzzyllama-sandbox
// steps" runs its steps, each writing its results on stdout for the runner to read from the
// pod's log. It is the runner image's entry point, not a tool to run by hand.
package main

import (
	"os"

	"github.com/fuzzyllama/fuzzyllama/services/agents/sandbox/kubejob"
)

func main() { os.Exit(kubejob.Main(os.Args)) }
