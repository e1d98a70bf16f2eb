import { useInfiniteQuery, useMutation, useQueryClient } from "@tanstack/react-query";
import { memo, useMemo } from "react";
import { Link } from "react-router";
import { useApi } from "../../api/ApiProvider";
import { unwrap } from "../../api/client";
import { queryKeys } from "../../api/queryKeys";
import { useFollowNotifications } from "../../live/LiveProvider";
import { Empty } from "../../shared/Empty";
import { ErrorView } from "../../shared/ErrorView";
import { MorePages } from "../../shared/MorePages";
import { Loading } from "../../shared/Loading";
import { useTitle } from "../../shared/useTitle";
import { When } from "../../shared/When";
import { notificationKindLabel, placeOf, type Notification } from "./places";

const PAGE_SIZE = 50;

/** The user's notifications, newest first, live; opening one marks it (and the older ones) read. */
export function Component() {
  useTitle("Notifications");
  useFollowNotifications();
  const api = useApi();
  const queryClient = useQueryClient();
  const query = useInfiniteQuery({
    queryKey: queryKeys.notificationList,
    queryFn: ({ pageParam }) =>
      unwrap(
        api.GET("/api/v1/notifications", {
          params: { query: { pageSize: PAGE_SIZE, ...(pageParam ? { pageToken: pageParam } : {}) } },
        }),
      ),
    initialPageParam: "",
    getNextPageParam: (last) => last.nextPageToken || undefined,
  });
  // Marks read every notification up to an id (all: up to the newest shown, so one that arrives
  // meanwhile stays unread until seen); the bell and the list refresh.
  const markRead = useMutation({
    mutationFn: (upToId: string) => unwrap(api.POST("/api/v1/notifications:markRead", { body: { upToId } })),
    onSettled: () => queryClient.invalidateQueries({ queryKey: queryKeys.notifications }),
  });
  const notifications = useMemo(() => query.data?.pages.flatMap((p) => p.notifications) ?? [], [query.data]);
  const unread = query.data?.pages[0]?.unreadCount ?? 0;
  const { mutate } = markRead;

  if (query.data === undefined) {
    return (
      <section className="notifications">
        <h1>Notifications</h1>
        {query.isPending ? (
          <Loading label="Loading your notifications" />
        ) : (
          <ErrorView error={query.error} retry={() => void query.refetch()} />
        )}
      </section>
    );
  }
  return (
    <section className="notifications">
      <div className="notifications-header">
        <h1>Notifications</h1>
        <p className="muted" role="status">
          {unread === 0 ? "All read." : unread === 1 ? "1 unread." : `${unread} unread.`}
        </p>
        <button
          type="button"
          onClick={() => mutate(notifications[0]?.id ?? "0")}
          disabled={unread === 0 || markRead.isPending}
        >
          Mark all read
        </button>
      </div>
      {markRead.error ? <ErrorView error={markRead.error} title="Could not mark them read" /> : null}
      {notifications.length === 0 ? (
        <Empty>
          No notifications yet: you hear here when a gate waits for your review, a gate is blocked, a project
          is completed, or someone adds you to a project.
        </Empty>
      ) : (
        <ul className="notification-list">
          {notifications.map((n) => (
            <NotificationItem key={n.id} notification={n} onOpen={mutate} />
          ))}
        </ul>
      )}
      <MorePages query={query} />
    </section>
  );
}

const NotificationItem = memo(function NotificationItem({
  notification: n,
  onOpen,
}: {
  notification: Notification;
  onOpen: (upToId: string) => void;
}) {
  return (
    <li className={n.read ? "notification" : "notification unread"}>
      {n.read ? null : <span className="badge info">Unread</span>}
      <div>
        <Link to={placeOf(n)} onClick={n.read ? undefined : () => onOpen(n.id)}>
          {n.message}
        </Link>
        <div className="muted">
          {notificationKindLabel(n.kind)}
          {n.projectName ? <> · {n.projectName}</> : null} · <When time={n.createTime} />
        </div>
      </div>
    </li>
  );
});
