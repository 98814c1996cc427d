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
import { cpSync, mkdirSync, rmSync } from "node:fs";
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

cpSync(join(here, "proto"), join(outDir, "proto"), { recursive: true });
cpSync(join(here, "migrations"), join(outDir, "migrations"), { recursive: true });
cpSync(join(root, "config", "leash.yaml"), join(outDir, "leash.yaml"));
// The embedded price table (src/prices.ts looks next to the bundle first).
cpSync(join(root, "config", "prices.yaml"), join(outDir, "prices.yaml"));

console.log(`sidecar bundle: ${join(outDir, "main.js")}`);
