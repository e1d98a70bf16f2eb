// The project's timeline, newest first, live: gate changes, proofs, deliverables, tasks, members
// and the project itself, each in words with who and when. The list is virtualized (only the rows
// in view are in the page), so thousands of events scroll smoothly; new events come in at the top
// from the live connection, without a refetch.
import { useVirtualizer } from "@tanstack/react-virtual";
import { memo, useEffect, useMemo, useRef } from "react";
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

export function Component() {
  const project = useCurrentProject();
  useTitle(`Timeline · ${project.name}`);
  const query = useEvents(project.id);
  const members = useMembers(project.id);
  const tasks = useTasks(project.id);
  const workflow = useWorkflow(project.type);
  const { hasNextPage, isFetchingNextPage, isFetchNextPageError, fetchNextPage } = query;

  // The API pages oldest first: follow the cursor to the newest event before showing the list.
  // Keyed on the pages too: a fast answer may start and end a fetch within one render.
  const pages = query.data?.pages.length ?? 0;
  useEffect(() => {
    if (hasNextPage && !isFetchingNextPage && !isFetchNextPageError) void fetchNextPage();
  }, [pages, hasNextPage, isFetchingNextPage, isFetchNextPageError, fetchNextPage]);

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

  let body;
  if (query.isPending) body = <Loading label="Loading the timeline" />;
  else if (query.isError && !query.data)
    body = <ErrorView error={query.error} retry={() => void query.refetch()} />;
  else if (isFetchNextPageError)
    body = (
      <ErrorView
        title={`The timeline stopped loading after ${formatCount(events.length)} events`}
        error={query.error}
        retry={() => void fetchNextPage()}
      />
    );
  else if (hasNextPage)
    body = <Loading label={`Loading the timeline: ${formatCount(events.length)} events so far`} />;
  else if (events.length === 0)
    body = <Empty>Nothing has happened yet: the project's events appear here as they happen.</Empty>;
  else body = <EventList events={events} ctx={ctx} />;

  return (
    <section aria-labelledby="timeline-heading">
      <h2 id="timeline-heading">Timeline</h2>
      {body}
    </section>
  );
}

function EventList({ events, ctx }: { events: Event[]; ctx: EventContext }) {
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
  return (
    <>
      <p className="muted">
        {formatCount(events.length)} {events.length === 1 ? "event" : "events"}, newest first; new ones appear
        at the top as they happen.
      </p>
      <div
        ref={scrollRef}
        className="timeline-scroll"
        tabIndex={0}
        role="region"
        aria-label="Timeline events, newest first"
      >
        <ol className="timeline-list" style={{ height: virtualizer.getTotalSize() }}>
          {virtualizer.getVirtualItems().map((item) => {
            const event = events[item.index];
            if (!event) return null;
            return (
              <li
                key={item.key}
                data-index={item.index}
                ref={virtualizer.measureElement}
                className="timeline-item"
                aria-setsize={events.length}
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

/** One event: what happened, the detail (a reason, the tasks), who and when. */
const EventEntry = memo(function EventEntry({ event, ctx }: { event: Event; ctx: EventContext }) {
  const words = eventWords(event, ctx);
  return (
    <article className="timeline-event">
      <p className="timeline-summary">{words.summary}</p>
      {words.detail ? <p className="timeline-detail">{words.detail}</p> : null}
      <p className="muted timeline-meta">
        by {actorWords(event.actorId, ctx)} · <When time={event.createTime} />
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
