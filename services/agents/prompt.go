package agents

import (
	"context"
	"fmt"
	"strings"

	"github.com/fuzzyllama/fuzzyllama/services/agents/catalog"
	"github.com/fuzzyllama/fuzzyllama/services/agents/provider"
	"github.com/fuzzyllama/fuzzyllama/services/agents/store"
)

const (
	promptOpenTasks = 30
	promptHandoffs  = 5
)

// prompt builds what a run asks its model: the role's system prompt (with the output contract)
// and one user message with the project's description, the gate, the documents to produce, the
// latest versions of the project's documents (bounded), open tasks, recent handoffs and, on a
// re-run, the reviewer's requested changes. The same content goes in the Brief, as data.
func (s *Service) prompt(ctx context.Context, r store.Run) (provider.Request, error) {
	role, ok := catalog.Get(r.Role)
	if !ok {
		return provider.Request{}, &provider.Error{Provider: "agents", Kind: provider.Permanent, Message: "unknown role " + r.Role}
	}
	p, err := s.Projects.Project(ctx, r.ProjectID)
	if err != nil {
		return provider.Request{}, fromService("projects", err)
	}
	docs, err := s.Documents.Latest(ctx, r.ProjectID, s.Limits.ContextPerDocument, s.Limits.ContextTotal)
	if err != nil {
		return provider.Request{}, fromService("documents", err)
	}
	tasks, err := s.Projects.OpenTasks(ctx, r.ProjectID, promptOpenTasks)
	if err != nil {
		return provider.Request{}, fromService("projects", err)
	}
	handoffs, err := s.recentHandoffs(ctx, r)
	if err != nil {
		return provider.Request{}, err
	}
	var next []string
	if r.Gate < catalog.GateCount {
		if roles, err := s.gateRoles(ctx, p.Type, r.Gate+1); err == nil {
			for _, nr := range roles {
				next = append(next, nr.ID)
			}
		}
	}
	b := &provider.Brief{Role: role.ID, RoleName: role.Name, Gate: r.Gate, GateName: catalog.GateName(r.Gate),
		Revision: r.Revision, ProjectName: p.Name, ProjectType: p.Type, Description: p.Description,
		Required: role.OutputsFor(r.Gate), Documents: docs, OpenTasks: tasks, Feedback: r.Feedback,
		Instructions: r.Instructions, NextRoles: next}
	return provider.Request{Model: r.Model, System: role.SystemPrompt, MaxTokens: role.MaxTokens, Brief: b,
		Messages: []provider.Message{{Role: "user", Content: userMessage(b, handoffs)}}}, nil
}

// recentHandoffs are the notes of the project's latest successful runs before this one.
func (s *Service) recentHandoffs(ctx context.Context, r store.Run) ([]string, error) {
	runs, err := s.Store.Runs(ctx, r.ProjectID, store.RunPage{Limit: 50})
	if err != nil {
		return nil, err
	}
	var out []string
	for _, o := range runs {
		if o.ID != r.ID && o.State == store.StateSucceeded && o.Result.Notes != "" {
			out = append(out, fmt.Sprintf("%s at G%d: %s", o.Role, o.Gate, o.Result.Notes))
			if len(out) == promptHandoffs {
				break
			}
		}
	}
	return out, nil
}

// userMessage renders the brief for a language model.
func userMessage(b *provider.Brief, handoffs []string) string {
	var m strings.Builder
	fmt.Fprintf(&m, "# Project: %s\n\nType: %s\n\n## What the owner wants built\n\n%s\n\n", b.ProjectName, b.ProjectType,
		strings.TrimSpace(b.Description))
	fmt.Fprintf(&m, "## Your task\n\nYou are the %s at gate G%d (%s).", b.RoleName, b.Gate, b.GateName)
	if b.Revision > 0 {
		fmt.Fprintf(&m, " This is revision %d of the gate: the owner asked for changes.", b.Revision)
	}
	m.WriteString(" Produce these documents, with exactly these types and titles:\n\n")
	for _, d := range b.Required {
		fmt.Fprintf(&m, "- type %q, title %q\n", d.Type, d.Title)
	}
	if b.Feedback != "" {
		fmt.Fprintf(&m, "\n## The reviewer's requested changes\n\n%s\n\nRevise the current versions below to address every point; keep their titles.\n", b.Feedback)
	}
	if b.Instructions != "" {
		fmt.Fprintf(&m, "\n## Additional instructions\n\n%s\n", b.Instructions)
	}
	if len(b.NextRoles) > 0 {
		fmt.Fprintf(&m, "\nThe roles after you: %s.\n", strings.Join(b.NextRoles, ", "))
	}
	if len(b.Documents) > 0 {
		m.WriteString("\n## The project's documents (latest versions)\n")
		for _, d := range b.Documents {
			fmt.Fprintf(&m, "\n<existing-document type=%q title=%q version=\"%d\">\n%s\n</existing-document>\n", d.Type, d.Title, d.Version, d.Content)
		}
	}
	if len(b.OpenTasks) > 0 {
		m.WriteString("\n## Open tasks\n\n")
		for _, t := range b.OpenTasks {
			fmt.Fprintf(&m, "- %s\n", t)
		}
	}
	if len(handoffs) > 0 {
		m.WriteString("\n## Recent handoffs\n\n")
		for _, h := range handoffs {
			fmt.Fprintf(&m, "- %s\n", h)
		}
	}
	return m.String()
}
