/**
 * `npm run release`: the binary for every platform a user may download, built by scripts/build.ts
 * with Bun's runtime for each, plus install.sh and SHA256SUMS, in dist/release/.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, copyFileSync, createReadStream, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";

/** Bun's targets; the musl builds are for Alpine hosts. */
const TARGETS = ["linux-x64", "linux-arm64", "linux-x64-musl", "linux-arm64-musl", "darwin-arm64", "darwin-x64"];
const DIR = "dist/release";

rmSync(DIR, { recursive: true, force: true });
mkdirSync(DIR, { recursive: true });
const files: string[] = [];
// Each build in a folder of its own: the bundler leaves source maps beside the binary.
const work = mkdtempSync(join(tmpdir(), "tools-backup-release-"));
for (const target of TARGETS) {
  const built = join(work, target, "tools-backup");
  const env = { ...process.env, TOOLS_BACKUP_TARGET: target, TOOLS_BACKUP_OUTFILE: built };
  const r = spawnSync(process.execPath, ["scripts/build.ts"], { stdio: "inherit", env });
  if (r.status !== 0) process.exit(r.status ?? 1);
  const outfile = join(DIR, `tools-backup-${target}`);
  copyFileSync(built, outfile);
  chmodSync(outfile, 0o755);
  files.push(outfile);
}
rmSync(work, { recursive: true, force: true });
copyFileSync("scripts/install.sh", join(DIR, "install.sh"));
files.push(join(DIR, "install.sh"));

const sums = await Promise.all(files.map(async (f) => `${await sha256(f)}  ${basename(f)}`));
writeFileSync(join(DIR, "SHA256SUMS"), `${sums.join("\n")}\n`);
console.error(`release files in ${DIR}: ${files.map((f) => basename(f)).join(", ")}, SHA256SUMS`);

function sha256(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash("sha256");
    createReadStream(file)
      .on("data", (b) => hash.update(b))
      .on("end", () => resolve(hash.digest("hex")))
      .on("error", reject);
  });
}
