import { createContext, use, type ReactNode } from "react";
import type { ApiClient } from "./client";

const ApiContext = createContext<ApiClient | null>(null);

/** Gives the screens the API client (tests give one with a fake fetch). */
export function ApiProvider({ client, children }: { client: ApiClient; children: ReactNode }) {
  return <ApiContext value={client}>{children}</ApiContext>;
}

/** The typed API client: the only way the console talks to the server. */
export function useApi(): ApiClient {
  const client = use(ApiContext);
  if (!client) throw new Error("useApi outside ApiProvider");
  return client;
}
