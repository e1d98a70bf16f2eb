import { ApiRequestError } from "../api/client";
import { errorMessage } from "./errors";

/** A failed load or action, in words; with the fields the server named, and a retry if given. */
export function ErrorView({ error, retry, title }: { error: unknown; retry?: () => void; title?: string }) {
  const fields = error instanceof ApiRequestError ? (error.details.fields ?? []) : [];
  return (
    <div className="error" role="alert">
      {title ? <strong>{title}: </strong> : null}
      {errorMessage(error)}
      {fields.length > 0 ? (
        <ul>
          {fields.map((f, i) => (
            // One field may have several complaints (a password too short and without a digit).
            <li key={`${i}-${f.field}`}>
              <code>{f.field}</code>: {f.description}
            </li>
          ))}
        </ul>
      ) : null}
      {retry ? (
        <button type="button" className="link" onClick={retry}>
          Try again
        </button>
      ) : null}
    </div>
  );
}
