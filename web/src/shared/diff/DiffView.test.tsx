import { render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { DiffView } from "./DiffView";
import { sideBySideRows, unifiedRows } from "./lines";

describe("unifiedRows", () => {
  it("numbers each side and marks what changed", () => {
    const rows = unifiedRows("a\nb\nc\n", "a\nB\nc\nd\n");
    expect(rows).toEqual([
      { kind: "same", text: "a", oldNumber: 1, newNumber: 1 },
      { kind: "removed", text: "b", oldNumber: 2 },
      { kind: "added", text: "B", newNumber: 2 },
      { kind: "same", text: "c", oldNumber: 3, newNumber: 3 },
      { kind: "added", text: "d", newNumber: 4 },
    ]);
  });
});

describe("sideBySideRows", () => {
  it("puts a replacement next to what it replaced, padding the shorter side", () => {
    const pairs = sideBySideRows(unifiedRows("x\nold\nz\n", "x\nnew 1\nnew 2\nz\n"));
    expect(pairs.map((p) => [p.left?.text ?? null, p.right?.text ?? null])).toEqual([
      ["x", "x"],
      ["old", "new 1"],
      [null, "new 2"],
      ["z", "z"],
    ]);
  });
});

describe("DiffView", () => {
  it("shows the counts and switches between unified and side by side", async () => {
    render(<DiffView before={"one\ntwo\n"} after={"one\n2\nthree\n"} beforeLabel="v1" afterLabel="v2" />);
    expect(screen.getByText("+2 added")).toBeDefined();
    expect(screen.getByText("−1 removed")).toBeDefined();
    const unified = screen.getByRole("table", { name: "Unified diff" });
    expect(
      within(unified)
        .getAllByRole("cell")
        .map((c) => c.textContent),
    ).toEqual(["  one", "− removed: two", "+ added: 2", "+ added: three"]);
    await userEvent.click(screen.getByLabelText("Side by side"));
    const split = screen.getByRole("table", { name: "Side-by-side diff" });
    expect(within(split).getAllByRole("row")).toHaveLength(3);
    expect(screen.queryByRole("table", { name: "Unified diff" })).toBeNull();
  });

  it("says when nothing changed", () => {
    render(<DiffView before="same" after="same" beforeLabel="v1" afterLabel="v2" />);
    expect(screen.getByText(/No changes/)).toBeDefined();
  });
});
