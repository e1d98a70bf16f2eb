import type { Schemas } from "../../api/client";

/** A notification for tests. */
export function notification(over: Partial<Schemas["Notification"]> = {}): Schemas["Notification"] {
  return {
    id: "1",
    userId: "u-ann",
    projectId: "p1",
    projectName: "Recipes",
    kind: "NOTIFICATION_KIND_GATE_READY_FOR_REVIEW",
    message: "G3 Architecture of Recipes is ready for your review",
    gate: 3,
    eventId: "10",
    createTime: new Date().toISOString(),
    read: false,
    ...over,
  };
}
