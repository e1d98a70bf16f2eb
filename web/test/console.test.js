// The web console end to end (issue 14): headless Chromium (Debian's, /usr/bin/chromium) driven by
// playwright-core against the real binary in its embedded default, serving the console's build
// embedded in it (gateway/console/dist; scripts/web.sh checks that build is current first).
//
//   - a person's journey: sign up; a new project from its description, landing on its page with
//     G1's agent output streaming in; approve G1 with the keyboard; request changes at G2 with
//     notes and see the new versions and their diff; record the proofs each gate waits for;
//     approve through G9 until the project shows completed; download the ZIP; a reload keeps the
//     session;
//   - roles: a viewer sees the project without approve controls; a stranger gets not-found;
//   - the live connection: dropped and held down while the project changes, it reconnects
//     ("Reconnecting…" shown meanwhile) and the page shows the change;
//   - an XSS corpus document shown in the console runs nothing.
// All along: no CSP violation, console error or uncaught exception; no token in web storage
// (checked after every step; the refresh cookie is HttpOnly and its token never given to the
// page's script); axe-core on every screen, no serious or critical violation; one main and one h1.
//
// Run by scripts/web.sh, which builds the binary and passes it as FUZZYLLAMA_BIN; standalone:
//   FUZZYLLAMA_BIN=/path/to/fuzzyllama node --test test/console.test.js
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { apiClient, email, PASSWORD } from "./api.js";
import { assertClean, checkScreen, checkStorage, launchBrowser, openPage, tabTo, until } from "./browser.js";
import { startServer } from "./server.js";

let server; // from startServer
let browser;
let api; // apiClient(server.base)
let workflow; // the traditional project type's gates: [{name, proofs, ...}], G1 first

before(
  async () => {
    server = await startServer({
      // Every person in these tests signs in from 127.0.0.1; the journey's refreshes and reloads
      // too. The console asks the API more often than a script would.
      RATE_LIMIT_AUTH_PER_IP_PER_MINUTE: "1000",
      RATE_LIMIT_PER_IP_PER_MINUTE: "100000",
      RATE_LIMIT_PER_USER_PER_MINUTE: "100000",
      // The offline agents write in pieces 150 ms apart, so a run's output can be watched
      // streaming in (a run takes a second or two); the queue is polled often.
      OFFLINE_CHUNK_DELAY: "150ms",
      AGENT_QUEUE_POLL_INTERVAL: "20ms",
      AGENT_SWEEP_INTERVAL: "1s",
    });
    console.log(`server: ${server.base}`);
    api = apiClient(server.base);
    browser = await launchBrowser();
    const someone = await api.register(email("setup"), "Setup");
    workflow = (await api.call("GET", "/api/v1/workflows/PROJECT_TYPE_TRADITIONAL", { token: someone.token }))
      .gates;
    assert.equal(workflow.length, 9);
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

const gateName = (n) => `G${n} ${workflow[n - 1].name}`;
/** The proofs of gate n a person records (the agents produce the spec validation themselves). */
const owedProofs = (n) => workflow[n - 1].proofs.filter((p) => p !== "PROOF_TYPE_SPEC_VALIDATION");

/** Gate n in the project overview's gate flow: a button named "G<n> <name>", its state in its text. */
function gateInFlow(page, n) {
  return page
    .getByRole("list", { name: "Gates" })
    .getByRole("button", { name: new RegExp(`^${gateName(n)}\\b`) });
}

/** Waits until gate n's entry in the flow says state (e.g. /in review/i), on the project's overview. */
async function waitGateState(page, n, state, timeout = 60_000) {
  if (!(await page.getByRole("list", { name: "Gates" }).count())) await openOverview(page);
  await gateInFlow(page, n).filter({ hasText: state }).waitFor({ timeout });
}

/** The project's overview, through its tab. */
async function openOverview(page) {
  await page.getByRole("navigation", { name: "Project" }).getByRole("link", { name: "Overview" }).click();
  await page.getByRole("list", { name: "Gates" }).waitFor();
}

/** A section of the project page, through its tab. */
async function openSection(page, name) {
  await page.getByRole("navigation", { name: "Project" }).getByRole("link", { name }).click();
  await page.getByRole("heading", { level: 2, name }).first().waitFor();
}

/** Opens gate n's review from the overview's next step ("Review G<n>"). */
async function openReview(page, n) {
  if (!new RegExp(`/gates/${n}/review$`).test(new URL(page.url()).pathname)) {
    if (!(await page.getByRole("list", { name: "Gates" }).count())) await openOverview(page);
    await page
      .getByRole("main")
      .getByRole("button", { name: `Review G${n}`, exact: true })
      .click();
  }
  await page.getByRole("heading", { level: 2, name: new RegExp(`^Review G${n}\\b`) }).waitFor();
}

/** Runs one step of a journey: logs it, then checks web storage (after every step). */
async function step(p, name, fn) {
  const start = Date.now();
  const value = await fn();
  await checkStorage(p, `after "${name}"`);
  console.log(`${p.who}: ${name} (${Date.now() - start} ms)`);
  return value;
}

/** Signs in through the form with the keyboard only: Tab to each field, type, Enter. */
async function signInWithKeyboard(p, who) {
  const { page } = p;
  await page.goto(`${server.base}/sign-in`);
  await page.getByRole("heading", { level: 1, name: "Sign in" }).waitFor();
  await checkScreen(p, "sign-in");
  await tabTo(page, page.getByLabel("Email", { exact: true }));
  await page.keyboard.type(who.email);
  await tabTo(page, page.getByLabel("Password", { exact: true }), 5);
  await page.keyboard.type(who.password);
  await tabTo(page, page.getByRole("button", { name: "Sign in" }), 5);
  await page.keyboard.press("Enter");
  await page.waitForURL((url) => url.pathname !== "/sign-in");
}

/** A project of owner's, started, with G1 in review; from the API. */
async function projectInReview(owner, name) {
  const { project } = await api.call("POST", "/api/v1/projects", {
    token: owner.token,
    body: { name, type: "PROJECT_TYPE_TRADITIONAL", description: "A shared shopping list for a family." },
  });
  await api.call("POST", `/api/v1/projects/${project.id}:startWork`, {
    token: owner.token,
    body: { description: "A shared shopping list for a family." },
  });
  await until("G1 in review", async () => {
    const { gate } = await api.call("GET", `/api/v1/projects/${project.id}/gates/1`, { token: owner.token });
    return gate.state === "GATE_STATE_IN_REVIEW";
  });
  return project;
}

test(
  "a person's journey: sign up, a project from its description to completed, the ZIP",
  { timeout: 240_000 },
  async (t) => {
    const p = await openPage(browser, t, "owner", server.output);
    try {
      await journey(p);
      assertClean(p);
    } catch (err) {
      await p.failed(err);
      throw err;
    }
  },
);

async function journey(p) {
  const { page, context } = p;
  const person = { name: "Ada Owner", email: email("owner"), password: PASSWORD };
  const projectName = "Family shopping list";
  const description =
    "A web app where a family shares one shopping list: anyone adds items, whoever shops ticks them off, and everyone sees it at once.";

  await step(p, "the console opens at / on the sign-in page", async () => {
    const res = await page.goto(`${server.base}/`);
    assert.equal(res?.status(), 200);
    assert.match(res.headers()["content-security-policy"] ?? "", /default-src 'self'/);
    await page.getByRole("heading", { level: 1, name: "Sign in" }).waitFor();
    assert.equal(new URL(page.url()).pathname, "/sign-in");
    await checkScreen(p, "sign-in");
    const timing = await page.evaluate(() => {
      const nav = /** @type {PerformanceNavigationTiming} */ (performance.getEntriesByType("navigation")[0]);
      // @ts-ignore: set by the init script
      return { formReady: window.__e2eFormReady, dcl: nav.domContentLoadedEventEnd, load: nav.loadEventEnd };
    });
    console.log(
      `owner: time to interactive (sign-in form usable, from navigation start): ${Math.round(timing.formReady)} ms; DOMContentLoaded ${Math.round(timing.dcl)} ms, load ${Math.round(timing.load)} ms`,
    );
  });

  await step(p, "sign up", async () => {
    await page.getByRole("link", { name: /create an account/i }).click();
    await page.getByRole("button", { name: "Create account" }).waitFor();
    await checkScreen(p, "sign-up");
    await page.getByLabel("Name", { exact: true }).fill(person.name);
    await page.getByLabel("Email", { exact: true }).fill(person.email);
    await page.getByLabel("Password", { exact: true }).fill(person.password);
    await page.getByRole("button", { name: "Create account" }).click();
    await page.getByRole("heading", { level: 1, name: "Projects" }).waitFor();
    await page.getByRole("link", { name: "New project" }).first().waitFor();
    await checkScreen(p, "projects (none yet)");
    // The refresh token is in an HttpOnly, SameSite=Strict cookie scoped to the auth routes.
    const cookies = await context.cookies();
    assert.ok(cookies.length > 0, "the gateway set the session cookie");
    for (const c of cookies) {
      assert.equal(c.httpOnly, true, `cookie ${c.name} is HttpOnly`);
      assert.equal(c.sameSite, "Strict", `cookie ${c.name} is SameSite=Strict`);
      assert.match(c.path, /^\/api\/v1\/auth/, `cookie ${c.name} is scoped to the auth routes`);
    }
  });
  const owner = await api.login(person.email); // the same person, through the API: reads state

  let projectId;
  await step(p, "a new project from its description", async () => {
    await page.getByRole("link", { name: "New project" }).first().click();
    await page.getByLabel("Project name").fill(projectName);
    await chooseProjectType(page, /traditional/i);
    await page.getByLabel("Describe what you want to build").fill(description);
    await checkScreen(p, "new project");
    await page.getByRole("button", { name: "Create project" }).click();
    await page.getByRole("heading", { level: 1, name: projectName }).waitFor();
    projectId = /\/projects\/([^/]+)/.exec(new URL(page.url()).pathname)?.[1];
    assert.ok(projectId, `the project page's URL names the project: ${page.url()}`);
  });

  await step(p, "G1's agent output streams in", async () => {
    const output = page.getByRole("log").first();
    await output.waitFor();
    const lengths = [];
    await until("G1's output to have text", async () => {
      const n = ((await output.textContent()) ?? "").length;
      if (lengths.at(-1) !== n) lengths.push(n);
      return (
        n > 0 &&
        (await gateInFlow(page, 1)
          .filter({ hasText: /in review/i })
          .count()) > 0
      );
    });
    console.log(`owner: G1's output as it was seen growing (characters): ${lengths.join(" → ")}`);
    assert.ok(lengths.at(-1) > 0, "the output region got text");
    await checkScreen(p, "project overview (G1 in review)");
  });

  await step(p, "approve G1 with the keyboard", async () => {
    await openReview(page, 1);
    await checkScreen(p, "G1 review");
    const approve = page.getByRole("button", { name: "Approve" });
    const presses = await tabTo(page, approve);
    await page.keyboard.press("Enter");
    console.log(`owner: "Approve" reached with ${presses} Tab presses`);
    await waitGateState(page, 1, /approved/i);
  });

  const notes = "Add an offline mode for the shopping list, so it works in the shop's basement.";
  await step(p, "request changes at G2 with notes", async () => {
    await waitGateState(page, 2, /in review/i);
    await openReview(page, 2);
    await checkScreen(p, "G2 review");
    // Notes are required to request changes: the form says so when they are missing.
    await page.getByRole("button", { name: "Request changes" }).click();
    await page
      .getByText(/notes are required/i)
      .first()
      .waitFor();
    await page.getByLabel("Notes", { exact: true }).fill(notes);
    await page.getByRole("button", { name: "Request changes" }).click();
    await page
      .getByRole("status")
      .filter({ hasText: /you requested changes/i })
      .waitFor();
  });

  await step(p, "G2's new versions and their diff", async () => {
    // The product manager writes again; G2 comes back to review in its revision 1.
    await waitGateState(page, 2, /in review.*revision 1/i);
    await openReview(page, 2);
    // The documents were written again (version 2), and the diff against the version reviewed
    // before shows what changed: the notes are addressed.
    const { documents } = await api.call("GET", `/api/v1/projects/${projectId}/documents?gate=2`, {
      token: owner.token,
    });
    assert.ok(
      documents.length >= 1 && documents.every((d) => d.version === 2),
      "G2's documents are at version 2",
    );
    const main = page.getByRole("main");
    await main.getByRole("heading", { name: /\bv2$/ }).first().waitFor();
    await main
      .getByRole("table", { name: /diff/i })
      .first()
      .getByRole("cell")
      .filter({ hasText: "added:" })
      .filter({ hasText: notes.slice(0, 40) })
      .first()
      .waitFor();
    await checkScreen(p, "G2 review after changes (diff)");
    await page.getByRole("button", { name: "Approve" }).click();
    await waitGateState(page, 2, /approved/i);
  });

  for (let n = 3; n <= 9; n++) {
    await step(p, `G${n}: proofs recorded, approved`, async () => {
      if (owedProofs(n).length) {
        const recorded = await recordProofsUntilReview(p, n, n === 5);
        console.log(
          `owner: G${n}: recorded ${recorded.join(", ")} (the workflow asks ${owedProofs(n).join(", ")})`,
        );
        assert.ok(recorded.length >= owedProofs(n).length, `G${n}: every proof it waits for was recorded`);
      }
      await waitGateState(page, n, /in review/i);
      await openReview(page, n);
      if (n === 3) {
        // The architect's API specification was validated by the system: shown as such.
        await page
          .getByRole("main")
          .getByText(/kin-openapi/)
          .first()
          .waitFor();
      }
      if (n === 5) {
        // The proofs the person recorded are shown as attested by them.
        await page
          .getByRole("main")
          .getByText(/attested by/i)
          .first()
          .waitFor();
      }
      if (n === 3 || n === 5) await checkScreen(p, `G${n} review`);
      await page.getByRole("button", { name: "Approve" }).click();
      await waitGateState(page, n, /approved/i);
    });
  }

  await step(p, "the project shows completed", async () => {
    await openOverview(page);
    await page
      .getByRole("main")
      .getByText(/project completed/i)
      .first()
      .waitFor();
    const status = await api.call("GET", `/api/v1/projects/${projectId}/status`, { token: owner.token });
    assert.equal(status.projectStatus, "PROJECT_STATUS_COMPLETED");
    await checkScreen(p, "project overview (completed)");
  });

  await step(p, "every section of the completed project", async () => {
    await openSection(page, "Documents");
    await checkScreen(p, "documents");
    await page.getByRole("main").getByRole("link", { name: "Product Requirements Document" }).first().click();
    await page.getByRole("tab", { name: "Rendered" }).waitFor();
    await checkScreen(p, "document (rendered)");
    for (const tab of ["Source", "History", "Compare"]) {
      await page.getByRole("tab", { name: tab }).click();
      await page.getByRole("tab", { name: tab, selected: true }).waitFor();
      await page.getByRole("tabpanel").waitFor();
      await checkScreen(p, `document (${tab.toLowerCase()})`);
    }
    for (const section of ["Code", "Tasks", "Timeline", "Costs", "Members"]) {
      await openSection(page, section);
      await checkScreen(p, section.toLowerCase());
    }
    await page.getByRole("link", { name: /^Notifications, / }).click();
    await page.getByRole("heading", { level: 1, name: "Notifications" }).waitFor();
    await checkScreen(p, "notifications");
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Projects" }).click();
    await page.getByRole("main").getByRole("link", { name: projectName }).first().waitFor();
    await checkScreen(p, "projects");
    await page.getByRole("main").getByRole("link", { name: projectName }).first().click();
    await page.getByRole("list", { name: "Gates" }).waitFor();
  });

  await step(p, "download the ZIP", async () => {
    await openSection(page, "Export");
    await checkScreen(p, "export");
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      page.getByRole("button", { name: "Download ZIP" }).click(),
    ]);
    const path = join(tmpdir(), `fuzzyllama-console-${Date.now()}.zip`);
    await download.saveAs(path);
    const names = zipEntries(await readFile(path));
    const { documents } = await api.call("GET", `/api/v1/projects/${projectId}/documents?pageSize=100`, {
      token: owner.token,
    });
    assert.ok(documents.length >= 9, `the project has its documents (${documents.length})`);
    assert.ok(
      names.length >= documents.length,
      `the ZIP holds every document: ${names.length} files for ${documents.length} documents`,
    );
    console.log(
      `owner: the ZIP (${download.suggestedFilename()}) holds ${names.length} files: ${names.slice(0, 4).join(", ")}, ...`,
    );
  });

  await step(p, "a reload keeps the session", async () => {
    await page.reload();
    await page.getByRole("heading", { level: 1, name: projectName }).waitFor();
    assert.match(new URL(page.url()).pathname, new RegExp(`/projects/${projectId}`));
    await checkScreen(p, "export (after a reload)");
  });
}

/** Chooses the project type whose label matches label: a select, or radio buttons. */
async function chooseProjectType(page, label) {
  const select = page.getByRole("combobox", { name: "Project type" });
  if (await select.count()) {
    const options = await select.locator("option").allTextContents();
    const option = options.find((o) => label.test(o));
    assert.ok(option, `a project type matching ${label} among ${options.join(", ")}`);
    await select.selectOption({ label: option });
    return;
  }
  await page.getByRole("radiogroup", { name: "Project type" }).getByRole("radio", { name: label }).check();
}

/**
 * Records the proofs gate n waits for through the overview's form (it offers only the types still
 * missing), until the gate goes to review; the first with the keyboard when asked. Returns the
 * proof types recorded, in order.
 */
async function recordProofsUntilReview(p, n, keyboard) {
  const { page } = p;
  if (!(await page.getByRole("list", { name: "Gates" }).count())) await openOverview(page);
  const form = page.getByRole("form", { name: "Record proof" });
  const inReview = gateInFlow(page, n).filter({ hasText: /in review/i });
  const typeField = form.getByLabel("Proof type", { exact: true });
  const recorded = [];
  for (;;) {
    await form.or(inReview).first().waitFor({ timeout: 60_000 }); // the gate's agents work first
    if (await inReview.count()) return recorded;
    const option = (await typeField.locator("option").allTextContents())[0];
    assert.ok(option, `G${n}: the form offers a proof type`);
    await typeField.selectOption({ label: option });
    await form.getByLabel("Result", { exact: true }).selectOption({ label: "Pass" });
    await form.getByLabel("Summary", { exact: true }).fill(`${option}: checked by the owner`);
    const record = form.getByRole("button", { name: "Record proof" });
    if (keyboard && recorded.length === 0) {
      await tabTo(page, record, 10);
      await page.keyboard.press("Enter");
    } else {
      await record.click();
    }
    recorded.push(option);
    assert.ok(
      recorded.length <= 3 * owedProofs(n).length,
      `G${n}: recorded ${recorded.join(", ")} and still asked for more`,
    );
    // Recorded: the type is no longer asked for (or, after the last, the form is gone). A
    // developer still saving files makes a proof recorded meanwhile stale (it speaks for code
    // that changed since); the form then asks for it again, and the loop records it again.
    const asked = await until(
      `G${n}: the ${option} proof recorded`,
      async () => {
        if (!(await form.count())) return "done";
        return (await typeField.locator("option").allTextContents()).includes(option) ? false : "done";
      },
      10_000,
    ).catch(() => "again");
    if (asked === "done") await checkStorage(p, `G${n}: the ${option} proof recorded`);
  }
}

/** The file names of a ZIP archive (its central directory). */
function zipEntries(buf) {
  assert.equal(buf.readUInt32LE(0), 0x04034b50, "the download is a ZIP (local file header)");
  let eocd = buf.length - 22;
  while (eocd >= 0 && buf.readUInt32LE(eocd) !== 0x06054b50) eocd--;
  assert.ok(eocd >= 0, "the ZIP has its end of central directory");
  const count = buf.readUInt16LE(eocd + 10);
  let at = buf.readUInt32LE(eocd + 16);
  const names = [];
  for (let i = 0; i < count; i++) {
    assert.equal(buf.readUInt32LE(at), 0x02014b50, "a central directory entry");
    const nameLen = buf.readUInt16LE(at + 28);
    const extraLen = buf.readUInt16LE(at + 30);
    const commentLen = buf.readUInt16LE(at + 32);
    names.push(buf.subarray(at + 46, at + 46 + nameLen).toString("utf8"));
    at += 46 + nameLen + extraLen + commentLen;
  }
  return names;
}

test("a viewer sees the project without approve controls", { timeout: 120_000 }, async (t) => {
  const owner = await api.register(email("owner"), "Olga Owner");
  const viewer = await api.register(email("viewer"), "Vic Viewer");
  const project = await projectInReview(owner, "Viewer's view");
  await api.call("POST", `/api/v1/projects/${project.id}/members`, {
    token: owner.token,
    body: { email: viewer.email, role: "ROLE_VIEWER" },
  });
  const v = await openPage(browser, t, "viewer", server.output);
  const noDecisionControls = async (where) => {
    for (const name of ["Approve", "Request changes"])
      assert.equal(
        await v.page.getByRole("button", { name }).count(),
        0,
        `no "${name}" for a viewer on ${where}`,
      );
  };
  try {
    await step(v, "signs in with the keyboard", () => signInWithKeyboard(v, viewer));
    await step(v, "opens the project from the list", async () => {
      await v.page.getByRole("main").getByRole("link", { name: project.name }).first().waitFor();
      await checkScreen(v, "projects (as a viewer)");
      await v.page.getByRole("link", { name: project.name }).first().click();
      await v.page.getByRole("heading", { level: 1, name: project.name }).waitFor();
      await waitGateState(v.page, 1, /in review/i);
      await v.page.getByText(/waiting for the owner's review/i).waitFor();
      await noDecisionControls("the overview");
      await checkScreen(v, "project overview (as a viewer)");
    });
    await step(v, "the review page shows no decision controls", async () => {
      await v.page.goto(`${server.base}/projects/${project.id}/gates/1/review`);
      await v.page.getByRole("heading", { level: 2, name: /^Review G1\b/ }).waitFor();
      await v.page.getByText(/waits for the owner's review/i).waitFor();
      await noDecisionControls("the review page");
      await checkScreen(v, "G1 review (as a viewer)");
    });
    assertClean(v);
  } catch (err) {
    await v.failed(err);
    throw err;
  }
});

test("a stranger opening a project's URL gets not-found", { timeout: 120_000 }, async (t) => {
  const owner = await api.register(email("owner"), "Oscar Owner");
  const stranger = await api.register(email("stranger"), "Sam Stranger");
  const { project } = await api.call("POST", "/api/v1/projects", {
    token: owner.token,
    body: { name: "Not for strangers", type: "PROJECT_TYPE_TRADITIONAL" },
  });
  const s = await openPage(browser, t, "stranger", server.output);
  try {
    await step(s, "the signed-out screens", async () => {
      await s.page.goto(`${server.base}/forgot-password`);
      await s.page.getByRole("heading", { level: 1, name: "Forgot password" }).waitFor();
      await checkScreen(s, "forgot password");
      await s.page.goto(`${server.base}/reset-password?token=not-a-real-token`);
      await s.page.getByRole("heading", { level: 1 }).waitFor();
      await checkScreen(s, "reset password");
    });
    await step(s, "signs in", () => signInWithKeyboard(s, stranger));
    await step(s, "opens the project's URL: not found", async () => {
      await s.page.goto(`${server.base}/projects/${project.id}`);
      await s.page.getByRole("heading", { level: 1, name: /not found/i }).waitFor();
      assert.equal(await s.page.getByText(project.name).count(), 0, "nothing of the project is shown");
      await checkScreen(s, "not found (a stranger's view of a project)");
    });
    assertClean(s);
  } catch (err) {
    await s.failed(err);
    throw err;
  }
});

test(
  "the live connection: dropped, it shows reconnecting, comes back and misses nothing",
  { timeout: 120_000 },
  async (t) => {
    const owner = await api.register(email("owner"), "Lee Live");
    const project = await projectInReview(owner, "Live project");
    const eventCount = async () =>
      (await api.call("GET", `/api/v1/projects/${project.id}/events?pageSize=200`, { token: owner.token }))
        .events.length;
    const p = await openPage(browser, t, "live", server.output);
    const { page } = p;
    try {
      await step(p, "signs in", () => signInWithKeyboard(p, owner));
      await step(p, "opens the project's timeline", async () => {
        await page.getByRole("link", { name: project.name }).first().click();
        await waitGateState(page, 1, /in review/i);
        await openSection(page, "Timeline");
        await page.getByText(`${await eventCount()} events, newest first`).waitFor();
        await until("the live socket open", () => page.evaluate(() => window.__e2eLive.opened() > 0));
        await checkScreen(p, "timeline");
      });
      await step(p, "the socket drops; G1 is approved meanwhile; the page catches up", async () => {
        const opened = await page.evaluate(() => window.__e2eLive.opened());
        await page.evaluate(() => window.__e2eLive.drop());
        const reconnecting = page.getByRole("status").filter({ hasText: "Reconnecting…" });
        await reconnecting.waitFor();
        await api.call("POST", `/api/v1/projects/${project.id}/gates/1:approve`, {
          token: owner.token,
          body: { notes: "Approved while the socket was down." },
        });
        const missed = await eventCount();
        await page.evaluate(() => window.__e2eLive.release());
        await reconnecting.waitFor({ state: "detached", timeout: 30_000 });
        await until("a new socket", () => page.evaluate((n) => window.__e2eLive.opened() > n, opened));
        // Every event: those of the approval made while the socket was down (missed), and those
        // that follow live (G2's run, until G2 is in review).
        const shown = async () =>
          Number(
            /(\d+) events?, newest first/.exec((await page.getByRole("main").textContent()) ?? "")?.[1] ?? 0,
          );
        await until(
          `the timeline to show the ${missed} events made while the socket was down`,
          async () => (await shown()) >= missed,
        );
        await until("G2 in review", async () => {
          const { gate } = await api.call("GET", `/api/v1/projects/${project.id}/gates/2`, {
            token: owner.token,
          });
          return gate.state === "GATE_STATE_IN_REVIEW";
        });
        await until(
          "the timeline to show every event the API has",
          async () => (await shown()) === (await eventCount()),
        );
        await waitGateState(page, 1, /approved/i);
        await waitGateState(page, 2, /in review/i);
      });
      assertClean(p);
    } catch (err) {
      await p.failed(err);
      throw err;
    }
  },
);

/** Payloads that run script if anything on their way to the page lets them: each calls __pwned. */
const XSS = [
  `<script>__pwned("script")</script>`,
  `<img src="x" onerror="__pwned('img onerror')">`,
  `<svg onload="__pwned('svg onload')"><circle r="1"/></svg>`,
  `<iframe srcdoc="<script>__pwned('iframe srcdoc')</script>"></iframe>`,
  `<a href="javascript:__pwned('javascript link')">a javascript: link</a>`,
  `[markdown javascript: link](javascript:__pwned('markdown link'))`,
  `<a href="&#106;avascript:__pwned('entity link')">an encoded javascript: link</a>`,
  `![image](x" onerror="__pwned('markdown image'))`,
  `<div style="background:url(javascript:__pwned('style'))">a style attribute</div>`,
  `<p style="color:red">red by a style attribute</p>`,
  `<details open ontoggle="__pwned('details ontoggle')"><summary>s</summary></details>`,
  `<input autofocus onfocus="__pwned('input onfocus')">`,
  `<form action="javascript:__pwned('form action')"><button>go</button></form>`,
  `<object data="javascript:__pwned('object')"></object><embed src="javascript:__pwned('embed')">`,
  `<math><mtext><table><mglyph><style><img src=x onerror="__pwned('mxss')">`,
  `<meta http-equiv="refresh" content="0;url=javascript:__pwned('meta refresh')">`,
  `<img src="x" onerror="alert('xss')">`,
  `<base href="javascript:__pwned('base')//">`,
  "```html\n<script>__pwned('code block')</script>\n```",
];

test("an XSS corpus document shown in the console runs nothing", { timeout: 120_000 }, async (t) => {
  const owner = await api.register(email("owner"), "Xavier Safe");
  const name = `<img src=x onerror="__pwned('project name')">`;
  const { project } = await api.call("POST", "/api/v1/projects", {
    token: owner.token,
    body: { name, type: "PROJECT_TYPE_TRADITIONAL" },
  });
  const title = `<svg onload="__pwned('title')"> payloads`;
  const created = await api.call("POST", `/api/v1/projects/${project.id}/documents`, {
    token: owner.token,
    body: {
      document: {
        type: "DOCUMENT_TYPE_OTHER",
        title,
        gate: 0,
        content: `# The XSS corpus\n\n${XSS.join("\n\n")}\n`,
      },
    },
  });
  assert.ok(created.document.id);
  const p = await openPage(browser, t, "xss", server.output);
  try {
    await step(p, "signs in", () => signInWithKeyboard(p, owner));
    await step(p, "the project named with a payload", async () => {
      await p.page.getByRole("link", { name }).first().click();
      await p.page.getByRole("heading", { level: 1, name }).waitFor();
      await checkScreen(p, "project overview (a payload's name)");
    });
    await step(p, "the documents list", async () => {
      await openSection(p.page, "Documents");
      await p.page.getByRole("link", { name: title }).first().waitFor();
      await checkScreen(p, "documents (a payload's title)");
    });
    await step(p, "the document, rendered", async () => {
      await p.page.getByRole("link", { name: title }).first().click();
      const main = p.page.getByRole("main");
      await main.getByRole("heading", { name: "The XSS corpus" }).waitFor();
      await main.getByText("a javascript: link").first().waitFor();
      const executable = await main.evaluate((root) => {
        const found = [];
        const urlAttributes = [
          "href",
          "src",
          "action",
          "formaction",
          "data",
          "xlink:href",
          "poster",
          "background",
        ];
        for (const el of root.querySelectorAll("*")) {
          if (["SCRIPT", "IFRAME", "OBJECT", "EMBED", "BASE", "META", "FRAME"].includes(el.tagName))
            found.push(el.outerHTML);
          for (const a of el.attributes) {
            if (/^on/i.test(a.name) || a.name === "srcdoc")
              found.push(`${el.tagName} ${a.name}="${a.value}"`);
            if (urlAttributes.includes(a.name) && /^\s*(javascript|vbscript|data):/i.test(a.value))
              found.push(`${el.tagName} ${a.name}="${a.value}"`);
          }
          // The document's own style attributes (React's style props are the console's, not the document's).
          if (
            el.hasAttribute("style") &&
            el.children.length === 0 &&
            /style attribute/.test(el.textContent ?? "")
          )
            found.push(el.outerHTML);
        }
        return found.map((s) => s.slice(0, 160));
      });
      assert.deepEqual(executable, [], "nothing executable (or styled) from the document is in the page");
      await checkScreen(p, "document (rendered)");
      // Links the sanitizer left are not javascript: links; clicking one runs nothing.
      const links = main.getByRole("link", { name: /javascript: link/ });
      for (let i = 0; i < (await links.count()); i++) {
        const href = await links.nth(i).getAttribute("href");
        assert.ok(!href || !/^\s*javascript:/i.test(href), `a link kept a javascript: URL: ${href}`);
      }
    });
    await step(p, "the document's source", async () => {
      const source = p.page
        .getByRole("tab", { name: /source/i })
        .or(p.page.getByRole("button", { name: /source/i }));
      await source.first().click();
      await p.page.getByRole("main").getByText(`__pwned("script")`, { exact: false }).first().waitFor();
      await checkScreen(p, "document (source)");
    });
    assertClean(p);
  } catch (err) {
    await p.failed(err);
    throw err;
  }
});
