import { memo } from "react";
import { Link } from "react-router";
import { Empty } from "../../../shared/Empty";
import { GateBadge } from "../../../shared/GateBadge";
import { documentTypeLabel, proofTypeLabel } from "../../../shared/labels";
import { isCodeGate } from "../../../shared/sourcePath";
import { gateLabel, newestFirst, phaseName, roleName, type Deliverable, type Gate } from "./data";
import type { FlowGate } from "./GateFlow";
import { ProofList } from "./ProofList";
import { VerificationPanel } from "./VerificationPanel";
import { ReviewRecord } from "./ReviewRecord";

interface Props {
  projectId: string;
  flow: FlowGate;
  /** The caller may change the project (owner or editor): they may run a verification again. */
  editable: boolean;
  name: (userId: string) => string;
  titles: Map<string, string>;
}

/** The selected gate: its deliverables with their completeness, proofs, what it lacks, why it is blocked, its reviews. */
export const GateDetails = memo(function GateDetails({ projectId, flow, editable, name, titles }: Props) {
  const { gate, definition } = flow;
  const title = gateLabel(flow.number, flow.name);
  return (
    <section className="panel gate-details" aria-labelledby="gate-details-title">
      <h2 id="gate-details-title">
        {title} <GateBadge state={flow.state} />
      </h2>
      <p className="muted">
        {phaseName(flow.phase)} phase
        {definition && definition.roles.length > 0
          ? ` · worked on by ${definition.roles.map(roleName).join(", ")}`
          : ""}
        {gate && gate.revision > 0
          ? ` · revision ${gate.revision} (changes requested ${gate.revision === 1 ? "once" : `${gate.revision} times`})`
          : ""}
      </p>
      {gate?.state === "GATE_STATE_BLOCKED" ? (
        <p className="notice blocked">
          <strong>Blocked:</strong> {gate.blockedReason || "no reason given."}
        </p>
      ) : null}
      {gate ? (
        <StartedGate
          projectId={projectId}
          gate={gate}
          title={title}
          editable={editable}
          name={name}
          titles={titles}
        />
      ) : (
        <>
          <p>
            Not started yet: it starts when G{flow.number - 1} is approved.
            {definition ? " It will need:" : ""}
          </p>
          {definition ? (
            <ul>
              {definition.deliverables.map((d) => (
                <li key={d}>{documentTypeLabel(d)} (a document)</li>
              ))}
              {definition.proofs.map((p) => (
                <li key={p}>a passing {proofTypeLabel(p)} proof</li>
              ))}
            </ul>
          ) : null}
        </>
      )}
    </section>
  );
});

function StartedGate({
  projectId,
  gate,
  title,
  editable,
  name,
  titles,
}: {
  projectId: string;
  gate: Gate;
  title: string;
  editable: boolean;
  name: (userId: string) => string;
  titles: Map<string, string>;
}) {
  const missing = gate.missingDeliverables.length + gate.missingProofs.length;
  return (
    <>
      {gate.state === "GATE_STATE_IN_REVIEW" ? (
        <p>
          <Link to={`/projects/${projectId}/gates/${gate.number}/review`}>Open the review of {title}</Link>
        </p>
      ) : null}
      <h3>Deliverables</h3>
      {gate.deliverables.length === 0 ? (
        <Empty>No deliverables: this gate requires no documents.</Empty>
      ) : (
        <table className="deliverables">
          <caption className="visually-hidden">Deliverables of {title}</caption>
          <thead>
            <tr>
              <th scope="col">Document</th>
              <th scope="col">Type</th>
              <th scope="col">Status</th>
            </tr>
          </thead>
          <tbody>
            {gate.deliverables.map((d) => (
              <tr key={`${d.documentType}-${d.documentId}`}>
                <td>
                  {d.documentId ? (
                    <Link to={`/projects/${projectId}/documents/${d.documentId}`}>
                      {titles.get(d.documentId) ?? documentTypeLabel(d.documentType)} v{d.version}
                    </Link>
                  ) : (
                    <span className="muted">not written yet</span>
                  )}
                </td>
                <td>
                  {documentTypeLabel(d.documentType)}
                  {d.required ? "" : " (optional)"}
                </td>
                <td>
                  <Completeness deliverable={d} gate={gate} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {missing > 0 ? (
        <>
          <h3>Still missing</h3>
          <ul className="missing">
            {gate.missingDeliverables.map((d) => (
              <li key={`d-${d}`}>a complete {documentTypeLabel(d)} document of this revision</li>
            ))}
            {gate.missingProofs.map((p) => (
              <li key={`p-${p}`}>a passing {proofTypeLabel(p)} proof about the deliverables as they are</li>
            ))}
          </ul>
        </>
      ) : null}
      <h3>Proofs</h3>
      <ProofList gate={gate} name={name} />
      {isCodeGate(gate.number) ? <VerificationPanel gate={gate} title={title} editable={editable} /> : null}
      <h3>Reviews</h3>
      {gate.reviews.length === 0 ? (
        <Empty>No reviews yet: the owner reviews the gate once it has what approval needs.</Empty>
      ) : (
        newestFirst(gate.reviews).map((r) => (
          <ReviewRecord key={r.id} review={r} name={name} titles={titles} />
        ))
      )}
    </>
  );
}

function Completeness({ deliverable: d, gate }: { deliverable: Deliverable; gate: Gate }) {
  if (!d.documentId) return <span className="badge bad">missing</span>;
  if (d.revision !== gate.revision)
    return <span className="badge warn">from revision {d.revision}: counts again once saved</span>;
  if (!d.complete) return <span className="badge warn">incomplete</span>;
  return <span className="badge ok">complete</span>;
}
