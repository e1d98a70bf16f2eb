// Who wrote a version, in words: the agent that produced it, or the member who saved it (the
// project's members give the names; their query data is the API's answer as is).
import { useQuery } from "@tanstack/react-query";
import { useCallback, useMemo } from "react";
import { useApi } from "../../../api/ApiProvider";
import { unwrap, type Schemas } from "../../../api/client";
import { queryKeys } from "../../../api/queryKeys";
import { agentRoleLabel } from "../../../shared/labels";

type Author = Schemas["Author"];

function capitalized(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** An agent role (AGENT_ROLE_PRODUCT_MANAGER) as words: "Product manager". */
export function agentName(role: Schemas["AgentRole"]): string {
  return capitalized(agentRoleLabel(role.replace("AGENT_ROLE_", "").toLowerCase()));
}

/** Names authors: "Product manager (agent)", a member's name, or "a former member". */
export function useAuthorName(projectId: string): (author: Author) => string {
  const api = useApi();
  const members = useQuery({
    queryKey: queryKeys.members(projectId),
    queryFn: () =>
      unwrap(api.GET("/api/v1/projects/{projectId}/members", { params: { path: { projectId } } })),
  });
  const names = useMemo(
    () => new Map((members.data?.members ?? []).map((m) => [m.userId, m.name || m.email])),
    [members.data],
  );
  const known = members.isSuccess;
  return useCallback(
    (author: Author) => {
      if (author.agent?.role) return `${agentName(author.agent.role)} (agent)`;
      return names.get(author.userId) ?? (known ? "a former member" : "a member");
    },
    [names, known],
  );
}
