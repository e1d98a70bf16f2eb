import { act, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { applyLiveMessage } from "../../live/cache";
import { fakeApi, renderWithProviders } from "../../test/render";
import { notification } from "./fixtures";
import { NotificationBell } from "./NotificationBell";

describe("NotificationBell", () => {
  it("says how many are unread, and opens the notifications", async () => {
    const api = fakeApi({
      "GET /api/v1/notifications": () => ({
        notifications: [notification()],
        nextPageToken: "x",
        unreadCount: 3,
      }),
    });
    const user = userEvent.setup();
    renderWithProviders(<NotificationBell />, {
      api,
      routes: { "/notifications": <h1>Notifications page</h1> },
    });

    const bell = await screen.findByRole("link", { name: "Notifications, 3 unread" });
    expect(bell.textContent).toBe("3");
    // One small request: the count, not the list.
    expect(api.requests[0]?.query.get("unreadOnly")).toBe("true");
    expect(api.requests[0]?.query.get("pageSize")).toBe("1");

    await user.click(bell);
    expect(screen.getByTestId("location").textContent).toBe("/notifications");
  });

  it("has nothing to count when all are read", async () => {
    const api = fakeApi({
      "GET /api/v1/notifications": () => ({ notifications: [], nextPageToken: "", unreadCount: 0 }),
    });
    renderWithProviders(<NotificationBell />, { api });

    const bell = await screen.findByRole("link", { name: "Notifications, none unread" });
    expect(bell.textContent).toBe("");
  });

  it("counts a notification that arrives live", async () => {
    let unread = 1;
    const api = fakeApi({
      "GET /api/v1/notifications": () => ({ notifications: [], nextPageToken: "", unreadCount: unread }),
    });
    const { queryClient } = renderWithProviders(<NotificationBell />, { api });
    await screen.findByRole("link", { name: "Notifications, 1 unread" });

    unread = 2;
    act(() =>
      applyLiveMessage(queryClient, { type: "notification", notification: notification({ id: "2" }) }),
    );

    expect(await screen.findByRole("link", { name: "Notifications, 2 unread" })).toBeDefined();
  });
});
