// The project's members: the query every screen shares (queryKeys.members holds the API's list
// answer as is).
import { useQuery } from "@tanstack/react-query";
import { useApi } from "../../../api/ApiProvider";
import { unwrap, type Schemas } from "../../../api/client";
import { queryKeys } from "../../../api/queryKeys";

export type Member = Schemas["Member"];
export type MemberList = Schemas["ListMembersResponse"];

/** The project's members with their roles; live member events mark them stale. */
export function useMembers(projectId: string) {
  const api = useApi();
  return useQuery({
    queryKey: queryKeys.members(projectId),
    queryFn: () =>
      unwrap(api.GET("/api/v1/projects/{projectId}/members", { params: { path: { projectId } } })),
  });
}

/** The roles an owner can give (a project has one owner). */
export const assignableRoles: { value: Schemas["Role"]; label: string; explanation: string }[] = [
  { value: "ROLE_VIEWER", label: "viewer", explanation: "sees everything, changes nothing" },
  {
    value: "ROLE_EDITOR",
    label: "editor",
    explanation: "also edits documents and tasks, starts and retries work",
  },
];
