package output

import (
	"fmt"
	"strings"
)

// validHandoff checks a decoded handoff against the contract and the answer's documents and
// files, and returns it normalised.
func validHandoff(h Handoff, docs []Document, files []File, p *problems) Handoff {
	produced := make(map[string]bool, len(docs)+1)
	for _, d := range docs {
		produced[d.Type] = true
	}
	produced[CodeType] = produced[CodeType] || len(files) > 0 // a file is a code deliverable
	h.Deliverables = words(h.Deliverables, "deliverables", docType, "a document type", p, func(i int, w string) {
		if !produced[w] {
			what := "<document> block"
			if w == CodeType {
				what = "<file> or code <document> block"
			}
			p.add("handoff: deliverables[%d] %s has no %s in this answer", i, quote(w), what)
		}
	})
	h.NextRoles = words(h.NextRoles, "nextRoles", role, "an agent role", p, nil)
	if problem := textProblem(h.Notes, MaxNotesLen); problem != "" {
		p.add("handoff: notes %s", problem)
	}
	h.Tasks = tasks(h.Tasks, p)
	h.DoneTasks = doneTasks(h.DoneTasks, p)
	return h
}

// doneTasks validates the keys of the tasks an answer says it completed, keeping an empty list
// (none done) apart from an absent one (all done).
func doneTasks(in *[]string, p *problems) *[]string {
	if in == nil {
		return nil
	}
	if len(*in) > MaxDoneTasks {
		p.add("handoff: doneTasks names %d tasks; at most %d are allowed", len(*in), MaxDoneTasks)
	}
	out := []string{}
	seen := make(map[string]int, len(*in))
	for i, k := range *in {
		k = strings.TrimSpace(k)
		if k == "" {
			p.add("handoff: doneTasks[%d] is empty: name a task by its key", i)
		} else if problem := lineProblem(k, MaxTaskKeyLen); problem != "" {
			p.add("handoff: doneTasks[%d] %s", i, problem)
		} else if first, dup := seen[k]; dup {
			p.add("handoff: doneTasks[%d] %s repeats doneTasks[%d]", i, quote(k), first)
		} else {
			seen[k] = i
			out = append(out, k)
		}
	}
	return &out
}

// words normalises a list of enum words, reporting unknown and repeated ones; check, if set, is
// called for each known word.
func words(list []string, field string, canonical func(string) (string, bool), what string, p *problems, check func(int, string)) []string {
	var out []string
	seen := make(map[string]int, len(list))
	for i, w := range list {
		c, ok := canonical(w)
		switch first, dup := seen[c]; {
		case !ok:
			p.add("handoff: %s[%d] %s is not %s", field, i, quote(w), what)
			continue
		case dup:
			p.add("handoff: %s[%d] %s repeats %s[%d]", field, i, quote(w), field, first)
			continue
		}
		seen[c] = i
		if check != nil {
			check(i, c)
		}
		out = append(out, c)
	}
	return out
}

// tasks validates a decomposition: fields, unique keys, dependencies within the batch, no cycle.
func tasks(in []Task, p *problems) []Task {
	if len(in) > MaxTasks {
		p.add("handoff: %d tasks; at most %d are allowed", len(in), MaxTasks)
	}
	if len(in) == 0 {
		return nil
	}
	out := make([]Task, len(in))
	index := make(map[string]int, len(in)) // key -> task
	for i, t := range in {
		t.Key, t.Title = strings.TrimSpace(t.Key), strings.TrimSpace(t.Title)
		at := fmt.Sprintf("handoff: tasks[%d]", i)
		if t.Key == "" {
			p.add("%s has no key", at)
		} else if problem := lineProblem(t.Key, MaxTaskKeyLen); problem != "" {
			p.add("%s.key %s %s", at, quote(t.Key), problem)
		} else if first, dup := index[t.Key]; dup {
			p.add("%s.key %s is also the key of tasks[%d]", at, quote(t.Key), first)
		} else {
			index[t.Key] = i
		}
		if t.Title == "" {
			p.add("%s (%s) has no title", at, quote(t.Key))
		} else if problem := lineProblem(t.Title, MaxTitleLen); problem != "" {
			p.add("%s.title %s", at, problem)
		}
		if problem := textProblem(t.Description, MaxTaskDescriptionLen); problem != "" {
			p.add("%s.description %s", at, problem)
		}
		if t.Gate < 0 || t.Gate > GateCount {
			p.add("%s.gate %d is not a gate: 1 to %d", at, t.Gate, GateCount)
		}
		if r, ok := role(t.OwnerRole); ok {
			t.OwnerRole = r
		} else if strings.TrimSpace(t.OwnerRole) == "" {
			t.OwnerRole = "" // none named: the agents service assigns the gate's role, if it has one
		} else {
			p.add("%s.ownerRole %s is not an agent role", at, quote(t.OwnerRole))
		}
		if pr, ok := priority(t.Priority); ok {
			t.Priority = pr
		} else {
			p.add("%s.priority %s is not one of low, medium, high, critical", at, quote(t.Priority))
		}
		out[i] = t
	}
	for i := range out {
		out[i].DependsOn = dependencies(i, out[i], index, p)
	}
	if cycle := findCycle(out, index); cycle != nil {
		p.add("handoff: tasks form a dependency cycle: %s", cyclePath(cycle))
	}
	return out
}

// dependencies checks one task's dependsOn against the batch's keys.
func dependencies(i int, t Task, index map[string]int, p *problems) []string {
	var out []string
	seen := make(map[string]bool, len(t.DependsOn))
	for j, d := range t.DependsOn {
		d = strings.TrimSpace(d)
		_, known := index[d]
		switch {
		case d == t.Key:
			p.add("handoff: tasks[%d] (%s) depends on itself", i, quote(t.Key))
		case !known:
			p.add("handoff: tasks[%d].dependsOn names %s, which is not a task key in this handoff", i, quote(d))
		case seen[d]:
			p.add("handoff: tasks[%d].dependsOn[%d] repeats %s", i, j, quote(d))
		default:
			seen[d] = true
			out = append(out, d)
		}
	}
	return out
}

// findCycle returns the keys of one dependency cycle (first key repeated at the end), or nil.
// It is an iterative depth-first search, linear in tasks and edges and safe for any batch size.
func findCycle(ts []Task, index map[string]int) []string {
	const (
		unvisited = iota
		onPath
		done
	)
	state := make([]int, len(ts))
	type frame struct{ task, next int }
	for root := range ts {
		if state[root] != unvisited || index[ts[root].Key] != root {
			continue
		}
		stack := []frame{{root, 0}}
		state[root] = onPath
		for len(stack) > 0 {
			top := &stack[len(stack)-1]
			deps := ts[top.task].DependsOn
			if top.next == len(deps) {
				state[top.task] = done
				stack = stack[:len(stack)-1]
				continue
			}
			d := index[deps[top.next]]
			top.next++
			switch state[d] {
			case onPath:
				var cycle []string
				for k := len(stack) - 1; k >= 0; k-- {
					cycle = append(cycle, ts[stack[k].task].Key)
					if stack[k].task == d {
						break
					}
				}
				for l, r := 0, len(cycle)-1; l < r; l, r = l+1, r-1 {
					cycle[l], cycle[r] = cycle[r], cycle[l]
				}
				return append(cycle, ts[d].Key)
			case unvisited:
				state[d] = onPath
				stack = append(stack, frame{d, 0})
			}
		}
	}
	return nil
}

// cyclePath renders a cycle for a message, shortened if long.
func cyclePath(cycle []string) string {
	const max = 8
	parts := make([]string, 0, max+1)
	for i, k := range cycle {
		if i == max && len(cycle) > max+1 {
			parts = append(parts, fmt.Sprintf("… (%d more)", len(cycle)-max-1), quote(cycle[len(cycle)-1]))
			break
		}
		parts = append(parts, quote(k))
	}
	return strings.Join(parts, " → ")
}
