import type { Schemas } from "../../api/client";

export type Notification = Schemas["Notification"];
type Kind = Schemas["NotificationKind"];

const kinds: Partial<Record<Kind, string>> = {
  NOTIFICATION_KIND_GATE_READY_FOR_REVIEW: "Ready for review",
  NOTIFICATION_KIND_GATE_BLOCKED: "Gate blocked",
  NOTIFICATION_KIND_MEMBER_ADDED: "Added to a project",
  NOTIFICATION_KIND_MEMBER_ROLE_CHANGED: "Role changed",
  NOTIFICATION_KIND_MEMBER_REMOVED: "Removed from a project",
  NOTIFICATION_KIND_PROJECT_COMPLETED: "Project completed",
};

/** What a notification is about, in a few words. */
export const notificationKindLabel = (kind: Kind): string =>
  kinds[kind] ?? kind.replace("NOTIFICATION_KIND_", "").replaceAll("_", " ").toLowerCase();

/**
 * Where a notification takes the person: a gate waiting for review opens its review; news of a
 * project they were removed from opens the projects list (the project is no longer theirs to see);
 * the rest open the project's page.
 */
export function placeOf(n: Notification): string {
  if (!n.projectId || n.kind === "NOTIFICATION_KIND_MEMBER_REMOVED") return "/projects";
  if (n.kind === "NOTIFICATION_KIND_GATE_READY_FOR_REVIEW" && n.gate > 0) {
    return `/projects/${n.projectId}/gates/${n.gate}/review`;
  }
  return `/projects/${n.projectId}`;
}
