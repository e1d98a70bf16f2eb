package documents

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"strings"
	"time"

	"github.com/fuzzyllama/fuzzyllama/platform/apperr"
	"github.com/fuzzyllama/fuzzyllama/platform/input"
	"github.com/fuzzyllama/fuzzyllama/services/documents/archive"
	"github.com/fuzzyllama/fuzzyllama/services/documents/gitexport"
	"github.com/fuzzyllama/fuzzyllama/services/documents/github"
	"github.com/fuzzyllama/fuzzyllama/services/documents/store"
)

// ExportConfig configures exports to git.
type ExportConfig struct {
	// TempDir is where repositories are built, each in a directory of its own removed after the
	// export; empty means the system's temporary directory.
	TempDir string
	// Policy says which remotes a push may reach (the remote URL comes from a user).
	Policy gitexport.Policy
	// GitHub creates repositories.
	GitHub *github.Client
	// Committer is the committer of every exported commit.
	Committer gitexport.Signature
}

// A git export builds a repository on disk and talks to a remote someone else runs: at most
// maxGitExports run at once in a process, each for at most gitExportTimeout.
const (
	maxGitExports    = 4
	gitExportTimeout = 10 * time.Minute
)

// contentPage bounds the versions whose content an export reads in one query, and so the
// content it holds in memory: at most contentPage × MaxContentBytes.
const contentPage = 16

// Archive names an export archive.
type Archive struct {
	Filename, ContentType string
}

// manifest lists an archive's documents. It is the archive's first file, manifest.json, unless
// the project's source tree has a file of its own there (see exportPaths).
type manifest struct {
	Format     int             `json:"format"`
	Project    manifestProject `json:"project"`
	ExportedAt time.Time       `json:"exportedAt"`
	Documents  []manifestEntry `json:"documents"`
}

type manifestProject struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

type manifestEntry struct {
	Path        string    `json:"path"`
	ID          string    `json:"id"`
	Type        string    `json:"type"`
	Title       string    `json:"title"`
	Gate        int       `json:"gate,omitempty"`
	Version     int       `json:"version"`
	ContentHash string    `json:"contentHash"`
	SizeBytes   int64     `json:"sizeBytes"`
	AuthorID    string    `json:"authorId"`
	AgentRunID  string    `json:"agentRunId,omitempty"`
	AgentRole   string    `json:"agentRole,omitempty"`
	UpdatedAt   time.Time `json:"updatedAt"`
}

// ExportArchive checks the caller may read the project and returns the archive's name and a
// function that writes it to w: the manifest, then each document's latest version at its path
// (source files at their own paths, documents under docs/; see exportPaths), byte for byte. The
// documents are those that exist when ExportArchive is called; their contents are read a few at
// a time while writing.
func (s *Service) ExportArchive(ctx context.Context, projectID, format string) (Archive, func(w io.Writer) error, error) {
	if format != archive.Zip && format != archive.TarGz {
		return Archive{}, nil, apperr.InvalidField("format", "must be ARCHIVE_FORMAT_ZIP or ARCHIVE_FORMAT_TAR_GZ")
	}
	p, err := s.authorize(ctx, projectID, false)
	if err != nil {
		return Archive{}, nil, err
	}
	docs, err := s.Store.Documents(ctx, projectID, store.DocumentFilter{})
	if err != nil {
		return Archive{}, nil, err
	}
	paths, manifestAt := exportPaths(docs)
	m := manifest{Format: 1, Project: manifestProject{ID: p.ID, Name: p.Name}, ExportedAt: s.now(), Documents: []manifestEntry{}}
	for _, d := range docs {
		m.Documents = append(m.Documents, manifestEntry{Path: paths[d.ID], ID: d.ID, Type: d.Type, Title: d.Title, Gate: d.Gate,
			Version: d.Latest.Number, ContentHash: d.Latest.ContentHash, SizeBytes: d.Latest.Size, AuthorID: d.Latest.AuthorUserID,
			AgentRunID: d.Latest.AgentRunID, AgentRole: d.Latest.AgentRole, UpdatedAt: d.Latest.CreatedAt})
	}
	name := Archive{Filename: slug(p.Name, true) + "-documents" + archive.Extension(format), ContentType: archive.ContentType(format)}
	write := func(w io.Writer) error {
		aw, err := archive.NewWriter(w, format)
		if err != nil {
			return err
		}
		mj, err := json.MarshalIndent(m, "", "  ")
		if err != nil {
			return err
		}
		if err := aw.Add(manifestAt, append(mj, '\n'), m.ExportedAt); err != nil {
			return err
		}
		latest := make([]store.Version, len(docs))
		for i, d := range docs {
			latest[i] = d.Latest
		}
		for v, err := range s.withContents(ctx, projectID, slicePages(latest)) {
			if err != nil {
				return err
			}
			if err := aw.Add(paths[v.DocumentID], v.Content, v.CreatedAt); err != nil {
				return err
			}
		}
		return aw.Close()
	}
	return name, write, nil
}

// slicePages yields versions in pages of contentPage.
func slicePages(versions []store.Version) iter.Seq2[[]store.Version, error] {
	return func(yield func([]store.Version, error) bool) {
		for start := 0; start < len(versions); start += contentPage {
			if !yield(versions[start:min(start+contentPage, len(versions))], nil) {
				return
			}
		}
	}
}

// withContents yields each version of each page with its content, reading one page of
// contents at a time.
func (s *Service) withContents(ctx context.Context, projectID string, pages iter.Seq2[[]store.Version, error]) iter.Seq2[store.Version, error] {
	return func(yield func(store.Version, error) bool) {
		for page, err := range pages {
			if err != nil {
				yield(store.Version{}, err)
				return
			}
			refs := make([]store.VersionRef, len(page))
			for i, v := range page {
				refs[i] = store.VersionRef{DocumentID: v.DocumentID, Number: v.Number}
			}
			contents, err := s.Store.Contents(ctx, projectID, refs)
			if err != nil {
				yield(store.Version{}, err)
				return
			}
			for _, v := range page {
				content, ok := contents[store.VersionRef{DocumentID: v.DocumentID, Number: v.Number}]
				if !ok { // versions are never deleted: only a bug gets here
					yield(store.Version{}, fmt.Errorf("version %d of document %s has no content", v.Number, v.DocumentID))
					return
				}
				v.Content = content
				if !yield(v, nil) {
					return
				}
			}
		}
	}
}

// GitExport is what ExportToGit is asked to do.
type GitExport struct {
	// RemoteURL is an existing repository to push to; empty when CreateRepository is set.
	RemoteURL string
	// Token authorises the push (and the repository's creation). Never stored or logged.
	Token  string
	Branch string
	// CreateRepository, when set, creates a GitHub repository for the token's user first.
	CreateRepository *github.NewRepository
}

// GitResult is what ExportToGit did.
type GitResult struct {
	RemoteURL, HTMLURL, Branch, Head string
	Commits                          int
}

// ExportToGit builds a git repository whose history has one commit per document version,
// oldest first, and pushes it; see the ExportToGit RPC.
func (s *Service) ExportToGit(ctx context.Context, projectID string, e GitExport) (GitResult, error) {
	if e.Branch == "" {
		e.Branch = "main"
	}
	var v apperr.Violations
	if e.Token == "" || len(e.Token) > 1024 || strings.ContainsFunc(e.Token, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		v.Add("token", "is required: the access token that may push to the remote (at most 1024 characters, no spaces)")
	}
	if err := gitexport.CheckBranchName(e.Branch); err != nil {
		v.Add("branch", "must be a valid git branch name such as main or docs/export")
	}
	switch {
	case e.CreateRepository != nil && e.RemoteURL != "":
		v.Add("remoteUrl", "must be empty when createGithubRepository is set: the new repository is the remote")
	case e.CreateRepository != nil:
		if err := github.CheckRepositoryName(e.CreateRepository.Name); err != nil {
			v.Add("createGithubRepository.name", err.Error())
		}
		input.CheckLine(&v, "createGithubRepository.description", e.CreateRepository.Description, false, 350)
	default:
		if err := gitexport.CheckRemoteURL(e.RemoteURL, s.Export.Policy); err != nil {
			v.Add("remoteUrl", strings.TrimPrefix(err.Error(), gitexport.ErrInvalidRemoteURL.Error()+": "))
		}
	}
	if err := v.Err(); err != nil {
		return GitResult{}, err
	}
	if _, err := s.authorize(ctx, projectID, false); err != nil {
		return GitResult{}, err
	}
	release, err := s.exports.acquire(ctx, maxGitExports, "git exports")
	if err != nil {
		return GitResult{}, err
	}
	defer release()
	ctx, cancel := context.WithTimeout(ctx, gitExportTimeout)
	defer cancel()
	dir, err := os.MkdirTemp(s.Export.TempDir, "git-export-")
	if err != nil {
		return GitResult{}, err
	}
	defer os.RemoveAll(dir)
	versions, err := s.history(ctx, projectID)
	if err != nil {
		return GitResult{}, err
	}
	repo, err := gitexport.Build(ctx, dir, e.Branch, s.Export.Committer, versions)
	switch {
	case errors.Is(err, gitexport.ErrNothingToExport):
		return GitResult{}, apperr.FailedPrecondition("the project has no documents to export yet")
	case errors.Is(err, gitexport.ErrInvalidInput): // paths and names are ours: a bug, but the caller's request was fine
		s.Logger.ErrorContext(ctx, "git export refused its own input", "project_id", projectID, "error", err.Error())
		return GitResult{}, apperr.FailedPrecondition("the documents cannot be written as a git repository: %s", err)
	case err != nil:
		return GitResult{}, err
	}
	out := GitResult{RemoteURL: e.RemoteURL, Branch: e.Branch, Head: repo.Head(), Commits: repo.Commits()}
	if e.CreateRepository != nil {
		created, err := s.Export.GitHub.CreateRepository(ctx, e.Token, *e.CreateRepository)
		if err != nil {
			return GitResult{}, gitHubError(err, e.Token)
		}
		out.RemoteURL, out.HTMLURL = created.CloneURL, created.HTMLURL
	}
	if err := repo.Push(ctx, out.RemoteURL, e.Token, s.Export.Policy); err != nil {
		return GitResult{}, s.pushError(ctx, projectID, err, e.Token, e.Branch)
	}
	return out, nil
}

// history lists the project's versions as they were stored, as files to commit. It is a
// snapshot: versions stored after it starts are left out, so the export is a prefix of the
// history the next export will have.
func (s *Service) history(ctx context.Context, projectID string) (iter.Seq2[gitexport.Version, error], error) {
	docs, err := s.Store.Documents(ctx, projectID, store.DocumentFilter{})
	if err != nil {
		return nil, err
	}
	paths, _ := exportPaths(docs)
	byID, upTo := make(map[string]store.Document, len(docs)), int64(0)
	for _, d := range docs {
		byID[d.ID] = d
		upTo = max(upTo, d.Latest.Seq) // a document's latest version is its last stored
	}
	pages := func(yield func([]store.Version, error) bool) {
		for after := int64(0); after < upTo; {
			page, err := s.Store.History(ctx, projectID, after, upTo, contentPage)
			if err != nil || len(page) == 0 {
				if err != nil {
					yield(nil, err)
				}
				return
			}
			after = page[len(page)-1].Seq
			if !yield(page, nil) {
				return
			}
		}
	}
	return func(yield func(gitexport.Version, error) bool) {
		for v, err := range s.withContents(ctx, projectID, pages) {
			if err != nil {
				yield(gitexport.Version{}, err)
				return
			}
			d := byID[v.DocumentID]
			name, email := commitAuthor(v)
			if !yield(gitexport.Version{Path: paths[v.DocumentID], Content: v.Content, Message: commitMessage(d, v),
				AuthorName: name, AuthorEmail: email, Time: v.CreatedAt}, nil) {
				return
			}
		}
	}, nil
}

// commitAuthor names a version's author without revealing anyone's email address: exports are
// pushed to places other members of the project do not control.
func commitAuthor(v store.Version) (name, email string) {
	if v.AgentRunID != "" {
		return strings.ReplaceAll(v.AgentRole, "_", " ") + " agent", v.AgentRole + "@agents.fuzzyllama.invalid"
	}
	return "FuzzyLlama user " + v.AuthorUserID, v.AuthorUserID + "@users.fuzzyllama.invalid"
}

// commitMessage is the change note (or a default) with trailers naming the version.
func commitMessage(d store.Document, v store.Version) string {
	subject := strings.TrimSpace(v.ChangeNote)
	if subject == "" {
		subject = fmt.Sprintf("%s: version %d", d.Title, v.Number)
	}
	trailers := fmt.Sprintf("Document-Id: %s\nDocument-Version: %d\nContent-Hash: %s\n", d.ID, v.Number, v.ContentHash)
	if v.AgentRunID != "" {
		trailers += "Agent-Run: " + v.AgentRunID + "\n"
	}
	return subject + "\n\n" + trailers
}

// pushError says in the caller's terms why a push failed, never with the token, and never with
// what the remote's host resolves to, which addresses were dialed, or the server's DNS resolver:
// the remote URL is anyone's, so such detail would let any viewer probe the internal network.
// The detail is logged at WARN instead.
func (s *Service) pushError(ctx context.Context, projectID string, err error, token, branch string) error {
	switch {
	case errors.Is(err, gitexport.ErrNonFastForward):
		return apperr.FailedPrecondition("the remote's branch %s has commits this export does not contain: nothing was overwritten; export to a new branch or repository", branch).
			WithReason("NON_FAST_FORWARD")
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return err
	}
	s.Logger.WarnContext(ctx, "git export: the push failed", "project_id", projectID, "error", redact(err, token))
	switch {
	case errors.Is(err, gitexport.ErrAuthentication):
		return apperr.InvalidField("token", "was refused by the remote: it is wrong, expired, or may not push there")
	case errors.Is(err, gitexport.ErrRemoteNotFound):
		return apperr.InvalidField("remoteUrl", "names no repository the token can reach")
	case errors.Is(err, gitexport.ErrInvalidRemoteURL):
		// CheckRemoteURL's own words, about the URL as written: nothing was resolved or dialed.
		return apperr.InvalidField("remoteUrl", "is not a remote exports may reach: "+
			strings.TrimPrefix(redact(err, token), gitexport.ErrInvalidRemoteURL.Error()+": "))
	case errors.Is(err, gitexport.ErrRemoteRefused):
		return apperr.InvalidField("remoteUrl", "is not allowed: it leads to a network address or a redirect that exports may not reach")
	case errors.Is(err, gitexport.ErrUnreachable):
		return apperr.FailedPrecondition("the remote could not be reached: check the host name in the URL and that the server is online").
			WithReason("PUSH_FAILED")
	case errors.Is(err, gitexport.ErrRejected):
		// The remote's own answer (a hook or branch protection saying no) is the caller's to read.
		return apperr.FailedPrecondition("the push to the remote failed: %s", redact(err, token)).WithReason("PUSH_FAILED")
	}
	// The remote is the caller's: its failures (not a git server, a TLS certificate that does
	// not match) are not this service being unavailable.
	return apperr.FailedPrecondition("the push to the remote failed: the remote did not answer as a git server over HTTP(S)").
		WithReason("PUSH_FAILED")
}

// gitHubError says in the caller's terms why GitHub refused to create the repository.
func gitHubError(err error, token string) error {
	var limited *github.RateLimitError
	switch {
	case errors.Is(err, github.ErrBadCredentials):
		return apperr.InvalidField("token", "was refused by GitHub (bad credentials)")
	case errors.Is(err, github.ErrRepositoryExists):
		return &apperr.Error{Kind: apperr.KindAlreadyExists, Message: "the token's user already has a repository of that name",
			Fields: []apperr.FieldViolation{{Field: "createGithubRepository.name", Description: "is taken on that account"}}}
	case errors.As(err, &limited):
		return apperr.ResourceExhausted(limited.RetryAfter, "GitHub's rate limit for this token is reached: try again later")
	case errors.Is(err, github.ErrForbidden):
		return apperr.PermissionDenied("GitHub refused to create the repository: %s", redact(err, token))
	case errors.Is(err, github.ErrInvalidRepository):
		return apperr.InvalidField("createGithubRepository", "was refused by GitHub: "+redact(err, token))
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return err
	}
	return apperr.Unavailable("GitHub could not create the repository: %s", redact(err, token))
}

// redact is err's text without the token, should any layer ever echo it.
func redact(err error, token string) string {
	return strings.ReplaceAll(err.Error(), token, "[token]")
}
