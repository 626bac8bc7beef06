import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/**
 * Deno for the compatibility test, fetched from the npm registry into .tmp/deno once.
 * It is not a devDependency because npm cannot write a lockfile entry for its platform packages.
 */
export const DENO_VERSION = "2.9.6";

export function denoBinary(repo: string): string {
  const dir = join(repo, ".tmp", "deno");
  const bin = join(dir, "node_modules", ".bin", "deno");
  if (existsSync(bin)) return bin;
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, "package.json"),
    JSON.stringify({ name: "deno-cache", private: true, allowScripts: { deno: true } }),
  );
  execFileSync("npm", ["install", "--no-package-lock", "--no-audit", "--no-fund", `deno@${DENO_VERSION}`], {
    cwd: dir,
    stdio: "ignore",
  });
  return bin;
}
