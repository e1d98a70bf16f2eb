import { useCallback, useMemo, useState } from "react";
import { useLocation, useSearchParams } from "react-router";
import { ErrorView } from "../../../shared/ErrorView";
import { canEdit, runIsActive } from "../../../shared/labels";
import { Loading } from "../../../shared/Loading";
import { useTitle } from "../../../shared/useTitle";
import { useCurrentProject } from "../ProjectLayout";
import {
  documentTitles,
  gateLabel,
  useGates,
  usePersonName,
  useRuns,
  useStatus,
  useWorkflow,
  type Gate,
  type Run,
} from "./data";
import { flowGates, GateFlow } from "./GateFlow";
import { GateDetails } from "./GateDetails";
import { NextStep } from "./NextStep";
import { RunsPanel } from "./RunsPanel";

/** What the new-project page passes when the work could not be started. */
interface ArrivalState {
  startWorkError?: string;
}

/**
 * The project's overview: what needs the person now, the gate flow G1–G9 with the selected gate's
 * details, and the agents' work at that gate, live. ?gate=<n> selects a gate (default: the
 * current one); ?run=<id> opens a run's output.
 */
export function Component() {
  const project = useCurrentProject();
  const projectId = project.id;
  useTitle(`Overview · ${project.name}`);
  const [params, setParams] = useSearchParams();
  const arrival = useLocation().state as ArrivalState | null;
  const gates = useGates(projectId);
  const status = useStatus(projectId);
  const workflow = useWorkflow(project.type);
  const runs = useRuns(projectId);
  const name = usePersonName(projectId);

  const current = status.data?.currentGate ?? project.currentGate;
  const selected = Number(params.get("gate")) || current;
  const selectGate = useCallback(
    (gate: number) =>
      setParams(
        (p) => {
          const next = new URLSearchParams(p);
          if (gate === current) next.delete("gate");
          else next.set("gate", String(gate));
          return next;
        },
        { replace: true },
      ),
    [setParams, current],
  );

  const allRuns = runs.data?.runs;
  const gateRuns = useMemo(() => (allRuns ?? []).filter((r) => r.gate === selected), [allRuns, selected]);
  const activeRuns = useMemo(
    () => (allRuns ?? []).filter((r) => r.gate === current && runIsActive(r.state)),
    [allRuns, current],
  );
  const titles = useMemo(() => documentTitles(allRuns), [allRuns]);
  const currentGate = gates.data?.gates.find((g) => g.number === current);
  const openRun = useOpenRun(params.get("run"), allRuns, current, currentGate);

  const flow = useMemo(
    () => flowGates(workflow.data?.gates ?? [], gates.data?.gates ?? []),
    [workflow.data, gates.data],
  );

  if (gates.isPending || status.isPending || workflow.isPending) {
    return <Loading label="Loading the gates" />;
  }
  // A failed first load has nothing to show; a failed refresh keeps what was shown, and says so.
  if (!gates.data) return <ErrorView error={gates.error} retry={() => void gates.refetch()} />;
  if (!status.data) return <ErrorView error={status.error} retry={() => void status.refetch()} />;
  const refreshError = gates.error ?? status.error;
  const shown = flow.find((g) => g.number === selected) ?? flow.find((g) => g.number === current);
  const editable = canEdit(project.role);
  return (
    <div className="overview">
      {refreshError ? (
        <ErrorView
          error={refreshError}
          title="The page could not be brought up to date"
          retry={() => {
            void gates.refetch();
            void status.refetch();
          }}
        />
      ) : null}
      {arrival?.startWorkError ? (
        <ErrorView
          error={new Error(arrival.startWorkError)}
          title="The project was created, but its work did not start"
        />
      ) : null}
      <NextStep
        projectId={projectId}
        projectName={project.name}
        description={project.description}
        role={project.role}
        step={status.data.nextStep}
        gateName={flow.find((g) => g.number === status.data.nextStep.gate)?.name}
        activeRuns={activeRuns}
        onRunStarted={openRun.set}
      />
      <section className="gates" aria-labelledby="gates-title">
        <h2 id="gates-title">
          Gates <span className="muted progress-text">{status.data.percentComplete}% complete</span>
        </h2>
        <progress
          className="project-progress"
          max={100}
          value={status.data.percentComplete}
          aria-label="Progress"
        />
        {workflow.isError ? (
          <ErrorView error={workflow.error} title="The workflow could not be loaded" />
        ) : null}
        <GateFlow
          gates={flow}
          current={current}
          selected={shown?.number ?? current}
          onSelect={selectGate}
          name={name}
        />
      </section>
      {runs.isError ? (
        <ErrorView
          error={runs.error}
          title="The agents' runs could not be loaded"
          retry={() => void runs.refetch()}
        />
      ) : runs.isPending ? (
        <Loading label="Loading the agents' work" />
      ) : (
        <RunsPanel
          projectId={projectId}
          runs={gateRuns}
          gateTitle={gateLabel(selected, shown?.name)}
          openRun={openRun.id}
          onOpen={openRun.set}
          editable={editable}
        />
      )}
      {shown ? (
        <GateDetails projectId={projectId} flow={shown} editable={editable} name={name} titles={titles} />
      ) : null}
    </div>
  );
}

/**
 * The run whose output is open: the one the person chose (or ?run=), else — until they choose —
 * the newest run queued or running at the current gate, or, on a new project whose G1 nobody has
 * reviewed yet, G1's intake run: the person lands watching the agent write. Once shown, a run
 * stays open when it finishes.
 */
function useOpenRun(
  fromUrl: string | null,
  runs: Run[] | undefined,
  current: number,
  currentGate: Gate | undefined,
): { id: string | null; set: (id: string | null) => void } {
  // undefined: nobody chose yet; null: closed on purpose.
  const [chosen, setChosen] = useState<string | null | undefined>(fromUrl ?? undefined);
  const automatic = chosen === undefined ? pickRun(runs, current, currentGate) : undefined;
  if (chosen === undefined && automatic) setChosen(automatic);
  const set = useCallback((id: string | null) => setChosen(id), []);
  return { id: chosen ?? automatic ?? null, set };
}

function pickRun(
  runs: Run[] | undefined,
  current: number,
  currentGate: Gate | undefined,
): string | undefined {
  const atGate = (runs ?? []).filter((r) => r.gate === current);
  const active = atGate.find((r) => runIsActive(r.state));
  if (active) return active.id;
  if (current === 1 && currentGate && currentGate.reviews.length === 0) return atGate[0]?.id;
  return undefined;
}
