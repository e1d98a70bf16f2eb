// The typed client of the FuzzyLlama REST API. Types come from schema.d.ts, generated from the
// published contract (gen/api/openapi.json) by openapi-typescript: run `make gen` after the
// protos change; scripts/web.sh fails when it is stale.
//
//   const api = createApiClient({ getToken: () => session.accessToken });
//   const { project } = await unwrap(api.POST("/api/v1/projects", { body: { name, description, type } }));
//
// Every answer of the API is an envelope: {success: true, data, meta} or {success: false,
// error: {code, message, details}, meta}. unwrap returns data, or throws ApiRequestError.
import createClient, { type Client, type ClientOptions, type Middleware } from "openapi-fetch";
import type { components, operations, paths } from "./schema";

export type { components, operations, paths };

/** The API's schemas by name, e.g. Schemas["Project"]. */
export type Schemas = components["schemas"];
/** The error of a failed answer. */
export type ApiError = Schemas["Error"];
/** The gRPC code name (or METHOD_NOT_ALLOWED / PAYLOAD_TOO_LARGE) of a failed answer. */
export type ErrorCode = ApiError["code"];
/** The error's structured parts: fields, reason, metadata, retryAfterSeconds. */
export type ErrorDetails = Schemas["ErrorDetails"];
/** The identity of an answer: timestamp and request id. */
export type Meta = Schemas["Meta"];

/** Supplies the current access token; none (or an empty one) sends no Authorization header. */
export type TokenGetter = () => string | null | undefined | Promise<string | null | undefined>;

export interface ApiClientOptions extends Omit<ClientOptions, "baseUrl"> {
  /** Where the gateway is; default "", the page's own origin. */
  baseUrl?: string;
  /** The signed-in user's access token, read on every request. */
  getToken?: TokenGetter;
}

export type ApiClient = Client<paths>;

/** Makes a client of the API; with getToken, every request carries the user's access token. */
export function createApiClient(options: ApiClientOptions = {}): ApiClient {
  const { getToken, baseUrl = "", ...rest } = options;
  const client = createClient<paths>({ ...rest, baseUrl });
  if (getToken) {
    client.use(bearerAuth(getToken));
  }
  return client;
}

/**
 * A middleware that sends `Authorization: Bearer <token>` with the token getToken gives, unless
 * the request already has an Authorization header (refresh and logout send their own).
 */
export function bearerAuth(getToken: TokenGetter): Middleware {
  return {
    async onRequest({ request }) {
      if (request.headers.has("Authorization")) {
        return request;
      }
      const token = await getToken();
      if (token) {
        request.headers.set("Authorization", `Bearer ${token}`);
      }
      return request;
    },
  };
}

/** A failed answer of the API: the envelope's error, with the HTTP status and the request id. */
export class ApiRequestError extends Error {
  override readonly name = "ApiRequestError";
  /** The HTTP status, e.g. 404. */
  readonly status: number;
  /** The error's code, e.g. "NOT_FOUND"; "UNKNOWN" when the answer was not an error envelope. */
  readonly code: ErrorCode;
  /** The error's structured parts; empty when the answer had none. */
  readonly details: ErrorDetails;
  /** The request's id (X-Request-Id), to quote when reporting a problem. */
  readonly requestId: string | undefined;

  constructor(status: number, error: ApiError, requestId: string | undefined) {
    super(error.message);
    this.status = status;
    this.code = error.code;
    this.details = error.details ?? {};
    this.requestId = requestId;
  }

  /** The error of a failed answer, whatever its body. */
  static fromResponse(response: Response, body: unknown): ApiRequestError {
    const requestId = response.headers.get("X-Request-Id") ?? undefined;
    if (isErrorEnvelope(body)) {
      return new ApiRequestError(response.status, body.error, body.meta.requestId ?? requestId);
    }
    const message =
      typeof body === "string" && body.trim() !== ""
        ? body.trim()
        : `HTTP ${response.status} ${response.statusText}`.trim();
    return new ApiRequestError(response.status, { code: "UNKNOWN", message }, requestId);
  }
}

type SuccessEnvelope<T> = { success: true; data: T; meta: Meta };

/** What a call of the client resolves to (openapi-fetch's FetchResponse, loosely). */
interface CallResult<T> {
  data?: SuccessEnvelope<T>;
  error?: unknown;
  response: Response;
}

/**
 * Awaits a call of the client and returns the data of its envelope; a failed answer throws an
 * ApiRequestError carrying the envelope's error. Network failures reject as fetch does.
 */
export async function unwrap<T>(call: Promise<CallResult<T>>): Promise<T> {
  const { data, error, response } = await call;
  if (response.ok && data !== undefined && data.success === true) {
    return data.data;
  }
  throw ApiRequestError.fromResponse(response, error ?? data);
}

function isErrorEnvelope(body: unknown): body is Schemas["ErrorEnvelope"] {
  if (typeof body !== "object" || body === null) {
    return false;
  }
  const { success, error, meta } = body as Record<string, unknown>;
  return (
    success === false &&
    typeof error === "object" &&
    error !== null &&
    typeof (error as Record<string, unknown>)["code"] === "string" &&
    typeof (error as Record<string, unknown>)["message"] === "string" &&
    typeof meta === "object" &&
    meta !== null
  );
}
