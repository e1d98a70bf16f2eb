package agents

import (
	"context"
	"slices"
	"time"

	"github.com/fuzzyllama/fuzzyllama/services/agents/output"
	"github.com/fuzzyllama/fuzzyllama/services/agents/store"
)

// Tasks follow the work: the tasks of a gate owned by a role are the work of that role's runs
// at that gate. When a run's attempt calls its model they move to in progress; when its output
// has been stored they are done (only those its handoff names in doneTasks, when it names
// any). A request for changes reopens them in the projects service itself. The projects
// service's AdvanceTasks changes only tasks not already in the status, so a repeated call
// changes and records nothing.
//
// A task update never fails a run. Starting is a label: if it fails, the run goes on and its
// success marks the tasks done anyway. Finishing is the last step of the output processing,
// recorded in the run's result like the others, so the gate is submitted only after it: an
// outage of the projects service is waited out with the run (the step is not yet recorded) for
// as long as the run may wait, while a refusal, or an outage that outlasts the wait, is logged
// and the step given up; the tasks then stay as they were, for a person to set by hand.

// Task statuses AdvanceTasks moves tasks to.
const (
	taskInProgress = "in_progress"
	taskDone       = "done"
)

// startTaskTimeout bounds marking a run's tasks in progress: it must not hold up the run.
const startTaskTimeout = 10 * time.Second

// startTasks marks the run's tasks in progress as it calls its model; ctx acts for the run's
// user. A failure is logged and otherwise ignored.
func (s *Service) startTasks(ctx context.Context, r store.Run) {
	ctx, cancel := context.WithTimeout(ctx, startTaskTimeout)
	defer cancel()
	if _, err := s.Projects.AdvanceTasks(ctx, r.ProjectID, r.Gate, r.Role, taskInProgress, nil); err != nil {
		s.Logger.WarnContext(ctx, "cannot mark the run's tasks in progress", "run_id", r.ID, "project_id", r.ProjectID,
			"gate", r.Gate, "role", r.Role, "error", err.Error())
	}
}

// finishTasks marks the run's tasks done, or those its handoff names, and records the step in
// res (see the comment at the top of the file for what a failure does).
func (s *Service) finishTasks(ctx context.Context, l store.Lease, r *store.Run, h output.Handoff, res *store.Result) error {
	if res.TasksAdvanced {
		return nil
	}
	var keys []string
	if h.DoneTasks != nil {
		keys = *h.DoneTasks
	}
	if h.DoneTasks == nil || len(keys) > 0 { // an empty list: none of its tasks is done
		_, err := s.Projects.AdvanceTasks(ctx, r.ProjectID, r.Gate, r.Role, taskDone, keys)
		if outage(err) && (r.WaitingSince.IsZero() || s.now().Sub(r.WaitingSince) < s.Limits.outageWait()) {
			return fromService("projects", err) // waited out with the run, as long as it may wait
		}
		if err != nil {
			s.Logger.WarnContext(ctx, "cannot mark the run's tasks done; they stay as they are", "run_id", r.ID,
				"project_id", r.ProjectID, "gate", r.Gate, "role", r.Role, "error", err.Error())
		}
	}
	res.TasksAdvanced = true
	return s.saveResult(ctx, l, r, *res)
}

// tasksOf places each task a run proposes at a gate, with an owner who works there:
//   - at the gate it names, or a later one where its owner works, when it names one from the
//     run's on (an earlier gate is behind the project: the run's gate instead);
//   - without one, at the first gate from the run's on where its owner works (the run's when
//     none, or when it names no owner);
//   - an owner who does not work at the task's gate, or none, is replaced by the gate's role
//     when the gate has one, and otherwise left out: no run moves the task, a person does.
func tasksOf(wf []WorkflowGate, r store.Run, in []output.Task) []NewTask {
	out := make([]NewTask, len(in))
	for i, t := range in {
		from := r.Gate
		if int(t.Gate) > r.Gate && int(t.Gate) <= len(wf) {
			from = int(t.Gate)
		}
		gate := from
		if t.OwnerRole != "" {
			for _, g := range wf[from-1:] {
				if slices.Contains(g.Roles, t.OwnerRole) {
					gate = g.Number
					break
				}
			}
		}
		if roles := wf[gate-1].Roles; !slices.Contains(roles, t.OwnerRole) {
			t.OwnerRole = ""
			if len(roles) == 1 {
				t.OwnerRole = roles[0]
			}
		}
		t.Gate = output.GateRef(gate)
		out[i] = NewTask{Task: t, Gate: gate}
	}
	return out
}

// newTasksOnly drops the tasks whose keys the project has already (existing: key -> id), and
// points the dependencies of the others on a dropped key at the existing task.
func newTasksOnly(tasks []NewTask, existing map[string]string) []NewTask {
	var out []NewTask
	for _, t := range tasks {
		if _, ok := existing[t.Key]; ok {
			continue
		}
		deps := make([]string, len(t.DependsOn))
		for i, d := range t.DependsOn {
			deps[i] = d
			if id, ok := existing[d]; ok {
				deps[i] = id
			}
		}
		t.DependsOn = deps
		out = append(out, t)
	}
	return out
}
