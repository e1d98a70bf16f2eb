import { screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { Route, Routes } from "react-router";
import { afterEach, describe, expect, it, vi } from "vitest";
import { RedirectIfSignedIn } from "../../session/RequireSession";
import { Session } from "../../session/session";
import {
  apiError,
  fakeApi,
  fakeClient,
  quietWebSocket,
  renderWithProviders,
  testUser,
  type FakeApi,
} from "../../test/render";
import { Component as SignUpPage } from "./SignUpPage";

afterEach(() => vi.unstubAllGlobals());

/** The sign-up page as the app routes it, for someone with no session yet. */
async function renderPage(api: FakeApi, route = "/sign-up") {
  quietWebSocket();
  api.on("POST /api/v1/auth/refresh", () => apiError(401, "UNAUTHENTICATED", "no session"));
  const client = fakeClient(api);
  const session = new Session(client);
  await session.restore();
  return renderWithProviders(
    <Routes>
      <Route element={<RedirectIfSignedIn />}>
        <Route path="/sign-up" element={<SignUpPage />} />
      </Route>
      <Route path="/projects/*" element={<h1>Somewhere in the console</h1>} />
    </Routes>,
    { api, client, session, route },
  );
}

async function fillIn(user: ReturnType<typeof userEvent.setup>) {
  await user.type(screen.getByRole("textbox", { name: "Name" }), "Ann");
  await user.type(screen.getByRole("textbox", { name: "Email" }), "ann@example.com");
  await user.type(screen.getByLabelText("Password"), "correct horse 1");
  await user.click(screen.getByRole("button", { name: "Create account" }));
}

const registered = () => ({
  user: testUser,
  accessToken: "access-1",
  refreshToken: "",
  tokenType: "Bearer",
  expiresIn: 900,
});

describe("Create account", () => {
  it("shows the password rules, and the server's complaints under their fields", async () => {
    const api = fakeApi({
      "POST /api/v1/auth/register": () =>
        apiError(400, "INVALID_ARGUMENT", "invalid request", {
          fields: [{ field: "password", description: "must not contain the email's local part" }],
        }),
    });
    const user = userEvent.setup();
    await renderPage(api);

    expect(screen.getByText(/10-128 characters/)).toBeDefined();
    await fillIn(user);

    expect(
      await screen.findByText("must not contain the email's local part", { selector: ".field-error" }),
    ).toBeDefined();
    expect(screen.getByLabelText("Password").getAttribute("aria-invalid")).toBe("true");
    expect(api.calls("POST /api/v1/auth/register")[0]?.body).toEqual({
      name: "Ann",
      email: "ann@example.com",
      password: "correct horse 1",
    });
  });

  it("signs the new user in and takes them where they were going", async () => {
    const api = fakeApi({ "POST /api/v1/auth/register": registered });
    const user = userEvent.setup();
    await renderPage(api, "/sign-up?next=%2Fprojects%2Fp1");

    await fillIn(user);

    expect(await screen.findByRole("heading", { name: "Somewhere in the console" })).toBeDefined();
    expect(screen.getByTestId("location").textContent).toBe("/projects/p1");
    // The browser keeps the session in its cookie: the register asked for one.
    expect(api.calls("POST /api/v1/auth/register")[0]?.headers.get("X-FuzzyLlama-Session")).toBe("cookie");
  });

  it("links to sign in, keeping where to go next", async () => {
    await renderPage(fakeApi(), "/sign-up?next=%2Fprojects%2Fp1");

    expect(screen.getByRole("link", { name: "Sign in" }).getAttribute("href")).toBe(
      "/sign-in?next=%2Fprojects%2Fp1",
    );
  });
});
