// Bundles the sidecar into build/sidecar/main.js (one ESM file for Node 20) and copies the runtime
// assets it reads from disk next to it:
//   build/sidecar/main.js            the bundle
//   build/sidecar/proto/…            the gRPC contract (loaded by @grpc/proto-loader at runtime)
//   build/sidecar/migrations/*.sql   schema migrations
//   build/sidecar/leash.yaml         the embedded default config (config/load.ts resolves it
//                                    next to the module that contains it, i.e. the bundle)
//
//   node sidecar-services/build.mjs
import { build } from "esbuild";
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..");
const outDir = join(root, "build", "sidecar");

rmSync(outDir, { recursive: true, force: true });
mkdirSync(outDir, { recursive: true });

await build({
  entryPoints: [join(here, "src", "main.ts")],
  outfile: join(outDir, "main.js"),
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  sourcemap: true,
  legalComments: "none",
  logLevel: "warning",
  external: [
    // Loads its .wasm/.data files relative to its own package; bundling would break those paths.
    "@electric-sql/pglite",
    // Optional native binding pg only requires when asked for pg.native; not installed.
    "pg-native",
  ],
  // Bundled CommonJS packages (pg, ioredis, grpc-js, prom-client) call require() for Node builtins;
  // an ESM bundle has no require, so provide one.
  banner: {
    js: "import { createRequire as __leashCreateRequire } from 'node:module'; const require = __leashCreateRequire(import.meta.url);",
  },
});

asciiOnly(join(outDir, "main.js"));

cpSync(join(here, "proto"), join(outDir, "proto"), { recursive: true });
cpSync(join(here, "migrations"), join(outDir, "migrations"), { recursive: true });
cpSync(join(root, "config", "leash.yaml"), join(outDir, "leash.yaml"));
// The embedded price table (src/prices.ts looks next to the bundle first).
cpSync(join(root, "config", "prices.yaml"), join(outDir, "prices.yaml"));

console.log(`sidecar bundle: ${join(outDir, "main.js")}`);

/**
 * Keeps the bundle ASCII. V8 holds a script's source for the life of the process, one byte per
 * character when every character is Latin-1, two otherwise: one em dash in a comment of a bundled
 * package made the 2.2 MB bundle a 4.4 MB string in the sidecar's heap (the largest live
 * allocation in a --heap-prof profile of the sidecar under load). esbuild escapes non-ASCII
 * characters in code (charset "ascii", its default) but keeps some comments as written; those are
 * rewritten as \uXXXX text. A non-ASCII character anywhere but in a line comment fails the build.
 */
function asciiOnly(file) {
  const lines = readFileSync(file, "utf8").split("\n");
  let rewritten = 0;
  const out = lines.map((line, i) => {
    if (!/[^\x00-\x7f]/.test(line)) return line;
    const comment = line.indexOf("//");
    const first = line.search(/[^\x00-\x7f]/);
    if (comment < 0 || first < comment) throw new Error(`${file}:${i + 1}: non-ASCII character outside a line comment`);
    rewritten++;
    return line.slice(0, comment) + line.slice(comment).replace(/[^\x00-\x7f]/gu, (c) => `\\u{${c.codePointAt(0).toString(16)}}`);
  });
  if (rewritten > 0) writeFileSync(file, out.join("\n"));
}
