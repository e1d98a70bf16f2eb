import { useInfiniteQuery } from "@tanstack/react-query";
import { useId, useMemo, useState } from "react";
import { Link } from "react-router";
import { useApi } from "../../api/ApiProvider";
import { unwrap, type Schemas } from "../../api/client";
import { queryKeys } from "../../api/queryKeys";
import { Empty } from "../../shared/Empty";
import { ErrorView } from "../../shared/ErrorView";
import { MorePages } from "../../shared/MorePages";
import { Loading } from "../../shared/Loading";
import { useTitle } from "../../shared/useTitle";
import { ProjectRow } from "./ProjectRow";

type Project = Schemas["Project"];

const PAGE_SIZE = 20;
/** The list is fetched again on a visit once it is this old (live messages refresh it sooner). */
const STALE_MS = 30_000;

const isArchived = (p: Project) => p.status === "PROJECT_STATUS_ARCHIVED";

/** The user's projects: where each is, how far along, what it cost; archived ones on request. */
export function Component() {
  useTitle("Projects");
  const api = useApi();
  const [showArchived, setShowArchived] = useState(false);
  const checkboxId = useId();
  const query = useInfiniteQuery({
    queryKey: queryKeys.projectList,
    queryFn: ({ pageParam }) =>
      unwrap(
        api.GET("/api/v1/projects", {
          params: { query: { pageSize: PAGE_SIZE, ...(pageParam ? { pageToken: pageParam } : {}) } },
        }),
      ),
    initialPageParam: "",
    getNextPageParam: (last) => last.nextPageToken || undefined,
    staleTime: STALE_MS,
  });
  const projects = useMemo(() => query.data?.pages.flatMap((p) => p.projects) ?? [], [query.data]);
  const shown = useMemo(
    () => (showArchived ? projects : projects.filter((p) => !isArchived(p))),
    [projects, showArchived],
  );
  const archived = projects.length - projects.filter((p) => !isArchived(p)).length;

  const header = (
    <div className="projects-header">
      <h1>Projects</h1>
      <Link to="/projects/new" className="button primary">
        New project
      </Link>
    </div>
  );
  if (query.isPending)
    return (
      <>
        {header}
        <Loading label="Loading your projects" />
      </>
    );
  if (query.data === undefined)
    return (
      <>
        {header}
        <ErrorView error={query.error} retry={() => void query.refetch()} />
      </>
    );
  if (projects.length === 0 && !query.hasNextPage) {
    return (
      <>
        {header}
        <Empty>No projects yet: describe what you want to build and the agents start at G1.</Empty>
        <p>
          <Link to="/projects/new" className="button primary">
            New project
          </Link>
        </p>
      </>
    );
  }
  return (
    <>
      {header}
      <div className="actions">
        <input
          id={checkboxId}
          type="checkbox"
          checked={showArchived}
          onChange={(e) => setShowArchived(e.target.checked)}
        />
        <label htmlFor={checkboxId}>Show archived</label>
        {!showArchived && archived > 0 ? (
          <span className="muted">
            ({archived === 1 ? "1 archived project hidden" : `${archived} archived projects hidden`})
          </span>
        ) : null}
      </div>
      {shown.length === 0 ? (
        <Empty>All your projects are archived: tick “Show archived” to list them, or start a new one.</Empty>
      ) : (
        <div className="table-scroll">
          <table className="projects-table">
            <caption className="visually-hidden">Your projects</caption>
            <thead>
              <tr>
                <th scope="col">Project</th>
                <th scope="col">Type</th>
                <th scope="col">Current gate</th>
                <th scope="col">Progress</th>
                <th scope="col" className="num">
                  Cost so far
                </th>
                <th scope="col">Last activity</th>
              </tr>
            </thead>
            <tbody>
              {shown.map((p) => (
                <ProjectRow key={p.id} project={p} />
              ))}
            </tbody>
          </table>
        </div>
      )}
      <MorePages query={query} />
    </>
  );
}
