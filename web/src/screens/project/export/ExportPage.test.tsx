import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createApiClient } from "../../../api/client";
import { InProject } from "../../../test/project";
import { apiError, fakeApi, renderWithProviders, type FakeApi } from "../../../test/render";
import { filenameOf } from "../../../shared/download/download";
import { Component as ExportPage } from "./ExportPage";

const EXPORT = "GET /api/v1/projects/p1/documents:export";
const PUSH = "POST /api/v1/projects/p1/documents:exportToGit";

function archive(name: string, type: string) {
  return new Response(new Uint8Array([80, 75, 3, 4, 1, 2, 3]), {
    status: 200,
    headers: { "Content-Type": type, "Content-Disposition": `attachment; filename=${name}` },
  });
}

function render(api: FakeApi) {
  // A client with a token, as the app's: the download must carry it.
  const client = createApiClient({
    baseUrl: "http://localhost",
    fetch: api.fetch,
    getToken: () => "access-1",
  });
  return renderWithProviders(
    <InProject>
      <ExportPage />
    </InProject>,
    { api, client },
  );
}

let clicked: { href: string; download: string }[];
const createObjectURL = vi.fn((blob: Blob) => `blob:test/${blob.size}`);
const revokeObjectURL = vi.fn();
let restoreURL: () => void;

beforeEach(() => {
  clicked = [];
  // jsdom has no object URLs: these stand in, and tell what was made and revoked.
  const saved = ["createObjectURL", "revokeObjectURL"].map(
    (k) => [k, Object.getOwnPropertyDescriptor(URL, k)] as const,
  );
  Object.defineProperty(URL, "createObjectURL", {
    value: createObjectURL,
    configurable: true,
    writable: true,
  });
  Object.defineProperty(URL, "revokeObjectURL", {
    value: revokeObjectURL,
    configurable: true,
    writable: true,
  });
  restoreURL = () => {
    for (const [k, d] of saved) {
      if (d) Object.defineProperty(URL, k, d);
      else Reflect.deleteProperty(URL, k);
    }
  };
  vi.spyOn(HTMLAnchorElement.prototype, "click").mockImplementation(function (this: HTMLAnchorElement) {
    clicked.push({ href: this.href, download: this.download });
  });
});
afterEach(() => {
  restoreURL();
  createObjectURL.mockClear();
  revokeObjectURL.mockClear();
});

describe("ExportPage", () => {
  it("downloads the ZIP through the API client and saves it as a file", async () => {
    const user = userEvent.setup();
    const api = fakeApi({ [EXPORT]: () => archive("recipes-documents.zip", "application/zip") });
    render(api);
    await user.click(screen.getByRole("button", { name: "Download ZIP" }));
    expect(await screen.findByText("Saved recipes-documents.zip (7 bytes).")).toBeTruthy();
    const [request] = api.calls(EXPORT);
    expect(request?.headers.get("Authorization")).toBe("Bearer access-1");
    expect(request?.query.get("format")).toBe("ARCHIVE_FORMAT_ZIP");
    expect(clicked).toEqual([{ href: "blob:test/7", download: "recipes-documents.zip" }]);
    // The temporary link is gone, and its URL revoked a moment later.
    expect(document.querySelector("a[download]")).toBeNull();
    await waitFor(() => expect(revokeObjectURL).toHaveBeenCalledWith("blob:test/7"), { timeout: 2000 });
  });

  it("asks for tar.gz when that is the button", async () => {
    const user = userEvent.setup();
    const api = fakeApi({ [EXPORT]: () => archive("recipes-documents.tar.gz", "application/gzip") });
    render(api);
    await user.click(screen.getByRole("button", { name: "Download tar.gz" }));
    expect(await screen.findByText(/Saved recipes-documents.tar.gz/)).toBeTruthy();
    expect(api.calls(EXPORT)[0]?.query.get("format")).toBe("ARCHIVE_FORMAT_TAR_GZ");
  });

  it("says why a download failed", async () => {
    const user = userEvent.setup();
    const api = fakeApi({
      [EXPORT]: () => apiError(403, "PERMISSION_DENIED", "you cannot see this project"),
    });
    render(api);
    await user.click(screen.getByRole("button", { name: "Download ZIP" }));
    expect(await screen.findByText(/you cannot see this project/)).toBeTruthy();
    expect(clicked).toEqual([]);
  });

  it("pushes to a git remote with a token it forgets afterwards", async () => {
    const user = userEvent.setup();
    const api = fakeApi({
      [PUSH]: () => ({
        remoteUrl: "https://github.com/ann/recipes",
        htmlUrl: "",
        branch: "docs",
        headCommit: "0123456789abcdef",
        commits: 12,
      }),
    });
    render(api);
    const token = screen.getByLabelText("Token");
    expect(token.getAttribute("type")).toBe("password");
    expect(token.getAttribute("autocomplete")).toBe("off");
    await user.type(screen.getByLabelText("Remote URL"), "https://github.com/ann/recipes");
    await user.type(screen.getByLabelText("Branch"), "docs");
    await user.type(token, "ghp_secret");
    await user.click(screen.getByRole("button", { name: "Push" }));
    expect(await screen.findByText(/Pushed 12 commits to docs at/)).toBeTruthy();
    expect(screen.getByText("0123456789abcdef")).toBeTruthy();
    expect(api.calls(PUSH)[0]?.body).toEqual({
      token: "ghp_secret",
      branch: "docs",
      remoteUrl: "https://github.com/ann/recipes",
    });
    expect(screen.getByLabelText<HTMLInputElement>("Token").value).toBe("");
  });

  it("can create a GitHub repository, and names the fields the server refused", async () => {
    const user = userEvent.setup();
    const api = fakeApi({
      [PUSH]: () =>
        apiError(400, "INVALID_ARGUMENT", "invalid request", {
          fields: [{ field: "createGithubRepository.name", description: "must be 1-100 characters" }],
        }),
    });
    render(api);
    await user.click(screen.getByLabelText(/Create a new GitHub repository/));
    expect(screen.queryByLabelText("Remote URL")).toBeNull();
    await user.type(screen.getByLabelText("Repository name"), "bad name");
    await user.click(screen.getByLabelText(/Public repository/));
    await user.type(screen.getByLabelText("Token"), "ghp_secret");
    await user.click(screen.getByRole("button", { name: "Push" }));
    expect(await screen.findByText("must be 1-100 characters")).toBeTruthy();
    expect(api.calls(PUSH)[0]?.body).toEqual({
      token: "ghp_secret",
      createGithubRepository: { name: "bad name", public: true },
    });
    expect(screen.getByLabelText<HTMLInputElement>("Token").value).toBe("");
  });

  it("reads the file name of a Content-Disposition", () => {
    expect(filenameOf('attachment; filename="a b.zip"')).toBe("a b.zip");
    expect(filenameOf("attachment; filename*=UTF-8''r%C3%A9sum%C3%A9.zip; filename=x.zip")).toBe(
      "résumé.zip",
    );
    expect(filenameOf("attachment; filename=../../etc/passwd")).toBe(".._.._etc_passwd");
    expect(filenameOf(null)).toBeUndefined();
  });
});
