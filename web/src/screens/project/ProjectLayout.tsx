import { useQuery } from "@tanstack/react-query";
import { NavLink, Outlet, useOutletContext, useParams } from "react-router";
import { useApi } from "../../api/ApiProvider";
import { unwrap, type Schemas } from "../../api/client";
import { queryKeys } from "../../api/queryKeys";
import { useFollowProject } from "../../live/LiveProvider";
import { ErrorView } from "../../shared/ErrorView";
import { isNotFound } from "../../shared/errors";
import { Loading } from "../../shared/Loading";
import { NotFound } from "../not-found/NotFoundPage";

export type Project = Schemas["Project"];

/** What the project's pages get from their layout: the project, with the caller's role in it. */
export interface ProjectContext {
  project: Project;
}

/** The project of the page, inside ProjectLayout. */
export function useCurrentProject(): Project {
  return useOutletContext<ProjectContext>().project;
}

/** The project's pages: its name as the page's h1, its sections, and the live subscription. */
export function Component() {
  const { projectId = "" } = useParams();
  const api = useApi();
  useFollowProject(projectId);
  const query = useQuery({
    queryKey: queryKeys.project(projectId),
    queryFn: async () =>
      (await unwrap(api.GET("/api/v1/projects/{projectId}", { params: { path: { projectId } } }))).project,
  });
  if (query.isPending) return <Loading label="Loading the project" />;
  if (query.isError) {
    if (isNotFound(query.error)) return <NotFound what="project" />;
    return <ErrorView error={query.error} retry={() => void query.refetch()} />;
  }
  const project = query.data;
  const sections: [string, string][] = [
    ["", "Overview"],
    ["documents", "Documents"],
    ["code", "Code"],
    ["tasks", "Tasks"],
    ["timeline", "Timeline"],
    ["costs", "Costs"],
    ["members", "Members"],
    ["export", "Export"],
  ];
  return (
    <div className="project">
      <h1>{project.name}</h1>
      <nav aria-label="Project" className="tabs">
        {sections.map(([path, label]) => (
          <NavLink key={label} to={`/projects/${projectId}${path ? `/${path}` : ""}`} end={path === ""}>
            {label}
          </NavLink>
        ))}
      </nav>
      <Outlet context={{ project } satisfies ProjectContext} />
    </div>
  );
}
