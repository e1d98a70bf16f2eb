import { useMemo, useState } from "react";
import { Link, useParams } from "react-router";
import { Empty } from "../../../shared/Empty";
import { ErrorView } from "../../../shared/ErrorView";
import { GateBadge } from "../../../shared/GateBadge";
import { canEdit, documentTypeLabel, gateStateLabel, isOwner } from "../../../shared/labels";
import { Loading } from "../../../shared/Loading";
import { isCodeGate } from "../../../shared/sourcePath";
import { useTitle } from "../../../shared/useTitle";
import {
  documentTitles,
  gateLabel,
  newestFirst,
  usePersonName,
  useGates,
  useRuns,
  useWorkflow,
  type Gate,
  type Review,
} from "../overview/data";
import { ProofList } from "../overview/ProofList";
import { ReviewRecord } from "../overview/ReviewRecord";
import { VerificationPanel } from "../overview/VerificationPanel";
import { useCurrentProject } from "../ProjectLayout";
import { DecisionForm } from "./DecisionForm";
import { DeliverableReview } from "./DeliverableReview";
import { diffBase } from "./documents";

/**
 * The review of a gate (/projects/:id/gates/:gate/review): for a gate in review, each deliverable
 * rendered with its changes since the previous review, the proofs with who produced them, and —
 * for the owner — Approve or Request changes; then, and for any gate, its review records.
 */
export function Component() {
  const project = useCurrentProject();
  const projectId = project.id;
  const number = Number(useParams().gate);
  const gates = useGates(projectId);
  const workflow = useWorkflow(project.type);
  const runs = useRuns(projectId);
  const name = usePersonName(projectId);
  // The decision made here, for the gate it was made on (the page stays mounted across gates).
  const [decision, setDecision] = useState<Review | null>(null);
  const decided = decision?.gate === number ? decision : null;
  const titles = useMemo(() => documentTitles(runs.data?.runs), [runs.data]);
  const gateName =
    gates.data?.gates.find((g) => g.number === number)?.name ??
    workflow.data?.gates.find((g) => g.number === number)?.name;
  const title = gateLabel(number, gateName);
  useTitle(`Review ${title} · ${project.name}`);

  if (!Number.isInteger(number) || number < 1 || number > 9) {
    return (
      <section className="review" aria-labelledby="review-title">
        <h2 id="review-title">No such gate</h2>
        <p>
          A project has gates G1 to G9. <Link to={`/projects/${projectId}`}>Back to the overview</Link>
        </p>
      </section>
    );
  }
  if (gates.isPending) return <Loading label={`Loading ${title}`} />;
  if (!gates.data) return <ErrorView error={gates.error} retry={() => void gates.refetch()} />;
  const gate = gates.data.gates.find((g) => g.number === number);
  const back = (
    <p>
      <Link to={`/projects/${projectId}`}>Back to the overview</Link>
    </p>
  );
  if (!gate) {
    return (
      <section className="review" aria-labelledby="review-title">
        <h2 id="review-title">Review {title}</h2>
        <p className="notice">{title} has not started yet: there is nothing to review.</p>
        {back}
      </section>
    );
  }
  const inReview = gate.state === "GATE_STATE_IN_REVIEW";
  const owner = isOwner(project.role);
  return (
    <section className="review" aria-labelledby="review-title">
      <h2 id="review-title">
        Review {title} <GateBadge state={gate.state} />
      </h2>
      {decided ? (
        <div className="decided">
          <p className="notice" role="status">
            {decided.decision === "GATE_STATE_APPROVED"
              ? `You approved ${title}.`
              : `You requested changes to ${title}: its agents work on them now.`}
          </p>
          <ReviewRecord review={decided} name={name} titles={titles} heading="h3" />
          {back}
        </div>
      ) : inReview ? (
        <InReview
          projectId={projectId}
          gate={gate}
          title={title}
          owner={owner}
          editable={canEdit(project.role)}
          name={name}
          titles={titles}
          onDecided={setDecision}
        />
      ) : (
        <>
          <p className="notice">
            {title} is not in review: it is {gateStateLabel(gate.state)}.
          </p>
          {back}
        </>
      )}
      <PastReviews gate={gate} decided={decided} name={name} titles={titles} />
    </section>
  );
}

function InReview({
  projectId,
  gate,
  title,
  owner,
  editable,
  name,
  titles,
  onDecided,
}: {
  projectId: string;
  gate: Gate;
  title: string;
  owner: boolean;
  editable: boolean;
  name: (userId: string) => string;
  titles: Map<string, string>;
  onDecided: (review: Review) => void;
}) {
  const recorded = gate.deliverables.filter((d) => d.documentId !== "");
  return (
    <>
      <p>
        {owner
          ? `Read what ${title} produced and the evidence for it, then approve it or request changes.`
          : `${title} waits for the owner's review. Only the owner approves or requests changes.`}
      </p>
      <h3>Deliverables</h3>
      {recorded.length === 0 ? (
        <Empty>No deliverables: this gate requires no documents.</Empty>
      ) : (
        recorded.map((d) => (
          <DeliverableReview
            key={d.documentId}
            projectId={projectId}
            deliverable={d}
            title={titles.get(d.documentId) ?? documentTypeLabel(d.documentType)}
            base={diffBase(gate, d)}
          />
        ))
      )}
      <h3>Proofs</h3>
      <ProofList gate={gate} name={name} onlyCounting />
      {isCodeGate(gate.number) ? <VerificationPanel gate={gate} title={title} editable={editable} /> : null}
      {owner ? (
        <DecisionForm projectId={projectId} gate={gate.number} gateTitle={title} onDecided={onDecided} />
      ) : null}
    </>
  );
}

function PastReviews({
  gate,
  decided,
  name,
  titles,
}: {
  gate: Gate;
  decided: Review | null;
  name: (userId: string) => string;
  titles: Map<string, string>;
}) {
  const past = newestFirst(gate.reviews).filter((r) => r.id !== decided?.id);
  return (
    <section className="past-reviews" aria-labelledby="past-reviews-title">
      <h3 id="past-reviews-title">{decided ? "Earlier reviews" : "Review records"}</h3>
      {past.length === 0 ? (
        <Empty>No {decided ? "earlier " : ""}reviews of this gate.</Empty>
      ) : (
        past.map((r) => <ReviewRecord key={r.id} review={r} name={name} titles={titles} />)
      )}
    </section>
  );
}
