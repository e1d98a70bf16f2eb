// Taking the project's documents away: an archive (ZIP or tar.gz) of their latest versions, or
// their whole history pushed to a git remote or to a new GitHub repository. The token of a push
// lives in the form only until the push answers: never stored, never in a query key.
import { useMutation } from "@tanstack/react-query";
import { useId, useState, type FormEvent } from "react";
import { useApi } from "../../../api/ApiProvider";
import { unwrap, type Schemas } from "../../../api/client";
import { ErrorView } from "../../../shared/ErrorView";
import { fieldError } from "../../../shared/errors";
import { formatCount } from "../../../shared/format";
import { TextArea, TextField } from "../../../shared/TextField";
import { useTitle } from "../../../shared/useTitle";
import { useCurrentProject } from "../ProjectLayout";
import { DownloadButton } from "../../../shared/download/DownloadButton";

export function Component() {
  const project = useCurrentProject();
  useTitle(`Export · ${project.name}`);
  return (
    <section aria-labelledby="export-heading">
      <h2 id="export-heading">Export</h2>
      <section aria-labelledby="download-heading" className="panel">
        <h3 id="download-heading">Download</h3>
        <p className="muted">
          The latest version of every document, as files, with a manifest.json listing them.
        </p>
        <div className="actions">
          <DownloadButton project={project} format="ARCHIVE_FORMAT_ZIP" label="Download ZIP" />
          <DownloadButton project={project} format="ARCHIVE_FORMAT_TAR_GZ" label="Download tar.gz" />
        </div>
      </section>
      <PushToGit projectId={project.id} />
    </section>
  );
}

type PushResult = Schemas["ExportToGitResponse"];

function PushToGit({ projectId }: { projectId: string }) {
  const api = useApi();
  const [createRepo, setCreateRepo] = useState(false);
  const [remoteUrl, setRemoteUrl] = useState("");
  const [branch, setBranch] = useState("");
  const [token, setToken] = useState("");
  const [repoName, setRepoName] = useState("");
  const [repoDescription, setRepoDescription] = useState("");
  const [repoPublic, setRepoPublic] = useState(false);
  const publicId = useId();
  const createId = useId();
  // The body is made when the push is sent; the mutation keeps no variables, so the token is
  // nowhere but in the form, and the form forgets it as soon as the push answers.
  const push = useMutation<PushResult>({
    // Nothing of the push outlives the page: its function closes over the token.
    gcTime: 0,
    mutationFn: () =>
      unwrap(
        api.POST("/api/v1/projects/{projectId}/documents:exportToGit", {
          params: { path: { projectId } },
          body: {
            token,
            ...(branch.trim() ? { branch: branch.trim() } : {}),
            ...(createRepo
              ? {
                  createGithubRepository: {
                    name: repoName.trim(),
                    ...(repoDescription.trim() ? { description: repoDescription.trim() } : {}),
                    public: repoPublic,
                  },
                }
              : { remoteUrl: remoteUrl.trim() }),
          },
        }),
      ),
    onSettled: () => setToken(""),
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    push.mutate();
  };
  const err = (field: string) => fieldError(push.error, field);
  const named = [
    "token",
    "branch",
    "remoteUrl",
    "createGithubRepository.name",
    "createGithubRepository.description",
  ];
  const unnamed = push.isError && !named.some((f) => err(f));
  return (
    <form onSubmit={submit} noValidate className="panel push-git" aria-labelledby="push-heading">
      <h3 id="push-heading">Push to git</h3>
      <p className="muted">
        Every document becomes a file under docs/, with one commit per version, oldest first. Exporting again
        after new versions adds their commits; a branch with commits of its own is refused, never overwritten.
      </p>
      <div className="export-check">
        <input
          id={createId}
          type="checkbox"
          checked={createRepo}
          aria-describedby={`${createId}-hint`}
          onChange={(e) => setCreateRepo(e.target.checked)}
        />
        <label htmlFor={createId}>Create a new GitHub repository</label>
      </div>
      <small id={`${createId}-hint`} className="muted">
        Instead of pushing to an existing remote: the repository is made for the GitHub user the token belongs
        to, then pushed to.
      </small>
      {createRepo ? (
        <fieldset>
          <legend>New GitHub repository</legend>
          <TextField
            label="Repository name"
            name="repository-name"
            autoComplete="off"
            required
            value={repoName}
            onChange={(e) => setRepoName(e.target.value)}
            hint="1–100 letters, digits, '.', '_' or '-'."
            error={err("createGithubRepository.name")}
          />
          <TextArea
            label="Repository description"
            name="repository-description"
            rows={2}
            value={repoDescription}
            onChange={(e) => setRepoDescription(e.target.value)}
            error={err("createGithubRepository.description")}
          />
          <div className="export-check">
            <input
              id={publicId}
              type="checkbox"
              checked={repoPublic}
              onChange={(e) => setRepoPublic(e.target.checked)}
            />
            <label htmlFor={publicId}>Public repository (it is private otherwise)</label>
          </div>
        </fieldset>
      ) : (
        <TextField
          label="Remote URL"
          name="remote-url"
          type="url"
          inputMode="url"
          autoComplete="off"
          required
          placeholder="https://github.com/ann/recipes"
          value={remoteUrl}
          onChange={(e) => setRemoteUrl(e.target.value)}
          hint="The https URL of an existing repository, without credentials in it."
          error={err("remoteUrl")}
        />
      )}
      <TextField
        label="Branch"
        name="branch"
        autoComplete="off"
        placeholder="main"
        value={branch}
        onChange={(e) => setBranch(e.target.value)}
        hint="Left empty: main."
        error={err("branch")}
      />
      <TextField
        label="Token"
        name="token"
        type="password"
        autoComplete="off"
        required
        value={token}
        onChange={(e) => setToken(e.target.value)}
        hint="An access token that may push there (and create the repository). Used for this push only: never stored, and cleared from this page when the push answers."
        error={err("token")}
      />
      {unnamed ? <ErrorView error={push.error} title="The push failed" /> : null}
      {push.isPending ? (
        <p role="status" className="muted">
          Pushing…
        </p>
      ) : null}
      {push.isSuccess ? <PushDone result={push.data} /> : null}
      <div className="actions">
        <button type="submit" className="primary" disabled={push.isPending}>
          Push
        </button>
      </div>
    </form>
  );
}

function PushDone({ result }: { result: PushResult }) {
  // Linked only when it is a web address (the API answers https remotes; nothing else is followed).
  const page = [result.htmlUrl, result.remoteUrl].find((u) => u.startsWith("https://")) ?? "";
  return (
    <div className="notice" role="status">
      <p>
        Pushed {formatCount(result.commits)} {result.commits === 1 ? "commit" : "commits"} to {result.branch}{" "}
        at {page ? <a href={page}>{result.remoteUrl || page}</a> : result.remoteUrl}.
      </p>
      <p>
        Head commit: <code>{result.headCommit}</code>
      </p>
    </div>
  );
}
