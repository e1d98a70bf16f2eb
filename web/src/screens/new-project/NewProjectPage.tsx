import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { Link, useNavigate } from "react-router";
import { useApi } from "../../api/ApiProvider";
import { unwrap } from "../../api/client";
import { queryKeys } from "../../api/queryKeys";
import { ErrorView } from "../../shared/ErrorView";
import { errorMessage, fieldError } from "../../shared/errors";
import { type ProjectType } from "../../shared/labels";
import { TextArea, TextField } from "../../shared/TextField";
import { useTitle } from "../../shared/useTitle";
import { ProjectTypeChoice } from "./ProjectTypeChoice";

/**
 * What the project page is told when the project was made but its work did not start (the
 * project page's "what needs me now" offers to start it): location.state of /projects/:id.
 */
export interface NewProjectState {
  startWorkError: string;
}

interface Draft {
  name: string;
  type: ProjectType;
  description: string;
  repositoryUrl: string;
}

/** Checks the draft before it is sent: the fields a person must fill, by name. */
function missing(draft: Draft): Partial<Record<"name" | "description", string>> {
  const errors: Partial<Record<"name" | "description", string>> = {};
  if (!draft.name.trim()) errors.name = "is required";
  if (!draft.description.trim()) errors.description = "is required: the agents start from it";
  return errors;
}

/** New project: created and started in one step; the person lands on its page, watching G1. */
export function Component() {
  useTitle("New project");
  const api = useApi();
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const [draft, setDraft] = useState<Draft>({
    name: "",
    type: "PROJECT_TYPE_TRADITIONAL",
    description: "",
    repositoryUrl: "",
  });
  const [checked, setChecked] = useState(false);
  const set = <K extends keyof Draft>(key: K, value: Draft[K]) => setDraft((d) => ({ ...d, [key]: value }));

  const create = useMutation({
    mutationFn: async (d: Draft) => {
      const description = d.description.trim();
      const repositoryUrl = d.type === "PROJECT_TYPE_ENHANCEMENT" ? d.repositoryUrl.trim() : "";
      const { project } = await unwrap(
        api.POST("/api/v1/projects", {
          body: {
            name: d.name.trim(),
            type: d.type,
            description,
            ...(repositoryUrl ? { repositoryUrl } : {}),
          },
        }),
      );
      let startWorkError: string | undefined;
      try {
        await unwrap(
          api.POST("/api/v1/projects/{projectId}:startWork", {
            params: { path: { projectId: project.id } },
            body: { description },
          }),
        );
      } catch (e) {
        startWorkError = errorMessage(e);
      }
      return { project, startWorkError };
    },
    onSuccess: ({ project, startWorkError }) => {
      queryClient.setQueryData(queryKeys.project(project.id), project);
      void queryClient.invalidateQueries({ queryKey: queryKeys.projects });
      void navigate(`/projects/${project.id}`, {
        state: startWorkError ? ({ startWorkError } satisfies NewProjectState) : null,
      });
    },
  });

  const local = checked ? missing(draft) : {};
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setChecked(true);
    if (Object.keys(missing(draft)).length > 0) return;
    create.mutate(draft);
  };
  const error = create.error;
  return (
    <section className="new-project">
      <h1>New project</h1>
      <p>
        Say what you want built. The agents start at G1, writing the product requirements, and you review each
        gate before the next begins.
      </p>
      <form onSubmit={submit} noValidate>
        <TextField
          label="Project name"
          name="name"
          required
          maxLength={200}
          autoComplete="off"
          value={draft.name}
          onChange={(e) => set("name", e.target.value)}
          error={local.name ?? fieldError(error, "name")}
        />
        <ProjectTypeChoice
          value={draft.type}
          onChange={(type) => set("type", type)}
          error={fieldError(error, "type")}
        />
        {draft.type === "PROJECT_TYPE_ENHANCEMENT" ? (
          <TextField
            label="Repository URL"
            name="repositoryUrl"
            type="url"
            inputMode="url"
            placeholder="https://github.com/owner/repo"
            hint="Optional: where the existing software lives."
            value={draft.repositoryUrl}
            onChange={(e) => set("repositoryUrl", e.target.value)}
            error={fieldError(error, "repositoryUrl")}
          />
        ) : null}
        <TextArea
          label="Describe what you want to build"
          name="description"
          required
          rows={8}
          maxLength={10000}
          hint="Who it is for, what it must do, anything it must work with. The more you say, the less the agents guess."
          value={draft.description}
          onChange={(e) => set("description", e.target.value)}
          error={local.description ?? fieldError(error, "description")}
        />
        {error ? <ErrorView error={error} title="The project was not created" /> : null}
        <div className="actions">
          <button type="submit" className="primary" disabled={create.isPending}>
            {create.isPending ? "Creating…" : "Create project"}
          </button>
          <Link to="/projects">Cancel</Link>
        </div>
      </form>
    </section>
  );
}
