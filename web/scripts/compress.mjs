// Writes X.gz and X.br beside every compressible file of the build (argument: its directory),
// when compression saves at least a tenth. The gateway serves them to clients that accept them.
// Both encoders are deterministic, so the committed build is reproducible byte for byte.
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";

const dir = process.argv[2];
if (!dir) {
  console.error("usage: node scripts/compress.mjs <build directory>");
  process.exit(2);
}
const compressible = /\.(html|js|mjs|css|svg|json|txt|map)$/;

for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
  if (!entry.isFile() || !compressible.test(entry.name)) continue;
  const path = join(entry.parentPath, entry.name);
  const data = await readFile(path);
  const variants = {
    gz: gzipSync(data, { level: 9 }),
    br: brotliCompressSync(data, {
      params: {
        [constants.BROTLI_PARAM_QUALITY]: 11,
        [constants.BROTLI_PARAM_SIZE_HINT]: data.length,
      },
    }),
  };
  for (const [ext, out] of Object.entries(variants)) {
    if (out.length <= data.length * 0.9) await writeFile(`${path}.${ext}`, out);
  }
}
