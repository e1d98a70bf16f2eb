package projects

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/fuzzyllama/fuzzyllama/platform/apperr"
	"github.com/fuzzyllama/fuzzyllama/platform/authn"
	"github.com/fuzzyllama/fuzzyllama/platform/input"
	"github.com/fuzzyllama/fuzzyllama/platform/paging"
	"github.com/fuzzyllama/fuzzyllama/services/projects/store"
	"github.com/fuzzyllama/fuzzyllama/services/projects/workflow"
)

// Task statuses and priorities.
const (
	TaskTodo       = "todo"
	TaskInProgress = "in_progress"
	TaskDone       = "done"
	TaskBlocked    = "blocked"

	PriorityLow      = "low"
	PriorityMedium   = "medium"
	PriorityHigh     = "high"
	PriorityCritical = "critical"
)

// maxTasksPerBatch bounds one CreateTasks call.
const maxTasksPerBatch = 500

// NewTask is one task of a decomposition. DependsOn names keys of tasks in the same batch or
// ids of the project's existing tasks.
type NewTask struct {
	Key         string
	Gate        int
	Title       string
	Description string
	OwnerRole   string
	Priority    string
	DependsOn   []string
}

var agentRoles = []string{workflow.ProductManager, workflow.Architect, workflow.UXDesigner, workflow.FrontendDeveloper,
	workflow.BackendDeveloper, workflow.DataEngineer, workflow.MLEngineer, workflow.PromptEngineer, workflow.QAEngineer,
	workflow.ModelEvaluator, workflow.SecurityEngineer, workflow.DevOpsEngineer, workflow.AIOpsEngineer, "orchestrator"}

// CreateTasks stores a whole decomposition atomically, in one round trip to the database. The
// dependencies must form a DAG: a cycle is refused, naming the tasks on it.
//
// With an idempotency key, the tasks' ids derive from it, so a retry finds the tasks the first
// request created and returns them instead of creating more.
func (s *Service) CreateTasks(ctx context.Context, who authn.Identity, projectID string, in []NewTask, idempotencyKey string) ([]store.Task, error) {
	var v apperr.Violations
	if len(in) == 0 || len(in) > maxTasksPerBatch {
		v.Add("tasks", fmt.Sprintf("must hold between 1 and %d tasks", maxTasksPerBatch))
		return nil, v.Err()
	}
	input.CheckLine(&v, "idempotencyKey", idempotencyKey, false, 128)
	newID := func(string) string { return uuid.Must(uuid.NewV7()).String() }
	if idempotencyKey != "" {
		newID = func(key string) string {
			return uuid.NewSHA1(taskIDSpace, []byte(projectID+"\n"+idempotencyKey+"\n"+key)).String()
		}
	}
	ids := make(map[string]string, len(in)) // key -> new id
	for i, t := range in {
		f := fmt.Sprintf("tasks[%d].", i)
		switch {
		case strings.TrimSpace(t.Key) == "":
			v.Add(f+"key", "is required (unique within the request)")
		case ids[t.Key] != "":
			v.Add(f+"key", fmt.Sprintf("%q is used twice", t.Key))
		default:
			ids[t.Key] = newID(t.Key)
		}
		if t.Gate < 1 || t.Gate > workflow.Count {
			v.Add(f+"gate", fmt.Sprintf("must be between 1 and %d", workflow.Count))
		}
		input.CheckLine(&v, f+"title", strings.TrimSpace(t.Title), true, nameMaxLen)
		input.CheckText(&v, f+"description", t.Description, false, descriptionMaxLen)
		if t.OwnerRole != "" && !slices.Contains(agentRoles, t.OwnerRole) {
			v.Add(f+"ownerRole", "must be one of the AGENT_ROLE_ values")
		}
		if t.Priority != "" && !slices.Contains([]string{PriorityLow, PriorityMedium, PriorityHigh, PriorityCritical}, t.Priority) {
			v.Add(f+"priority", "must be one of the TASK_PRIORITY_ values")
		}
		if len(t.DependsOn) > maxTasksPerBatch {
			v.Add(f+"dependsOn", fmt.Sprintf("must hold at most %d entries", maxTasksPerBatch))
		}
		for j, d := range t.DependsOn {
			if !input.ValidID(d) {
				v.Add(fmt.Sprintf("%sdependsOn[%d]", f, j), "must be a key of this request or a task id")
			}
		}
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	if cycle := findCycle(in); cycle != nil {
		v.Add("tasks", "dependencies form a cycle: "+strings.Join(cycle, " -> "))
		return nil, v.Err()
	}
	tasks := make([]store.Task, len(in))
	created := make([]string, len(in))
	err := s.change(ctx, who, func(q store.Queries, rec *recorder) error {
		if _, err := s.access(ctx, q, who, projectID, ActWrite); err != nil {
			return err
		}
		if idempotencyKey != "" {
			if done, err := replayedTasks(ctx, q, projectID, in, ids, tasks); done || err != nil {
				return err
			}
		}
		for i, t := range in {
			deps := make([]string, len(t.DependsOn))
			for j, d := range t.DependsOn {
				if id, ok := ids[d]; ok {
					deps[j] = id
				} else {
					deps[j] = d // an existing task's id; the store checks it exists
				}
			}
			tasks[i] = store.Task{ID: ids[t.Key], ProjectID: projectID, Key: t.Key, Gate: t.Gate, Title: strings.TrimSpace(t.Title),
				Description: t.Description, OwnerRole: t.OwnerRole, Status: TaskTodo, Priority: cmp.Or(t.Priority, PriorityMedium),
				DependsOn: deps, CreatedAt: rec.now, UpdatedAt: rec.now}
			created[i] = tasks[i].ID
		}
		if err := q.CreateTasks(ctx, tasks); errors.Is(err, store.ErrNotFound) {
			v.Add("tasks", "a dependsOn entry is neither a key of this request nor the id of a task of this project")
			return v.Err()
		} else if err != nil {
			return err
		}
		rec.add(projectID, EventTasksChanged, TasksChanged{TaskIDs: created, Change: "created", Status: TaskTodo})
		return nil
	})
	return tasks, err
}

// taskIDSpace is the UUID namespace of task ids derived from idempotency keys.
var taskIDSpace = uuid.MustParse("5b0c3f7e-2a41-4c55-9a43-8d1f0e6b7a21")

// replayedTasks fills tasks with those an earlier request with the same idempotency key
// created, and reports whether there was one.
func replayedTasks(ctx context.Context, q store.Queries, projectID string, in []NewTask, ids map[string]string, tasks []store.Task) (bool, error) {
	for i, t := range in {
		stored, err := q.Task(ctx, projectID, ids[t.Key])
		if errors.Is(err, store.ErrNotFound) && i == 0 {
			return false, nil
		} else if errors.Is(err, store.ErrNotFound) {
			return false, apperr.FailedPrecondition("idempotencyKey was used for a different set of tasks")
		} else if err != nil {
			return false, err
		}
		tasks[i] = stored
	}
	return true, nil
}

// findCycle returns the keys of a dependency cycle among the batch, or nil. Dependencies on
// existing tasks cannot close a cycle: existing tasks never depend on new ones.
func findCycle(in []NewTask) []string {
	deps := make(map[string][]string, len(in))
	for _, t := range in {
		deps[t.Key] = t.DependsOn
	}
	const (
		unvisited = iota
		onPath
		done
	)
	state := make(map[string]int, len(in))
	var path []string
	var visit func(k string) []string
	visit = func(k string) []string {
		state[k] = onPath
		path = append(path, k)
		for _, d := range deps[k] {
			if _, inBatch := deps[d]; !inBatch {
				continue
			}
			switch state[d] {
			case onPath:
				start := slices.Index(path, d)
				return append(slices.Clone(path[start:]), d)
			case unvisited:
				if c := visit(d); c != nil {
					return c
				}
			}
		}
		path = path[:len(path)-1]
		state[k] = done
		return nil
	}
	for _, t := range in {
		if state[t.Key] == unvisited {
			if c := visit(t.Key); c != nil {
				return c
			}
		}
	}
	return nil
}

// Page sizes of ListTasks.
const (
	defaultTaskPage = 100
	maxTaskPage     = 500
)

// ListTasks lists the project's tasks in the order they were created, optionally only the ready
// ones or one gate's, a page at a time. The page token is opaque to clients. The filter's After
// and Limit are set from the page token and size.
func (s *Service) ListTasks(ctx context.Context, who authn.Identity, projectID string, f store.TaskFilter, pageSize int, pageToken string) ([]store.Task, string, error) {
	var v apperr.Violations
	if f.Gate < 0 || f.Gate > workflow.Count {
		v.Add("gate", fmt.Sprintf("must be between 0 (all) and %d", workflow.Count))
	}
	pageSize = paging.Size(&v, pageSize, defaultTaskPage, maxTaskPage)
	f.After, f.Limit = 0, pageSize+1
	if pageToken != "" {
		after, ok := paging.ParsePositionToken(pageToken)
		if !ok {
			v.Add("pageToken", "is not a token this API returned")
		}
		f.After = after
	}
	if err := v.Err(); err != nil {
		return nil, "", err
	}
	if _, err := s.access(ctx, s.Store, who, projectID, ActRead); err != nil {
		return nil, "", err
	}
	tasks, err := s.Store.Tasks(ctx, projectID, f)
	if err != nil {
		return nil, "", err
	}
	tasks, next := paging.Cut(tasks, pageSize, func(last store.Task) string { return paging.PositionToken(last.Position) })
	return tasks, next, nil
}

// UpdateTask changes a task's status.
func (s *Service) UpdateTask(ctx context.Context, who authn.Identity, projectID, taskID, status string) (store.Task, error) {
	if !slices.Contains([]string{TaskTodo, TaskInProgress, TaskDone, TaskBlocked}, status) {
		var v apperr.Violations
		v.Add("status", "is required: one of the TASK_STATUS_ values")
		return store.Task{}, v.Err()
	}
	var out store.Task
	err := s.change(ctx, who, func(q store.Queries, rec *recorder) error {
		if _, err := s.access(ctx, q, who, projectID, ActWrite); err != nil {
			return err
		}
		if !input.ValidID(taskID) {
			return apperr.NotFound("task %q not found in this project", taskID)
		}
		if err := q.SetTaskStatus(ctx, projectID, taskID, status, rec.now); errors.Is(err, store.ErrNotFound) {
			return apperr.NotFound("task %s not found in this project", taskID)
		} else if err != nil {
			return err
		}
		rec.add(projectID, EventTasksChanged, TasksChanged{TaskIDs: []string{taskID}, Change: "updated", Status: status})
		var err error
		out, err = q.Task(ctx, projectID, taskID)
		return err
	})
	return out, err
}

// AdvanceTasks moves the tasks an agent run works on, those of its gate owned by its role
// (status in_progress when the run starts, done when it succeeds), and returns those it changed.
// keys, when not empty, narrows them to the tasks with these keys (the run's handoff named the
// tasks it completed). A task already in the status, or past it, is left as it is: starting
// moves only tasks to do, so a retried run never takes a done task back; finishing moves every
// task to do or in progress (a task a person blocked stays blocked). A call that changes nothing records nothing, so repeating one is harmless.
// Only a service acting for an owner or editor calls it (the agents service); people change
// tasks with UpdateTask.
func (s *Service) AdvanceTasks(ctx context.Context, who authn.Identity, projectID string, gate int, role, status string, keys []string) ([]store.Task, error) {
	if !who.Delegated() {
		return nil, apperr.PermissionDenied("tasks are advanced by the agents' runs; change a task with UpdateTask")
	}
	var v apperr.Violations
	if gate < 1 || gate > workflow.Count {
		v.Add("gate", fmt.Sprintf("must be between 1 and %d", workflow.Count))
	}
	if !slices.Contains(agentRoles, role) {
		v.Add("role", "is required: one of the AGENT_ROLE_ values")
	}
	from, ok := advanceFrom[status]
	if !ok {
		v.Add("status", "is required: TASK_STATUS_IN_PROGRESS (a run started) or TASK_STATUS_DONE (it succeeded)")
	}
	if len(keys) > maxTasksPerBatch {
		v.Add("taskKeys", fmt.Sprintf("must hold at most %d keys", maxTasksPerBatch))
	}
	for i, k := range keys {
		input.CheckLine(&v, fmt.Sprintf("taskKeys[%d]", i), k, true, 128)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	sel := store.TaskSelection{Gate: gate, OwnerRole: role, From: from}
	if len(keys) > 0 {
		sel.Keys = keys
	}
	var out []store.Task
	err := s.change(ctx, who, func(q store.Queries, rec *recorder) error {
		if _, err := s.access(ctx, q, who, projectID, ActWrite); err != nil {
			return err
		}
		var err error
		out, err = setTasksStatus(ctx, q, rec, projectID, sel, status)
		return err
	})
	return out, err
}

// advanceFrom are the statuses AdvanceTasks moves tasks from, by the status it moves them to.
var advanceFrom = map[string][]string{
	TaskInProgress: {TaskTodo},
	// A task a person blocked stays blocked until a person moves it: a run's success does not
	// override their decision.
	TaskDone: {TaskTodo, TaskInProgress},
}

// reopenTasks takes the gate's tasks, done or in progress, back to do: changes were requested
// on it, so its work is to be done again (its agents' next runs move them on). It runs in the
// transaction of the request for changes.
func reopenTasks(ctx context.Context, q store.Queries, rec *recorder, projectID string, gate int) error {
	_, err := setTasksStatus(ctx, q, rec, projectID,
		store.TaskSelection{Gate: gate, From: []string{TaskInProgress, TaskDone}}, TaskTodo)
	return err
}

// setTasksStatus changes the selected tasks' status in one statement, records one timeline event
// for those it changed (none if it changed none), and returns them.
func setTasksStatus(ctx context.Context, q store.Queries, rec *recorder, projectID string, sel store.TaskSelection, status string) ([]store.Task, error) {
	ids, err := q.SetTasksStatus(ctx, projectID, sel, status, rec.now)
	if err != nil || len(ids) == 0 {
		return nil, err
	}
	rec.add(projectID, EventTasksChanged, TasksChanged{TaskIDs: ids, Change: "updated", Status: status})
	gateTasks, err := q.Tasks(ctx, projectID, store.TaskFilter{Gate: sel.Gate})
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(gateTasks, func(t store.Task) bool { return !slices.Contains(ids, t.ID) }), nil
}

// percentComplete is the project's progress, 0-100: the share of its gates approved, and once
// it has tasks the mean of that and the share of its tasks done (the gates say what the owner
// accepted, the tasks how far the work of the gates under way has come). A completed project
// is 100 whatever its tasks say.
func percentComplete(ctx context.Context, q store.Queries, p store.Project, approved int) (int, error) {
	if p.Status == store.StatusCompleted {
		return 100, nil
	}
	c, err := q.CountTasks(ctx, p.ID)
	if err != nil {
		return 0, err
	}
	if c.Total == 0 {
		return min(100, approved*100/workflow.Count), nil
	}
	// (approved/Count + Done/Total) / 2, in integers: rounded down.
	return min(100, (approved*c.Total+c.Done*workflow.Count)*100/(2*workflow.Count*c.Total)), nil
}

// Event page sizes.
const (
	defaultEventPage = 100
	maxEventPage     = 200 // with tasks_changed events of up to 500 ids, a page stays under 4 MiB
)

// EventQuery is what ListEvents lists.
type EventQuery struct {
	// After lists the events after it, oldest first (0: from the first).
	After int64
	// NewestFirst lists the newest first, a page at a time back to the first.
	NewestFirst bool
	PageSize    int
	// PageToken is the NextPageToken of the previous page of the newest-first list.
	PageToken string
}

// EventPage is a page of a project's timeline.
type EventPage struct {
	Events []store.Event
	// NextPageToken is empty on the page that reaches the first event, and oldest first: a client
	// catching up asks for the events after the last id it got.
	NextPageToken string
}

// ListEvents lists the timeline: oldest first after an event id, so a client that reconnects
// misses none, or newest first a page at a time. The page token is opaque to clients: the id
// of the oldest event of the page, which the next page ends before, so events appended
// meanwhile shift no page.
func (s *Service) ListEvents(ctx context.Context, who authn.Identity, projectID string, query EventQuery) (EventPage, error) {
	var v apperr.Violations
	switch {
	case query.After < 0:
		v.Add("after", "must be 0 or an event id")
	case query.After != 0 && query.NewestFirst:
		v.Add("after", "cannot be combined with newestFirst, whose pages go back with pageToken")
	}
	pageSize := paging.Size(&v, query.PageSize, defaultEventPage, maxEventPage)
	f := store.EventFilter{NewestFirst: query.NewestFirst, After: query.After, Limit: pageSize}
	if f.NewestFirst {
		f.Limit++ // the extra row tells whether another page follows
	}
	if query.PageToken != "" {
		before, ok := paging.ParsePositionToken(query.PageToken)
		switch {
		case !ok:
			v.Add("pageToken", "is not a token this API returned")
		case !f.NewestFirst:
			v.Add("pageToken", "pages the newest-first list: send newestFirst with it (oldest first, resume with after)")
		}
		f.Before = before
	}
	if err := v.Err(); err != nil {
		return EventPage{}, err
	}
	if _, err := s.access(ctx, s.Store, who, projectID, ActRead); err != nil {
		return EventPage{}, err
	}
	events, err := s.Store.Events(ctx, projectID, f)
	if err != nil {
		return EventPage{}, err
	}
	var page EventPage
	if f.NewestFirst {
		events, page.NextPageToken = paging.Cut(events, pageSize, func(last store.Event) string { return paging.PositionToken(last.ID) })
	}
	page.Events = events
	return page, nil
}
