package projects_test

import (
	"context"
	"encoding/json"
	"slices"
	"testing"

	"google.golang.org/protobuf/reflect/protoreflect"

	commonv1 "github.com/fuzzyllama/fuzzyllama/gen/go/fuzzyllama/common/v1"
	pb "github.com/fuzzyllama/fuzzyllama/gen/go/fuzzyllama/projects/v1"
	"github.com/fuzzyllama/fuzzyllama/platform/apperr"
	"github.com/fuzzyllama/fuzzyllama/platform/authn"
	"github.com/fuzzyllama/fuzzyllama/platform/eventbus"
	"github.com/fuzzyllama/fuzzyllama/services/projects"
	"github.com/fuzzyllama/fuzzyllama/services/projects/store"
	"github.com/fuzzyllama/fuzzyllama/services/projects/workflow"
)

// tasksProject is a traditional project with an editor and a viewer, and a decomposition like
// the one the intake run proposes: tasks of G1 and G5, owned by the roles that work there, one
// with no owner.
func tasksProject(t *testing.T, svc *projects.Service) (store.ProjectWithRole, map[string]store.Task) {
	t.Helper()
	ctx := context.Background()
	p := teamProject(t, svc, "Tasks")
	created, err := svc.CreateTasks(ctx, agents, p.ID, []projects.NewTask{
		{Key: "intake", Gate: 1, Title: "Intake", OwnerRole: workflow.ProductManager},
		{Key: "api", Gate: 5, Title: "API", OwnerRole: workflow.BackendDeveloper},
		{Key: "db", Gate: 5, Title: "Database", OwnerRole: workflow.BackendDeveloper},
		{Key: "ui", Gate: 5, Title: "UI", OwnerRole: workflow.FrontendDeveloper, DependsOn: []string{"api"}},
		{Key: "docs", Gate: 5, Title: "Docs"},
	}, "run:intake")
	if err != nil {
		t.Fatal(err)
	}
	byKey := map[string]store.Task{}
	for _, task := range created {
		byKey[task.Key] = task
	}
	return p, byKey
}

// taskStatuses are the statuses of the project's tasks by key.
func taskStatuses(t *testing.T, svc *projects.Service, projectID string) map[string]string {
	t.Helper()
	ts, _, err := svc.ListTasks(context.Background(), owner, projectID, store.TaskFilter{}, 0, "")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, task := range ts {
		out[task.Key] = task.Status
	}
	return out
}

func wantStatuses(t *testing.T, svc *projects.Service, projectID string, want map[string]string) {
	t.Helper()
	got := taskStatuses(t, svc, projectID)
	for k, v := range want {
		if got[k] != v {
			t.Errorf("task %s is %q, want %q (all: %v)", k, got[k], v, got)
		}
	}
}

// taskEvents are the tasks_changed events of the project after an event id.
func taskEvents(t *testing.T, svc *projects.Service, projectID string, after int64) ([]projects.TasksChanged, int64) {
	t.Helper()
	page, err := svc.ListEvents(context.Background(), owner, projectID, projects.EventQuery{After: after, PageSize: 200})
	if err != nil {
		t.Fatal(err)
	}
	var out []projects.TasksChanged
	for _, e := range page.Events {
		after = e.ID
		if e.Type == projects.EventTasksChanged {
			var c projects.TasksChanged
			if err := json.Unmarshal(e.Payload, &c); err != nil {
				t.Fatal(err)
			}
			out = append(out, c)
		}
	}
	return out, after
}

func keysOf(ts []store.Task) []string {
	var out []string
	for _, t := range ts {
		out = append(out, t.Key)
	}
	return out
}

// TestTasksFollowTheRuns: a run of a role at a gate moves that role's tasks of that gate, and
// only those: to in progress when it starts, to done when it succeeds (only those its handoff
// names, when it names any); each change is one timeline event, and a repeated call (a
// retried job) changes and records nothing.
func TestTasksFollowTheRuns(t *testing.T) {
	eachStore(t, func(t *testing.T, open func(t *testing.T) (*projects.Service, *eventbus.Bus)) {
		svc, _ := open(t)
		ctx := context.Background()
		p, tasks := tasksProject(t, svc)
		_, after := taskEvents(t, svc, p.ID, 0)
		advance := func(gate int, role, status string, keys ...string) []string {
			t.Helper()
			changed, err := svc.AdvanceTasks(ctx, agents, p.ID, gate, role, status, keys)
			if err != nil {
				t.Fatal(err)
			}
			return keysOf(changed)
		}

		// The backend developer's run at G5 starts: its two tasks, not the frontend's, not the
		// unowned one.
		if got := advance(5, workflow.BackendDeveloper, projects.TaskInProgress); !slices.Equal(got, []string{"api", "db"}) {
			t.Errorf("started: %v", got)
		}
		wantStatuses(t, svc, p.ID, map[string]string{"intake": projects.TaskTodo, "api": projects.TaskInProgress,
			"db": projects.TaskInProgress, "ui": projects.TaskTodo, "docs": projects.TaskTodo})
		// Started again (a retried attempt): nothing to do, nothing recorded.
		if got := advance(5, workflow.BackendDeveloper, projects.TaskInProgress); len(got) != 0 {
			t.Errorf("started again: %v", got)
		}
		events, after2 := taskEvents(t, svc, p.ID, after)
		if len(events) != 1 || events[0].Status != projects.TaskInProgress ||
			!slices.Equal(events[0].TaskIDs, []string{tasks["api"].ID, tasks["db"].ID}) {
			t.Errorf("events of the start: %+v", events)
		}
		after = after2

		// It succeeds, its handoff naming "api" (and a key that is not its own): only "api".
		if got := advance(5, workflow.BackendDeveloper, projects.TaskDone, "api", "ui", "nope"); !slices.Equal(got, []string{"api"}) {
			t.Errorf("done (api): %v", got)
		}
		wantStatuses(t, svc, p.ID, map[string]string{"api": projects.TaskDone, "db": projects.TaskInProgress, "ui": projects.TaskTodo})
		// The UI task was waiting for the API: it is ready now.
		ready, _, err := svc.ListTasks(ctx, owner, p.ID, store.TaskFilter{Gate: 5, ReadyOnly: true}, 0, "")
		if err != nil || !slices.Equal(keysOf(ready), []string{"db", "ui", "docs"}) {
			t.Errorf("ready at G5: %v, %v", keysOf(ready), err)
		}
		// Another run of the role succeeds without naming tasks: the rest of its tasks; a
		// repeat changes nothing.
		if got := advance(5, workflow.BackendDeveloper, projects.TaskDone); !slices.Equal(got, []string{"db"}) {
			t.Errorf("done (all): %v", got)
		}
		if got := advance(5, workflow.BackendDeveloper, projects.TaskDone); len(got) != 0 {
			t.Errorf("done again: %v", got)
		}
		// A run starting after its tasks are done does not take them back.
		if got := advance(5, workflow.BackendDeveloper, projects.TaskInProgress); len(got) != 0 {
			t.Errorf("started after done: %v", got)
		}
		events, _ = taskEvents(t, svc, p.ID, after)
		if len(events) != 2 || !slices.Equal(events[0].TaskIDs, []string{tasks["api"].ID}) ||
			!slices.Equal(events[1].TaskIDs, []string{tasks["db"].ID}) || events[1].Status != projects.TaskDone {
			t.Errorf("events of the successes: %+v", events)
		}

		// People still change tasks by hand.
		if task, err := svc.UpdateTask(ctx, ed, p.ID, tasks["db"].ID, projects.TaskBlocked); err != nil || task.Status != projects.TaskBlocked || task.Key != "db" {
			t.Errorf("UpdateTask by the editor: %+v, %v", task, err)
		}
		wantStatuses(t, svc, p.ID, map[string]string{"db": projects.TaskBlocked})
		// A run's success leaves a task a person blocked as it is.
		if got := advance(5, workflow.BackendDeveloper, projects.TaskDone); len(got) != 0 {
			t.Errorf("a success moved a blocked task: %v", got)
		}
		wantStatuses(t, svc, p.ID, map[string]string{"db": projects.TaskBlocked})
	})
}

// TestAdvanceTasksRefusals: only a service acting for an owner or editor advances tasks, with a
// gate, a role and a status it can move them to.
func TestAdvanceTasksRefusals(t *testing.T) {
	eachStore(t, func(t *testing.T, open func(t *testing.T) (*projects.Service, *eventbus.Bus)) {
		svc, _ := open(t)
		ctx := context.Background()
		p, _ := tasksProject(t, svc)
		be := workflow.BackendDeveloper
		if _, err := svc.AdvanceTasks(ctx, owner, p.ID, 5, be, projects.TaskDone, nil); !apperr.IsKind(err, apperr.KindPermissionDenied) {
			t.Errorf("the owner in person: %v", err)
		}
		viewerAgents := authn.Identity{UserID: vi.UserID, Actor: "agents"}
		if _, err := svc.AdvanceTasks(ctx, viewerAgents, p.ID, 5, be, projects.TaskDone, nil); !apperr.IsKind(err, apperr.KindPermissionDenied) {
			t.Errorf("for a viewer: %v", err)
		}
		stranger := authn.Identity{UserID: "u-stranger", Actor: "agents"}
		if _, err := svc.AdvanceTasks(ctx, stranger, p.ID, 5, be, projects.TaskDone, nil); !apperr.IsKind(err, apperr.KindNotFound) {
			t.Errorf("for a non-member: %v", err)
		}
		for field, call := range map[string]func() error{
			"gate": func() error {
				_, err := svc.AdvanceTasks(ctx, agents, p.ID, 10, be, projects.TaskDone, nil)
				return err
			},
			"role":   func() error { _, err := svc.AdvanceTasks(ctx, agents, p.ID, 5, "", projects.TaskDone, nil); return err },
			"status": func() error { _, err := svc.AdvanceTasks(ctx, agents, p.ID, 5, be, projects.TaskTodo, nil); return err },
			"taskKeys[1]": func() error {
				_, err := svc.AdvanceTasks(ctx, agents, p.ID, 5, be, projects.TaskDone, []string{"a", "b\nc"})
				return err
			},
		} {
			wantInvalid(t, field, call(), field)
		}
		wantStatuses(t, svc, p.ID, map[string]string{"api": projects.TaskTodo, "db": projects.TaskTodo})
	})
}

// submitGate takes a gate from pending (or changes requested) to review, as the agents do.
func submitGate(t *testing.T, svc *projects.Service, projectID string, gate int) {
	t.Helper()
	ctx := context.Background()
	def, _ := workflow.GateOf(workflow.Traditional, gate)
	mustDo(t, func() error { _, err := svc.StartGate(ctx, agents, projectID, gate); return err })
	for _, doc := range def.Deliverables {
		mustDo(t, func() error {
			_, err := svc.RecordDeliverable(ctx, documentsSvc, store.Deliverable{ProjectID: projectID, Gate: gate, DocumentType: doc,
				DocumentID: "d-" + doc, Version: 1, ContentHash: contentHash(doc), Complete: true})
			return err
		})
	}
	for _, proof := range def.Proofs {
		mustDo(t, func() error {
			_, err := svc.RecordProof(ctx, agents, store.Proof{ProjectID: projectID, Gate: gate, Type: proof, Result: projects.ProofPass, Summary: "ok"})
			return err
		})
	}
	mustDo(t, func() error { _, err := svc.SubmitGate(ctx, agents, projectID, gate); return err })
}

// TestRequestForChangesReopensTheGatesTasks: changes requested on a gate take its tasks, done
// or in progress, back to do, in the same change (one more timeline event); the other gates'
// tasks and the blocked ones stay as they were; the re-run moves them on again.
func TestRequestForChangesReopensTheGatesTasks(t *testing.T) {
	eachStore(t, func(t *testing.T, open func(t *testing.T) (*projects.Service, *eventbus.Bus)) {
		svc, _ := open(t)
		ctx := context.Background()
		p, tasks := tasksProject(t, svc)
		extra, err := svc.CreateTasks(ctx, ed, p.ID, []projects.NewTask{
			{Key: "blocked", Gate: 1, Title: "Waiting", OwnerRole: workflow.ProductManager},
			{Key: "mine", Gate: 1, Title: "By hand"},
		}, "")
		if err != nil {
			t.Fatal(err)
		}
		mustDo(t, func() error { _, err := svc.UpdateTask(ctx, ed, p.ID, extra[0].ID, projects.TaskBlocked); return err })
		mustDo(t, func() error { _, err := svc.UpdateTask(ctx, ed, p.ID, extra[1].ID, projects.TaskDone); return err })
		mustDo(t, func() error {
			_, err := svc.AdvanceTasks(ctx, agents, p.ID, 5, workflow.BackendDeveloper, projects.TaskDone, nil) // another gate's
			return err
		})
		mustDo(t, func() error {
			_, err := svc.AdvanceTasks(ctx, agents, p.ID, 1, workflow.ProductManager, projects.TaskInProgress, nil)
			return err
		})
		submitGate(t, svc, p.ID, 1)
		mustDo(t, func() error {
			_, err := svc.AdvanceTasks(ctx, agents, p.ID, 1, workflow.ProductManager, projects.TaskDone, []string{"intake"})
			return err
		})
		wantStatuses(t, svc, p.ID, map[string]string{"intake": projects.TaskDone, "blocked": projects.TaskBlocked, "mine": projects.TaskDone})
		_, after := taskEvents(t, svc, p.ID, 0)

		mustDo(t, func() error { _, err := svc.RequestGateChanges(ctx, owner, p.ID, 1, "Narrow the scope"); return err })
		wantStatuses(t, svc, p.ID, map[string]string{"intake": projects.TaskTodo, "mine": projects.TaskTodo,
			"blocked": projects.TaskBlocked, "api": projects.TaskDone, "db": projects.TaskDone})
		events, _ := taskEvents(t, svc, p.ID, after)
		if len(events) != 1 || events[0].Status != projects.TaskTodo ||
			!slices.Equal(events[0].TaskIDs, []string{tasks["intake"].ID, extra[1].ID}) {
			t.Errorf("events of the request for changes: %+v", events)
		}
		// The product manager runs again.
		mustDo(t, func() error { _, err := svc.StartGate(ctx, agents, p.ID, 1); return err })
		mustDo(t, func() error {
			_, err := svc.AdvanceTasks(ctx, agents, p.ID, 1, workflow.ProductManager, projects.TaskInProgress, nil)
			return err
		})
		wantStatuses(t, svc, p.ID, map[string]string{"intake": projects.TaskInProgress, "mine": projects.TaskTodo, "blocked": projects.TaskBlocked})

		// A request for changes that fails changes no task either.
		if _, err := svc.RequestGateChanges(ctx, owner, p.ID, 1, "again"); !apperr.IsKind(err, apperr.KindFailedPrecondition) {
			t.Fatalf("changes requested on a gate in progress: %v", err)
		}
		wantStatuses(t, svc, p.ID, map[string]string{"intake": projects.TaskInProgress})
	})
}

// TestProgressCountsDoneTasks: without tasks, progress is the share of gates approved; with
// tasks, the mean of that and the share of tasks done; a completed project is 100.
func TestProgressCountsDoneTasks(t *testing.T) {
	eachStore(t, func(t *testing.T, open func(t *testing.T) (*projects.Service, *eventbus.Bus)) {
		svc, _ := open(t)
		ctx := context.Background()
		percent := func(projectID string) int {
			t.Helper()
			st, err := svc.GetStatus(ctx, owner, projectID)
			if err != nil {
				t.Fatal(err)
			}
			return st.PercentComplete
		}
		bare, err := svc.CreateProject(ctx, owner, "Bare", "", workflow.Traditional, "")
		if err != nil {
			t.Fatal(err)
		}
		completeGate(t, svc, bare.ID, 1)
		if got := percent(bare.ID); got != 11 { // 1 of 9 gates
			t.Errorf("1 gate approved, no tasks: %d%%", got)
		}

		p, tasks := tasksProject(t, svc)
		if got := percent(p.ID); got != 0 {
			t.Errorf("nothing done: %d%%", got)
		}
		mustDo(t, func() error {
			_, err := svc.AdvanceTasks(ctx, agents, p.ID, 5, workflow.BackendDeveloper, projects.TaskDone, nil)
			return err
		})
		if got := percent(p.ID); got != 20 { // (0/9 + 2/5) / 2
			t.Errorf("2 of 5 tasks done: %d%%", got)
		}
		mustDo(t, func() error {
			_, err := svc.UpdateTask(ctx, ed, p.ID, tasks["intake"].ID, projects.TaskDone)
			return err
		})
		completeGate(t, svc, p.ID, 1)
		if got := percent(p.ID); got != 35 { // (1/9 + 3/5) / 2 = 35.5
			t.Errorf("1 gate approved, 3 of 5 tasks done: %d%%", got)
		}
		for gate := 2; gate <= workflow.Count; gate++ {
			completeGate(t, svc, p.ID, gate)
		}
		if got := percent(p.ID); got != 100 {
			t.Errorf("completed with tasks not done: %d%%", got)
		}
	})
}

// TestAdvanceTasksHandler: the RPC takes the proto's role and status, answers the tasks it
// moved with their keys, and is declared for services only (no HTTP route: a person's token is
// refused before the service is reached, and the gateway never forwards it).
func TestAdvanceTasksHandler(t *testing.T) {
	svc, _ := newService(t, stores["sqlite"])
	h := &projects.Handler{Service: svc}
	p, _ := tasksProject(t, svc)
	resp, err := h.AdvanceTasks(authn.NewContext(context.Background(), agents), &pb.AdvanceTasksRequest{ProjectId: p.ID, Gate: 5,
		Role: commonv1.AgentRole_AGENT_ROLE_BACKEND_DEVELOPER, Status: pb.TaskStatus_TASK_STATUS_DONE, TaskKeys: []string{"db"}})
	if err != nil || len(resp.GetTasks()) != 1 || resp.GetTasks()[0].GetKey() != "db" ||
		resp.GetTasks()[0].GetStatus() != pb.TaskStatus_TASK_STATUS_DONE || resp.GetTasks()[0].GetOwnerRole() != commonv1.AgentRole_AGENT_ROLE_BACKEND_DEVELOPER {
		t.Fatalf("AdvanceTasks: %v, %v", resp, err)
	}
	list, err := h.ListTasks(authn.NewContext(context.Background(), vi), &pb.ListTasksRequest{ProjectId: p.ID, Gate: 5})
	if err != nil || !slices.Equal(mapTasks(list.GetTasks(), (*pb.Task).GetKey), []string{"api", "db", "ui", "docs"}) {
		t.Fatalf("ListTasks: %v, %v", list, err)
	}
	if policy := authn.PolicyOf(pb.ProjectsService_AdvanceTasks_FullMethodName); policy != commonv1.Access_ACCESS_SERVICE {
		t.Errorf("AdvanceTasks is %v", policy)
	}
	md := pb.File_fuzzyllama_projects_v1_projects_service_proto.Services().ByName("ProjectsService").Methods().ByName("AdvanceTasks")
	md.Options().ProtoReflect().Range(func(fd protoreflect.FieldDescriptor, _ protoreflect.Value) bool {
		if fd.FullName() == "google.api.http" {
			t.Error("AdvanceTasks has an HTTP route")
		}
		return true
	})
}

func mapTasks[T any](ts []*pb.Task, f func(*pb.Task) T) []T {
	var out []T
	for _, t := range ts {
		out = append(out, f(t))
	}
	return out
}
