// The query cache's keys, one place for every screen and for the live updates that invalidate
// them. Everything about a project starts with ["project", id], so leaving a project or a
// resubscribe without replay can refresh all of it at once.
export const queryKeys = {
  me: ["me"] as const,
  projects: ["projects"] as const,
  /** The projects list's pages (under projects: what invalidates the projects refreshes it). */
  projectList: ["projects", "list"] as const,
  usage: ["usage"] as const,
  notifications: ["notifications"] as const,
  /** The notifications page's pages (under notifications, which the bell's unread count is). */
  notificationList: ["notifications", "list"] as const,
  workflow: (type: string) => ["workflow", type] as const,
  project: (id: string) => ["project", id] as const,
  status: (id: string) => ["project", id, "status"] as const,
  gates: (id: string) => ["project", id, "gates"] as const,
  gate: (id: string, gate: number) => ["project", id, "gates", gate] as const,
  runs: (id: string) => ["project", id, "runs"] as const,
  /** One run with its stored output (GetRun): fetched once the run has finished. */
  run: (id: string, runId: string) => ["project", id, "runs", runId] as const,
  documents: (id: string) => ["project", id, "documents"] as const,
  document: (id: string, documentId: string) => ["project", id, "documents", documentId] as const,
  /** A document's version history (under documents: a document message refreshes it). */
  documentVersions: (id: string, documentId: string) =>
    ["project", id, "documents", documentId, "versions"] as const,
  /** One saved version's content: immutable, so outside documents (messages leave it be). */
  documentVersion: (id: string, documentId: string, version: number) =>
    ["project", id, "document-version", documentId, version] as const,
  /** One saved version rendered as HTML: immutable too. */
  documentHtml: (id: string, documentId: string, version: number) =>
    ["project", id, "document-version", documentId, version, "html"] as const,
  /**
   * The source tree (GetSourceTree): of a gate 5-9, 0 for the latest version of every file, or a
   * tree hash ("sha256:…") for the tree a verification ran.
   */
  sourceTree: (id: string, at: number | string) => ["project", id, "tree", at] as const,
  /** Every source tree of the project (what document and deliverable messages mark stale). */
  sourceTrees: (id: string) => ["project", id, "tree"] as const,
  /** A gate's verifications, newest first (ListVerifications). */
  verifications: (id: string, gate: number) => ["project", id, "verifications", gate] as const,
  /** Every gate's verifications (what proof and gate messages mark stale). */
  allVerifications: (id: string) => ["project", id, "verifications"] as const,
  /** One artifact of a verification (GetArtifact): immutable. */
  artifact: (id: string, artifactId: string) => ["project", id, "artifact", artifactId] as const,
  tasks: (id: string) => ["project", id, "tasks"] as const,
  events: (id: string) => ["project", id, "events"] as const,
  costs: (id: string) => ["project", id, "costs"] as const,
  members: (id: string) => ["project", id, "members"] as const,
};
