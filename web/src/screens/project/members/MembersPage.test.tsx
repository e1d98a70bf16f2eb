import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { Schemas } from "../../../api/client";
import { InProject } from "../../../test/project";
import { apiError, fakeApi, fakeClient, renderWithProviders, signedInSession } from "../../../test/render";
import { Component as MembersPage } from "./MembersPage";

type Member = Schemas["Member"];

const ann: Member = {
  userId: "u-ann",
  email: "ann@example.com",
  name: "Ann",
  role: "ROLE_OWNER",
  createTime: "2025-01-01T00:00:00Z",
};
const bob: Member = {
  userId: "u-bob",
  email: "bob@example.com",
  name: "Bob",
  role: "ROLE_EDITOR",
  createTime: "2025-01-02T00:00:00Z",
};
const cleo: Member = {
  userId: "u-cleo",
  email: "cleo@example.com",
  name: "Cleo",
  role: "ROLE_VIEWER",
  createTime: "2025-01-03T00:00:00Z",
};

async function renderAs(role: Schemas["Role"]) {
  const api = fakeApi({
    "GET /api/v1/projects/p1/members": () => ({ members: [ann, bob] }),
    "POST /api/v1/projects/p1/members": ({ body }) =>
      (body as Schemas["AddMemberBody"]).email === "cleo@example.com"
        ? { member: { ...cleo, role: (body as Schemas["AddMemberBody"]).role } }
        : apiError(400, "INVALID_ARGUMENT", "invalid request: check email", {
            fields: [
              {
                field: "email",
                description: "no FuzzyLlama account uses this email: ask them to register first",
              },
            ],
          }),
    "PATCH /api/v1/projects/p1/members/u-bob": ({ body }) => ({
      member: { ...bob, role: (body as Schemas["UpdateMemberBody"]).role },
    }),
    "DELETE /api/v1/projects/p1/members/u-bob": () => ({}),
  });
  const client = fakeClient(api);
  const session = await signedInSession(api, client);
  renderWithProviders(
    <InProject role={role}>
      <MembersPage />
    </InProject>,
    { api, client, session },
  );
  await screen.findByRole("rowheader", { name: "Bob" });
  return api;
}

afterEach(() => vi.unstubAllGlobals());

describe("MembersPage", () => {
  it("shows a viewer the members, without the owner's controls", async () => {
    await renderAs("ROLE_VIEWER");
    expect(screen.getByRole("heading", { level: 2, name: "Members" })).toBeTruthy();
    expect(screen.getByRole("cell", { name: "bob@example.com" })).toBeTruthy();
    expect(screen.getByRole("cell", { name: "editor" })).toBeTruthy();
    expect(screen.queryByRole("button", { name: "Add member" })).toBeNull();
    expect(screen.queryByRole("combobox", { name: "Role of Bob" })).toBeNull();
    expect(screen.queryByRole("button", { name: "Remove Bob" })).toBeNull();
  });

  it("gives the owner the controls, except over the owner", async () => {
    await renderAs("ROLE_OWNER");
    expect(screen.getByRole("combobox", { name: "Role of Bob" })).toBeTruthy();
    expect(screen.getByRole("button", { name: "Remove Bob" })).toBeTruthy();
    expect(screen.getByRole("button", { name: "Add member" })).toBeTruthy();
    expect(screen.queryByRole("combobox", { name: "Role of Ann" })).toBeNull();
    expect(screen.queryByRole("button", { name: "Remove Ann" })).toBeNull();
  });

  it("adds a member by email with a role", async () => {
    const user = userEvent.setup();
    const api = await renderAs("ROLE_OWNER");
    await user.type(screen.getByLabelText("Email"), "cleo@example.com");
    await user.selectOptions(screen.getByRole("combobox", { name: "Role" }), "editor");
    await user.click(screen.getByRole("button", { name: "Add member" }));
    await waitFor(() => expect(api.calls("POST /api/v1/projects/p1/members")).toHaveLength(1));
    expect(api.calls("POST /api/v1/projects/p1/members")[0]?.body).toEqual({
      email: "cleo@example.com",
      role: "ROLE_EDITOR",
    });
    expect(await screen.findByRole("rowheader", { name: "Cleo" })).toBeTruthy();
    expect(screen.getByLabelText<HTMLInputElement>("Email").value).toBe("");
  });

  it("says why an email cannot be added, at the field", async () => {
    const user = userEvent.setup();
    await renderAs("ROLE_OWNER");
    await user.type(screen.getByLabelText("Email"), "nobody@example.com");
    await user.click(screen.getByRole("button", { name: "Add member" }));
    expect(await screen.findByText(/no FuzzyLlama account uses this email/)).toBeTruthy();
    expect(screen.getByLabelText("Email").getAttribute("aria-invalid")).toBe("true");
  });

  it("changes a role", async () => {
    const user = userEvent.setup();
    const api = await renderAs("ROLE_OWNER");
    await user.selectOptions(screen.getByRole("combobox", { name: "Role of Bob" }), "viewer");
    await waitFor(() => expect(api.calls("PATCH /api/v1/projects/p1/members/u-bob")).toHaveLength(1));
    expect(api.calls("PATCH /api/v1/projects/p1/members/u-bob")[0]?.body).toEqual({ role: "ROLE_VIEWER" });
  });

  it("removes a member only after a confirmation", async () => {
    const user = userEvent.setup();
    const api = await renderAs("ROLE_OWNER");
    await user.click(screen.getByRole("button", { name: "Remove Bob" }));
    expect(api.calls("DELETE /api/v1/projects/p1/members/u-bob")).toHaveLength(0);
    const confirm = screen.getByRole("button", { name: "Yes, remove Bob" });
    expect(document.activeElement).toBe(confirm);
    await user.click(screen.getByRole("button", { name: "Cancel" }));
    expect(api.calls("DELETE /api/v1/projects/p1/members/u-bob")).toHaveLength(0);
    expect(document.activeElement).toBe(screen.getByRole("button", { name: "Remove Bob" }));

    await user.click(screen.getByRole("button", { name: "Remove Bob" }));
    await user.click(screen.getByRole("button", { name: "Yes, remove Bob" }));
    await waitFor(() => expect(screen.queryByRole("rowheader", { name: "Bob" })).toBeNull());
    expect(api.calls("DELETE /api/v1/projects/p1/members/u-bob")).toHaveLength(1);
  });
});
