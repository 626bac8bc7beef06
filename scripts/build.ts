/**
 * Builds the single executable dist/tools-backup with `bun build --compile`: minified, with an
 * inline source map so a crash still points at src/, and the version fixed at build time.
 * Bytecode (ESM needs `--format=esm` for it) spares parsing the bundle on every start
 * (docs/benchmarks.md has the start-up figures). TOOLS_BACKUP_TARGET (linux-arm64, darwin-x64,
 * linux-x64-musl, ...) builds for another platform, with Bun's runtime for it from the npm registry.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync } from "node:fs";
import { dirname } from "node:path";

const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string };
const commit = spawnSync("git", ["rev-parse", "--short", "HEAD"], { encoding: "utf8" }).stdout?.trim();
const version = commit ? `${pkg.version}+${commit}` : pkg.version;
const outfile = process.env.TOOLS_BACKUP_OUTFILE ?? "dist/tools-backup";
const target = process.env.TOOLS_BACKUP_TARGET;
const platform = target ?? `${process.platform}-${process.arch}`;

mkdirSync(dirname(outfile), { recursive: true });
const args = [
  "build",
  "src/cli.ts",
  "src/system/page-cache-worker.ts",
  "src/system/file-writer-worker.ts",
  "--compile",
  "--bytecode",
  "--format=esm",
  "--minify",
  "--sourcemap=inline",
  `--define=TOOLS_BACKUP_VERSION=${JSON.stringify(version)}`,
  `--define=TOOLS_BACKUP_TARGET=${JSON.stringify(platform)}`,
  ...(target ? [`--target=bun-${target}`] : []),
  // The bundler would otherwise inline the building shell's NODE_ENV (a test run's "test").
  '--define=process.env.NODE_ENV="production"',
  "--outfile",
  outfile,
];
const r = spawnSync(process.execPath, args, { stdio: "inherit" });
if (r.status !== 0) process.exit(r.status ?? 1);
console.error(`built ${outfile} (version ${version}, ${platform})`);
