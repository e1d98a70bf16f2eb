// The project's timeline, newest first, live: gate changes, proofs, deliverables, tasks, members
// and the project itself, each in words with who and when. The newest page comes first; older
// pages load as the list is scrolled near its end (or with "Load older events", for the
// keyboard). The list is virtualized (only the rows in view are in the page), so thousands of
// events scroll smoothly; new events come in at the top from the live connection, without a
// refetch.
import { useVirtualizer } from "@tanstack/react-virtual";
import { memo, useCallback, useEffect, useMemo, useRef } from "react";
import { Link } from "react-router";
import { Empty } from "../../../shared/Empty";
import { ErrorView } from "../../../shared/ErrorView";
import { formatCount } from "../../../shared/format";
import { Loading } from "../../../shared/Loading";
import { useTitle } from "../../../shared/useTitle";
import { useWorkflow } from "../../../shared/useWorkflow";
import { When } from "../../../shared/When";
import { useMembers } from "../members/members";
import { useCurrentProject } from "../ProjectLayout";
import { useTasks } from "../tasks/tasks";
import { actorWords, eventWords, flattenEvents, useEvents, type Event, type EventContext } from "./events";

/** How many rows before the end of what is loaded the older page is asked for. */
const LOAD_AHEAD_ROWS = 20;

export function Component() {
  const project = useCurrentProject();
  useTitle(`Timeline · ${project.name}`);
  const query = useEvents(project.id);
  const members = useMembers(project.id);
  const tasks = useTasks(project.id);
  const workflow = useWorkflow(project.type);
  const { hasNextPage, isFetchingNextPage, isFetchNextPageError, fetchNextPage } = query;

  const events = useMemo(() => flattenEvents(query.data?.pages), [query.data]);
  const ctx = useMemo<EventContext>(
    () => ({
      projectId: project.id,
      workflow: workflow.data,
      members: new Map((members.data?.members ?? []).map((m) => [m.userId, m])),
      tasks: new Map((tasks.data?.tasks ?? []).map((t) => [t.id, t])),
    }),
    [project.id, workflow.data, members.data, tasks.data],
  );
  // Asks for the older page once (a second call while one is under way would start it again).
  const loadOlder = useCallback(() => {
    if (hasNextPage && !isFetchingNextPage) void fetchNextPage();
  }, [hasNextPage, isFetchingNextPage, fetchNextPage]);

  let body;
  if (query.isPending) body = <Loading label="Loading the timeline" />;
  else if (query.isError && !query.data)
    body = <ErrorView error={query.error} retry={() => void query.refetch()} />;
  else if (events.length === 0)
    body = <Empty>Nothing has happened yet: the project's events appear here as they happen.</Empty>;
  else
    body = (
      <>
        <EventList
          events={events}
          ctx={ctx}
          more={hasNextPage}
          // A failed page waits for "Try again": scrolling does not ask again and again.
          onNearEnd={isFetchNextPageError ? undefined : loadOlder}
        />
        <OlderEvents
          count={events.length}
          more={hasNextPage}
          loading={isFetchingNextPage}
          error={isFetchNextPageError ? query.error : null}
          onLoad={loadOlder}
        />
      </>
    );

  return (
    <section aria-labelledby="timeline-heading">
      <h2 id="timeline-heading">Timeline</h2>
      {body}
    </section>
  );
}

function EventList(props: {
  events: Event[];
  ctx: EventContext;
  /** Whether older events are still to load (the list's size is then not known). */
  more: boolean;
  /** Called when the rows near the end are shown; none while loading more must wait. */
  onNearEnd: (() => void) | undefined;
}) {
  const { events, ctx, more, onNearEnd } = props;
  const scrollRef = useRef<HTMLDivElement>(null);
  // The virtualizer re-renders this list as it scrolls; no compiler memoizes it (none runs here).
  // eslint-disable-next-line react-hooks/incompatible-library
  const virtualizer = useVirtualizer({
    count: events.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => 72,
    overscan: 8,
    getItemKey: (i) => events[i]?.id ?? i,
  });
  const items = virtualizer.getVirtualItems();
  const lastShown = items.at(-1)?.index ?? -1;
  const nearEnd = more && lastShown >= events.length - LOAD_AHEAD_ROWS;
  useEffect(() => {
    if (nearEnd) onNearEnd?.();
  }, [nearEnd, onNearEnd]);
  return (
    <>
      <p className="muted">
        {more
          ? `The newest ${formatCount(events.length)} events; older ones load as you scroll down.`
          : `${formatCount(events.length)} ${events.length === 1 ? "event" : "events"}, newest first.`}{" "}
        New ones appear at the top as they happen.
      </p>
      <div
        ref={scrollRef}
        className="timeline-scroll"
        tabIndex={0}
        role="region"
        aria-label="Timeline events, newest first"
      >
        <ol className="timeline-list" style={{ height: virtualizer.getTotalSize() }}>
          {items.map((item) => {
            const event = events[item.index];
            if (!event) return null;
            return (
              <li
                key={item.key}
                data-index={item.index}
                ref={virtualizer.measureElement}
                className="timeline-item"
                // -1: the size is not known while older events are still to load.
                aria-setsize={more ? -1 : events.length}
                aria-posinset={item.index + 1}
                style={{ transform: `translateY(${item.start}px)` }}
              >
                <EventEntry event={event} ctx={ctx} />
              </li>
            );
          })}
        </ol>
      </div>
    </>
  );
}

/** Below the list: the button for the older page, what it is doing, and a failed page. */
function OlderEvents(props: {
  count: number;
  more: boolean;
  loading: boolean;
  error: Error | null;
  onLoad: () => void;
}) {
  const { count, more, loading, error, onLoad } = props;
  let status = "";
  if (loading) status = "Loading older events…";
  else if (!more) status = "That is the start of the timeline: every event is shown.";
  return (
    <div className="timeline-older">
      <p role="status" className="muted">
        {status}
      </p>
      {error ? (
        <ErrorView
          title={`Older events did not load (${formatCount(count)} shown)`}
          error={error}
          retry={onLoad}
        />
      ) : more ? (
        // aria-disabled, not disabled, while loading: the button keeps the keyboard's focus.
        <button type="button" onClick={onLoad} aria-disabled={loading || undefined}>
          Load older events
        </button>
      ) : null}
    </div>
  );
}

/** One event: what happened, the detail (a reason, the tasks), who and when. */
const EventEntry = memo(function EventEntry({ event, ctx }: { event: Event; ctx: EventContext }) {
  const words = eventWords(event, ctx);
  return (
    <article className="timeline-event">
      <p className="timeline-summary">{words.summary}</p>
      {words.detail ? <p className="timeline-detail">{words.detail}</p> : null}
      <p className="muted timeline-meta">
        by {actorWords(event, ctx)} · <When time={event.createTime} />
        {words.link ? (
          <>
            {" "}
            · <Link to={words.link.to}>{words.link.label}</Link>
          </>
        ) : null}
      </p>
    </article>
  );
});
