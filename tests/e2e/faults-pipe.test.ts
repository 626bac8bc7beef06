/**
 * Output under load: stdout is a pipe whose reader is not instantly there (`| jq`, `| less`, a
 * script that reads when it is ready). With thousands of backups `list --json` is megabytes;
 * every byte must arrive, or scripts parse half a document. Found by the load benchmark: the
 * binary exits 50 ms after its last write (src/cli.ts), cutting off what the pipe had not taken yet.
 */
import { afterAll, expect, setDefaultTimeout, test } from "bun:test";
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { BIN, binaryEnv, cleanupCliTemp } from "../helpers/cli.ts";
import { svcName } from "../helpers/faults.ts";
import { makeProject, type Project, textIfAny } from "../helpers/project.ts";
import { plantBackup, tarOf, zstd } from "../helpers/tar-craft.ts";

setDefaultTimeout(180_000);
afterAll(cleanupCliTemp);

const COUNT = 3_000;

/** COUNT small valid backups (one archive, many manifests), one a minute going back. */
function manyBackups(): { p: Project; svc: string } {
  const svc = svcName("pipe");
  const vol = "tbtest-pipe-volume";
  const p = makeProject({ services: { [svc]: [{ name: vol }] } });
  const folder = p.serviceFolder(svc);
  fs.mkdirSync(folder, { recursive: true, mode: 0o700 });
  const archive = zstd(
    tarOf([
      { name: `${vol}/`, type: "dir" },
      { name: `${vol}/a.txt`, content: "hello\n" },
    ]),
  );
  const template = path.join(p.root, "template.json");
  fs.writeFileSync(
    template,
    JSON.stringify({
      format: 1,
      id: "x",
      service: svc,
      host: "x",
      created_at: new Date().toISOString(),
      kind: "scheduled",
      tool_version: "test",
      volumes: [{ name: vol, bytes: 6, files: 1 }],
      archive: { file: "x", bytes: 0, sha256: "0".repeat(64), compression: "zstd" },
      duration_ms: 1,
      downtime_ms: 0,
    }),
  );
  const start = Date.UTC(2026, 0, 1);
  for (let i = 0; i < COUNT; i++) {
    const stamp = new Date(start - i * 60_000)
      .toISOString()
      .replace(/[-:]/g, "")
      .replace(/\.\d{3}Z$/, "Z");
    plantBackup(folder, svc, template, stamp, archive, {});
  }
  return { p, svc };
}

/** `tools-backup ARGS | (sleep LAG; cat > OUT)`: a real pipe to a reader that starts late. */
function throughLaggingPipe(
  args: string[],
  p: Project,
  lagMs: number,
): Promise<{ code: number | null; stdout: string }> {
  const out = path.join(p.root, `out-${Math.random().toString(36).slice(2)}`);
  const script = `"$0" "$@"; echo $? > "${out}.code"`;
  const child = spawn("/bin/sh", ["-c", `(${script}) | (sleep ${lagMs / 1000}; cat > "${out}")`, BIN, ...args], {
    env: binaryEnv({ stateHome: p.stateHome }),
    stdio: "ignore",
  });
  const read = (f: string) => textIfAny(f) ?? "";
  return new Promise((resolve) =>
    child.on("close", () => resolve({ code: Number(read(`${out}.code`) || NaN), stdout: read(out) })),
  );
}

test(`list --json, list and prune --dry-run --json over ${COUNT.toLocaleString("en-US")} backups arrive whole through a lagging pipe`, async () => {
  const { p } = manyBackups();
  const list = await throughLaggingPipe(["list", "--json", ...p.args], p, 5000);
  const table = await throughLaggingPipe(["list", ...p.args], p, 5000);
  const prune = await throughLaggingPipe(["prune", "--dry-run", "--json", ...p.args], p, 5000);
  const parsed = (text: string) => {
    try {
      return JSON.parse(text);
    } catch {
      return `not JSON: ${text.length} bytes, ending ${JSON.stringify(text.slice(-30))}`;
    }
  };
  const pruned = parsed(prune.stdout);
  expect({
    codes: [list.code, table.code, prune.code],
    listed: ((l) => (Array.isArray(l) ? l.length : l))(parsed(list.stdout)),
    tableLines: table.stdout.trimEnd().split("\n").length,
    pruneRows: typeof pruned === "string" ? pruned : pruned.kept.length + pruned.removed.length,
  }).toEqual({ codes: [0, 0, 0], listed: COUNT, tableLines: COUNT + 1, pruneRows: COUNT });
});
