// Compiled by `tsc --noEmit` only, never run: it proves that the generated types reach the
// callers of the client (request bodies, path parameters and unwrapped answers are checked).
import { ApiRequestError, createApiClient, unwrap, type ErrorCode, type Schemas } from "./client";

const api = createApiClient({ getToken: () => "token" });

export async function createTodoApp(): Promise<Schemas["Project"]> {
  const { project } = await unwrap(
    api.POST("/api/v1/projects", {
      body: { name: "Todo app", description: "A todo app for teams", type: "PROJECT_TYPE_TRADITIONAL" },
    }),
  );
  return project;
}

export async function currentGate(projectId: string): Promise<number> {
  const status = await unwrap(
    api.GET("/api/v1/projects/{projectId}/status", { params: { path: { projectId } } }),
  );
  return status.currentGate;
}

export async function register(): Promise<string> {
  const { accessToken } = await unwrap(
    api.POST("/api/v1/auth/register", {
      body: { email: "ann@example.com", password: "correct horse 1", name: "Ann" },
    }),
  );
  return accessToken;
}

export function codeOf(err: unknown): ErrorCode | undefined {
  return err instanceof ApiRequestError ? err.code : undefined;
}

export function refused(): void {
  // @ts-expect-error: the project type is one of the enum's names
  void api.POST("/api/v1/projects", { body: { name: "x", type: "TRADITIONAL" } });
  // @ts-expect-error: name is required
  void api.POST("/api/v1/projects", { body: { type: "PROJECT_TYPE_TRADITIONAL" } });
  // @ts-expect-error: the path parameter is required
  void api.GET("/api/v1/projects/{projectId}/status", {});
  // @ts-expect-error: no such path
  void api.GET("/api/v1/nothing");
}
