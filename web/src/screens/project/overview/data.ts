// The project page's server state: gates, status, runs, members, and the words for who did what.
// Every query holds the API's answer as is (the shape live/cache.ts and the other screens sharing
// these keys expect); the review page uses the same queries.
import { useQuery, type QueryClient } from "@tanstack/react-query";
import { useCallback } from "react";
import { useApi } from "../../../api/ApiProvider";
import { unwrap, type Schemas } from "../../../api/client";
import { queryKeys } from "../../../api/queryKeys";
import { useUser } from "../../../session/SessionProvider";
import { agentRoleLabel } from "../../../shared/labels";

export type Gate = Schemas["Gate"];
export type Review = Schemas["Review"];
export type Proof = Schemas["Proof"];
export type Deliverable = Schemas["Deliverable"];
export type Run = Schemas["Run"];
export type NextAction = Schemas["NextAction"];
export type Status = Schemas["GetProjectStatusResponse"];
export type WorkflowGate = Schemas["WorkflowGate"];
export type AgentRole = Schemas["AgentRole"];

/** The runs the page lists: the newest first, enough for every gate of a project. */
const RUN_PAGE = 200;

/** The project's gates (only those started so far: the workflow says what the others are). */
export function useGates(projectId: string) {
  const api = useApi();
  return useQuery({
    queryKey: queryKeys.gates(projectId),
    queryFn: () => unwrap(api.GET("/api/v1/projects/{projectId}/gates", { params: { path: { projectId } } })),
  });
}

/** Where the project is and what it waits for (nextStep). */
export function useStatus(projectId: string) {
  const api = useApi();
  return useQuery({
    queryKey: queryKeys.status(projectId),
    queryFn: () =>
      unwrap(api.GET("/api/v1/projects/{projectId}/status", { params: { path: { projectId } } })),
  });
}

/** The project's runs, newest first; live run messages replace them in place (live/cache.ts). */
export function useRuns(projectId: string) {
  const api = useApi();
  return useQuery({
    queryKey: queryKeys.runs(projectId),
    queryFn: () =>
      unwrap(
        api.GET("/api/v1/projects/{projectId}/runs", {
          params: { path: { projectId }, query: { pageSize: RUN_PAGE } },
        }),
      ),
  });
}

/** The workflow of a project type: the nine gates' names, phases, roles and requirements. */
export function useWorkflow(projectType: Schemas["ProjectType"]) {
  const api = useApi();
  return useQuery({
    queryKey: queryKeys.workflow(projectType),
    queryFn: () => unwrap(api.GET("/api/v1/workflows/{projectType}", { params: { path: { projectType } } })),
    staleTime: Infinity,
  });
}

/** The project's members (the API's list answer as is; member events mark it stale). */
export function useMemberList(projectId: string) {
  const api = useApi();
  return useQuery({
    queryKey: queryKeys.members(projectId),
    queryFn: () =>
      unwrap(api.GET("/api/v1/projects/{projectId}/members", { params: { path: { projectId } } })),
  });
}

/**
 * Who a user id is, in words: the member's name (with "(you)" for the signed-in user), "you" when
 * the members are not known, else "a former member".
 */
export function usePersonName(projectId: string): (userId: string) => string {
  const me = useUser();
  const members = useMemberList(projectId).data?.members;
  return useCallback(
    (userId: string) => {
      const member = members?.find((m) => m.userId === userId);
      const you = userId === me.id;
      if (member) return you ? `${member.name} (you)` : member.name;
      return you ? "you" : "a former member";
    },
    [members, me.id],
  );
}

/** Who produced a proof: "produced by FuzzyLlama" (a tool it ran) or "attested by <name>" (a person). */
export function proofSource(proof: Proof, name: (userId: string) => string): string {
  return proof.attested ? `attested by ${name(proof.producedBy)}` : "produced by FuzzyLlama";
}

/** The gate's approval: its latest review, when that approved it. */
export function approvalOf(gate: Gate | undefined): Review | undefined {
  if (gate?.state !== "GATE_STATE_APPROVED") return undefined;
  return newestFirst(gate.reviews).find((r) => r.decision === "GATE_STATE_APPROVED");
}

/** Reviews, the newest first. */
export function newestFirst(reviews: readonly Review[]): Review[] {
  return [...reviews].sort((a, b) => Date.parse(b.createTime) - Date.parse(a.createTime));
}

/** An agent role as words, e.g. "product manager". */
export function roleName(role: AgentRole): string {
  return agentRoleLabel(role.replace(/^AGENT_ROLE_/, "").toLowerCase());
}

/** A gate's phase as words, e.g. "security review". */
export function phaseName(phase: string): string {
  return phase.replaceAll("_", " ");
}

/** "G3 Architecture". */
export function gateLabel(number: number, name: string | undefined): string {
  return name ? `G${number} ${name}` : `G${number}`;
}

/** Whether a proof still counts: of the gate's current revision, and about its deliverables as they are. */
export function proofCounts(proof: Proof, gate: Gate): boolean {
  return (
    proof.revision === gate.revision &&
    (proof.deliverablesHash === "" || proof.deliverablesHash === gate.deliverablesHash)
  );
}

/** The documents' titles the runs stored, by document id (deliverables carry only ids). */
export function documentTitles(runs: readonly Run[] | undefined): Map<string, string> {
  const titles = new Map<string, string>();
  for (const run of runs ?? []) {
    for (const d of run.documents) if (!titles.has(d.documentId)) titles.set(d.documentId, d.title);
  }
  return titles;
}

/** After a change of the gates: the project, its status and its gates are read again. */
export function refreshGates(client: QueryClient, projectId: string): void {
  void client.invalidateQueries({ queryKey: queryKeys.project(projectId), exact: true });
  void client.invalidateQueries({ queryKey: queryKeys.status(projectId) });
  void client.invalidateQueries({ queryKey: queryKeys.gates(projectId) });
  void client.invalidateQueries({ queryKey: queryKeys.projects });
}

/** A run just started: listed at once (the live message that would add it may come later). */
export function addRun(client: QueryClient, projectId: string, run: Run): void {
  client.setQueryData<{ runs: Run[] }>(queryKeys.runs(projectId), (data) =>
    data && !data.runs.some((r) => r.id === run.id) ? { ...data, runs: [run, ...data.runs] } : data,
  );
}
