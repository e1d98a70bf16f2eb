import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import type { Schemas } from "../../api/client";
import { fakeApi, renderWithProviders, type FakeApi } from "../../test/render";
import { notification } from "./fixtures";
import { NotificationBell } from "./NotificationBell";
import { Component as NotificationsPage } from "./NotificationsPage";

const list = [
  notification({ id: "5", message: "G3 Architecture of Recipes is ready for your review", gate: 3 }),
  notification({
    id: "4",
    kind: "NOTIFICATION_KIND_MEMBER_REMOVED",
    projectId: "p2",
    projectName: "Old shop",
    message: "You were removed from Old shop",
    gate: 0,
  }),
  notification({
    id: "3",
    kind: "NOTIFICATION_KIND_GATE_BLOCKED",
    message: "G2 of Recipes is blocked",
    gate: 2,
    read: true,
  }),
];

function server(): FakeApi {
  let read = new Set(list.filter((n) => n.read).map((n) => n.id));
  const unread = () => list.filter((n) => !read.has(n.id)).length;
  return fakeApi({
    "GET /api/v1/notifications": ({ query }) =>
      query.get("unreadOnly") === "true"
        ? { notifications: [], nextPageToken: "", unreadCount: unread() }
        : {
            notifications: list.map((n) => ({ ...n, read: read.has(n.id) })),
            nextPageToken: "",
            unreadCount: unread(),
          },
    "POST /api/v1/notifications:markRead": ({ body }) => {
      const { upToId = "0" } = body as Schemas["MarkNotificationsReadRequest"];
      read = new Set([
        ...read,
        ...list.filter((n) => upToId === "0" || BigInt(n.id) <= BigInt(upToId)).map((n) => n.id),
      ]);
      return { unreadCount: unread() };
    },
  });
}

function renderPage(api: FakeApi) {
  return renderWithProviders(
    <>
      <NotificationBell />
      <NotificationsPage />
    </>,
    {
      api,
      route: "/notifications",
      path: "/notifications",
      routes: {
        "/projects/*": (
          <>
            <p>Somewhere else</p>
            <NotificationBell />
          </>
        ),
      },
    },
  );
}

describe("Notifications page", () => {
  it("lists the newest first, saying in words which are unread, each linking to its place", async () => {
    renderPage(server());

    const items = within(await screen.findByRole("list")).getAllByRole("listitem");
    expect(items.map((i) => i.textContent)).toEqual([
      expect.stringMatching(/^Unread.*G3 Architecture of Recipes is ready for your review/),
      expect.stringMatching(/^Unread.*You were removed from Old shop/),
      expect.stringMatching(/^G2 of Recipes is blocked/),
    ]);
    const link = (name: string) => screen.getByRole("link", { name }).getAttribute("href");
    expect(link("G3 Architecture of Recipes is ready for your review")).toBe("/projects/p1/gates/3/review");
    expect(link("You were removed from Old shop")).toBe("/projects");
    expect(link("G2 of Recipes is blocked")).toBe("/projects/p1");
    expect(screen.getByText("2 unread.")).toBeDefined();
  });

  it("marks all read", async () => {
    const api = server();
    const user = userEvent.setup();
    renderPage(api);
    await screen.findByRole("link", { name: "Notifications, 2 unread" });

    await user.click(screen.getByRole("button", { name: "Mark all read" }));

    expect(await screen.findByRole("link", { name: "Notifications, none unread" })).toBeDefined();
    expect(api.calls("POST /api/v1/notifications:markRead")[0]?.body).toEqual({ upToId: "5" });
    await waitFor(() => expect(screen.queryByText("Unread")).toBeNull());
    expect(screen.getByRole("button", { name: "Mark all read" })).toHaveProperty("disabled", true);
  });

  it("marks read up to the one opened", async () => {
    const api = server();
    const user = userEvent.setup();
    renderPage(api);

    await user.click(await screen.findByRole("link", { name: "You were removed from Old shop" }));

    expect(screen.getByTestId("location").textContent).toBe("/projects");
    await waitFor(() => expect(api.calls("POST /api/v1/notifications:markRead")).toHaveLength(1));
    expect(api.calls("POST /api/v1/notifications:markRead")[0]?.body).toEqual({ upToId: "4" });
    expect(await screen.findByRole("link", { name: "Notifications, 1 unread" })).toBeDefined();
  });
});
