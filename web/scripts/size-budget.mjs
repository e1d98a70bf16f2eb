// The console's JavaScript budget per route (issue 14): what a browser downloads, gzipped, before
// the route can render. A route costs the entry chunk (index.html's script), its screens' lazy
// chunks, and every chunk those import statically, each counted once.
//
//   node scripts/size-budget.mjs <build directory> <manifest.json>
//
// The manifest is Vite's (build.mjs --manifest): which chunk each source module became and what
// it imports. Sizes are of the files in the build directory, gzipped at level 9 (the .gz sibling
// the gateway serves when there is one). Prints every route's size and exits 1 when one is over.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

const KB = 1000; // kB as Vite reports them
const routes = [
  { name: "sign-in page (/sign-in)", screens: ["src/screens/sign-in/SignInPage.tsx"], budget: 100 * KB },
  {
    name: "project page (/projects/:id)",
    screens: ["src/screens/project/ProjectLayout.tsx", "src/screens/project/overview/OverviewPage.tsx"],
    budget: 200 * KB,
  },
];

const [dist, manifestPath] = process.argv.slice(2);
if (!dist || !manifestPath) {
  console.error("usage: node scripts/size-budget.mjs <build directory> <manifest.json>");
  process.exit(2);
}
/** @type {Record<string, {file: string, isEntry?: boolean, imports?: string[]}>} */
const manifest = JSON.parse(readFileSync(manifestPath, "utf8"));
const entry = manifest["index.html"];
if (!entry?.isEntry) throw new Error(`${manifestPath}: no entry for index.html`);

/** The chunk files of key and everything it imports statically, into files. */
function collect(key, files) {
  const chunk = manifest[key];
  if (!chunk) throw new Error(`${manifestPath} has no chunk for ${key} (was the screen moved or renamed?)`);
  if (files.has(chunk.file)) return;
  files.add(chunk.file);
  for (const imported of chunk.imports ?? []) collect(imported, files);
}

/** Gzipped size of one file of the build: its .gz sibling, or gzip -9 of it. */
function gzipped(file) {
  const path = join(dist, file);
  if (!existsSync(path)) throw new Error(`${path} is missing: the manifest is not of this build`);
  if (existsSync(`${path}.gz`)) return readFileSync(`${path}.gz`).length;
  return gzipSync(readFileSync(path), { level: 9 }).length;
}

const kb = (n) => `${(n / KB).toFixed(1)} kB`;
let over = 0;
for (const route of routes) {
  const files = new Set();
  collect("index.html", files);
  for (const screen of route.screens) collect(screen, files);
  const sizes = [...files].map((file) => ({ file, size: gzipped(file) }));
  const total = sizes.reduce((sum, s) => sum + s.size, 0);
  const ok = total <= route.budget;
  if (!ok) over++;
  console.log(
    `${ok ? "ok  " : "OVER"} ${route.name}: ${kb(total)} of JavaScript gzipped (budget ${kb(route.budget)}), ${files.size} chunks`,
  );
  for (const { file, size } of sizes.sort((a, b) => b.size - a.size))
    console.log(`       ${kb(size).padStart(9)}  ${file}`);
}
if (over) {
  console.error(
    `size-budget: ${over} route(s) over budget: split the code they load (lazy routes, lighter dependencies)`,
  );
  process.exit(1);
}
