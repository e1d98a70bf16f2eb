import { memo } from "react";
import type { Schemas } from "../../../api/client";
import { formatDuration } from "../../../shared/format";
import { TreeHashLink } from "../../../shared/TreeHashLink";
import { ArtifactView } from "./ArtifactView";

export type ProofRun = Schemas["ProofRun"];

const runners: Record<string, string> = {
  local: "local sandbox (bubblewrap)",
  kubernetes: "Kubernetes job",
};

/** An exit code in words: -1 is the sandbox stopping the commands, not their own failure. */
export function exitCodeText(code: number | undefined): string {
  if (code === undefined) return "not recorded";
  if (code === -1) return "-1: stopped by the sandbox (a limit was reached; see the log)";
  return code === 0 ? "0 (passed)" : String(code);
}

/**
 * How a machine-produced proof was obtained: the command FuzzyLlama ran, its exit code and
 * duration, the runner, the source tree it ran on, and what it left (its log, a screenshot),
 * each loaded when opened. about names the proof: "the build proof".
 */
export const ProofRunDetails = memo(function ProofRunDetails({
  projectId,
  run,
  about,
}: {
  projectId: string;
  run: ProofRun;
  about: string;
}) {
  const runner = run.runner ?? "";
  return (
    <div className="proof-run">
      <dl className="facts">
        <div>
          <dt>Command</dt>
          <dd>
            <code>{run.command || "not recorded"}</code>
          </dd>
        </div>
        <div>
          <dt>Exit code</dt>
          <dd>{exitCodeText(run.exitCode)}</dd>
        </div>
        <div>
          <dt>Duration</dt>
          <dd>{formatDuration(run.durationMs)}</dd>
        </div>
        <div>
          <dt>Runner</dt>
          <dd>{runners[runner] ?? (runner || "not recorded")}</dd>
        </div>
        <div>
          <dt>Source tree</dt>
          <dd>
            {run.treeHash ? <TreeHashLink projectId={projectId} hash={run.treeHash} /> : "not recorded"}
          </dd>
        </div>
      </dl>
      {(run.artifacts ?? []).map((a, i) => (
        <ArtifactView key={a.id ?? i} projectId={projectId} artifact={a} about={about} />
      ))}
    </div>
  );
});
