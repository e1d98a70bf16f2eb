import { describe, expect, it } from "vitest";
import { EventStreamParser } from "./eventStream";

describe("EventStreamParser", () => {
  it("reads events split anywhere across chunks, with ids, names and comments", () => {
    const p = new EventStreamParser();
    const text = ': ping\n\nid: 42\ndata: {"a":1}\n\nevent: close\ndata: {"code":4001}\n\n';
    const events = [];
    for (const ch of text) events.push(...p.push(ch));
    expect(events).toEqual([
      { event: "message", data: '{"a":1}', id: "42" },
      { event: "close", data: '{"code":4001}' },
    ]);
  });

  it("joins multi-line data and accepts CRLF", () => {
    const p = new EventStreamParser();
    expect(p.push("data: one\r\ndata: two\r\n\r\n")).toEqual([{ event: "message", data: "one\ntwo" }]);
  });
});
