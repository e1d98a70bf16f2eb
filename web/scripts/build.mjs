// The console's production build: vite build (vite.config.ts) into a directory, then the
// precompressed siblings (compress.mjs). `npm run build` writes gateway/console/dist, the build
// the gateway embeds; scripts/web.sh builds into a temporary directory the same way and compares
// the result with the committed one, byte for byte.
//
//   node scripts/build.mjs [outDir] [--manifest <file>]
//
// outDir defaults to ../gateway/console/dist (relative to web/). Vite's manifest (which chunk a
// source module became, and what each chunk imports) is what size-budget.mjs reads; it is never
// left in the build (the gateway would serve every file there): with --manifest it is moved to
// <file>, otherwise deleted.
import { execFileSync } from "node:child_process";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { build } from "vite";

const web = fileURLToPath(new URL("..", import.meta.url));
const { values, positionals } = parseArgs({
  options: { manifest: { type: "string" } },
  allowPositionals: true,
});
if (positionals.length > 1) {
  console.error("usage: node scripts/build.mjs [outDir] [--manifest <file>]");
  process.exit(2);
}
const outDir = resolve(positionals[0] ?? join(web, "../gateway/console/dist"));
const manifestInBuild = join(outDir, ".vite", "manifest.json");

await build({
  root: web,
  logLevel: "warn",
  build: { outDir, emptyOutDir: true, manifest: true },
});

const manifest = await readFile(manifestInBuild);
await rm(join(outDir, ".vite"), { recursive: true });
if (values.manifest) {
  await mkdir(dirname(resolve(values.manifest)), { recursive: true });
  await writeFile(values.manifest, manifest);
}
execFileSync(process.execPath, [join(web, "scripts/compress.mjs"), outDir], { stdio: "inherit" });
console.error(`built the console into ${outDir}`);
