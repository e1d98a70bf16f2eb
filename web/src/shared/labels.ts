// The words for the API's enum values. An enum value the console does not know yet reads as
// itself, lower-cased, rather than breaking the page.
import type { Schemas } from "../api/client";

function fallback(value: string, prefix: string): string {
  return value.replace(prefix, "").replaceAll("_", " ").toLowerCase();
}

export type GateState = Schemas["GateState"];
const gateStates: Record<GateState, string> = {
  GATE_STATE_UNSPECIFIED: "unknown",
  GATE_STATE_PENDING: "not started",
  GATE_STATE_IN_PROGRESS: "in progress",
  GATE_STATE_IN_REVIEW: "in review",
  GATE_STATE_APPROVED: "approved",
  GATE_STATE_CHANGES_REQUESTED: "changes requested",
  GATE_STATE_BLOCKED: "blocked",
};
export const gateStateLabel = (s: GateState): string => gateStates[s] ?? fallback(s, "GATE_STATE_");
/** The CSS modifier for a gate state's colour (the text says it too). */
export const gateStateTone = (s: GateState): string => fallback(s, "GATE_STATE_").replaceAll(" ", "-");

export type ProjectType = Schemas["ProjectType"];
export const projectTypes: { value: ProjectType; label: string; explanation: string }[] = [
  {
    value: "PROJECT_TYPE_TRADITIONAL",
    label: "Traditional software",
    explanation: "A web app, API or service: product, architecture, design, code, tests, deployment.",
  },
  {
    value: "PROJECT_TYPE_AI_ML",
    label: "AI / ML",
    explanation: "A model at the centre: data engineering, ML engineering, evaluation and model deployment.",
  },
  {
    value: "PROJECT_TYPE_HYBRID",
    label: "Hybrid",
    explanation: "An application with AI features: both teams, software and ML, work together.",
  },
  {
    value: "PROJECT_TYPE_ENHANCEMENT",
    label: "Enhancement",
    explanation: "A change to existing software: starts from what is there and its repository.",
  },
];
export const projectTypeLabel = (t: ProjectType): string =>
  projectTypes.find((p) => p.value === t)?.label ?? fallback(t, "PROJECT_TYPE_");

export type ProjectStatus = Schemas["ProjectStatus"];
export const projectStatusLabel = (s: ProjectStatus): string => fallback(s, "PROJECT_STATUS_");

export type RunState = Schemas["RunState"];
export const runStateLabel = (s: RunState): string => fallback(s, "RUN_STATE_");
export const runIsActive = (s: RunState): boolean => s === "RUN_STATE_QUEUED" || s === "RUN_STATE_RUNNING";

export type Role = Schemas["Role"];
export const roleLabel = (r: Role): string => fallback(r, "ROLE_");
/** What a role may do in the console; the API enforces it either way. */
export const canEdit = (r: Role): boolean => r === "ROLE_EDITOR" || r === "ROLE_OWNER";
export const isOwner = (r: Role): boolean => r === "ROLE_OWNER";

export type ProofType = Schemas["ProofType"];
export const proofTypeLabel = (t: ProofType): string => fallback(t, "PROOF_TYPE_");
export type ProofResult = Schemas["ProofResult"];
export const proofResultLabel = (r: ProofResult): string => fallback(r, "PROOF_RESULT_");

export type VerificationState = Schemas["v1.VerificationState"];
export const verificationStateLabel = (s: VerificationState): string => fallback(s, "VERIFICATION_STATE_");
/** Queued or running: it will change by itself (nothing announces that but a refetch). */
export const verificationIsActive = (s: VerificationState): boolean =>
  s === "VERIFICATION_STATE_QUEUED" || s === "VERIFICATION_STATE_RUNNING";

export type DocumentType = Schemas["DocumentType"];
export const documentTypeLabel = (t: DocumentType): string => fallback(t, "DOCUMENT_TYPE_");

export type TaskStatus = Schemas["TaskStatus"];
export const taskStatusLabel = (s: TaskStatus): string => fallback(s, "TASK_STATUS_");

/** An agent role's id (e.g. "backend_developer") as words. */
export const agentRoleLabel = (role: string): string => role.replaceAll("_", " ").replaceAll("-", " ");
