import { MutationCache, QueryCache, QueryClient } from "@tanstack/react-query";
import { ApiRequestError } from "../api/client";

/**
 * The console's query cache. Live messages keep it current, so data stays fresh until they say
 * otherwise (no refetch on focus, no polling). A 401 means the session ended: onUnauthenticated
 * lets the session find out (a refresh that fails signs out). 4xx answers are not retried.
 */
export function createQueryClient(onUnauthenticated: () => void): QueryClient {
  const on401 = (error: unknown) => {
    if (error instanceof ApiRequestError && error.status === 401) onUnauthenticated();
  };
  return new QueryClient({
    queryCache: new QueryCache({ onError: on401 }),
    mutationCache: new MutationCache({ onError: on401 }),
    defaultOptions: {
      queries: {
        staleTime: Infinity,
        refetchOnWindowFocus: false,
        retry: (failures, error) => failures < 2 && !(error instanceof ApiRequestError && error.status < 500),
      },
    },
  });
}
