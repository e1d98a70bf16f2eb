// Test fixtures and helpers for the project overview and review tests: the API's objects as the
// server sends them, a project page rendered in its layout's outlet, and a live socket the test
// drives (open it, then deliver messages).
import type { ReactElement } from "react";
import { Outlet, Route, Routes } from "react-router";
import { vi } from "vitest";
import type { Schemas } from "../../../api/client";
import type { ClientMessage, ServerMessage } from "../../../live/connection";
import {
  fakeApi,
  fakeClient,
  renderWithProviders,
  signedInSession,
  testUser,
  type FakeApi,
} from "../../../test/render";
import type { ProjectContext } from "../ProjectLayout";
import type { Gate, NextAction, Run, Status } from "./data";

export const PID = "p1";
const T0 = "2026-12-07T10:00:00Z";

export function project(overrides: Partial<Schemas["Project"]> = {}): Schemas["Project"] {
  return {
    id: PID,
    name: "Recipe box",
    description: "A web app for recipes.",
    type: "PROJECT_TYPE_TRADITIONAL",
    repositoryUrl: "",
    ownerId: testUser.id,
    status: "PROJECT_STATUS_ACTIVE",
    currentGate: 1,
    role: "ROLE_OWNER",
    createTime: T0,
    updateTime: T0,
    ...overrides,
  };
}

const names = [
  "Scope",
  "PRD",
  "Architecture",
  "Design",
  "Development",
  "Testing",
  "Security",
  "Staging",
  "Production",
];
const phases = [
  "intake",
  "planning",
  "architecture",
  "design",
  "development",
  "testing",
  "security_review",
  "pre_deployment",
  "production",
];

export const workflow: Schemas["GetWorkflowResponse"] = {
  projectType: "PROJECT_TYPE_TRADITIONAL",
  gates: names.map((name, i) => ({
    number: i + 1,
    name,
    phase: phases[i] ?? "",
    roles: i < 2 ? ["AGENT_ROLE_PRODUCT_MANAGER"] : ["AGENT_ROLE_ARCHITECT"],
    deliverables: ["DOCUMENT_TYPE_INTAKE"],
    proofs: i === 4 ? ["PROOF_TYPE_BUILD", "PROOF_TYPE_LINT"] : [],
    coverageThresholdPercent: 0,
  })),
};

export function gate(number: number, overrides: Partial<Gate> = {}): Gate {
  return {
    projectId: PID,
    number,
    name: names[number - 1] ?? "",
    phase: phases[number - 1] ?? "",
    state: "GATE_STATE_PENDING",
    blockedReason: "",
    deliverables: [],
    proofs: [],
    reviews: [],
    revision: 0,
    createTime: T0,
    updateTime: T0,
    missingDeliverables: [],
    missingProofs: [],
    deliverablesHash: "sha256:now",
    ...overrides,
  };
}

export function deliverable(
  documentId: string,
  version: number,
  overrides: Partial<Schemas["Deliverable"]> = {},
): Schemas["Deliverable"] {
  return {
    documentType: "DOCUMENT_TYPE_INTAKE",
    required: true,
    complete: true,
    documentId,
    version,
    contentHash: `sha256:${documentId}-v${version}`,
    recordedBy: testUser.id,
    updateTime: T0,
    revision: 0,
    ...overrides,
  };
}

export function review(overrides: Partial<Schemas["Review"]> = {}): Schemas["Review"] {
  return {
    id: "r1",
    gate: 1,
    decision: "GATE_STATE_APPROVED",
    reviewerId: testUser.id,
    notes: "",
    reviewedDeliverables: [],
    proofs: [],
    createTime: T0,
    revision: 0,
    ...overrides,
  };
}

export function proof(
  id: string,
  type: Schemas["ProofType"],
  overrides: Partial<Schemas["Proof"]> = {},
): Schemas["Proof"] {
  return {
    id,
    type,
    result: "PROOF_RESULT_PASS",
    summary: "",
    producedBy: testUser.id,
    attested: true,
    createTime: "2026-12-06T13:00:00Z",
    revision: 2,
    deliverablesHash: "",
    run: null,
    ...overrides,
  };
}

/** How a machine-produced proof ran: its command on a tree, in the sandbox, with its log. */
export function proofRun(overrides: Partial<Schemas["ProofRun"]> = {}): Schemas["ProofRun"] {
  return {
    treeHash: "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
    command: "cd backend && go build ./...",
    exitCode: 0,
    durationMs: "12400",
    artifacts: [{ id: "art-log", kind: "log", mediaType: "text/plain; charset=utf-8", sizeBytes: "42" }],
    runner: "local",
    ...overrides,
  };
}

export function verification(overrides: Partial<Schemas["Verification"]> = {}): Schemas["Verification"] {
  return {
    id: "ver1",
    projectId: PID,
    gate: 5,
    revision: 0,
    state: "VERIFICATION_STATE_PASSED",
    treeHash: "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
    deliverablesHash: "sha256:now",
    steps: [],
    error: "",
    repair: 0,
    createTime: T0,
    endTime: T0,
    runner: "local",
    ...overrides,
  };
}

export function run(overrides: Partial<Run> = {}): Run {
  return {
    id: "run1",
    projectId: PID,
    gate: 1,
    role: "AGENT_ROLE_PRODUCT_MANAGER",
    revision: 0,
    state: "RUN_STATE_RUNNING",
    priority: 0,
    instructions: "",
    feedback: "",
    model: "claude",
    attempt: 1,
    maxAttempts: 4,
    usage: {
      inputTokens: "1200",
      outputTokens: "3400",
      costMicros: "12300",
      costUsd: "$0.0123",
      runs: 1,
      unpricedRuns: 0,
      offlineRuns: 0,
    },
    error: "",
    output: "",
    documents: [],
    handoff: null,
    userId: testUser.id,
    createTime: T0,
    startTime: T0,
    endTime: null,
    rescues: 0,
    rescueTime: null,
    ...overrides,
  };
}

export function nextStep(kind: NextAction["kind"], overrides: Partial<NextAction> = {}): NextAction {
  return {
    kind,
    gate: 1,
    missingDeliverables: [],
    missingProofs: [],
    blockedReason: "",
    summary: `Summary of ${kind}.`,
    ...overrides,
  };
}

export function status(step: NextAction, overrides: Partial<Status> = {}): Status {
  return {
    currentGate: step.gate,
    gateName: names[step.gate - 1] ?? "",
    gateState: "GATE_STATE_IN_PROGRESS",
    phase: phases[step.gate - 1] ?? "",
    percentComplete: 10,
    projectStatus: "PROJECT_STATUS_ACTIVE",
    nextAction: step.summary,
    missingDeliverables: step.missingDeliverables,
    missingProofs: step.missingProofs,
    nextStep: step,
    ...overrides,
  };
}

/** A member list answer. */
export function members(...list: [userId: string, name: string, role?: Schemas["Role"]][]) {
  return {
    members: list.map(([userId, name, role = "ROLE_EDITOR"]) => ({
      userId,
      email: `${name.toLowerCase()}@example.com`,
      name,
      role,
      createTime: T0,
    })),
  };
}

/** The project's routes of the fake API, each answering what the test gives (by default: little). */
export function projectApi(
  data: {
    gates?: Gate[];
    status?: Status;
    runs?: Run[];
    members?: ReturnType<typeof members>;
  } = {},
): FakeApi {
  const base = `/api/v1/projects/${PID}`;
  return fakeApi({
    [`GET ${base}/gates`]: () => ({ gates: data.gates ?? [gate(1, { state: "GATE_STATE_IN_PROGRESS" })] }),
    [`GET ${base}/status`]: () => data.status ?? status(nextStep("NEXT_ACTION_KIND_WAIT_FOR_AGENTS")),
    [`GET ${base}/runs`]: () => ({ runs: data.runs ?? [], nextPageToken: "" }),
    [`GET ${base}/members`]: () => data.members ?? members([testUser.id, testUser.name, "ROLE_OWNER"]),
    "GET /api/v1/workflows/PROJECT_TYPE_TRADITIONAL": () => workflow,
  });
}

/** A WebSocket the test drives: it records what the console sends and delivers what the test says. */
export class DrivenSocket {
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static readonly CLOSING = 2;
  static readonly CLOSED = 3;
  static all: DrivenSocket[] = [];
  readyState = DrivenSocket.CONNECTING;
  sent: ClientMessage[] = [];
  onopen: (() => void) | null = null;
  onmessage: ((e: { data: string }) => void) | null = null;
  onclose: ((e: { code: number }) => void) | null = null;
  constructor() {
    DrivenSocket.all.push(this);
  }
  send(data: string) {
    this.sent.push(JSON.parse(data) as ClientMessage);
  }
  close() {
    this.readyState = DrivenSocket.CLOSED;
  }
  open() {
    this.readyState = DrivenSocket.OPEN;
    this.onopen?.();
  }
  deliver(message: ServerMessage) {
    this.onmessage?.({ data: JSON.stringify(message) });
  }
  /** The connection drops (the console reconnects with a new socket). */
  drop() {
    this.readyState = DrivenSocket.CLOSED;
    this.onclose?.({ code: 1006 });
  }
}

/**
 * Renders a project page (ui, as the layout's outlet) signed in as testUser, with the project
 * given, at route (default the overview). live: a socket the test drives instead of a quiet one.
 */
export async function renderProjectPage(
  ui: ReactElement,
  options: {
    api: FakeApi;
    project?: Schemas["Project"];
    route?: string;
    path?: string;
    live?: boolean;
    routes?: Record<string, ReactElement>;
  },
) {
  const client = fakeClient(options.api);
  const session = await signedInSession(options.api, client);
  if (options.live) {
    DrivenSocket.all = [];
    vi.stubGlobal("WebSocket", DrivenSocket);
  }
  const context: ProjectContext = { project: options.project ?? project() };
  return renderWithProviders(
    <Routes>
      <Route element={<Outlet context={context} />}>
        <Route path={options.path ?? "/projects/:projectId"} element={ui} />
      </Route>
      {Object.entries(options.routes ?? {}).map(([path, element]) => (
        <Route key={path} path={path} element={element} />
      ))}
    </Routes>,
    { api: options.api, client, session, route: options.route ?? `/projects/${PID}` },
  );
}
