import { useQuery } from "@tanstack/react-query";
import { memo } from "react";
import { Link } from "react-router";
import { useApi } from "../../api/ApiProvider";
import { unwrap, type Schemas } from "../../api/client";
import { queryKeys } from "../../api/queryKeys";
import { useFollowProject } from "../../live/LiveProvider";
import { GateBadge } from "../../shared/GateBadge";
import { projectStatusLabel, projectTypeLabel } from "../../shared/labels";
import { When } from "../../shared/When";
import { useSeen } from "./useSeen";

type Project = Schemas["Project"];

/** A row's details are fetched again on a visit once they are this old (live messages refresh them sooner). */
const STALE_MS = 30_000;

/**
 * One project of the list: its status and costs load once the row comes into view, and from
 * then on the row follows the project live (its gate, progress and cost change as agents work).
 */
export const ProjectRow = memo(function ProjectRow({ project }: { project: Project }) {
  const api = useApi();
  const [ref, seen] = useSeen<HTMLTableRowElement>();
  const projectId = project.id;
  useFollowProject(seen ? projectId : undefined);
  const status = useQuery({
    queryKey: queryKeys.status(projectId),
    queryFn: () =>
      unwrap(api.GET("/api/v1/projects/{projectId}/status", { params: { path: { projectId } } })),
    enabled: seen,
    staleTime: STALE_MS,
  });
  const costs = useQuery({
    queryKey: queryKeys.costs(projectId),
    queryFn: () => unwrap(api.GET("/api/v1/projects/{projectId}/costs", { params: { path: { projectId } } })),
    enabled: seen,
    staleTime: STALE_MS,
  });
  const s = status.data;
  return (
    <tr ref={ref}>
      <th scope="row">
        <Link to={`/projects/${projectId}`}>{project.name}</Link>
        {project.status !== "PROJECT_STATUS_ACTIVE" ? (
          <>
            {" "}
            <span className={project.status === "PROJECT_STATUS_COMPLETED" ? "badge ok" : "badge"}>
              {projectStatusLabel(project.status)}
            </span>
          </>
        ) : null}
      </th>
      <td>{projectTypeLabel(project.type)}</td>
      <td>
        {s ? (
          <>
            G{s.currentGate} {s.gateName} <GateBadge state={s.gateState} />
          </>
        ) : (
          <>
            G{project.currentGate} <Pending failed={status.isError} />
          </>
        )}
      </td>
      <td>
        {s ? (
          <span className="progress">
            <progress max={100} value={s.percentComplete} aria-label={`${project.name}: progress`} />{" "}
            {s.percentComplete}%
          </span>
        ) : (
          <Pending failed={status.isError} />
        )}
      </td>
      <td className="num">{costs.data ? costs.data.total.costUsd : <Pending failed={costs.isError} />}</td>
      <td>
        <When time={project.updateTime} />
      </td>
    </tr>
  );
});

/** A detail not loaded yet (or that could not be). */
function Pending({ failed }: { failed: boolean }) {
  if (failed) return <span className="muted">unavailable</span>;
  return (
    <span className="muted">
      <span aria-hidden="true">…</span>
      <span className="visually-hidden">loading</span>
    </span>
  );
}
