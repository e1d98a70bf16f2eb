import { memo } from "react";
import { GateBadge } from "../../../shared/GateBadge";
import type { GateState } from "../../../shared/labels";
import { When } from "../../../shared/When";
import { approvalOf, gateLabel, phaseName, type Gate, type WorkflowGate } from "./data";

/** One gate of the flow: the workflow's definition and, once started, the gate itself. */
export interface FlowGate {
  number: number;
  name: string;
  phase: string;
  definition: WorkflowGate | undefined;
  gate: Gate | undefined;
  state: GateState;
}

/** The nine gates in order: the workflow's, with the state of those started. */
export function flowGates(workflow: readonly WorkflowGate[], gates: readonly Gate[]): FlowGate[] {
  const numbers = new Set([...workflow.map((w) => w.number), ...gates.map((g) => g.number)]);
  return [...numbers]
    .sort((a, b) => a - b)
    .map((number) => {
      const definition = workflow.find((w) => w.number === number);
      const gate = gates.find((g) => g.number === number);
      return {
        number,
        name: gate?.name ?? definition?.name ?? "",
        phase: gate?.phase ?? definition?.phase ?? "",
        definition,
        gate,
        state: gate?.state ?? "GATE_STATE_PENDING",
      };
    });
}

interface Props {
  gates: FlowGate[];
  /** The project's current gate, marked as the current step. */
  current: number;
  selected: number;
  onSelect: (gate: number) => void;
  /** Who a user id is, in words. */
  name: (userId: string) => string;
}

/**
 * The gate flow G1–G9: each gate a button named "G<n> <name>" with its phase and state in its
 * text (the badge's colour says it again), the current gate marked, approvals with who and when.
 */
export const GateFlow = memo(function GateFlow({ gates, current, selected, onSelect, name }: Props) {
  return (
    <ol className="gate-flow" aria-label="Gates">
      {gates.map((g) => (
        <li key={g.number}>
          <GateButton
            gate={g}
            current={g.number === current}
            selected={g.number === selected}
            onSelect={onSelect}
            name={name}
          />
        </li>
      ))}
    </ol>
  );
});

const GateButton = memo(function GateButton({
  gate,
  current,
  selected,
  onSelect,
  name,
}: {
  gate: FlowGate;
  current: boolean;
  selected: boolean;
  onSelect: (gate: number) => void;
  name: (userId: string) => string;
}) {
  const approval = approvalOf(gate.gate);
  return (
    <button
      type="button"
      className={`gate-step${current ? " current" : ""}${selected ? " selected" : ""}`}
      aria-current={current ? "step" : undefined}
      aria-pressed={selected}
      onClick={() => onSelect(gate.number)}
    >
      <span className="gate-title">{gateLabel(gate.number, gate.name)}</span>
      <Pause />
      <span className="gate-phase">{phaseName(gate.phase)} phase</span>
      <Pause />
      <GateBadge state={gate.state} />
      {gate.gate && gate.gate.revision > 0 && gate.state !== "GATE_STATE_APPROVED" ? (
        <>
          <Pause />
          <span className="gate-meta">revision {gate.gate.revision}</span>
        </>
      ) : null}
      {approval ? (
        <>
          <Pause />
          <span className="gate-meta">
            by {name(approval.reviewerId)}, <When time={approval.createTime} />
          </span>
        </>
      ) : null}
    </button>
  );
});

/** A comma for screen readers between the parts of a gate's name (the layout separates them on screen). */
function Pause() {
  return (
    <>
      <span className="visually-hidden">,</span>{" "}
    </>
  );
}
