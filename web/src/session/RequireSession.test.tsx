import { describe, expect, it } from "vitest";
import { sameOriginPath } from "./RequireSession";

describe("sameOriginPath", () => {
  it("keeps a path of this origin and refuses anything that leaves it", () => {
    expect(sameOriginPath("/projects/p1?gate=3#x")).toBe("/projects/p1?gate=3#x");
    expect(sameOriginPath(null)).toBe("/projects");
    for (const bad of [
      "//evil.example/x",
      "/\\evil.example/x",
      "/\t/evil.example",
      "https://evil.example",
      "javascript:alert(1)",
    ]) {
      expect(sameOriginPath(bad)).toBe("/projects");
    }
  });
});
