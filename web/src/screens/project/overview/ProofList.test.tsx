import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";
import { fakeApi, renderWithProviders } from "../../../test/render";
import { base64Text } from "./artifacts";
import { ProofList } from "./ProofList";
import { gate, PID, proof, proofRun } from "./testing";

const ARTIFACTS = `/api/v1/projects/${PID}/artifacts`;
const LOG = "$ go build ./...\nok  recipes/backend ✓ café\n";

afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllGlobals();
});

/** Base64 of text's UTF-8 bytes, as the API sends an artifact's content. */
function base64(text: string): string {
  return btoa(String.fromCharCode(...new TextEncoder().encode(text)));
}

/** A blob's text (jsdom's Blob has no text()). */
function readText(blob: Blob): Promise<string> {
  return new Promise((resolve) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result as string);
    reader.readAsText(blob);
  });
}

const built = proof("p-build", "PROOF_TYPE_BUILD", {
  attested: false,
  producedBy: "agents",
  summary: "go build ./... passed",
  run: proofRun(),
});
const previewed = proof("p-preview", "PROOF_TYPE_PREVIEW_STARTUP", {
  attested: false,
  producedBy: "agents",
  run: proofRun({
    command: "npm run preview",
    exitCode: -1,
    durationMs: "61000",
    runner: "kubernetes",
    artifacts: [{ id: "art-shot", kind: "screenshot", mediaType: "image/png", sizeBytes: "2048" }],
  }),
});
const attested = proof("p-manual", "PROOF_TYPE_MANUAL_VERIFICATION", { producedBy: "u-bob" });

function show() {
  const api = fakeApi({
    [`GET ${ARTIFACTS}/art-log`]: () => ({
      artifact: { id: "art-log", kind: "log", mediaType: "text/plain; charset=utf-8", sizeBytes: "42" },
      content: base64(LOG),
    }),
    [`GET ${ARTIFACTS}/art-shot`]: () => ({
      artifact: { id: "art-shot", kind: "screenshot", mediaType: "image/png", sizeBytes: "4" },
      content: base64("PNG!"),
    }),
  });
  const g = gate(5, { state: "GATE_STATE_IN_PROGRESS", revision: 2, proofs: [built, previewed, attested] });
  renderWithProviders(<ProofList gate={g} name={(id) => (id === "u-bob" ? "Bob" : "someone")} />, { api });
  return api;
}

describe("a proof FuzzyLlama produced", () => {
  it("says so, and how it ran: command, exit code, duration, runner and the tree", () => {
    show();
    const items = screen.getAllByRole("listitem");
    const build = items.find((li) => li.textContent?.startsWith("build"))!;
    expect(build.textContent).toContain("produced by FuzzyLlama");
    expect(within(build).getByText("cd backend && go build ./...").tagName).toBe("CODE");
    expect(within(build).getByText("0 (passed)")).toBeDefined();
    expect(within(build).getByText("12.4 s")).toBeDefined();
    expect(within(build).getByText("local sandbox (bubblewrap)")).toBeDefined();
    // The tree it ran on links to that tree's listing.
    const tree = within(build).getByRole("link", { name: "Browse the source tree sha256:0123456789ab" });
    expect(tree.getAttribute("title")).toMatch(/^sha256:0123456789abcdef0123/);
    expect(tree.getAttribute("href")).toMatch(/^\/projects\/p1\/code\?tree=sha256%3A0123456789abcdef0123/);

    const preview = items.find((li) => li.textContent?.startsWith("preview startup"))!;
    expect(within(preview).getByText(/-1: stopped by the sandbox/)).toBeDefined();
    expect(within(preview).getByText("1 min 1 s")).toBeDefined();
    expect(within(preview).getByText("Kubernetes job")).toBeDefined();

    // A person's proof says who attested it, and has no run.
    const manual = items.find((li) => li.textContent?.startsWith("manual verification"))!;
    expect(manual.textContent).toContain("attested by Bob");
    expect(within(manual).queryByRole("button")).toBeNull();
  });

  it("loads its log only when asked, as UTF-8 text in a scrollable block, once", async () => {
    const user = userEvent.setup();
    const api = show();
    const view = screen.getByRole("button", { name: "View log of the build proof" });
    expect(view.getAttribute("aria-expanded")).toBe("false");
    expect(api.calls(`GET ${ARTIFACTS}/art-log`)).toHaveLength(0);

    await user.click(view);
    const log = await screen.findByRole("region", { name: "Log of the build proof" });
    expect(log.tagName).toBe("PRE");
    expect(log.textContent).toBe(LOG);
    expect(log.tabIndex).toBe(0);
    expect(
      screen.getByRole("button", { name: "Hide log of the build proof" }).getAttribute("aria-expanded"),
    ).toBe("true");

    await user.click(screen.getByRole("button", { name: "Hide log of the build proof" }));
    expect(screen.queryByRole("region", { name: "Log of the build proof" })).toBeNull();
    await user.click(screen.getByRole("button", { name: "View log of the build proof" }));
    expect(await screen.findByRole("region", { name: "Log of the build proof" })).toBeDefined();
    expect(api.calls(`GET ${ARTIFACTS}/art-log`)).toHaveLength(1);
  });

  it("shows a preview's screenshot as an image described in words", async () => {
    const user = userEvent.setup();
    const bitmap = { width: 640, height: 400, close: vi.fn() };
    const decode = vi.fn((_blob: Blob) => Promise.resolve(bitmap));
    vi.stubGlobal("createImageBitmap", decode);
    const drawImage = vi.fn();
    vi.spyOn(HTMLCanvasElement.prototype, "getContext").mockReturnValue({
      drawImage,
    } as unknown as CanvasRenderingContext2D);
    show();
    await user.click(screen.getByRole("button", { name: "View screenshot of the preview startup proof" }));
    const image = await screen.findByRole("img", {
      name: "Screenshot of the project's preview, taken for the preview startup proof",
    });
    await waitFor(() => expect(drawImage).toHaveBeenCalledWith(bitmap, 0, 0));
    expect((image as HTMLCanvasElement).width).toBe(640);
    const blob = decode.mock.calls[0]![0];
    expect(blob.type).toBe("image/png");
    expect(await readText(blob)).toBe("PNG!");
  });
});

describe("base64Text", () => {
  it("reads standard and URL-safe base64, padded or not, as UTF-8", () => {
    expect(base64Text(base64("é?>"))).toBe("é?>");
    expect(base64Text("w6k_Pg")).toBe("é?>");
  });
});
