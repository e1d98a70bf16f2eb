package agents

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fuzzyllama/fuzzyllama/platform/apperr"
	"github.com/fuzzyllama/fuzzyllama/services/agents/output"
	"github.com/fuzzyllama/fuzzyllama/services/agents/provider"
	"github.com/fuzzyllama/fuzzyllama/services/agents/provider/offline"
	"github.com/fuzzyllama/fuzzyllama/services/agents/store"
)

// AdvanceTasks implements Projects as the projects service does: the tasks of the gate owned by
// the role (with the keys, if any) move to status, from to do only when starting, from anything
// but done when finishing.
func (f *fakeProjects) AdvanceTasks(_ context.Context, projectID string, gate int, role, status string, keys []string) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p, err := f.project(projectID)
	if err != nil {
		return 0, err
	}
	if p.Completed {
		return 0, apperr.FailedPrecondition("project is completed: it can no longer be changed")
	}
	if p.statuses == nil {
		p.statuses = map[int]string{}
	}
	changed := 0
	for i, t := range p.tasks {
		from := cmpOr(p.statuses[i], "todo")
		if t.Gate != gate || t.OwnerRole != role || len(keys) > 0 && !slices.Contains(keys, t.Key) ||
			from == status || from == "done" || status == "in_progress" && from != "todo" {
			continue
		}
		p.statuses[i] = status
		changed++
	}
	return changed, nil
}

func cmpOr(s, or string) string {
	if s == "" {
		return or
	}
	return s
}

// taskStatuses returns the statuses of the project's tasks by key (keys are unique in the
// harness's projects: one decomposition each).
func (f *fakeProjects) taskStatuses(pid string) map[string]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	p := f.projects[pid]
	out := map[string]string{}
	for i, t := range p.tasks {
		out[t.Key] = cmpOr(p.statuses[i], "todo")
	}
	return out
}

func wantTaskStatuses(t *testing.T, h *harness, pid string, want map[string]string) {
	t.Helper()
	got := h.projects.taskStatuses(pid)
	for k, v := range want {
		if got[k] != v {
			t.Errorf("task %s is %q, want %q (all: %v)", k, got[k], v, got)
		}
	}
}

// TestTasksFollowTheJourney: the offline intake proposes one task per gate, each at its gate
// and owned by the role that leads it; the intake run's success marks its own (G1) done and
// nothing else; each later gate's runs mark theirs done, so when the project is complete every
// task is done.
func TestTasksFollowTheJourney(t *testing.T) {
	eachDatabase(t, func(t *testing.T, database string) {
		h := newHarness(t, database, harnessConfig{})
		pid := h.newProject("Recipes")
		h.startWork(pid)
		h.waitGate(pid, 1, GateInReview)
		tasks, _ := h.projects.tasksOf(pid)
		placed := map[string]string{}
		for _, task := range tasks {
			placed[task.Key] = fmt.Sprintf("G%d %s", task.Gate, task.OwnerRole)
		}
		for key, want := range map[string]string{"g1-scope": "G1 product_manager", "g2-prd": "G2 product_manager",
			"g5-development": "G5 backend_developer", "g8-staging": "G8 devops_engineer", "g9-production": "G9 devops_engineer"} {
			if placed[key] != want {
				t.Errorf("task %s is at %q, want %q", key, placed[key], want)
			}
		}
		wantTaskStatuses(t, h, pid, map[string]string{"g1-scope": "done", "g2-prd": "todo", "g9-production": "todo"})
		for n := 1; n <= len(traditionalWorkflow); n++ {
			wf := traditionalWorkflow[n-1]
			if len(wf.Proofs) > 0 && wf.Proofs[0] != "spec_validation" {
				h.waitRuns(pid, n, len(wf.Roles))
				for _, proof := range wf.Proofs {
					h.attest(pid, n, proof)
				}
			}
			h.waitGate(pid, n, GateInReview)
			if n == 2 {
				wantTaskStatuses(t, h, pid, map[string]string{"g2-prd": "done", "g3-architecture": "todo"})
			}
			h.approve(pid, n)
		}
		for key, status := range h.projects.taskStatuses(pid) {
			if status != "done" {
				t.Errorf("task %s is %s after the project completed", key, status)
			}
		}
	})
}

// taskFaults makes AdvanceTasks fail: the first n calls of a status with err (every call
// when n < 0).
type taskFaults struct {
	Projects
	mu     sync.Mutex
	status string
	n      int
	err    error
	calls  map[string]int
}

func (f *taskFaults) AdvanceTasks(ctx context.Context, projectID string, gate int, role, status string, keys []string) (int, error) {
	f.mu.Lock()
	f.calls[status]++
	fail := status == f.status && (f.n < 0 || f.calls[status] <= f.n)
	f.mu.Unlock()
	if fail {
		return 0, f.err
	}
	return f.Projects.AdvanceTasks(ctx, projectID, gate, role, status, keys)
}

func (f *taskFaults) callsOf(status string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[status]
}

// TestTaskUpdatesNeverFailARun: marking tasks in progress is best effort; marking them done is
// retried with the job while the projects service is out, for as long as the run may wait
// (AGENT_OUTAGE_WAIT, 1 s here), then given up; a refusal is given up at once. In every case the
// run succeeds on its one attempt and its gate goes to review.
func TestTaskUpdatesNeverFailARun(t *testing.T) {
	unavailable := apperr.Unavailable("projects service unavailable")
	for _, tc := range []struct {
		name       string
		status     string
		n          int
		err        error
		doneCalls  int    // calls to mark done (0: more than one, as many as fit in the wait)
		intakeTask string // the status of the intake's own task at the end
	}{
		{"start fails", "in_progress", -1, unavailable, 1, "done"},
		{"done fails once", "done", 1, unavailable, 2, "done"},
		{"done always fails", "done", -1, unavailable, 0, "todo"}, // given up after the outage wait
		{"done refused", "done", -1, apperr.FailedPrecondition("project is archived"), 1, "todo"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var faults *taskFaults
			h := newHarness(t, "sqlite", harnessConfig{wrapProjects: func(p Projects) Projects {
				faults = &taskFaults{Projects: p, status: tc.status, n: tc.n, err: tc.err, calls: map[string]int{}}
				return faults
			}, limits: func(l *Limits) { l.OutageWait = time.Second }})
			pid := h.newProject("Recipes")
			intake := h.startWork(pid)
			h.waitGate(pid, 1, GateInReview)
			r, err := h.db.Run(context.Background(), intake.ID)
			if err != nil || r.State != store.StateSucceeded || !r.Result.TasksAdvanced || !r.Result.TasksStored || r.Attempt != 1 {
				t.Fatalf("intake run: %+v, %v", r, err)
			}
			if got := faults.callsOf("done"); tc.doneCalls == 0 && got < 2 || tc.doneCalls > 0 && got != tc.doneCalls {
				t.Errorf("marking done was called %d times, want %d", got, tc.doneCalls)
			}
			if got := h.projects.taskStatuses(pid)["g1-scope"]; got != tc.intakeTask {
				t.Errorf("the intake's task is %s, want %s", got, tc.intakeTask)
			}
			if docs := h.documents.documentsOf(pid, 1); len(docs) != 1 || len(docs[0].Versions) != 1 {
				t.Errorf("the intake's documents: %+v", docs)
			}
		})
	}
}

// handoffEditor is the offline provider with its handoff changed: a model that says which of
// its tasks it completed.
type handoffEditor struct {
	edit func(b *provider.Brief, h *output.Handoff)
}

func (handoffEditor) Name() string { return "handoff-editor" }

func (e handoffEditor) Stream(ctx context.Context, req provider.Request, onText func(string) error) (provider.Response, error) {
	var text strings.Builder
	resp, err := offline.Provider{}.Stream(ctx, req, func(s string) error { text.WriteString(s); return nil })
	if err != nil {
		return resp, err
	}
	o, err := output.Parse(text.String())
	if err != nil {
		return resp, err
	}
	e.edit(req.Brief, &o.Handoff)
	return resp, onText(output.Format(o))
}

// TestHandoffNamesTheTasksItCompleted: the tasks a handoff names in doneTasks are done, its
// other tasks stay in progress; an empty list marks none done.
func TestHandoffNamesTheTasksItCompleted(t *testing.T) {
	h := newHarness(t, "sqlite", harnessConfig{vendor: handoffEditor{edit: func(b *provider.Brief, h *output.Handoff) {
		switch b.Gate {
		case 1: // the intake proposes two tasks for G2 and completes its own
			h.Tasks = append(h.Tasks, output.Task{Key: "g2-personas", Gate: 2, Title: "Personas"})
		case 2: // the PRD run completes only the PRD
			h.DoneTasks = &[]string{"g2-prd"}
		}
	}}})
	pid := h.newProject("Recipes")
	h.startWork(pid)
	h.waitGate(pid, 1, GateInReview)
	wantTaskStatuses(t, h, pid, map[string]string{"g1-scope": "done", "g2-prd": "todo", "g2-personas": "todo"})
	if tasks, _ := h.projects.tasksOf(pid); !slices.ContainsFunc(tasks, func(t NewTask) bool {
		return t.Key == "g2-personas" && t.Gate == 2 && t.OwnerRole == "product_manager"
	}) {
		t.Errorf("a task without an owner at a gate of one role is that role's: %+v", tasks)
	}
	h.approve(pid, 1)
	h.waitGate(pid, 2, GateInReview)
	wantTaskStatuses(t, h, pid, map[string]string{"g2-prd": "done", "g2-personas": "in_progress", "g3-architecture": "todo"})
}

// TestFinishTasksAsksOnce: the step is recorded, so a run processed again does not ask again;
// an empty doneTasks asks nothing.
func TestFinishTasksAsksOnce(t *testing.T) {
	h := newHarness(t, "sqlite", harnessConfig{idle: true})
	calls := &taskFaults{Projects: h.projects, calls: map[string]int{}}
	h.s.Projects = calls
	ctx := context.Background()
	r, _, err := h.db.CreateRun(ctx, store.Run{ID: "r1", ProjectID: h.newProject("P"), Gate: 1, Role: "product_manager",
		UserID: owner, Model: "offline", MaxAttempts: 3})
	if err != nil {
		t.Fatal(err)
	}
	lease := store.Lease{RunID: r.ID, Token: "a worker"}
	if _, err := h.db.Claim(ctx, r.ID, r.JobID, lease.Token, time.Now(), time.Minute); err != nil {
		t.Fatal(err)
	}
	var res store.Result
	for range 2 {
		if err := h.s.finishTasks(ctx, lease, &r, output.Handoff{}, &res); err != nil || !res.TasksAdvanced {
			t.Fatalf("finishTasks: %v, %+v", err, res)
		}
	}
	if got := calls.callsOf("done"); got != 1 {
		t.Errorf("asked %d times", got)
	}
	res = store.Result{}
	if err := h.s.finishTasks(ctx, lease, &r, output.Handoff{DoneTasks: &[]string{}}, &res); err != nil || !res.TasksAdvanced || calls.callsOf("done") != 1 {
		t.Errorf("none done: %v, %+v, %d calls", err, res, calls.callsOf("done"))
	}
	saved, err := h.db.Run(ctx, r.ID)
	if err != nil || !saved.Result.TasksAdvanced {
		t.Errorf("the step is not recorded with the run: %+v, %v", saved.Result, err)
	}
}

// TestTasksOf: where a proposed task is placed and who owns it.
func TestTasksOf(t *testing.T) {
	in := []output.Task{
		{Key: "named", Gate: 3, OwnerRole: "architect"},
		{Key: "later owner", Gate: 2, OwnerRole: "architect"},          // the architect works at G3
		{Key: "earlier gate", Gate: 1, OwnerRole: "backend_developer"}, // behind the run: from its gate on
		{Key: "by owner", OwnerRole: "qa_engineer"},
		{Key: "nowhere", OwnerRole: "product_manager"}, // works at no gate from G4 on
		{Key: "no owner", Gate: 7},
		{Key: "no owner, two roles", Gate: 5},
		{Key: "nothing"},
	}
	got := tasksOf(traditionalWorkflow, store.Run{Gate: 4}, in)
	var places []string
	for _, t := range got {
		places = append(places, fmt.Sprintf("%s: G%d %s", t.Key, t.Gate, t.OwnerRole))
		if int(t.Task.Gate) != t.Gate {
			places = append(places, "task gate differs")
		}
	}
	if !slices.Equal(places, []string{
		"named: G4 ux_designer", // G3 is behind the run at G4; the architect works at no gate from G4
		"later owner: G4 ux_designer",
		"earlier gate: G5 backend_developer",
		"by owner: G6 qa_engineer",
		"nowhere: G4 ux_designer",
		"no owner: G7 security_engineer",
		"no owner, two roles: G5 ",
		"nothing: G4 ux_designer",
	}) {
		t.Errorf("placed:\n%s", strings.Join(places, "\n"))
	}
	got = tasksOf(traditionalWorkflow, store.Run{Gate: 1}, []output.Task{{Key: "a", Gate: 2, OwnerRole: "architect"},
		{Key: "b", Gate: 9, OwnerRole: "devops_engineer"}, {Key: "c", OwnerRole: "devops_engineer"}})
	if got[0].Gate != 3 || got[1].Gate != 9 || got[2].Gate != 8 {
		t.Errorf("from G1: %+v", got)
	}
}

// TestARerunKeepsThePlan: a request for changes at G1 re-runs the intake, whose answer proposes
// the same tasks again: the project keeps its tasks (reopened, then done again), no duplicates.
func TestARerunKeepsThePlan(t *testing.T) {
	eachDatabase(t, func(t *testing.T, database string) {
		h := newHarness(t, database, harnessConfig{})
		pid := h.newProject("Recipes")
		h.startWork(pid)
		h.waitGate(pid, 1, GateInReview)
		before, _ := h.projects.tasksOf(pid)
		h.requestChanges(pid, 1, "name the users")
		h.waitRuns(pid, 1, 2)
		h.waitGate(pid, 1, GateInReview)
		after, batches := h.projects.tasksOf(pid)
		if len(after) != len(before) || batches != 1 {
			t.Fatalf("%d tasks in %d batches after the re-run, want the %d of the first run", len(after), batches, len(before))
		}
		wantTaskStatuses(t, h, pid, map[string]string{"g1-scope": "done", "g2-prd": "todo"})
	})
}

func TestNewTasksOnly(t *testing.T) {
	in := []NewTask{
		{Task: output.Task{Key: "a"}},
		{Task: output.Task{Key: "b", DependsOn: []string{"a", "c"}}},
		{Task: output.Task{Key: "c"}},
	}
	got := newTasksOnly(in, map[string]string{"a": "id-a"})
	if len(got) != 2 || got[0].Key != "b" || !slices.Equal(got[0].DependsOn, []string{"id-a", "c"}) || got[1].Key != "c" {
		t.Fatalf("newTasksOnly: %+v", got)
	}
	if in[1].DependsOn[0] != "a" {
		t.Error("the input was changed")
	}
}
