import { useMutation, useQueryClient } from "@tanstack/react-query";
import { memo } from "react";
import { useApi } from "../../../api/ApiProvider";
import { unwrap } from "../../../api/client";
import { queryKeys } from "../../../api/queryKeys";
import { Empty } from "../../../shared/Empty";
import { ErrorView } from "../../../shared/ErrorView";
import { formatCount } from "../../../shared/format";
import { runIsActive, runStateLabel } from "../../../shared/labels";
import { When } from "../../../shared/When";
import { addRun, roleName, type Run } from "./data";
import { RunOutput } from "./RunOutput";

const stateTone: Record<string, string> = {
  RUN_STATE_QUEUED: "state-not-started",
  RUN_STATE_RUNNING: "info",
  RUN_STATE_SUCCEEDED: "ok",
  RUN_STATE_FAILED: "bad",
  RUN_STATE_CANCELLED: "warn",
};

interface Props {
  projectId: string;
  /** The gate's runs, newest first. */
  runs: Run[];
  /** The gate, in words: "G1 Scope". */
  gateTitle: string;
  /** The run whose output is open. */
  openRun: string | null;
  onOpen: (runId: string | null) => void;
  editable: boolean;
}

/** Live agent work at a gate: its runs with role, state, attempt, tokens and cost; one run's output open. */
export const RunsPanel = memo(function RunsPanel({
  projectId,
  runs,
  gateTitle,
  openRun,
  onOpen,
  editable,
}: Props) {
  return (
    <section className="panel runs" aria-labelledby="runs-title">
      <h2 id="runs-title">Agent work at {gateTitle}</h2>
      {runs.length === 0 ? (
        <Empty>No agent has worked on {gateTitle} yet: its agents start when the gate does.</Empty>
      ) : (
        <ul className="run-list">
          {runs.map((run) => (
            <RunItem
              key={run.id}
              projectId={projectId}
              run={run}
              open={run.id === openRun}
              onOpen={onOpen}
              editable={editable}
            />
          ))}
        </ul>
      )}
    </section>
  );
});

const RunItem = memo(function RunItem({
  projectId,
  run,
  open,
  onOpen,
  editable,
}: {
  projectId: string;
  run: Run;
  open: boolean;
  onOpen: (runId: string | null) => void;
  editable: boolean;
}) {
  const api = useApi();
  const queryClient = useQueryClient();
  const role = roleName(run.role);
  const active = runIsActive(run.state);
  const outputId = `run-output-${run.id}`;
  const cancel = useMutation({
    mutationFn: () =>
      unwrap(
        api.POST("/api/v1/projects/{projectId}/runs/{runId}:cancel", {
          params: { path: { projectId, runId: run.id } },
          body: {},
        }),
      ),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: queryKeys.runs(projectId) }),
  });
  const retry = useMutation({
    mutationFn: () =>
      unwrap(
        api.POST("/api/v1/projects/{projectId}/runs", {
          params: { path: { projectId } },
          body: { gate: run.gate, role: run.role },
        }),
      ),
    onSuccess: ({ run: started }) => {
      addRun(queryClient, projectId, started);
      onOpen(started.id);
    },
  });
  const usage = run.usage;
  const offline = usage.offlineRuns > 0;
  return (
    <li className={`run${open ? " open" : ""}`}>
      <div className="run-head">
        <strong className="run-role">{role}</strong>{" "}
        <span className={`badge ${stateTone[run.state] ?? ""}`}>{runStateLabel(run.state)}</span>
        <span className="run-facts">
          <span>
            attempt {run.attempt} of {run.maxAttempts}
          </span>
          <span>
            {offline
              ? "offline: no tokens, no cost"
              : `${formatCount(usage.inputTokens)} tokens in, ${formatCount(usage.outputTokens)} out`}
          </span>
          {offline ? null : <span>{usage.costUsd}</span>}
          {run.revision > 0 ? <span>revision {run.revision}</span> : null}
          {run.rescues > 0 ? (
            <span>
              resumed {run.rescues === 1 ? "once" : `${run.rescues} times`} after its worker stopped
            </span>
          ) : null}
          <span>
            {run.endTime ? "ended " : run.startTime ? "started " : "queued "}
            <When time={run.endTime ?? run.startTime ?? run.createTime} />
          </span>
        </span>
        <span className="actions">
          <button
            type="button"
            aria-expanded={open}
            aria-controls={open ? outputId : undefined}
            onClick={() => onOpen(open ? null : run.id)}
          >
            {open ? "Hide output" : "Show output"} <span className="visually-hidden">of {role}</span>
          </button>
          {editable && active ? (
            <button
              type="button"
              className="danger"
              disabled={cancel.isPending}
              onClick={() => cancel.mutate()}
            >
              Cancel <span className="visually-hidden">the {role} run</span>
            </button>
          ) : null}
          {editable && !active ? (
            <button type="button" disabled={retry.isPending} onClick={() => retry.mutate()}>
              Retry <span className="visually-hidden">{role}</span>
            </button>
          ) : null}
        </span>
      </div>
      {run.feedback ? (
        <p className="run-feedback">
          <span className="muted">Addresses the requested changes:</span> {run.feedback}
        </p>
      ) : null}
      {run.error ? <RunProblem run={run} /> : null}
      {cancel.isError ? <ErrorView error={cancel.error} title="Could not cancel" /> : null}
      {retry.isError ? <ErrorView error={retry.error} title="Could not start the run again" /> : null}
      {open ? (
        <div id={outputId}>
          <RunOutput key={run.id} projectId={projectId} run={run} />
        </div>
      ) : null}
    </li>
  );
});

/** Why a run failed or was cancelled; while it is queued, what it waits for (a service of ours). */
function RunProblem({ run }: { run: Run }) {
  if (run.state === "RUN_STATE_FAILED" || run.state === "RUN_STATE_CANCELLED") {
    return (
      <p className="error run-error">
        {run.state === "RUN_STATE_CANCELLED" ? "Cancelled" : "Failed"}: {run.error}
      </p>
    );
  }
  return <p className="muted run-note">{run.error}</p>;
}
