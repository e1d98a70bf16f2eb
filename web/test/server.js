// Starts and stops the real binary for the tests: a fresh data directory, the embedded default
// (SQLite, in-process Redis), a free loopback port.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * Starts FUZZYLLAMA_BIN with HTTP_ADDR port 0 (the kernel picks a free port, so no two runs
 * race for one), reads the address from its "is up" line and waits for /readyz to answer 200.
 * @param {Record<string, string>} [extraEnv] more of the server's configuration (rate limits, ...)
 * @returns {Promise<{base: string, output: () => string, stop: () => Promise<void>}>}
 */
export async function startServer(extraEnv = {}) {
  const bin = process.env.FUZZYLLAMA_BIN;
  assert.ok(bin, "FUZZYLLAMA_BIN must name the built binary (scripts/web.sh builds it)");
  const dataDir = await mkdtemp(join(tmpdir(), "fuzzyllama-web-test-"));
  // No drain period on SIGTERM: no load balancer is watching /readyz here.
  const env = {
    ...process.env,
    DATA_DIR: dataDir,
    HTTP_ADDR: "127.0.0.1:0",
    LOG_LEVEL: "warn",
    SHUTDOWN_DRAIN_TIME: "0s",
    ...extraEnv,
  };
  const proc = spawn(bin, [], { env, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  const collect = (chunk) => {
    out += chunk.toString();
  };
  proc.stdout.on("data", collect);
  proc.stderr.on("data", collect);
  const exited = new Promise((resolve) => proc.once("exit", resolve));

  const stop = async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill("SIGTERM");
      const killer = setTimeout(() => proc.kill("SIGKILL"), 15_000);
      await exited;
      clearTimeout(killer);
    }
    await rm(dataDir, { recursive: true, force: true });
  };

  try {
    const base = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the server did not start in 60 s:\n${out}`)), 60_000);
      const onData = () => {
        const m = /is up: (http:\/\/\S+)/.exec(out);
        if (m) {
          clearTimeout(timer);
          proc.stderr.off("data", onData);
          resolve(m[1]);
        }
      };
      proc.stderr.on("data", onData);
      exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`the server exited (${code ?? proc.signalCode}):\n${out}`));
      });
    });
    const deadline = Date.now() + 30_000;
    for (;;) {
      const res = await fetch(`${base}/readyz`).catch(() => null);
      if (res?.status === 200) break;
      if (Date.now() > deadline) throw new Error(`${base}/readyz did not answer 200 in 30 s:\n${out}`);
      await new Promise((r) => setTimeout(r, 100)); // poll interval, not synchronisation
    }
    return { base, output: () => out, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
