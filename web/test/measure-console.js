// Measures the console's responsiveness under load, for docs/PERFORMANCE.md (not a test: it
// asserts nothing about time, it prints numbers). Against the real binary (FUZZYLLAMA_BIN), in
// headless Chromium:
//
//   1. time to interactive: navigation start to the sign-in form usable, cold and warm cache;
//      then, as the floor to compare with, typing on an idle project page;
//   2. a 500 KB agent output streaming into the project page (a fake Anthropic API on loopback
//      streams it in 2 KB pieces, 40 ms apart) while a person types into a field: the main
//      thread's long tasks (count, total blocking time, longest), the keydowns slower than a frame
//      (input to next paint ≥ 16 ms), their median and longest, and the longest input delay;
//   3. a 1,000-event timeline: time until the page shows it, how many rows are in the DOM
//      (virtualized), then 300 more events arriving live while typing: the same numbers.
//
//   FUZZYLLAMA_BIN=/path/to/fuzzyllama node test/measure-console.js
import http from "node:http";
import os from "node:os";
import { test } from "node:test";
import { apiClient, email } from "./api.js";
import { launchBrowser, openPage } from "./browser.js";
import { startServer } from "./server.js";

const OUTPUT_BYTES = 500 * 1024;
const PIECE = 2048;
const PIECE_DELAY_MS = 40;

/** A fake Anthropic Messages API streaming OUTPUT_BYTES of text to every request. */
async function fakeAnthropic() {
  const line = (i) =>
    `${String(i).padStart(6, "0")} the agent writes a long answer, line after line, to see the page keep up.\n`;
  let text = "";
  for (let i = 0; text.length < OUTPUT_BYTES; i++) text += line(i);
  const srv = http.createServer(async (req, res) => {
    for await (const _ of req); // the request body
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
    const send = (event, data) => res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    send("message_start", {
      type: "message_start",
      message: {
        id: "msg_measure",
        type: "message",
        role: "assistant",
        model: "claude-measure",
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { input_tokens: 10, output_tokens: 1 },
      },
    });
    send("content_block_start", {
      type: "content_block_start",
      index: 0,
      content_block: { type: "text", text: "" },
    });
    for (let at = 0; at < text.length; at += PIECE) {
      if (res.destroyed) return;
      send("content_block_delta", {
        type: "content_block_delta",
        index: 0,
        delta: { type: "text_delta", text: text.slice(at, at + PIECE) },
      });
      await new Promise((r) => setTimeout(r, PIECE_DELAY_MS)); // the stream's pace
    }
    send("content_block_stop", { type: "content_block_stop", index: 0 });
    send("message_delta", {
      type: "message_delta",
      delta: { stop_reason: "end_turn", stop_sequence: null },
      usage: { output_tokens: 100 },
    });
    send("message_stop", { type: "message_stop" });
    res.end();
  });
  await new Promise((r) => srv.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${srv.address().port}`, close: () => srv.close(), bytes: text.length };
}

/** Starts recording long tasks and input events in the page; adds a text field to type into. */
async function startRecording(page) {
  await page.evaluate(() => {
    // @ts-ignore
    const rec = (window.__measure = { long: [], events: [] });
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) rec.long.push(e.duration);
    }).observe({ type: "longtask" });
    new PerformanceObserver((list) => {
      for (const e of list.getEntries())
        if (e.name === "keydown")
          rec.events.push({ duration: e.duration, delay: e.processingStart - e.startTime });
    }).observe({ type: "event", durationThreshold: 16 });
    const field = document.createElement("input");
    field.id = "measure-field";
    field.setAttribute("aria-label", "Measure typing");
    document.body.append(field);
  });
}

async function stopRecording(page) {
  return page.evaluate(() => {
    // @ts-ignore
    const { long, events } = window.__measure;
    return {
      longTasks: long.length,
      blockingMs: Math.round(long.reduce((s, d) => s + Math.max(0, d - 50), 0)),
      longestMs: Math.round(Math.max(0, ...long)),
      // keydowns whose input-to-next-paint took 16 ms or more (the Event Timing API's floor: a
      // frame), their median and longest, and the longest wait before the handler ran.
      keydownsOver16ms: events.length,
      keydownMedianMs:
        events.map((e) => e.duration).sort((a, b) => a - b)[Math.floor(events.length / 2)] ?? 0,
      keydownMaxMs: Math.max(0, ...events.map((e) => e.duration)),
      keydownMaxInputDelayMs: Math.round(Math.max(0, ...events.map((e) => e.delay))),
    };
  });
}

/** Types into the measure field until stop() says so; returns the keystrokes typed. */
async function typeWhile(page, stop) {
  let typed = 0;
  await page.locator("#measure-field").focus();
  while (!(await stop())) {
    await page.keyboard.type("responsive? ", { delay: 30 });
    typed += 12;
  }
  return typed;
}

test("measure the console", { timeout: 600_000 }, async (t) => {
  const anthropic = await fakeAnthropic();
  t.after(() => anthropic.close());
  const server = await startServer({
    RATE_LIMIT_AUTH_PER_IP_PER_MINUTE: "1000",
    RATE_LIMIT_PER_IP_PER_MINUTE: "1000000",
    RATE_LIMIT_PER_USER_PER_MINUTE: "1000000",
    ANTHROPIC_API_KEY: "measure",
    ANTHROPIC_BASE_URL: anthropic.url,
    AGENT_MAX_ATTEMPTS: "1",
    AGENT_QUEUE_POLL_INTERVAL: "20ms",
  });
  t.after(() => server.stop());
  const browser = await launchBrowser();
  t.after(() => browser.close());
  const api = apiClient(server.base);
  const cpu = `${os.cpus()[0]?.model ?? "?"} × ${os.cpus().length}, load ${os.loadavg()[0].toFixed(1)}`;
  console.log(`machine: ${cpu}; Chromium ${browser.version()}`);

  // 1. Time to interactive, cold then warm.
  const p = await openPage(browser, t, "measure", server.output);
  for (const cache of ["cold", "warm", "warm"]) {
    await p.page.goto(`${server.base}/sign-in`);
    await p.page.getByLabel("Email", { exact: true }).waitFor();
    const ms = await p.page.evaluate(() => {
      const nav = /** @type {PerformanceNavigationTiming} */ (performance.getEntriesByType("navigation")[0]);
      // @ts-ignore
      return { ready: window.__e2eFormReady, dcl: nav.domContentLoadedEventEnd, response: nav.responseEnd };
    });
    console.log(
      `time to interactive (${cache} cache): sign-in form usable at ${Math.round(ms.ready)} ms (index.html by ${Math.round(ms.response)} ms, DOMContentLoaded ${Math.round(ms.dcl)} ms)`,
    );
  }

  // Sign in.
  const owner = await api.register(email("measure"), "Mo Measure");
  await p.page.getByLabel("Email", { exact: true }).fill(owner.email);
  await p.page.getByLabel("Password", { exact: true }).fill(owner.password);
  await p.page.getByRole("button", { name: "Sign in" }).click();
  await p.page.waitForURL((u) => u.pathname !== "/sign-in");

  // 2. A 500 KB output streaming in.
  const { project } = await api.call("POST", "/api/v1/projects", {
    token: owner.token,
    body: { name: "Streaming", type: "PROJECT_TYPE_TRADITIONAL" },
  });
  await p.page.goto(`${server.base}/projects/${project.id}`);
  await p.page.getByRole("heading", { level: 1, name: "Streaming" }).waitFor();
  // The floor: the same typing on the same page with nothing streaming (the machine's own noise).
  await startRecording(p.page);
  const idleUntil = Date.now() + 5_000;
  const typedIdle = await typeWhile(p.page, async () => Date.now() > idleUntil);
  console.log(
    `idle project page, typing (${typedIdle} keystrokes): ${JSON.stringify(await stopRecording(p.page))}`,
  );
  await p.page.reload();
  await p.page.getByRole("heading", { level: 1, name: "Streaming" }).waitFor();
  await startRecording(p.page);
  const started = Date.now();
  await api.call("POST", `/api/v1/projects/${project.id}:startWork`, {
    token: owner.token,
    body: { description: "Anything: the fake model answers 500 KB." },
  });
  const output = p.page.getByRole("log").first();
  await output.waitFor({ timeout: 60_000 });
  let shown = 0;
  const typed = await typeWhile(p.page, async () => {
    shown = ((await output.textContent()) ?? "").length;
    return shown >= anthropic.bytes * 0.99 || Date.now() - started > 90_000;
  });
  const stream = await stopRecording(p.page);
  console.log(
    `500 KB output: ${shown} characters shown in ${((Date.now() - started) / 1000).toFixed(1)} s (the stream takes ${((anthropic.bytes / PIECE) * PIECE_DELAY_MS) / 1000} s); ${typed} keystrokes typed meanwhile`,
  );
  console.log(`  ${JSON.stringify(stream)}`);

  // 3. A 1,000-event timeline.
  const { project: busy } = await api.call("POST", "/api/v1/projects", {
    token: owner.token,
    body: { name: "Busy", type: "PROJECT_TYPE_TRADITIONAL" },
  });
  const patch = (i) =>
    api.call("PATCH", `/api/v1/projects/${busy.id}`, {
      token: owner.token,
      body: { description: `revision ${i}` },
    });
  for (let i = 0; i < 1000; i += 20) await Promise.all(Array.from({ length: 20 }, (_, k) => patch(i + k)));
  const shownAt = Date.now();
  await p.page.goto(`${server.base}/projects/${busy.id}/timeline`);
  const rows = p.page.getByRole("main").getByRole("listitem");
  await rows.first().waitFor();
  const firstPaint = Date.now() - shownAt;
  const domRows = await rows.count();
  console.log(
    `1,000-event timeline: first rows after ${firstPaint} ms (a full page load); ${domRows} rows in the DOM`,
  );
  await startRecording(p.page);
  let live = 0;
  const liveDone = (async () => {
    for (; live < 300; live += 10)
      await Promise.all(Array.from({ length: 10 }, (_, k) => patch(2000 + live + k)));
  })();
  let finished = false;
  void liveDone.then(() => (finished = true));
  const typedLive = await typeWhile(p.page, async () => finished);
  const timeline = await stopRecording(p.page);
  console.log(
    `  300 events arriving live while typing (${typedLive} keystrokes): ${JSON.stringify(timeline)}`,
  );
  console.log(`  rows in the DOM afterwards: ${await rows.count()}`);
  console.log(`problems seen: ${p.problems.join("; ") || "none"}`);
});
