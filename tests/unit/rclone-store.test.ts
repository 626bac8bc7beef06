/**
 * The rclone store over a real rclone on a local folder (`:local:`): the order of its calls, seen
 * through a server that logs when each starts and ends, and the life of the rclone it keeps running.
 */
import { afterAll, expect, test } from "bun:test";
import { execFileSync, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { RcloneCopy } from "../../src/config/offsite-copy.ts";
import { RcloneServer } from "../../src/offsite/rclone/rc-server.ts";
import { RcloneStore } from "../../src/offsite/rclone/rclone-store.ts";
import { alive } from "../helpers/alive.ts";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "tools-backup-rclone-store-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
const tool = { bin: "rclone", timeoutSeconds: 30 };

/** A server that logs "start X" and "end X" for each call, X its path and file names. */
class LoggingServer extends RcloneServer {
  readonly log: string[] = [];
  private async logged<T>(what: string, work: () => Promise<T>): Promise<T> {
    this.log.push(`start ${what}`);
    try {
      return await work();
    } finally {
      this.log.push(`end ${what}`);
    }
  }
  override call<T>(p: string, params: Record<string, unknown>, signal: AbortSignal): Promise<T> {
    return this.logged(`${p} ${String(params.remote ?? "")}`, () => super.call<T>(p, params, signal));
  }
  override job(p: string, params: Record<string, unknown>, signal: AbortSignal, onBytes?: (n: number) => void) {
    return this.logged(`${p} ${String(params.srcRemote)} ${String(params.dstRemote)}`, () =>
      super.job(p, params, signal, onBytes),
    );
  }
  override upload(fs_: string, dir: string, name: string, data: Uint8Array, signal: AbortSignal) {
    return this.logged(`upload ${name}`, () => super.upload(fs_, dir, name, data, signal));
  }
}

function storeIn(name: string) {
  const dir = path.join(tmp, name);
  fs.mkdirSync(path.join(dir, "remote"), { recursive: true });
  const server = new LoggingServer(tool);
  const copy = { kind: "rclone", name: "nas", remote: `:local:${path.join(dir, "remote")}` } as RcloneCopy;
  return { dir, server, store: new RcloneStore(copy, server) };
}

/** rclone processes whose parent is `pid`. */
const childRclones = (pid: number) =>
  execFileSync("ps", ["-o", "pid=,comm=", "--ppid", String(pid)], { encoding: "utf8" })
    .split("\n")
    .filter((l) => l.includes("rclone"))
    .map((l) => Number(l.trim().split(/\s+/)[0]));

test("an archive and its manifest: both under temporary names, the manifest moved into place last", async () => {
  const { dir, server, store } = storeIn("put");
  const file = path.join(dir, "a.tar.zst");
  fs.writeFileSync(file, "archive bytes");
  const signal = AbortSignal.timeout(60_000);
  const followedBy = { key: "svc/a.json", data: new TextEncoder().encode("{}") };
  await store.putFile("svc/a.tar.zst", file, 13, { signal, followedBy });
  server.close();
  expect(fs.readdirSync(path.join(dir, "remote", "svc")).sort()).toEqual(["a.json", "a.tar.zst"]);
  expect(fs.readFileSync(path.join(dir, "remote", "svc", "a.tar.zst"), "utf8")).toBe("archive bytes");
  const at = (re: RegExp) => server.log.findIndex((l) => re.test(l));
  expect(at(/^start operations\/copyfile a\.tar\.zst svc\/\.tmp-a\.tar\.zst\.\d+$/)).toBeGreaterThanOrEqual(0);
  expect(at(/^start upload \.tmp-a\.json\.\d+$/)).toBeGreaterThan(at(/^end operations\/copyfile /));
  expect(at(/^start operations\/movefile svc\/\.tmp-a\.json/)).toBeGreaterThan(
    at(/^end operations\/movefile svc\/\.tmp-a\.tar\.zst/),
  );
  expect(at(/^start operations\/movefile svc\/\.tmp-a\.json/)).toBeGreaterThan(at(/^end upload /));
});

test("listing leaves out temporary files; a missing folder holds none; reading gives the bytes back", async () => {
  const { dir, server, store } = storeIn("list");
  const signal = AbortSignal.timeout(60_000);
  expect(await store.list("svc/", signal)).toEqual([]);
  fs.mkdirSync(path.join(dir, "remote", "svc"));
  fs.writeFileSync(path.join(dir, "remote", "svc", "b.json"), "manifest");
  fs.writeFileSync(path.join(dir, "remote", "svc", ".tmp-c.json.1"), "half");
  expect(await store.list("svc/", signal)).toEqual([{ key: "svc/b.json", bytes: 8 }]);
  expect(new TextDecoder().decode(await store.read("svc/b.json", signal))).toBe("manifest");
  await expect(store.read("svc/none.json", signal)).rejects.toThrow("nas: reading svc/none.json: no such file");
  server.close();
});

test("one rclone serves every call, and a closed one is started again when needed", async () => {
  const { server, store } = storeIn("reuse");
  const signal = AbortSignal.timeout(60_000);
  await store.list("svc/", signal);
  await store.list("other/", signal);
  const [first, ...more] = childRclones(process.pid);
  expect(more).toEqual([]);
  server.close();
  await store.list("svc/", signal);
  const [second] = childRclones(process.pid).filter((p) => p !== first);
  expect(second).toBeGreaterThan(0);
  server.close();
});

test("the rclone it keeps running ends with the process that started it, even one killed", async () => {
  const script = path.join(tmp, "holder.ts");
  const src = path.resolve(import.meta.dir, "../../src/offsite/rclone/rc-server.ts");
  const lines = [
    `import { RcloneServer } from ${JSON.stringify(src)};`,
    `const server = new RcloneServer(${JSON.stringify(tool)});`,
    'await server.call("operations/list", { fs: "/", remote: "tmp" }, AbortSignal.timeout(30_000));',
    'console.log("ready");',
    "setInterval(() => undefined, 1000);",
  ];
  fs.writeFileSync(script, `${lines.join("\n")}\n`);
  const holder = spawn(process.execPath, [script], { stdio: ["ignore", "pipe", "inherit"] });
  await new Promise<void>((resolve) => holder.stdout!.once("data", () => resolve()));
  const [rclone] = childRclones(holder.pid!);
  expect(rclone).toBeGreaterThan(0);
  holder.kill("SIGKILL");
  const deadline = Date.now() + 10_000;
  while (alive(rclone!) && Date.now() < deadline) await Bun.sleep(100);
  expect(alive(rclone!)).toBe(false);
});
