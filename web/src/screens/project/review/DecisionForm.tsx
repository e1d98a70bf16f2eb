import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useRef, useState } from "react";
import { useApi } from "../../../api/ApiProvider";
import { unwrap } from "../../../api/client";
import { queryKeys } from "../../../api/queryKeys";
import { ErrorView } from "../../../shared/ErrorView";
import { fieldError } from "../../../shared/errors";
import { TextArea } from "../../../shared/TextField";
import { newestFirst, refreshGates, type Gate, type Review } from "../overview/data";

type Decision = "approve" | "request-changes";

const NOTES_REQUIRED = "Notes are required to request changes: say what must change.";

/**
 * The owner's decision on a gate in review: Approve (notes optional) or Request changes (notes
 * required: refused here before the server would). onDecided gets the review record made.
 */
export function DecisionForm({
  projectId,
  gate,
  gateTitle,
  onDecided,
}: {
  projectId: string;
  gate: number;
  gateTitle: string;
  onDecided: (review: Review) => void;
}) {
  const api = useApi();
  const queryClient = useQueryClient();
  const [notes, setNotes] = useState("");
  const [missingNotes, setMissingNotes] = useState(false);
  const form = useRef<HTMLFormElement>(null);
  const decide = useMutation({
    mutationFn: async (decision: Decision): Promise<Gate> => {
      const path = { projectId, gate };
      const text = notes.trim();
      if (decision === "approve") {
        const answer = await unwrap(
          api.POST("/api/v1/projects/{projectId}/gates/{gate}:approve", {
            params: { path },
            body: text ? { notes: text } : {},
          }),
        );
        return answer.gate;
      }
      const answer = await unwrap(
        api.POST("/api/v1/projects/{projectId}/gates/{gate}:request-changes", {
          params: { path },
          body: { notes: text },
        }),
      );
      return answer.gate;
    },
    onSuccess: (decided) => {
      queryClient.setQueryData<{ gates: Gate[] }>(queryKeys.gates(projectId), (data) =>
        data ? { ...data, gates: data.gates.map((g) => (g.number === decided.number ? decided : g)) } : data,
      );
      refreshGates(queryClient, projectId);
      const review = newestFirst(decided.reviews)[0];
      if (review) onDecided(review);
    },
  });
  const requestChanges = () => {
    if (notes.trim() === "") {
      setMissingNotes(true);
      form.current?.querySelector("textarea")?.focus();
      return;
    }
    decide.mutate("request-changes");
  };
  return (
    <form
      ref={form}
      className="decision"
      aria-labelledby="decision-title"
      noValidate
      onSubmit={(e) => e.preventDefault()}
    >
      <h3 id="decision-title">Your decision on {gateTitle}</h3>
      <TextArea
        label="Notes"
        rows={4}
        value={notes}
        onChange={(e) => {
          setNotes(e.target.value);
          if (e.target.value.trim()) setMissingNotes(false);
        }}
        hint="Optional when you approve. Required when you request changes: the agents work from them."
        error={missingNotes ? NOTES_REQUIRED : fieldError(decide.error, "notes")}
      />
      {decide.isError ? <ErrorView error={decide.error} title="The decision was not recorded" /> : null}
      <div className="actions">
        <button
          type="button"
          className="primary"
          disabled={decide.isPending}
          onClick={() => {
            setMissingNotes(false);
            decide.mutate("approve");
          }}
        >
          Approve
        </button>
        <button type="button" disabled={decide.isPending} onClick={requestChanges}>
          Request changes
        </button>
      </div>
    </form>
  );
}
