package bwrap

import (
	"errors"

	"github.com/fuzzyllama/fuzzyllama/services/agents/sandbox"
)

// previewRun is a preview step's side of the runner.
type previewRun struct{}

func (r *Runner) newPreview(j *job, step sandbox.Step, lim sandbox.Limits) (*previewRun, error) {
	return nil, errors.New("preview steps are not supported yet")
}

func (p *previewRun) close()                           {}
func (p *previewRun) bwrapArgs() []string              { return nil }
func (p *previewRun) command(server []string) []string { return server }
func (p *previewRun) screenshot() []byte               { return nil }

func runPreview(args []string) int { return 1 }
