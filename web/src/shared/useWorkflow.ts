// A project type's workflow (the gates' names, phases, roles, deliverables and proofs), and a
// gate's name as people read it: "G3 Architecture". The query's data is the API's answer as is,
// so every screen sharing queryKeys.workflow reads the same shape.
import { useQuery } from "@tanstack/react-query";
import { useApi } from "../api/ApiProvider";
import { unwrap, type Schemas } from "../api/client";
import { queryKeys } from "../api/queryKeys";

export type Workflow = Schemas["GetWorkflowResponse"];

/** The workflow of a project type; it never changes while the page is open. */
export function useWorkflow(projectType: Schemas["ProjectType"]) {
  const api = useApi();
  return useQuery({
    queryKey: queryKeys.workflow(projectType),
    queryFn: () => unwrap(api.GET("/api/v1/workflows/{projectType}", { params: { path: { projectType } } })),
    staleTime: Infinity,
  });
}

/** "G3 Architecture", or "G3" while the workflow is not known. */
export function gateTitle(workflow: Workflow | undefined, gate: number): string {
  const name = workflow?.gates.find((g) => g.number === gate)?.name;
  return name ? `G${gate} ${name}` : `G${gate}`;
}
