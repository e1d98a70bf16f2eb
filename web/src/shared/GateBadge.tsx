import { gateStateLabel, gateStateTone, type GateState } from "./labels";

/** A gate's state, in colour and in words (colour alone says nothing to many people). */
export function GateBadge({ state }: { state: GateState }) {
  return <span className={`badge state-${gateStateTone(state)}`}>{gateStateLabel(state)}</span>;
}
