// The typed client (src/api/client.ts) against the real binary: the token middleware, unwrap's
// data on success and ApiRequestError on failure. client.ts is transpiled with the pinned
// TypeScript into .cache/ (beside node_modules, so its imports resolve) and imported.
import assert from "node:assert/strict";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { after, before, test } from "node:test";
import { fileURLToPath, pathToFileURL } from "node:url";
import ts from "typescript";
import { startServer } from "./server.js";

const web = fileURLToPath(new URL("..", import.meta.url));
let server;
let api; // the transpiled client module

before(
  async () => {
    const source = await readFile(`${web}src/api/client.ts`, "utf8");
    const { outputText } = ts.transpileModule(source, {
      compilerOptions: {
        module: ts.ModuleKind.ESNext,
        target: ts.ScriptTarget.ES2022,
        verbatimModuleSyntax: true,
      },
      fileName: "client.ts",
    });
    await mkdir(`${web}.cache`, { recursive: true });
    await writeFile(`${web}.cache/client.js`, outputText);
    api = await import(pathToFileURL(`${web}.cache/client.js`).href);
    server = await startServer();
  },
  { timeout: 120_000 },
);

after(() => server?.stop(), { timeout: 60_000 });

test("the typed client: bearer middleware, unwrapped data, typed errors", { timeout: 60_000 }, async () => {
  const { createApiClient, unwrap, ApiRequestError } = api;
  const anonymous = createApiClient({ baseUrl: server.base });
  const email = `client-${Date.now()}@example.com`;
  const registered = await unwrap(
    anonymous.POST("/api/v1/auth/register", {
      body: { email, password: "correct horse 1", name: "Client" },
    }),
  );
  assert.equal(registered.user.email, email, "unwrap returns the envelope's data");
  assert.ok(registered.accessToken);

  // A failure is an ApiRequestError with the envelope's error.
  const again = await unwrap(
    anonymous.POST("/api/v1/auth/register", {
      body: { email, password: "correct horse 1", name: "Client" },
    }),
  ).catch((e) => e);
  assert.ok(again instanceof ApiRequestError, `an ApiRequestError, got ${again}`);
  assert.equal(again.status, 409);
  assert.equal(again.code, "ALREADY_EXISTS");
  assert.ok(again.message);
  assert.ok(again.requestId, "the request id is carried");

  const missing = await unwrap(anonymous.GET("/api/v1/auth/me")).catch((e) => e);
  assert.ok(missing instanceof ApiRequestError);
  assert.equal(missing.status, 401);
  assert.equal(missing.code, "UNAUTHENTICATED");

  // The token getter is asked on every request.
  let token = registered.accessToken;
  const authed = createApiClient({ baseUrl: server.base, getToken: async () => token });
  const me = await unwrap(authed.GET("/api/v1/auth/me"));
  assert.equal(me.user.email, email);
  const { project } = await unwrap(
    authed.POST("/api/v1/projects", {
      body: { name: "Todo app", description: "A todo app for teams", type: "PROJECT_TYPE_TRADITIONAL" },
    }),
  );
  assert.equal(project.name, "Todo app");
  const status = await unwrap(
    authed.GET("/api/v1/projects/{projectId}/status", { params: { path: { projectId: project.id } } }),
  );
  assert.equal(typeof status.currentGate, "number");

  const invalid = await unwrap(
    authed.POST("/api/v1/projects", { body: { name: "", type: "PROJECT_TYPE_TRADITIONAL" } }),
  ).catch((e) => e);
  assert.ok(invalid instanceof ApiRequestError);
  assert.equal(invalid.status, 400);
  assert.equal(invalid.code, "INVALID_ARGUMENT");
  assert.ok(
    invalid.details.fields?.some((f) => f.field === "name"),
    `details name the field: ${JSON.stringify(invalid.details)}`,
  );

  token = undefined; // signed out: no header at all
  const signedOut = await unwrap(authed.GET("/api/v1/auth/me")).catch((e) => e);
  assert.equal(signedOut.code, "UNAUTHENTICATED");
  console.log(
    "the typed client registered, created a project and read its status; errors carried code, status, details and request id",
  );
});
