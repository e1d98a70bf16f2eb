package agents

import (
	"context"
	"slices"
	"time"

	"github.com/fuzzyllama/fuzzyllama/services/agents/output"
	"github.com/fuzzyllama/fuzzyllama/services/agents/specvalidate"
	"github.com/fuzzyllama/fuzzyllama/services/agents/store"
)

// Proof and document types the output processing knows.
const (
	proofSpecValidation = "spec_validation"
	docAPISpec          = "api_spec"
)

// process stores what a successful run produced, in steps that are each done once: its
// documents and files (one Store call, keyed by the run so a repeat stores nothing twice), its tasks (one
// batch, keyed likewise), and the validation of an API specification as the gate's
// spec_validation proof. Each step is recorded in the run's result as soon as it is done, so a
// run processed again after a crash picks up where it stopped.
//
// r is the worker's copy of the run: each saved step clears its wait (r.WaitingSince), as
// SaveResult does in the store, so that a later outage is timed from its own start.
func (s *Service) process(ctx context.Context, l store.Lease, r *store.Run, out output.Output) error {
	res := r.Result
	wf, err := s.workflowOf(ctx, r.ProjectID)
	if err != nil {
		return err
	}
	key := "run:" + r.ID
	if !res.DocumentsStored {
		docs, err := s.Documents.Store(ctx, *r, out.AsDocuments(), key) // files are code documents titled with their path
		if err != nil {
			return fromService("documents", err)
		}
		res.Documents, res.DocumentsStored = docs, true
		res.Deliverables, res.NextRoles, res.Notes = out.Handoff.Deliverables, out.Handoff.NextRoles, out.Handoff.Notes
		if err := s.saveResult(ctx, l, r, res); err != nil {
			return err
		}
	}
	if !res.TasksStored {
		tasks := tasksOf(wf, *r, out.Handoff.Tasks)
		if r.Revision > 0 && len(tasks) > 0 {
			// A re-run proposes again the plan its gate's first run made: the tasks the project
			// has are kept (a request for changes reopened them), only new keys are added.
			existing, err := s.Projects.TaskIDs(ctx, r.ProjectID)
			if err != nil {
				return fromService("projects", err)
			}
			tasks = newTasksOnly(tasks, existing)
		}
		if len(tasks) > 0 {
			if res.TasksCreated, err = s.Projects.CreateTasks(ctx, r.ProjectID, tasks, key); err != nil {
				return fromService("projects", err)
			}
		}
		res.TasksStored = true
		if err := s.saveResult(ctx, l, r, res); err != nil {
			return err
		}
	}
	if spec, ok := specOf(out); ok && !res.ProofRecorded && slices.Contains(wf[r.Gate-1].Proofs, proofSpecValidation) {
		v := specvalidate.OpenAPI(ctx, []byte(spec.Content))
		if err := s.Projects.RecordProof(ctx, r.ProjectID, r.Gate, proofSpecValidation, v.Pass,
			"\""+spec.Title+"\": "+v.Summary); err != nil {
			return fromService("projects", err)
		}
		res.ProofRecorded = true
		if err := s.saveResult(ctx, l, r, res); err != nil {
			return err
		}
	}
	return s.finishTasks(ctx, l, r, out.Handoff, &res) // tasks.go
}

// saveResult records a step of the run's processing and, as the store does, ends its wait.
func (s *Service) saveResult(ctx context.Context, l store.Lease, r *store.Run, res store.Result) error {
	if err := s.Store.SaveResult(ctx, l, res); err != nil {
		return err
	}
	r.Result, r.WaitingSince = res, time.Time{}
	return nil
}

// specOf returns the output's API specification, if it has one.
func specOf(out output.Output) (output.Document, bool) {
	for _, d := range out.Documents {
		if d.Type == docAPISpec {
			return d, true
		}
	}
	return output.Document{}, false
}

// workflowOf returns the workflow of the project's type.
func (s *Service) workflowOf(ctx context.Context, projectID string) ([]WorkflowGate, error) {
	p, err := s.Projects.Project(ctx, projectID)
	if err != nil {
		return nil, fromService("projects", err)
	}
	wf, err := s.Projects.Workflow(ctx, p.Type)
	return wf, fromService("projects", err)
}
