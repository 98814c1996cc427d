// Builds every filter under filters/assembly/<name>/index.ts into build/release/<name>.wasm and
// build/debug/<name>.wasm with the options in asconfig.json. Folders without index.ts (the SDK,
// the compat library) are libraries, not filters.
import { readdirSync, existsSync, mkdirSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import asc from "assemblyscript/asc";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const filtersDir = join(root, "filters", "assembly");
const only = process.argv.slice(2);

const filters = readdirSync(filtersDir, { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(join(filtersDir, d.name, "index.ts")))
  .map((d) => d.name)
  .filter((name) => only.length === 0 || only.includes(name));

let failed = false;
for (const target of ["release", "debug"]) {
  mkdirSync(join(root, "build", target), { recursive: true });
  for (const name of filters) {
    const out = join("build", target, `${name}.wasm`);
    const { error, stderr } = await asc.main([
      join("filters", "assembly", name, "index.ts"),
      "--config", "asconfig.json", "--target", target,
      "--outFile", out,
    ], { stdout: process.stdout, stderr: process.stderr });
    if (error) {
      failed = true;
      console.error(`build ${target}/${name}: ${error.message}\n${stderr.toString()}`);
    } else {
      console.log(`built ${out}`);
    }
  }
}
process.exit(failed ? 1 : 0);
