// The browser side of the console's end-to-end tests: headless Chromium (Debian's,
// /usr/bin/chromium) through playwright-core, pages that record everything the tests assert
// about a whole journey, and the checks every screen gets.
//
// A page from openPage records:
//   - CSP violations (a securitypolicyviolation listener installed before any script of the page),
//     console errors and uncaught exceptions: `problems`;
//   - dialogs (alert, confirm, prompt; dismissed) and calls of window.__pwned, the function the
//     XSS corpus's payloads call: `ran`;
//   - every access token the gateway sent the page (the auth routes' answers): checkStorage
//     asserts none of them, and nothing shaped like a JWT, is in localStorage, sessionStorage or
//     document.cookie;
//   - what checkScreen finds wrong with a screen: more or fewer than one main landmark or h1, and
//     axe-core's serious and critical violations: `findings`.
// It also wraps window.WebSocket so a test can drop the live connection and hold it down
// (window.__e2eLive.drop / release) to see the console reconnect and catch up.
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

const CHROMIUM = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
export const STEP_TIMEOUT = 20_000; // any one browser step (a click, a selector, a response)

const AXE_SOURCE = await readFile(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
const JWT = /eyJ[\w-]{8,}\.[\w-]{8,}\.[\w-]{8,}/;
/** The path the wrapped WebSocket dials while the test holds the live connection down. */
const HELD_PATH = "/api/v1/ws-held-by-test";

export async function launchBrowser() {
  const args = [
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ];
  if (process.getuid?.() === 0) args.push("--no-sandbox"); // Chromium's sandbox cannot run as root
  return chromium.launch({ executablePath: CHROMIUM, args, timeout: 60_000 });
}

/**
 * A new browser context (its own cookies: one person) and page, with the recorders above.
 * @param {import("playwright-core").Browser} browser
 * @param {import("node:test").TestContext} t
 * @param {string} who names the page in messages and screenshots
 * @param {() => string} serverOutput
 */
export async function openPage(browser, t, who, serverOutput) {
  const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(STEP_TIMEOUT);
  const problems = [];
  const ran = [];
  const tokens = new Set();
  const pending = [];
  const findings = [];

  await page.exposeBinding("__reportViolation", (_source, v) => problems.push(`${who}: CSP violation: ${v}`));
  // Every frame gets it: a payload in an iframe's srcdoc calls its own frame's.
  await page.exposeBinding("__pwned", (_source, what) => ran.push(`${who}: payload ran: ${what}`));
  await page.addInitScript((heldPath) => {
    document.addEventListener("securitypolicyviolation", (e) => {
      // @ts-ignore: exposed by the test
      window.__reportViolation(
        `${e.effectiveDirective} blocked ${String(e.blockedURI).slice(0, 120)} (${e.sourceFile}:${e.lineNumber}) ${String(e.sample).slice(0, 80)}`,
      );
    });
    // When the sign-in form's email field first appears: the page is usable (time to interactive).
    new MutationObserver((_m, observer) => {
      if (document.querySelector('input[type="email"]:not([disabled])')) {
        // @ts-ignore
        window.__e2eFormReady = performance.now();
        observer.disconnect();
      }
    }).observe(document, { childList: true, subtree: true });
    // The live connection, under the test's control.
    const Native = window.WebSocket;
    const state = { sockets: [], held: false, opened: 0 };
    class TestWebSocket extends Native {
      constructor(url, protocols) {
        const u = new URL(String(url), location.href);
        if (state.held) u.pathname = heldPath;
        super(u.href, protocols);
        state.sockets.push(this);
        this.addEventListener("open", () => state.opened++);
      }
    }
    window.WebSocket = TestWebSocket;
    // @ts-ignore
    window.__e2eLive = {
      drop() {
        state.held = true;
        for (const s of state.sockets) if (s.readyState <= 1) s.close(4000, "dropped by the test");
      },
      release() {
        state.held = false;
      },
      opened: () => state.opened,
    };
  }, HELD_PATH);

  page.on("console", (m) => {
    const text = m.text();
    if (text.includes(HELD_PATH)) return; // the socket the test held down, refused on purpose
    // The API's refusals the console expects and shows as a screen (Chromium logs each): 401 to a
    // visitor's first refresh (no session yet), 404 to a project the person cannot see.
    if (/^Failed to load resource.* (401|404) /.test(text) && /\/api\/v1\//.test(m.location().url)) return;
    if (m.type() === "error" || /Content.Security.Policy/i.test(text))
      problems.push(`${who}: console ${m.type()}: ${text.slice(0, 300)}`);
  });
  page.on("pageerror", (e) => problems.push(`${who}: uncaught: ${e.message}`));
  page.on("dialog", (d) => {
    ran.push(`${who}: a ${d.type()} dialog opened: ${d.message().slice(0, 100)}`);
    void d.dismiss().catch(() => {});
  });
  page.on("response", (res) => {
    if (!/\/api\/v1\/auth\/(login|register|refresh)$/.test(new URL(res.url()).pathname)) return;
    pending.push(
      res
        .json()
        .then((body) => {
          if (body?.data?.accessToken) tokens.add(body.data.accessToken);
          if (body?.data?.refreshToken) {
            tokens.add(body.data.refreshToken);
            problems.push(`${who}: ${new URL(res.url()).pathname} gave the page's script the refresh token`);
          }
        })
        .catch(() => {}),
    );
  });

  const failed = async (err) => {
    const shot = join(tmpdir(), `fuzzyllama-console-${who}-${Date.now()}.png`);
    await page.screenshot({ path: shot, fullPage: true }).catch(() => {});
    console.log(`${who}: failed at ${page.url()}: ${err?.message?.split("\n")[0]}`);
    console.log(`${who}: screenshot: ${shot}`);
    console.log(`${who}: problems seen:\n  ${problems.join("\n  ") || "none"}`);
    if (findings.length) console.log(`${who}: screens' findings:\n  ${findings.join("\n  ")}`);
    console.log(`server output (last 4000 characters):\n${serverOutput().slice(-4000)}`);
  };
  t.after(() => context.close());
  return { who, context, page, problems, ran, tokens, pending, findings, failed };
}

/**
 * No token in web storage, nor in document.cookie (the refresh cookie is HttpOnly): none of the
 * tokens the gateway sent this page, and nothing shaped like a JWT.
 */
export async function checkStorage(p, when) {
  await Promise.all(p.pending);
  const stored = await p.page.evaluate(() => ({
    local: JSON.stringify({ ...localStorage }),
    session: JSON.stringify({ ...sessionStorage }),
    cookie: document.cookie,
  }));
  for (const [where, text] of Object.entries(stored)) {
    assert.doesNotMatch(
      text,
      JWT,
      `${p.who}, ${when}: a token-shaped value in ${where}: ${text.slice(0, 200)}`,
    );
    for (const token of p.tokens)
      assert.ok(!text.includes(token), `${p.who}, ${when}: a token the gateway sent is in ${where}`);
  }
}

/**
 * What every screen must be: one main landmark, one h1, no token in storage, and no serious or
 * critical axe-core violation (collected in p.findings, asserted at the end of the journey so one
 * run lists them all; a token in storage fails at once).
 */
export async function checkScreen(p, screen) {
  const { page } = p;
  await page.locator("h1").first().waitFor();
  const mains = await page.locator("main, [role=main]").count();
  if (mains !== 1) p.findings.push(`${screen} (${page.url()}): ${mains} main landmarks, want 1`);
  const h1s = await page.locator("h1").allTextContents();
  if (h1s.length !== 1)
    p.findings.push(
      `${screen} (${page.url()}): ${h1s.length} h1 headings, want 1: ${h1s.map((h) => JSON.stringify(h.slice(0, 60))).join(", ")}`,
    );
  await checkStorage(p, screen);
  // Evaluated through the DevTools protocol, which the page's CSP does not govern.
  if (!(await page.evaluate(() => "axe" in window))) await page.evaluate(AXE_SOURCE);
  const violations = await page.evaluate(async () => {
    // @ts-ignore: axe-core, injected above
    const result = await window.axe.run(document, { resultTypes: ["violations"] });
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes
        .slice(0, 3)
        .map((n) => `${n.target.join(" ")}: ${n.failureSummary?.replace(/\s+/g, " ")}`),
    }));
  });
  for (const v of violations) {
    if (v.impact !== "serious" && v.impact !== "critical") continue;
    p.findings.push(
      `${screen} (${page.url()}): ${v.impact} ${v.id}: ${v.help}\n      ${v.nodes.join("\n      ")}`,
    );
  }
}

/** The problems a journey must end without: asserted together, each listed. */
export function assertClean(p) {
  assert.deepEqual(p.problems, [], `${p.who}: no CSP violation, console error or uncaught exception`);
  assert.deepEqual(p.ran, [], `${p.who}: no injected script ran and no dialog opened`);
  assert.deepEqual(
    p.findings,
    [],
    `${p.who}: one main and one h1 on every screen, no serious or critical axe-core violation`,
  );
}

/** Presses Tab until target has the focus (at most max times); returns how many presses. */
export async function tabTo(page, target, max = 60) {
  await target.waitFor();
  for (let i = 1; i <= max; i++) {
    await page.keyboard.press("Tab");
    if (await target.evaluate((el) => el === document.activeElement)) return i;
  }
  throw new Error(`${target} is not reachable with Tab (${max} presses)`);
}

/**
 * Waits until check() returns a truthy value (polling it: for conditions outside the page, such as
 * the API's answers); returns it.
 */
export async function until(what, check, timeout = 60_000) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      const v = await check();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(
        `timed out after ${timeout / 1000} s waiting for ${what}${last ? `: ${last.message}` : ""}`,
      );
    await new Promise((r) => setTimeout(r, 100)); // poll interval
  }
}
