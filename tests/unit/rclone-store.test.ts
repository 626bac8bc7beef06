/**
 * The rclone store's order of calls, against a real rclone on a local folder (`:local:`), through
 * a wrapper that logs when each rclone call starts and ends and makes `copyto` slow.
 */
import { afterAll, expect, test } from "bun:test";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { RcloneCopy } from "../../src/config/offsite-copy.ts";
import { RcloneStore } from "../../src/offsite/rclone/rclone-store.ts";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "tools-backup-rclone-store-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function storeIn(name: string) {
  const dir = path.join(tmp, name);
  fs.mkdirSync(path.join(dir, "remote"), { recursive: true });
  const log = path.join(dir, "calls.log");
  const bin = path.join(dir, "rclone");
  const script = [
    "#!/bin/sh",
    `echo "start $*" >> '${log}'`,
    'if [ "$1" = copyto ]; then sleep 1; fi',
    'rclone "$@"',
    "code=$?",
    `echo "end $*" >> '${log}'`,
    "exit $code",
  ];
  fs.writeFileSync(bin, `${script.join("\n")}\n`, { mode: 0o755 });
  const copy = { kind: "rclone", name: "nas", remote: `:local:${path.join(dir, "remote")}` } as RcloneCopy;
  const store = new RcloneStore(copy, { bin, timeoutSeconds: 30 });
  const calls = () => fs.readFileSync(log, "utf8").trim().split("\n");
  return { dir, store, calls };
}

test("an archive and its manifest: both under temporary names, the manifest moved into place last", async () => {
  const { dir, store, calls } = storeIn("put");
  const file = path.join(dir, "a.tar.zst");
  fs.writeFileSync(file, "archive bytes");
  const signal = AbortSignal.timeout(60_000);
  const followedBy = { key: "svc/a.json", data: new TextEncoder().encode("{}") };
  await store.putFile("svc/a.tar.zst", file, 13, { signal, followedBy });
  expect(fs.readdirSync(path.join(dir, "remote", "svc")).sort()).toEqual(["a.json", "a.tar.zst"]);
  const log = calls();
  const at = (re: RegExp) => log.findIndex((l) => re.test(l));
  expect(at(/^start copyto .*\.tmp-a\.tar\.zst\.\d+ /)).toBeGreaterThanOrEqual(0);
  expect(at(/^start rcat .*\.tmp-a\.json\.\d+ /)).toBeGreaterThan(at(/^end copyto /));
  expect(at(/^start moveto .*\.tmp-a\.json/)).toBeGreaterThan(at(/^end moveto .*\.tmp-a\.tar\.zst/));
  expect(at(/^start moveto .*\.tmp-a\.json/)).toBeGreaterThan(at(/^end rcat /));
});

test("a listing taken while an upload runs is not reused once the upload is done", async () => {
  const { dir, store, calls } = storeIn("list");
  const file = path.join(dir, "b.tar.zst");
  fs.writeFileSync(file, "more archive bytes");
  const signal = AbortSignal.timeout(60_000);
  const upload = store.putFile("svc/b.tar.zst", file, 18, { signal });
  expect(await store.list("svc/", signal)).toEqual([]);
  await upload;
  expect(await store.list("svc/", signal)).toEqual([{ key: "svc/b.tar.zst", bytes: 18 }]);
  expect(calls().filter((l) => l.startsWith("start lsjson"))).toHaveLength(2);
});
