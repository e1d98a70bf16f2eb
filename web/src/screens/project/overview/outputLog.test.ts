import { describe, expect, it } from "vitest";
import { OutputLog } from "./outputLog";

/** A log whose flushes the test runs by hand. */
function setup() {
  const pre = document.createElement("pre");
  const flushes: (() => void)[] = [];
  const has: boolean[] = [];
  const log = new OutputLog(
    pre,
    (h) => has.push(h),
    (f) => flushes.push(f),
  );
  const flush = () => flushes.splice(0).forEach((f) => f());
  return { pre, log, flush, has };
}

const chunk = (attempt: number, seq: number, text: string) => ({ attempt, seq: String(seq), text });

describe("OutputLog", () => {
  it("appends chunks in order as text nodes, once a frame", () => {
    const { pre, log, flush, has } = setup();
    log.push(chunk(1, 1, "Hello"));
    log.push(chunk(1, 2, ", world"));
    expect(pre.textContent).toBe("");
    flush();
    expect(pre.textContent).toBe("Hello, world");
    log.push(chunk(1, 3, "!"));
    flush();
    expect(pre.textContent).toBe("Hello, world!");
    expect(pre.childNodes).toHaveLength(2);
    expect(has).toEqual([true]);
  });

  it("skips what a watch started again sends a second time", () => {
    const { pre, log, flush } = setup();
    log.push(chunk(1, 1, "a"));
    log.push(chunk(1, 2, "b"));
    flush();
    // After a reconnect the watch sends the attempt from the start, then goes on.
    log.push(chunk(1, 1, "a"));
    log.push(chunk(1, 2, "b"));
    log.push(chunk(1, 3, "c"));
    flush();
    expect(pre.textContent).toBe("abc");
  });

  it("starts over with a new attempt, and ignores an older one's chunks", () => {
    const { pre, log, flush, has } = setup();
    log.push(chunk(1, 1, "first try"));
    flush();
    log.startAttempt(2);
    expect(pre.textContent).toBe("");
    log.push(chunk(1, 2, " late"));
    log.push(chunk(2, 1, "second try"));
    flush();
    expect(pre.textContent).toBe("second try");
    expect(has).toEqual([true, false, true]);
    // A chunk of a later attempt than announced starts it over too.
    log.push(chunk(3, 1, "third"));
    flush();
    expect(pre.textContent).toBe("third");
  });

  it("shows a finished run's stored output, leaving it alone when it is already shown", () => {
    const { pre, log, flush } = setup();
    log.push(chunk(1, 1, "all of it"));
    flush();
    const node = pre.firstChild;
    log.replace("all of it");
    expect(pre.firstChild).toBe(node);
    log.replace("all of it, and the rest");
    expect(pre.textContent).toBe("all of it, and the rest");
  });

  it("appends 500 KB in small chunks without re-writing what is shown", () => {
    const { pre, log, flush } = setup();
    const piece = "x".repeat(99) + "\n";
    for (let i = 1; i <= 5000; i++) {
      log.push(chunk(1, i, piece));
      if (i % 50 === 0) flush();
    }
    flush();
    expect(pre.textContent?.length).toBe(500_000);
    expect(pre.childNodes).toHaveLength(100);
  });
});
