import { describe, expect, it } from "vitest";
import { isSourceFile, isSourcePath } from "./sourcePath";

describe("isSourcePath", () => {
  it("takes relative /-separated paths of letters, digits and . _ - + @, as the server does", () => {
    for (const path of [
      "go.mod",
      "backend/main.go",
      "web/src/App.test.tsx",
      ".github/workflows/ci.yml",
      "a/b+c@2/d_e-f",
    ])
      expect(isSourcePath(path), path).toBe(true);
    for (const path of [
      "",
      "/etc/passwd",
      "a//b",
      "a/",
      "./a",
      "a/../b",
      "a\\b",
      "-rf",
      "a/-b",
      "Implementation notes",
      "naïve.go",
      ".git",
      ".GIT/config",
      "x".repeat(201),
      `${"y".repeat(101)}/z`,
    ])
      expect(isSourcePath(path), path).toBe(false);
  });

  it("makes a source file of a code document only", () => {
    expect(isSourceFile({ type: "DOCUMENT_TYPE_CODE", title: "main.go" })).toBe(true);
    expect(isSourceFile({ type: "DOCUMENT_TYPE_API_SPEC", title: "api/openapi.yaml" })).toBe(false);
  });
});
