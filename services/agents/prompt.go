package agents

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/fuzzyllama/fuzzyllama/services/agents/catalog"
	"github.com/fuzzyllama/fuzzyllama/services/agents/provider"
	"github.com/fuzzyllama/fuzzyllama/services/agents/store"
)

const (
	promptOpenTasks = 30
	promptHandoffs  = 5
	// treeListingBytes is what one line of the source tree's listing takes besides the path.
	treeListingBytes = 40
	// minShownBytes: with less budget left, no more file contents are shown (a few lines of a
	// file say little and cost a request each).
	minShownBytes = 512
)

// prompt builds what a run asks its model: the role's system prompt (with the output contract)
// and one user message with the project's description, the gate, the documents to produce, the
// latest versions of the project's documents and its source tree (bounded), open tasks, recent
// handoffs and, on a re-run, the reviewer's requested changes. The same content goes in the
// Brief, as data.
func (s *Service) prompt(ctx context.Context, r store.Run) (provider.Request, error) {
	role, ok := catalog.Get(r.Role)
	if !ok {
		return provider.Request{}, &provider.Error{Provider: "agents", Kind: provider.Permanent, Message: "unknown role " + r.Role}
	}
	p, err := s.Projects.Project(ctx, r.ProjectID)
	if err != nil {
		return provider.Request{}, fromService("projects", err)
	}
	files, err := s.Documents.Files(ctx, r.ProjectID)
	if err != nil {
		return provider.Request{}, fromService("documents", err)
	}
	// The documents and the source tree share the budget: with a tree, the documents get half
	// and the tree the rest.
	docBudget := s.Limits.ContextTotal
	if len(files) > 0 {
		docBudget /= 2
	}
	docs, err := s.Documents.Latest(ctx, r.ProjectID, s.Limits.ContextPerDocument, docBudget)
	if err != nil {
		return provider.Request{}, fromService("documents", err)
	}
	tree, err := s.sourceTree(ctx, r.ProjectID, role, files, s.Limits.ContextTotal-contentBytes(docs))
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
		Required: role.OutputsFor(r.Gate), Documents: docs, Files: tree, OpenTasks: tasks, Feedback: r.Feedback,
		Instructions: r.Instructions, NextRoles: next}
	return provider.Request{Model: r.Model, System: role.SystemPrompt, MaxTokens: role.MaxTokens, Brief: b,
		Messages: []provider.Message{{Role: "user", Content: userMessage(b, handoffs)}}}, nil
}

func contentBytes(docs []provider.ContextDocument) int {
	n := 0
	for _, d := range docs {
		n += len(d.Content)
	}
	return n
}

// sourceTree is the project's source tree as a run sees it: every file listed (the listing
// counts against budget), then as many contents as fit in what is left, most relevant to the
// role first (relevance), each cut to the per-document limit.
func (s *Service) sourceTree(ctx context.Context, projectID string, role catalog.Role, files []SourceFile, budget int) ([]provider.SourceFile, error) {
	out := make([]provider.SourceFile, len(files))
	order := make([]int, len(files))
	for i, f := range files {
		out[i] = provider.SourceFile{Path: f.Path, Version: f.Version, Size: f.Size}
		order[i] = i
		budget -= len(f.Path) + treeListingBytes
	}
	// files are in path order, and a stable sort keeps it within each rank.
	slices.SortStableFunc(order, func(a, b int) int { return relevance(role, files[a]) - relevance(role, files[b]) })
	for _, i := range order {
		if budget < minShownBytes {
			break
		}
		var content []byte
		if files[i].Size > 0 {
			var err error
			if content, err = s.Documents.Content(ctx, projectID, files[i].DocumentID, files[i].Version); err != nil {
				return nil, err
			}
		}
		shown := cut(string(content), min(s.Limits.ContextPerDocument, budget))
		budget -= len(shown)
		out[i].Content, out[i].Shown = shown, true
	}
	return out, nil
}

// relevance ranks a file for a role, lower first: the role's own files (under its directory),
// then the files at the root of the repository and the README of each directory there (what
// each component is and how it builds), then the rest.
func relevance(role catalog.Role, f SourceFile) int {
	switch {
	case role.SourceDir != "" && strings.HasPrefix(f.Path, role.SourceDir+"/"):
		return 0
	case !strings.Contains(f.Path, "/") || strings.Count(f.Path, "/") == 1 && strings.HasSuffix(f.Path, "/README.md"):
		return 1
	}
	return 2
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
		if d.Files {
			fmt.Fprintf(&m, "- your source code, as <file> blocks (deliverable %q)\n", d.Type)
		} else {
			fmt.Fprintf(&m, "- type %q, title %q\n", d.Type, d.Title)
		}
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
	if len(b.Files) > 0 {
		writeTree(&m, b.Files)
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

// writeTree renders the source tree: the listing, then the contents shown.
func writeTree(m *strings.Builder, files []provider.SourceFile) {
	shown := 0
	for _, f := range files {
		if f.Shown {
			shown++
		}
	}
	fmt.Fprintf(m, "\n## Source tree\n\nThe project's files, the latest version of each, by path (%d of %d shown below; to change a file, write it again in full at its path):\n\n",
		shown, len(files))
	for _, f := range files {
		note := ""
		if !f.Shown {
			note = ", not shown"
		}
		fmt.Fprintf(m, "- %s (%d bytes, version %d%s)\n", f.Path, f.Size, f.Version, note)
	}
	for _, f := range files {
		if !f.Shown {
			continue
		}
		content := f.Content
		if content != "" && !strings.HasSuffix(content, "\n") {
			content += "\n"
		}
		fmt.Fprintf(m, "\n<existing-file path=%q version=\"%d\">\n%s</existing-file>\n", f.Path, f.Version, content)
	}
}
