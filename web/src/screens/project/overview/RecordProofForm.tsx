import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useId, useState, type FormEvent } from "react";
import { useApi } from "../../../api/ApiProvider";
import { unwrap } from "../../../api/client";
import { refreshGates } from "./data";
import { ErrorView } from "../../../shared/ErrorView";
import { fieldError } from "../../../shared/errors";
import { proofTypeLabel, type ProofResult, type ProofType } from "../../../shared/labels";
import { TextArea } from "../../../shared/TextField";

const results: { value: ProofResult; label: string }[] = [
  { value: "PROOF_RESULT_PASS", label: "Pass" },
  { value: "PROOF_RESULT_FAIL", label: "Fail" },
  { value: "PROOF_RESULT_WARNING", label: "Warning" },
];

/**
 * Records a proof the gate waits for, as the person's attestation: the type (only those still
 * missing), the result and what was checked. One at a time, until none is missing.
 */
export function RecordProofForm({
  projectId,
  gate,
  missing,
}: {
  projectId: string;
  gate: number;
  missing: ProofType[];
}) {
  const api = useApi();
  const queryClient = useQueryClient();
  const [type, setType] = useState<ProofType | "">("");
  const [result, setResult] = useState<ProofResult>("PROOF_RESULT_PASS");
  const [summary, setSummary] = useState("");
  const [checked, setChecked] = useState(false);
  const [recorded, setRecorded] = useState<string>("");
  const typeId = useId();
  const resultId = useId();
  // The choice, while it is still missing; else the first missing type.
  const chosen = type !== "" && missing.includes(type) ? type : (missing[0] ?? "");
  const record = useMutation({
    mutationFn: (body: { type: ProofType; result: ProofResult; summary: string }) =>
      unwrap(
        api.POST("/api/v1/projects/{projectId}/gates/{gate}/proofs", {
          params: { path: { projectId, gate } },
          body,
        }),
      ),
    onSuccess: ({ proof }) => {
      setSummary("");
      setType("");
      setChecked(false);
      setRecorded(
        `Recorded: ${proofTypeLabel(proof.type)} ${proof.result === "PROOF_RESULT_PASS" ? "passed" : "did not pass"}.`,
      );
      refreshGates(queryClient, projectId);
    },
  });
  const summaryMissing =
    checked && summary.trim() === "" ? "Say what was checked and how it went." : undefined;
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setChecked(true);
    setRecorded("");
    if (chosen === "" || summary.trim() === "") return;
    record.mutate({ type: chosen, result, summary: summary.trim() });
  };
  return (
    <form className="record-proof" onSubmit={submit} noValidate aria-label="Record proof">
      <div className="field">
        <label htmlFor={typeId}>Proof type</label>
        <select id={typeId} value={chosen} onChange={(e) => setType(e.target.value as ProofType)}>
          {missing.map((p) => (
            <option key={p} value={p}>
              {proofTypeLabel(p)}
            </option>
          ))}
        </select>
        {fieldError(record.error, "type") ? (
          <small className="field-error">{fieldError(record.error, "type")}</small>
        ) : null}
      </div>
      <div className="field">
        <label htmlFor={resultId}>Result</label>
        <select id={resultId} value={result} onChange={(e) => setResult(e.target.value as ProofResult)}>
          {results.map((r) => (
            <option key={r.value} value={r.value}>
              {r.label}
            </option>
          ))}
        </select>
      </div>
      <TextArea
        label="Summary"
        rows={3}
        required
        value={summary}
        onChange={(e) => setSummary(e.target.value)}
        hint="What was checked and how, e.g. “go build ./... passed on commit 3f2a1c”."
        error={summaryMissing ?? fieldError(record.error, "summary")}
      />
      {record.isError ? <ErrorView error={record.error} title="The proof was not recorded" /> : null}
      <div className="actions">
        <button type="submit" className="primary" disabled={record.isPending || chosen === ""}>
          Record proof
        </button>
        <span role="status">{recorded}</span>
      </div>
    </form>
  );
}
