import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { Link, useNavigate } from "react-router";
import { useApi } from "../../../api/ApiProvider";
import { unwrap } from "../../../api/client";
import { DownloadButton } from "../../../shared/download/DownloadButton";
import { ErrorView } from "../../../shared/ErrorView";
import { fieldError } from "../../../shared/errors";
import { canEdit, documentTypeLabel, isOwner, type Role } from "../../../shared/labels";
import { TextArea } from "../../../shared/TextField";
import { addRun, gateLabel, refreshGates, roleName, type NextAction, type Run } from "./data";
import { RecordProofForm } from "./RecordProofForm";

interface Props {
  projectId: string;
  /** The project's name, for the archive's file name. */
  projectName: string;
  /** The project's description, to start the work with. */
  description: string;
  role: Role;
  step: NextAction;
  /** The gate's name, e.g. "Architecture". */
  gateName: string | undefined;
  /** The runs queued or running now. */
  activeRuns: Run[];
  /** A run was started here (the work, or a gate): show its output. */
  onRunStarted: (runId: string) => void;
}

/** What needs me now: the status's next step in words, and a button that does it (for those allowed). */
export function NextStep(props: Props) {
  const { step } = props;
  return (
    <section className={`panel next-step kind-${kindClass(step.kind)}`} aria-labelledby="next-step-title">
      <h2 id="next-step-title">What needs me now</h2>
      <p className="next-summary">{step.summary}</p>
      <Action {...props} />
    </section>
  );
}

function kindClass(kind: NextAction["kind"]): string {
  return kind.replace("NEXT_ACTION_KIND_", "").toLowerCase().replaceAll("_", "-");
}

function Action({
  projectId,
  projectName,
  description,
  role,
  step,
  gateName,
  activeRuns,
  onRunStarted,
}: Props) {
  const navigate = useNavigate();
  const title = gateLabel(step.gate, gateName);
  const editor = canEdit(role);
  const owner = isOwner(role);
  switch (step.kind) {
    case "NEXT_ACTION_KIND_START_WORK":
      return editor ? (
        <StartWork projectId={projectId} description={description} onRunStarted={onRunStarted} />
      ) : (
        <p className="muted">Waiting for an editor or the owner to start the work.</p>
      );
    case "NEXT_ACTION_KIND_START_GATE":
      return editor ? (
        <GateAction projectId={projectId} gate={step.gate} verb="start" label={`Start ${title}`} />
      ) : (
        <p className="muted">Waiting for the agents, or an editor, to start {title}.</p>
      );
    case "NEXT_ACTION_KIND_SUBMIT_GATE":
      return editor ? (
        <GateAction
          projectId={projectId}
          gate={step.gate}
          verb="submit"
          label={`Submit ${title} for review`}
        />
      ) : (
        <p className="muted">Waiting for {title} to be submitted for review.</p>
      );
    case "NEXT_ACTION_KIND_REVIEW_GATE":
      return owner ? (
        <p>
          <button
            type="button"
            className="primary"
            onClick={() => void navigate(`/projects/${projectId}/gates/${step.gate}/review`)}
          >
            Review G{step.gate}
          </button>
        </p>
      ) : (
        <p className="muted">Waiting for the owner&apos;s review of {title}.</p>
      );
    case "NEXT_ACTION_KIND_RECORD_PROOFS":
      return editor && step.missingProofs.length > 0 ? (
        <RecordProofForm projectId={projectId} gate={step.gate} missing={step.missingProofs} />
      ) : (
        <p className="muted">Waiting for an editor or the owner to record the proofs.</p>
      );
    case "NEXT_ACTION_KIND_UNBLOCK_GATE":
      return (
        <>
          <p className="notice blocked">
            <strong>Why it is blocked:</strong> {step.blockedReason || "no reason was given."}
          </p>
          {owner ? (
            <GateAction
              projectId={projectId}
              gate={step.gate}
              verb="unblock"
              label={`Unblock G${step.gate}`}
            />
          ) : (
            <p className="muted">Once the cause is fixed, the owner unblocks {title}.</p>
          )}
        </>
      );
    case "NEXT_ACTION_KIND_WAIT_FOR_AGENTS":
    case "NEXT_ACTION_KIND_PRODUCE_DELIVERABLES":
      return <AgentsWorking runs={activeRuns} missing={step.missingDeliverables} />;
    case "NEXT_ACTION_KIND_PROJECT_COMPLETE":
      return (
        <>
          <p className="done">
            <strong>Project completed.</strong> Every gate is approved.
          </p>
          <div className="actions">
            <DownloadButton
              project={{ id: projectId, name: projectName }}
              format="ARCHIVE_FORMAT_ZIP"
              label="Download ZIP"
            />
            <Link to={`/projects/${projectId}/export`}>More ways to export (tar.gz, git)</Link>
          </div>
        </>
      );
    case "NEXT_ACTION_KIND_PROJECT_ARCHIVED":
      return <p className="muted">The project is archived: nothing more can change.</p>;
    default:
      return null;
  }
}

function AgentsWorking({ runs, missing }: { runs: Run[]; missing: NextAction["missingDeliverables"] }) {
  return (
    <div className="agents-working">
      <p>
        <strong>{runs.length > 0 ? "Agents are working" : "No agent is working right now"}</strong>
        {runs.length > 0 ? ": their output streams in below." : "."}
      </p>
      {runs.length > 0 ? (
        <ul>
          {runs.map((r) => (
            <li key={r.id}>
              {roleName(r.role)}: {r.state === "RUN_STATE_RUNNING" ? "writing" : "queued"}
            </li>
          ))}
        </ul>
      ) : null}
      {missing.length > 0 ? (
        <p className="muted">Still to write: {missing.map(documentTypeLabel).join(", ")}.</p>
      ) : null}
    </div>
  );
}

function StartWork({
  projectId,
  description: initial,
  onRunStarted,
}: {
  projectId: string;
  description: string;
  onRunStarted: (runId: string) => void;
}) {
  const api = useApi();
  const queryClient = useQueryClient();
  const [description, setDescription] = useState(initial);
  const start = useMutation({
    mutationFn: () =>
      unwrap(
        api.POST("/api/v1/projects/{projectId}:startWork", {
          params: { path: { projectId } },
          body: description.trim() ? { description: description.trim() } : {},
        }),
      ),
    onSuccess: ({ run }) => {
      refreshGates(queryClient, projectId);
      if (run) {
        addRun(queryClient, projectId, run);
        onRunStarted(run.id);
      }
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    start.mutate();
  };
  return (
    <form onSubmit={submit} className="start-work">
      <TextArea
        label="Describe what you want to build"
        rows={4}
        value={description}
        onChange={(e) => setDescription(e.target.value)}
        hint="The agents begin G1 from this description."
        error={fieldError(start.error, "description")}
      />
      {start.isError ? <ErrorView error={start.error} title="The work did not start" /> : null}
      <div className="actions">
        <button type="submit" className="primary" disabled={start.isPending}>
          Start work
        </button>
      </div>
    </form>
  );
}

const gatePaths = {
  start: "/api/v1/projects/{projectId}/gates/{gate}:start",
  submit: "/api/v1/projects/{projectId}/gates/{gate}:submit",
  unblock: "/api/v1/projects/{projectId}/gates/{gate}:unblock",
} as const;

/** A button that moves the gate on (start, submit, unblock), with the refusal in words. */
function GateAction({
  projectId,
  gate,
  verb,
  label,
}: {
  projectId: string;
  gate: number;
  verb: keyof typeof gatePaths;
  label: string;
}) {
  const api = useApi();
  const queryClient = useQueryClient();
  const act = useMutation({
    mutationFn: () => unwrap(api.POST(gatePaths[verb], { params: { path: { projectId, gate } }, body: {} })),
    onSuccess: () => refreshGates(queryClient, projectId),
  });
  return (
    <>
      {act.isError ? <ErrorView error={act.error} title={`Could not ${verb} G${gate}`} /> : null}
      <div className="actions">
        <button type="button" className="primary" disabled={act.isPending} onClick={() => act.mutate()}>
          {label}
        </button>
      </div>
    </>
  );
}
