// A code gate's verification (G5-G9): FuzzyLlama builds, lints and tests the tree the gate holds
// in a sandbox and records the proofs. The latest verification is shown with its steps; while it
// is queued or running the list is read again every 2 s (no message says when it moves on), and
// proof and gate messages refresh it too (live/cache.ts). Owners and editors run it again.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { memo, useId } from "react";
import { Link } from "react-router";
import { useApi } from "../../../api/ApiProvider";
import { unwrap, type Schemas } from "../../../api/client";
import { queryKeys } from "../../../api/queryKeys";
import { Empty } from "../../../shared/Empty";
import { ErrorView } from "../../../shared/ErrorView";
import { formatDuration } from "../../../shared/format";
import { proofTypeLabel, verificationIsActive, verificationStateLabel } from "../../../shared/labels";
import { Loading } from "../../../shared/Loading";
import { TreeHashLink } from "../../../shared/TreeHashLink";
import { When } from "../../../shared/When";
import { ArtifactView } from "./ArtifactView";
import { refreshGates, type Gate } from "./data";
import { exitCodeText } from "./ProofRunDetails";

export type Verification = Schemas["Verification"];
type VerificationList = Schemas["ListVerificationsResponse"];

/** How often a queued or running verification is read again. */
export const ACTIVE_POLL_MS = 2_000;

const stateTone: Record<string, string> = {
  VERIFICATION_STATE_QUEUED: "state-not-started",
  VERIFICATION_STATE_RUNNING: "info",
  VERIFICATION_STATE_PASSED: "ok",
  VERIFICATION_STATE_FAILED: "bad",
  VERIFICATION_STATE_ERROR: "bad",
  VERIFICATION_STATE_SKIPPED: "state-not-started",
};

/** What precedes a verification's error, by its state. */
const errorLead: Record<string, string> = {
  VERIFICATION_STATE_ERROR: "It could not run: ",
  VERIFICATION_STATE_SKIPPED: "Nothing to verify, the proofs are yours to record: ",
};

const latestActive = (list: VerificationList | undefined) => {
  const latest = list?.verifications[0];
  return latest !== undefined && verificationIsActive(latest.state);
};

/** A gate's verifications, newest first; read again every 2 s while the latest is under way. */
export function useVerifications(projectId: string, gate: number) {
  const api = useApi();
  const queryClient = useQueryClient();
  const queryKey = queryKeys.verifications(projectId, gate);
  return useQuery({
    queryKey,
    queryFn: async () => {
      const before = queryClient.getQueryData<VerificationList>(queryKey);
      const list = await unwrap(
        api.GET("/api/v1/projects/{projectId}/verifications", {
          params: { path: { projectId }, query: { gate } },
        }),
      );
      // It just ended: its proofs are recorded (should their messages be missed, the gate shows them).
      if (latestActive(before) && !latestActive(list)) refreshGates(queryClient, projectId);
      return list;
    },
    refetchInterval: (query) => (latestActive(query.state.data) ? ACTIVE_POLL_MS : false),
  });
}

/** Whether the server verifies the gate now: only while it is in progress or blocked. */
const verifiable = (gate: Gate) =>
  gate.state === "GATE_STATE_IN_PROGRESS" || gate.state === "GATE_STATE_BLOCKED";

export const VerificationPanel = memo(function VerificationPanel({
  gate,
  title,
  editable,
}: {
  gate: Gate;
  /** The gate in words: "G5 Development". */
  title: string;
  editable: boolean;
}) {
  const api = useApi();
  const queryClient = useQueryClient();
  const headingId = useId();
  const { projectId, number } = gate;
  const list = useVerifications(projectId, number);
  const latest = list.data?.verifications[0];
  const active = latest !== undefined && verificationIsActive(latest.state);
  const verify = useMutation({
    mutationFn: () =>
      unwrap(
        api.POST("/api/v1/projects/{projectId}/gates/{gate}:verify", {
          params: { path: { projectId, gate: number } },
          body: {},
        }),
      ),
    // Listed at once: the list is then read again every 2 s until it ends.
    onSuccess: ({ verification }) =>
      queryClient.setQueryData<VerificationList>(queryKeys.verifications(projectId, number), (data) => ({
        verifications: [verification, ...(data?.verifications ?? []).filter((v) => v.id !== verification.id)],
      })),
  });
  return (
    <section className="verification" aria-labelledby={headingId}>
      <h3 id={headingId}>Verification</h3>
      {list.isPending ? (
        <Loading label="Loading the verifications" />
      ) : list.isError ? (
        <ErrorView error={list.error} retry={() => void list.refetch()} />
      ) : latest ? (
        <LatestVerification verification={latest} />
      ) : (
        <Empty>
          No verification of {title} yet. FuzzyLlama verifies a gate&apos;s code in a sandbox when the gate
          requires proofs it can produce (build, lint, tests, coverage, vulnerability scan), once the
          gate&apos;s agents are done.
        </Empty>
      )}
      <p className="actions">
        {editable && verifiable(gate) ? (
          <button type="button" disabled={active || verify.isPending} onClick={() => verify.mutate()}>
            {latest ? "Verify again" : "Verify now"}
          </button>
        ) : null}
        <Link to={`/projects/${projectId}/code?gate=${number}`}>The code {title} holds</Link>
      </p>
      {verify.isError ? <ErrorView error={verify.error} title="The verification did not start" /> : null}
    </section>
  );
});

function LatestVerification({ verification: v }: { verification: Verification }) {
  const active = verificationIsActive(v.state);
  return (
    <>
      <p className="verification-state">
        <span className={`badge ${stateTone[v.state] ?? ""}`}>{verificationStateLabel(v.state)}</span>{" "}
        <span className="muted">
          revision {v.revision}
          {v.repair > 0 ? `, after ${v.repair === 1 ? "1 repair" : `${v.repair} repairs`}` : ""}
          {", "}
          {active ? "started " : "ended "}
          <When time={active ? v.createTime : (v.endTime ?? v.createTime)} />
          {v.treeHash ? (
            <>
              {", tree "}
              <TreeHashLink projectId={v.projectId} hash={v.treeHash} />
            </>
          ) : null}
          {v.runner ? `, ${v.runner} runner` : ""}
        </span>
      </p>
      {v.error ? (
        <p className="verification-error">
          {errorLead[v.state] ?? "Sent to the developers: "}
          {v.error}
        </p>
      ) : null}
      {v.steps.length > 0 ? (
        <ul className="verification-steps">
          {v.steps.map((step, i) => (
            <Step key={`${step.proofType}-${i}`} step={step} projectId={v.projectId} />
          ))}
        </ul>
      ) : null}
    </>
  );
}

function Step({ step, projectId }: { step: Schemas["VerificationStep"]; projectId: string }) {
  const about = `the ${proofTypeLabel(step.proofType)} step`;
  const log = step.artifactIds[0];
  return (
    <li>
      <strong>{proofTypeLabel(step.proofType)}</strong>{" "}
      <span className={`badge ${step.passed ? "ok" : "bad"}`}>{step.passed ? "passed" : "failed"}</span>{" "}
      {step.summary}
      {step.passed ? null : (
        <span className="muted">
          {" "}
          (<code>{step.command}</code>, exit code {exitCodeText(step.exitCode)},{" "}
          {formatDuration(step.durationMs)})
        </span>
      )}
      {!step.passed && log ? (
        <ArtifactView projectId={projectId} artifact={{ id: log, kind: "log" }} about={about} />
      ) : null}
    </li>
  );
}
