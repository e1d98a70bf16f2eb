import { describe, expect, it } from "vitest";
import { testWorkflow } from "../../../test/project";
import type { Schemas } from "../../../api/client";
import { actorWords, eventWords, flattenEvents, type Event, type EventContext } from "./events";

type MemberChange = Schemas["MemberChange"];
type Role = Schemas["Role"];

const ctx: EventContext = {
  projectId: "p1",
  workflow: testWorkflow,
  members: new Map([
    ["u-ann", { userId: "u-ann", email: "ann@example.com", name: "Ann", role: "ROLE_OWNER", createTime: "" }],
    [
      "u-bob",
      { userId: "u-bob", email: "bob@example.com", name: "Bob", role: "ROLE_EDITOR", createTime: "" },
    ],
  ]),
  tasks: new Map(
    ["PRD", "API"].map((title, i) => [
      `t${i}`,
      {
        id: `t${i}`,
        projectId: "p1",
        gate: 2,
        title,
        description: "",
        ownerRole: "AGENT_ROLE_PRODUCT_MANAGER" as const,
        status: "TASK_STATUS_TODO" as const,
        priority: "TASK_PRIORITY_HIGH" as const,
        dependsOn: [],
        createTime: "",
        updateTime: "",
        key: `k${i}`,
      },
    ]),
  ),
};

const base = {
  id: "1",
  projectId: "p1",
  actorId: "u-ann",
  actorService: "",
  createTime: "2025-01-01T00:00:00Z",
};
const words = (payload: Partial<Event>) => eventWords({ ...base, ...payload }, ctx).summary;

describe("eventWords", () => {
  it("tells each kind of event", () => {
    expect(
      words({
        gateChanged: { gate: 3, from: "GATE_STATE_IN_PROGRESS", to: "GATE_STATE_IN_REVIEW", reason: "" },
      }),
    ).toBe("G3 Architecture: in progress → in review");
    expect(
      words({
        gateChanged: { gate: 4, from: "GATE_STATE_UNSPECIFIED", to: "GATE_STATE_PENDING", reason: "" },
      }),
    ).toBe("G4 Design is next: not started");
    expect(
      eventWords(
        {
          ...base,
          gateChanged: {
            gate: 7,
            from: "GATE_STATE_IN_PROGRESS",
            to: "GATE_STATE_BLOCKED",
            reason: "budget",
          },
        },
        ctx,
      ).detail,
    ).toBe("budget");
    expect(
      words({ proofRecorded: { gate: 5, type: "PROOF_TYPE_UNIT_TESTS", result: "PROOF_RESULT_PASS" } }),
    ).toBe("Proof recorded at G5 Development: unit tests, pass");
    expect(
      words({ tasksChanged: { taskIds: ["t0", "t1"], change: "created", status: "TASK_STATUS_TODO" } }),
    ).toBe("2 tasks planned");
    expect(
      eventWords(
        { ...base, tasksChanged: { taskIds: ["t0", "t1"], change: "created", status: "TASK_STATUS_TODO" } },
        ctx,
      ).detail,
    ).toBe("“PRD” and “API”");
    expect(words({ tasksChanged: { taskIds: ["t0"], change: "updated", status: "TASK_STATUS_DONE" } })).toBe(
      "Task “PRD”: done",
    );
    expect(words({ projectChanged: { change: "archived", status: "PROJECT_STATUS_ARCHIVED" } })).toBe(
      "Project archived",
    );
  });

  it("tells what happened to a member", () => {
    const member = (role: Role, change: MemberChange) =>
      words({ memberChanged: { userId: "u-bob", role, change } });
    expect(member("ROLE_EDITOR", "MEMBER_CHANGE_ADDED")).toBe("Bob joined as editor");
    expect(member("ROLE_VIEWER", "MEMBER_CHANGE_ROLE_CHANGED")).toBe("Bob is now a viewer");
    expect(member("ROLE_OWNER", "MEMBER_CHANGE_ROLE_CHANGED")).toBe("Bob is now the owner");
    expect(member("ROLE_UNSPECIFIED", "MEMBER_CHANGE_REMOVED")).toBe("Bob was removed");
    // Events from before the change was kept: an addition or a role change reads as the role now.
    expect(member("ROLE_VIEWER", "MEMBER_CHANGE_UNSPECIFIED")).toBe("Bob is now a viewer");
    expect(member("ROLE_UNSPECIFIED", "MEMBER_CHANGE_UNSPECIFIED")).toBe("Bob was removed from the project");
  });

  it("names the actor, and the service that acted for them", () => {
    expect(actorWords({ actorId: "u-bob", actorService: "" }, ctx)).toBe("Bob");
    expect(actorWords({ actorId: "u-bob", actorService: "agents" }, ctx)).toBe("Bob's agents");
    expect(actorWords({ actorId: "u-bob", actorService: "documents" }, ctx)).toBe(
      "Bob via the documents service",
    );
    expect(actorWords({ actorId: "u-zed", actorService: "" }, ctx)).toBe("a former member");
    expect(actorWords({ actorId: "u-zed", actorService: "agents" }, ctx)).toBe("a former member's agents");
    expect(actorWords({ actorId: "", actorService: "" }, ctx)).toBe("the system");
  });

  it("orders events newest first across pages, each once", () => {
    const e = (id: string): Event => ({ ...base, id });
    const ids = flattenEvents([
      { events: [e("12"), e("9"), e("10")], nextPageToken: "9" },
      { events: [e("11"), e("12")], nextPageToken: "" },
    ]).map((x) => x.id);
    expect(ids).toEqual(["12", "11", "10", "9"]);
  });
});
