// A plain REST client of the gateway for the browser tests' setup steps (the API's own contract:
// the token in the body, sent as a bearer header): what the tests do not show a person doing in
// the console — a second account, adding a member, a document of payloads — goes through here.
import assert from "node:assert/strict";

/** @param {string} base the server's origin */
export function apiClient(base) {
  /**
   * Calls the API; returns the envelope's data, or throws with the status and the error.
   * @param {string} method
   * @param {string} path
   * @param {{token?: string, body?: unknown}} [options]
   */
  async function call(method, path, { token, body } = {}) {
    const headers = { accept: "application/json" };
    if (token) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers["content-type"] = "application/json";
    const res = await fetch(`${base}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let envelope;
    try {
      envelope = JSON.parse(text);
    } catch {
      envelope = null;
    }
    if (!res.ok || !envelope?.success) {
      const err = new Error(`${method} ${path}: ${res.status} ${text.slice(0, 400)}`);
      // @ts-ignore
      err.status = res.status;
      throw err;
    }
    return envelope.data;
  }

  /** A new account; returns its token and user. */
  async function register(email, name, password = PASSWORD) {
    const data = await call("POST", "/api/v1/auth/register", { body: { email, name, password } });
    assert.ok(data.accessToken);
    return { token: data.accessToken, user: data.user, email, password };
  }

  /** A session of an existing account, over the API (its own refresh token, in the body). */
  async function login(email, password = PASSWORD) {
    const data = await call("POST", "/api/v1/auth/login", { body: { email, password } });
    return { token: data.accessToken, user: data.user, email, password };
  }

  return { call, register, login };
}

export const PASSWORD = "correct horse battery 1";

let counter = 0;
/** A unique address per call (one server per test file, but several people per test). */
export function email(who) {
  return `${who}-${Date.now().toString(36)}-${++counter}@example.com`;
}
