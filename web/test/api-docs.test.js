// The API reference in a real browser: headless Chromium (Debian's, /usr/bin/chromium) driven by
// playwright-core against the real binary. Through Swagger UI's try-it-out a person registers,
// authorizes with the access token the page shows, and creates a project; the page must keep to
// the gateway's Content-Security-Policy (no violation reported) all along.
//
// Run by scripts/web.sh, which builds the binary and passes it as FUZZYLLAMA_BIN; standalone:
//   FUZZYLLAMA_BIN=/path/to/fuzzyllama node --test test/
import assert from "node:assert/strict";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { chromium } from "playwright-core";
import { startServer } from "./server.js";

const CHROMIUM = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
const STEP_TIMEOUT = 20_000; // any one browser step (a click, a selector, a response)

let server; // from startServer
let browser;

before(
  async () => {
    server = await startServer();
    console.log(`server: ${server.base}`);
    const args = [
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ];
    if (process.getuid?.() === 0) args.push("--no-sandbox"); // Chromium's sandbox cannot run as root
    browser = await chromium.launch({ executablePath: CHROMIUM, args, timeout: 60_000 });
  },
  { timeout: 120_000 },
);

after(
  async () => {
    await browser?.close();
    await server?.stop();
  },
  { timeout: 60_000 },
);

/**
 * Opens a page that records every CSP violation, console error and uncaught exception. On a
 * failure the page is saved as a screenshot, and the server's output is printed.
 */
async function openPage(t) {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.setDefaultTimeout(STEP_TIMEOUT);
  const problems = [];
  await page.exposeBinding("__reportViolation", (_source, v) => problems.push(`CSP violation: ${v}`));
  await page.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (e) => {
      // @ts-ignore: exposed by the test
      window.__reportViolation(
        `${e.effectiveDirective} blocked ${String(e.blockedURI).slice(0, 120)} (${e.sourceFile}:${e.lineNumber})`,
      );
    });
  });
  page.on("console", (m) => {
    if (m.type() === "error" || /Content.Security.Policy/i.test(m.text()))
      problems.push(`console ${m.type()}: ${m.text().slice(0, 300)}`);
  });
  page.on("pageerror", (e) => problems.push(`uncaught: ${e.message}`));
  const failed = async () => {
    const shot = join(tmpdir(), `fuzzyllama-docs-${Date.now()}.png`);
    await page.screenshot({ path: shot, fullPage: true }).catch(() => {});
    console.log(`screenshot of the page: ${shot}`);
    console.log(`problems seen:\n  ${problems.join("\n  ") || "none"}`);
    console.log(`server output:\n${server.output()}`);
  };
  t.after(() => context.close());
  return { page, problems, failed };
}

/** The operation block of METHOD PATH, expanded, with try-it-out on. */
async function tryItOut(page, method, path) {
  const op = page.locator(`.opblock-${method}`, {
    has: page.locator(`.opblock-summary-path[data-path="${path}"]`),
  });
  await op.locator(".opblock-summary-control").click();
  await op.locator("button.try-out__btn").click();
  return op;
}

/** Executes the operation with a JSON body; returns the status and body the page shows. */
async function execute(page, op, path, body) {
  await op.locator("textarea.body-param__text").fill(JSON.stringify(body));
  const [response] = await Promise.all([
    page.waitForResponse((r) => new URL(r.url()).pathname === path && r.request().method() === "POST"),
    op.locator("button.execute").click(),
  ]);
  const row = op.locator(".live-responses-table tbody tr.response").first();
  await row.waitFor();
  const shownStatus = (await row.locator(".response-col_status").textContent())?.trim();
  const shownBody = await row.locator(".highlight-code pre").first().textContent();
  return { response, shownStatus, shownBody: JSON.parse(shownBody ?? "null") };
}

test(
  "the API reference: register, authorize and create a project through try-it-out, within the CSP",
  { timeout: 180_000 },
  async (t) => {
    const gatewayCSP = (await fetch(`${server.base}/healthz`)).headers.get("content-security-policy") ?? "";
    assert.match(gatewayCSP, /default-src 'self'/, "the gateway's policy");
    assert.doesNotMatch(gatewayCSP, /unsafe-/);

    const { page, problems, failed } = await openPage(t);
    try {
      await journey(page, gatewayCSP);
      assert.deepEqual(problems, [], "no CSP violation, console error or uncaught exception");
    } catch (err) {
      await failed();
      throw err;
    }
  },
);

async function journey(page, gatewayCSP) {
  const res = await page.goto(`${server.base}/api/docs`);
  assert.equal(res?.status(), 200);
  const pageCSP = res.headers()["content-security-policy"];
  assert.equal(pageCSP, gatewayCSP, "the docs page has the gateway's policy, unchanged");
  assert.doesNotMatch(pageCSP, /unsafe-inline|unsafe-eval/);
  await page.locator(".opblock").first().waitFor();
  assert.match((await page.locator(".information-container .title").textContent()) ?? "", /FuzzyLlama/);
  console.log("the page rendered the document");

  // Register through try-it-out; the token is read from the response the page shows.
  const email = `docs-${Date.now()}@example.com`;
  const register = await tryItOut(page, "post", "/api/v1/auth/register");
  const reg = await execute(page, register, "/api/v1/auth/register", {
    email,
    password: "correct horse 1",
    name: "Docs Reader",
  });
  assert.equal(reg.response.status(), 201);
  assert.equal(reg.shownStatus, "201");
  assert.equal(reg.shownBody.success, true);
  assert.equal(reg.shownBody.data.user.email, email);
  const token = reg.shownBody.data.accessToken;
  assert.ok(typeof token === "string" && token.split(".").length === 3, "an access token (a JWT) is shown");
  console.log("registered through try-it-out; access token read from the page");

  // Authorize with it: the bearer scheme, so the page itself sends "Bearer <token>".
  await page.locator(".scheme-container button.authorize").click();
  const modal = page.locator(".modal-ux");
  await modal.locator("input").first().fill(token);
  await modal.locator("button.authorize").click();
  await modal.locator("button.btn-done").click();
  await modal.waitFor({ state: "detached" });
  console.log("authorized with the token");

  // Create a project: the request carries the token; the page shows 201 and the project.
  const create = await tryItOut(page, "post", "/api/v1/projects");
  const project = { name: "Todo app", description: "A todo app for teams", type: "PROJECT_TYPE_TRADITIONAL" };
  const made = await execute(page, create, "/api/v1/projects", project);
  assert.equal(await made.response.request().headerValue("authorization"), `Bearer ${token}`);
  assert.equal(made.response.status(), 201);
  assert.equal(made.shownStatus, "201");
  assert.equal(made.shownBody.success, true);
  assert.equal(made.shownBody.data.project.name, project.name);
  assert.equal(made.shownBody.data.project.type, project.type);
  assert.ok(made.shownBody.data.project.id, "the project has an id");
  console.log(`created project ${made.shownBody.data.project.id} through try-it-out: the page shows 201`);

  // The page persisted nothing sensitive (persistAuthorization is off).
  const stored = await page.evaluate(
    () => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }),
  );
  assert.ok(!stored.includes(token), "the access token is not kept in web storage");
}
