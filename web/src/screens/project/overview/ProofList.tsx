import { memo } from "react";
import { Empty } from "../../../shared/Empty";
import { proofResultLabel, proofTypeLabel } from "../../../shared/labels";
import { When } from "../../../shared/When";
import { proofCounts, proofSource, type Gate, type Proof } from "./data";
import { ProofRunDetails } from "./ProofRunDetails";

const resultTone: Record<string, string> = {
  PROOF_RESULT_PASS: "ok",
  PROOF_RESULT_FAIL: "bad",
  PROOF_RESULT_WARNING: "warn",
};

/** Why a proof no longer counts, or "" when it does. */
function standing(proof: Proof, gate: Gate, latest: Set<string>): string {
  if (proof.revision !== gate.revision) return "from an earlier revision: no longer counts";
  if (!proofCounts(proof, gate)) return "about deliverables that changed since: no longer counts";
  if (!latest.has(proof.id)) return "superseded by a later record";
  return "";
}

/** The latest proof of each type (the last recorded), by id. */
function latestOfEachType(proofs: readonly Proof[]): Set<string> {
  const byType = new Map<string, { proof: Proof; index: number }>();
  proofs.forEach((proof, index) => {
    const seen = byType.get(proof.type);
    if (
      !seen ||
      Date.parse(proof.createTime) > Date.parse(seen.proof.createTime) ||
      (proof.createTime === seen.proof.createTime && index > seen.index)
    ) {
      byType.set(proof.type, { proof, index });
    }
  });
  return new Set([...byType.values()].map((v) => v.proof.id));
}

/**
 * A gate's proofs with who produced them (FuzzyLlama, or attested by a person), their results and
 * summaries, and for those FuzzyLlama ran in its sandbox how they ran; those that no longer count
 * say why. onlyCounting keeps the ones that count.
 */
export const ProofList = memo(function ProofList({
  gate,
  proofs = gate.proofs,
  name,
  onlyCounting = false,
}: {
  gate: Gate;
  proofs?: readonly Proof[];
  name: (userId: string) => string;
  onlyCounting?: boolean;
}) {
  const latest = latestOfEachType(proofs.filter((p) => p.revision === gate.revision));
  const shown = [...proofs]
    .filter((p) => !onlyCounting || standing(p, gate, latest) === "")
    .sort((a, b) => Date.parse(b.createTime) - Date.parse(a.createTime));
  if (shown.length === 0) return <Empty>No proofs recorded yet.</Empty>;
  return (
    <ul className="proof-list">
      {shown.map((p) => {
        const note = standing(p, gate, latest);
        return (
          <li key={p.id} className={note ? "stale" : undefined}>
            <strong>{proofTypeLabel(p.type)}</strong>{" "}
            <span className={`badge ${resultTone[p.result] ?? ""}`}>{proofResultLabel(p.result)}</span>{" "}
            <span className="muted">
              {proofSource(p, name)}, <When time={p.createTime} />
            </span>
            {note ? <span className="muted"> ({note})</span> : null}
            {p.summary ? <p className="proof-summary">{p.summary}</p> : null}
            {p.run ? (
              <ProofRunDetails
                projectId={gate.projectId}
                run={p.run}
                about={`the ${proofTypeLabel(p.type)} proof`}
              />
            ) : null}
          </li>
        );
      })}
    </ul>
  );
});
