import { screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { apiError, fakeApi, renderWithProviders, type FakeApi } from "../../test/render";
import { Component as ResetPasswordPage } from "./ResetPasswordPage";

function renderPage(api: FakeApi, route = "/reset-password?token=tok-1") {
  return renderWithProviders(<ResetPasswordPage />, { api, route, path: "/reset-password" });
}

async function choose(user: ReturnType<typeof userEvent.setup>, password: string, repeat: string) {
  await user.type(screen.getByLabelText("New password"), password);
  await user.type(screen.getByLabelText("Repeat password"), repeat);
  await user.click(screen.getByRole("button", { name: "Reset password" }));
}

describe("Reset password", () => {
  it("sets the new password with the link's token and says every session ended", async () => {
    const api = fakeApi({ "POST /api/v1/auth/reset-password": () => ({}) });
    const user = userEvent.setup();
    renderPage(api);

    await choose(user, "correct horse 1", "correct horse 1");

    expect((await screen.findByRole("status")).textContent).toContain(
      "Every session of your account has ended",
    );
    expect(screen.getByRole("link", { name: "Sign in" }).getAttribute("href")).toBe("/sign-in");
    expect(api.calls("POST /api/v1/auth/reset-password")[0]?.body).toEqual({
      token: "tok-1",
      newPassword: "correct horse 1",
    });
  });

  it("checks that the two passwords match before sending", async () => {
    const api = fakeApi();
    const user = userEvent.setup();
    renderPage(api);

    await choose(user, "correct horse 1", "correct horse 2");

    expect(screen.getByText("does not match the new password")).toBeDefined();
    expect(screen.getByLabelText("Repeat password").getAttribute("aria-invalid")).toBe("true");
    expect(api.requests).toHaveLength(0);
  });

  it("shows the password rules the server applied", async () => {
    const api = fakeApi({
      "POST /api/v1/auth/reset-password": () =>
        apiError(400, "INVALID_ARGUMENT", "invalid request", {
          fields: [{ field: "newPassword", description: "must be at least 10 characters" }],
        }),
    });
    const user = userEvent.setup();
    renderPage(api);

    await choose(user, "short1", "short1");

    expect(
      await screen.findByText("must be at least 10 characters", { selector: ".field-error" }),
    ).toBeDefined();
  });

  it("explains an expired or used link and offers a new one", async () => {
    const api = fakeApi({
      "POST /api/v1/auth/reset-password": () =>
        apiError(400, "INVALID_ARGUMENT", "invalid request", {
          fields: [
            { field: "token", description: "is invalid, already used or expired; request a new reset link" },
          ],
        }),
    });
    const user = userEvent.setup();
    renderPage(api);

    await choose(user, "correct horse 1", "correct horse 1");

    expect((await screen.findByRole("alert")).textContent).toContain("is invalid, already used or expired");
    expect(screen.getByRole("link", { name: "Ask for a new reset link" }).getAttribute("href")).toBe(
      "/forgot-password",
    );
  });

  it("without a token, says the link is incomplete", () => {
    renderPage(fakeApi(), "/reset-password");

    expect(screen.getByRole("alert").textContent).toContain("This link has no reset token");
    expect(screen.queryByRole("button", { name: "Reset password" })).toBeNull();
  });
});
