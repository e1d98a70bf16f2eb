import { useQuery } from "@tanstack/react-query";
import { memo, useCallback, useEffect, useRef, useState } from "react";
import { useApi } from "../../../api/ApiProvider";
import { unwrap } from "../../../api/client";
import { queryKeys } from "../../../api/queryKeys";
import type { ServerMessage } from "../../../live/connection";
import { useRunWatch } from "../../../live/LiveProvider";
import { ErrorView } from "../../../shared/ErrorView";
import { runIsActive } from "../../../shared/labels";
import { Loading } from "../../../shared/Loading";
import { roleName, type Run } from "./data";
import { OutputLog } from "./outputLog";

/**
 * A run's output. While the run is queued or running it streams in as it is written (watched over
 * the live connection, appended to the log without re-rendering it); a finished run shows the
 * output it stored. Screen readers are not told every chunk (aria-live off): the log is there to
 * read when they want.
 */
export const RunOutput = memo(function RunOutput({ projectId, run }: { projectId: string; run: Run }) {
  const api = useApi();
  const active = runIsActive(run.state);
  const [hasText, setHasText] = useState(false);
  const logRef = useRef<OutputLog | null>(null);
  const attachLog = useCallback((pre: HTMLPreElement | null) => {
    logRef.current = pre ? new OutputLog(pre, setHasText) : null;
  }, []);

  const onMessage = useCallback(
    (m: ServerMessage) => {
      const log = logRef.current;
      if (!log) return;
      if (m.type === "run" && "run" in m && m.run.id === run.id) log.startAttempt(m.run.attempt);
      else if (m.type === "chunk" && "chunk" in m) log.push(m.chunk);
    },
    [run.id],
  );
  useRunWatch(projectId, active ? run.id : undefined, onMessage);

  const stored = useQuery({
    queryKey: queryKeys.run(projectId, run.id),
    queryFn: () =>
      unwrap(
        api.GET("/api/v1/projects/{projectId}/runs/{runId}", {
          params: { path: { projectId, runId: run.id } },
        }),
      ),
    enabled: !active,
    staleTime: Infinity,
  });
  const output = active ? undefined : stored.data?.run.output;
  useEffect(() => {
    if (output !== undefined) logRef.current?.replace(output);
  }, [output]);

  const role = roleName(run.role);
  return (
    <div className="run-output">
      {!active && stored.isPending ? <Loading label={`Loading the output of ${role}`} /> : null}
      {stored.isError ? <ErrorView error={stored.error} retry={() => void stored.refetch()} /> : null}
      {!hasText && (active || stored.isSuccess) ? (
        <p className="muted">
          {active
            ? run.state === "RUN_STATE_QUEUED"
              ? "Queued: the output appears here as soon as the agent starts writing."
              : "Waiting for the first words…"
            : "This run wrote no output."}
        </p>
      ) : null}
      <pre
        ref={attachLog}
        className={`output${hasText ? "" : " empty-output"}`}
        role="log"
        aria-live="off"
        aria-label={`Output of ${role}`}
        tabIndex={0}
      />
    </div>
  );
});
