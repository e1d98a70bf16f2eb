package offline

import (
	"encoding/json"
	"fmt"
	"strings"
)

// jsString is a JavaScript string literal (JSON is one, without HTML's escapes), which is also
// a TOML basic string.
func jsString(s string) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	return strings.TrimSuffix(b.String(), "\n")
}

// frontendCode is the React web app of the design system.
func (p *project) frontendCode() ([]string, []sourceFile) {
	primary, accent := p.accents()
	var cols []string
	for _, r := range p.resources {
		cols = append(cols, fmt.Sprintf("  { path: %s, label: %s, singular: %s },",
			jsString(r.kebabPlural()), jsString(upperFirst(r.labelPlural())), jsString(r.label())))
	}
	kv := []string{"NAME", jsString(p.name), "NAME_COMMENT", comment(p.name), "SLUG", p.slug(),
		"BASE", apiBase, "API_PORT", itoa(apiPort), "WEB_PORT", itoa(webPort),
		"PRIMARY", hexString(primary), "ACCENT", hexString(accent), "COLLECTIONS", strings.Join(cols, "\n")}
	intro := []string{
		"TypeScript and React 18 on Vite, following the design system's tokens, components and screens.",
		fmt.Sprintf("One list-and-create screen per resource (%s), calling the API exactly as the specification defines it (`%s`, cursor pagination, the error shape).", list(p.resourceLabels()), apiBase),
		"Loading, empty and error states on every list; form errors next to their fields; labels and focus handled for keyboard and screen reader users.",
		"Build: `cd frontend && npm install && npm run build` · Lint: `npm run lint` (type check) · Test: `npm test` (Vitest and Testing Library) · Coverage: `npm run coverage`",
	}
	return intro, []sourceFile{
		{"package.json", fill(webPackage, kv...)},
		{"tsconfig.json", webTSConfig},
		{"vite.config.ts", fill(webVite, kv...)},
		{"index.html", fill(webIndex, kv...)},
		{"src/theme.css", fill(webTheme, kv...)},
		{"src/api.ts", fill(webAPI, kv...)},
		{"src/vite-env.d.ts", "/// <reference types=\"vite/client\" />\n"},
		{"src/main.tsx", webMain},
		{"src/App.tsx", fill(webApp, kv...)},
		{"src/CollectionPage.tsx", webCollection},
		{"src/CollectionPage.test.tsx", fill(webTest, kv...)},
		{"src/App.test.tsx", fill(webAppTest, kv...)},
		{"src/api.test.ts", fill(webAPITest, kv...)},
	}
}

const webPackage = `{
  "name": "{{SLUG}}-web",
  "private": true,
  "version": "0.1.0",
  "type": "module",
  "scripts": {
    "dev": "vite",
    "build": "tsc --noEmit && vite build",
    "lint": "tsc --noEmit",
    "test": "vitest run",
    "coverage": "vitest run --coverage --coverage.reporter=json-summary --coverage.reporter=text"
  },
  "dependencies": {
    "react": "18.3.1",
    "react-dom": "18.3.1"
  },
  "devDependencies": {
    "@testing-library/dom": "10.4.2",
    "@testing-library/react": "16.3.3",
    "@types/react": "18.3.32",
    "@types/react-dom": "18.3.7",
    "@vitejs/plugin-react": "4.7.0",
    "@vitest/coverage-v8": "2.1.9",
    "jsdom": "24.1.3",
    "typescript": "5.9.3",
    "vite": "5.4.21",
    "vitest": "2.1.9"
  }
}
`

const webTSConfig = `{
  "compilerOptions": {
    "target": "ES2020",
    "lib": ["ES2020", "DOM", "DOM.Iterable"],
    "module": "ESNext",
    "moduleResolution": "Bundler",
    "jsx": "react-jsx",
    "strict": true,
    "noUnusedLocals": true,
    "noUnusedParameters": true,
    "skipLibCheck": true,
    "isolatedModules": true,
    "types": ["vitest/globals"]
  },
  "include": ["src", "vite.config.ts"]
}
`

const webVite = `/// <reference types="vitest" />
import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

export default defineConfig({
  plugins: [react()],
  server: {
    port: {{WEB_PORT}},
    proxy: { "{{BASE}}": "http://localhost:{{API_PORT}}" },
  },
  test: { environment: "jsdom", globals: true },
});
`

const webIndex = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="UTF-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1.0" />
    <title>{{SLUG}}</title>
  </head>
  <body>
    <div id="root"></div>
    <script type="module" src="/src/main.tsx"></script>
  </body>
</html>
`

const webTheme = `/* Tokens of the design system. */
:root {
  --color-primary: {{PRIMARY}};
  --color-accent: {{ACCENT}};
  --color-text: #1F2937;
  --color-text-muted: #4B5563;
  --color-surface: #F9FAFB;
  --color-border: #D1D5DB;
  --color-danger: #B91C1C;
  --space-2: 8px;
  --space-4: 16px;
  --space-6: 24px;
  --radius-md: 8px;
  font-family: Inter, system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  color: var(--color-text);
}

body { margin: 0; }
.layout { display: grid; grid-template-columns: 220px 1fr; min-height: 100vh; }
nav { background: var(--color-surface); border-right: 1px solid var(--color-border); padding: var(--space-4); }
nav button { display: block; width: 100%; text-align: left; padding: var(--space-2); border: 0; background: none; border-radius: var(--radius-md); font: inherit; }
nav button[aria-current="page"] { background: var(--color-primary); color: #FFFFFF; }
main { padding: var(--space-6); }
.primary { background: var(--color-primary); color: #FFFFFF; border: 0; border-radius: var(--radius-md); padding: var(--space-2) var(--space-4); font: inherit; }
.error { color: var(--color-danger); }
:focus-visible { outline: 2px solid var(--color-accent); outline-offset: 2px; }
@media (max-width: 639px) { .layout { grid-template-columns: 1fr; } }
@media (prefers-reduced-motion: reduce) { * { transition: none !important; } }
`

const webAPI = `// Typed client of the {{NAME_COMMENT}} API specification.

export interface Item {
  id: string;
  ownerId: string;
  name: string;
  description: string;
  status: "active" | "archived";
  createdAt: string;
  updatedAt: string;
}

export interface Input {
  name: string;
  description?: string;
  status?: "active" | "archived";
}

export interface Page {
  items: Item[];
  nextCursor?: string | null;
}

export class ApiError extends Error {
  constructor(
    public status: number,
    public code: string,
    message: string,
    public details: { field: string; message: string }[] = [],
  ) {
    super(message);
  }
}

const base = "{{BASE}}";

// The access token of the signed-in user. TODO: the sign-in screen stores it here.
function token(): string {
  return sessionStorage.getItem("accessToken") ?? "";
}

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(base + path, {
    method,
    headers: { "Content-Type": "application/json", Authorization: "Bearer " + token() },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (res.status === 204) return undefined as T;
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw new ApiError(res.status, data.code ?? "unknown", data.message ?? res.statusText, data.details ?? []);
  return data as T;
}

export const api = {
  list: (collection: string, cursor?: string) =>
    call<Page>("GET", "/" + collection + (cursor ? "?cursor=" + encodeURIComponent(cursor) : "")),
  create: (collection: string, input: Input) => call<Item>("POST", "/" + collection, input),
  get: (collection: string, id: string) => call<Item>("GET", "/" + collection + "/" + id),
  update: (collection: string, id: string, input: Input) => call<Item>("PUT", "/" + collection + "/" + id, input),
  remove: (collection: string, id: string) => call<void>("DELETE", "/" + collection + "/" + id),
};
`

const webMain = `import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import App from "./App";
import "./theme.css";

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
`

const webApp = `import { useState } from "react";
import CollectionPage from "./CollectionPage";

// The resources of the API specification, in navigation order.
export const collections = [
{{COLLECTIONS}}
];

export default function App() {
  const [current, setCurrent] = useState(collections[0]);
  return (
    <div className="layout">
      <nav aria-label="Main">
        <h1>{ {{NAME}} }</h1>
        {collections.map((c) => (
          <button key={c.path} aria-current={c.path === current.path ? "page" : undefined} onClick={() => setCurrent(c)}>
            {c.label}
          </button>
        ))}
      </nav>
      <main>
        <CollectionPage key={current.path} collection={current} />
      </main>
    </div>
  );
}
`

const webCollection = `import { FormEvent, useEffect, useState } from "react";
import { api, ApiError, Item } from "./api";

interface Props {
  collection: { path: string; label: string; singular: string };
}

// The list and create screen of one resource (design system, screens).
export default function CollectionPage({ collection }: Props) {
  const [items, setItems] = useState<Item[] | null>(null);
  const [loadError, setLoadError] = useState("");
  const [name, setName] = useState("");
  const [fieldError, setFieldError] = useState("");
  const [saving, setSaving] = useState(false);

  useEffect(() => {
    api
      .list(collection.path)
      .then((page) => setItems(page.items))
      .catch((e: Error) => setLoadError(e.message));
  }, [collection.path]);

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (name.trim() === "") {
      setFieldError("Name is required.");
      return;
    }
    setSaving(true);
    try {
      const created = await api.create(collection.path, { name: name.trim() });
      setItems((prev) => [created, ...(prev ?? [])]);
      setName("");
      setFieldError("");
    } catch (err) {
      const detail = err instanceof ApiError ? err.details.find((d) => d.field === "name") : undefined;
      setFieldError(detail ? detail.message : (err as Error).message);
    } finally {
      setSaving(false);
    }
  }

  return (
    <section aria-labelledby="page-title">
      <h2 id="page-title">{collection.label}</h2>
      <form onSubmit={submit} noValidate>
        <label htmlFor="name">Name</label>
        <input id="name" value={name} onChange={(e) => setName(e.target.value)} aria-invalid={fieldError !== ""}
          aria-describedby={fieldError ? "name-error" : undefined} />
        {fieldError && <p id="name-error" className="error" role="alert">{fieldError}</p>}
        <button className="primary" type="submit" disabled={saving}>
          {saving ? "Saving…" : "New " + collection.singular}
        </button>
      </form>
      {loadError && <p className="error" role="alert">Could not load {collection.label.toLowerCase()}: {loadError}</p>}
      {!loadError && items === null && <p aria-busy="true">Loading…</p>}
      {items !== null && items.length === 0 && <p>No {collection.label.toLowerCase()} yet.</p>}
      {items !== null && items.length > 0 && (
        <ul>
          {items.map((it) => (
            <li key={it.id}>
              {it.name} <small>({it.status})</small>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
`

const webTest = `import { render, screen, fireEvent } from "@testing-library/react";
import CollectionPage from "./CollectionPage";

const collection = { path: "things", label: "Things", singular: "thing" };

function respond(body: unknown, status = 200) {
  return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
}

// mockFetch answers each call with the next body (the last one again when they run out).
function mockFetch(...answers: [unknown, number?][]) {
  const fetchMock = vi.fn();
  answers.forEach(([body, status], i) => {
    if (i === answers.length - 1) fetchMock.mockImplementation(() => Promise.resolve(respond(body, status)));
    else fetchMock.mockImplementationOnce(() => Promise.resolve(respond(body, status)));
  });
  globalThis.fetch = fetchMock as unknown as typeof fetch;
  return fetchMock;
}

const soup = { id: "1", ownerId: "u1", name: "Soup", description: "", status: "active", createdAt: "", updatedAt: "" };

test("shows the empty state", async () => {
  mockFetch([{ items: [] }]);
  render(<CollectionPage collection={collection} />);
  expect(await screen.findByText("No things yet.")).toBeTruthy();
});

test("lists the items", async () => {
  mockFetch([{ items: [soup] }]);
  render(<CollectionPage collection={collection} />);
  expect((await screen.findByRole("listitem")).textContent).toContain("Soup");
});

test("says when the list cannot be loaded", async () => {
  mockFetch([{ code: "internal", message: "could not list" }, 500]);
  render(<CollectionPage collection={collection} />);
  expect((await screen.findByRole("alert")).textContent).toBe("Could not load things: could not list");
});

test("refuses an empty name without calling the API", async () => {
  const fetchMock = mockFetch([{ items: [] }]);
  render(<CollectionPage collection={collection} />);
  await screen.findByText("No things yet.");
  fireEvent.click(screen.getByRole("button", { name: "New thing" }));
  expect((await screen.findByRole("alert")).textContent).toBe("Name is required.");
  expect(fetchMock).toHaveBeenCalledTimes(1);
});

test("creates an item and shows it", async () => {
  const fetchMock = mockFetch([{ items: [] }], [soup, 201]);
  render(<CollectionPage collection={collection} />);
  await screen.findByText("No things yet.");
  const input = screen.getByLabelText("Name") as HTMLInputElement;
  fireEvent.change(input, { target: { value: "  Soup " } });
  fireEvent.click(screen.getByRole("button", { name: "New thing" }));
  expect((await screen.findByRole("listitem")).textContent).toContain("Soup");
  const [url, init] = fetchMock.mock.calls[1];
  expect(url).toBe("{{BASE}}/things");
  expect(init.method).toBe("POST");
  expect(JSON.parse(init.body)).toEqual({ name: "Soup" });
  expect(input.value).toBe("");
});

test("shows the API's message for the name next to the field", async () => {
  const details = [{ field: "name", message: "is required, at most 200 characters" }];
  mockFetch([{ items: [] }], [{ code: "invalid_argument", message: "invalid input", details }, 400]);
  render(<CollectionPage collection={collection} />);
  await screen.findByText("No things yet.");
  fireEvent.change(screen.getByLabelText("Name"), { target: { value: "x" } });
  fireEvent.click(screen.getByRole("button", { name: "New thing" }));
  expect((await screen.findByRole("alert")).textContent).toBe("is required, at most 200 characters");
  expect(screen.getByLabelText("Name").getAttribute("aria-invalid")).toBe("true");
});
`

const webAppTest = `import { render, screen, fireEvent } from "@testing-library/react";
import App, { collections } from "./App";

test("navigates between the resources", async () => {
  const fetchMock = vi.fn(() =>
    Promise.resolve(new Response(JSON.stringify({ items: [] }), { headers: { "Content-Type": "application/json" } })),
  );
  globalThis.fetch = fetchMock as unknown as typeof fetch;
  render(<App />);
  const last = collections[collections.length - 1];
  fireEvent.click(screen.getByRole("button", { name: last.label }));
  expect(await screen.findByRole("heading", { level: 2, name: last.label })).toBeTruthy();
  expect(screen.getByRole("button", { name: last.label }).getAttribute("aria-current")).toBe("page");
  expect(fetchMock).toHaveBeenLastCalledWith("{{BASE}}/" + last.path, expect.anything());
});
`

const webAPITest = `import { api, ApiError } from "./api";

function mockFetch(response: Response) {
  const fetchMock = vi.fn(() => Promise.resolve(response));
  globalThis.fetch = fetchMock as unknown as typeof fetch;
  return fetchMock;
}

test("sends the signed-in user's token and encodes the cursor", async () => {
  sessionStorage.setItem("accessToken", "t0k");
  const fetchMock = mockFetch(new Response(JSON.stringify({ items: [] })));
  await api.list("things", "a b/c");
  const [url, init] = fetchMock.mock.calls[0] as unknown as [string, RequestInit];
  expect(url).toBe("{{BASE}}/things?cursor=a%20b%2Fc");
  expect((init.headers as Record<string, string>).Authorization).toBe("Bearer t0k");
});

test("updates with PUT and deletes without a body", async () => {
  let fetchMock = mockFetch(new Response(JSON.stringify({ id: "1" })));
  await api.update("things", "1", { name: "x", status: "archived" });
  expect(fetchMock).toHaveBeenCalledWith("{{BASE}}/things/1", expect.objectContaining({ method: "PUT" }));
  fetchMock = mockFetch(new Response(null, { status: 204 }));
  await expect(api.remove("things", "1")).resolves.toBeUndefined();
  expect(fetchMock).toHaveBeenCalledWith("{{BASE}}/things/1", expect.objectContaining({ method: "DELETE", body: undefined }));
});

test("an error without a JSON body is an ApiError with the status", async () => {
  mockFetch(new Response("upstream down", { status: 502, statusText: "Bad Gateway" }));
  const err = await api.get("things", "1").catch((e: unknown) => e);
  expect(err).toBeInstanceOf(ApiError);
  expect(err).toMatchObject({ status: 502, code: "unknown", message: "Bad Gateway", details: [] });
});
`
