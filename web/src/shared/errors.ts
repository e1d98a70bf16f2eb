import { ApiRequestError } from "../api/client";

/** The message a person reads for a failed call: the server's words, or what to do. */
export function errorMessage(error: unknown): string {
  if (error instanceof ApiRequestError) {
    if (error.status === 429) {
      const after = error.details.retryAfterSeconds;
      return `Too many requests. Try again ${after ? `in ${after} s` : "in a minute"}.`;
    }
    if (error.status >= 500)
      return `The server could not do that (${error.message}). Try again; if it persists, quote request ${error.requestId ?? "?"}.`;
    return error.message;
  }
  if (error instanceof TypeError) return "The server cannot be reached. Check your connection and try again.";
  return error instanceof Error ? error.message : String(error);
}

/** The server's complaint about one request field (by its JSON name), if any. */
export function fieldError(error: unknown, field: string): string | undefined {
  if (!(error instanceof ApiRequestError)) return undefined;
  return error.details.fields?.find((f) => f.field === field)?.description;
}

/** True for the answer to something the user may not see, or that does not exist. */
export function isNotFound(error: unknown): boolean {
  return error instanceof ApiRequestError && (error.status === 404 || error.status === 403);
}
