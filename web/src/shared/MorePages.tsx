import type { UseInfiniteQueryResult } from "@tanstack/react-query";
import { ErrorView } from "./ErrorView";

/**
 * The foot of a paged list: "Load more" while there is more, and a failed page's error with a
 * retry of what failed (the next page, or the list).
 */
export function MorePages({ query }: { query: UseInfiniteQueryResult<unknown> }) {
  return (
    <>
      {query.hasNextPage ? (
        <p>
          <button
            type="button"
            onClick={() => void query.fetchNextPage()}
            disabled={query.isFetchingNextPage}
          >
            {query.isFetchingNextPage ? "Loading more…" : "Load more"}
          </button>
        </p>
      ) : null}
      {query.isError ? (
        <ErrorView
          error={query.error}
          retry={() => void (query.isFetchNextPageError ? query.fetchNextPage() : query.refetch())}
        />
      ) : null}
    </>
  );
}
