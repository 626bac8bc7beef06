import { describe, expect, test } from "bun:test";
import { linkStaysInside, volumeOfEntry } from "../../src/archive/entry-rules.ts";
import type { Manifest } from "../../src/archive/manifest.ts";
import { restoreEntryCheck } from "../../src/archive/restore-rules.ts";
import type { TarHeader } from "../../src/archive/tar-header.ts";

const entry = (name: string, more: Partial<TarHeader> = {}): TarHeader => ({
  name,
  linkname: "",
  type: "file",
  size: 0,
  mode: 0o644,
  uid: 0,
  gid: 0,
  mtime: 0,
  ...more,
});
const vols = new Set(["data", "logs"]);

describe("entries stay inside their volume", () => {
  test("accepted", () => {
    expect(volumeOfEntry(entry("data/", { type: "directory" }), vols)).toBe("data");
    expect(volumeOfEntry(entry("logs/a/b.txt"), vols)).toBe("logs");
  });
  test("refused", () => {
    expect(() => volumeOfEntry(entry("/etc/passwd"), vols)).toThrow(/absolute/);
    expect(() => volumeOfEntry(entry("data/../../etc/passwd"), vols)).toThrow(/\.\./);
    expect(() => volumeOfEntry(entry("other/x"), vols)).toThrow(/outside/);
    expect(() => volumeOfEntry(entry("data"), vols)).toThrow(/replaces a volume folder/);
  });
  test("links", () => {
    expect(linkStaysInside(entry("data/a/l", { type: "symlink", linkname: "../b" }), "data")).toBe(true);
    expect(linkStaysInside(entry("data/a/l", { type: "symlink", linkname: "../../logs/x" }), "data")).toBe(false);
    expect(linkStaysInside(entry("data/l", { type: "symlink", linkname: "/etc/shadow" }), "data")).toBe(false);
    expect(linkStaysInside(entry("data/h", { type: "hardlink", linkname: "data/a/f" }), "data")).toBe(true);
    expect(linkStaysInside(entry("data/h", { type: "hardlink", linkname: "logs/f" }), "data")).toBe(false);
  });
});

describe("restore refuses what the backed-up data never had", () => {
  const manifest = (devices: number, setuid: number, links_out = 0) =>
    ({
      volumes: [{ name: "data", bytes: 0, files: 0, entries: 0, devices, setuid, links_out }],
    }) as unknown as Manifest;
  test("device nodes and setuid files only up to the recorded counts", () => {
    expect(() => restoreEntryCheck(manifest(0, 0))(entry("data/dev", { type: "char" }), "data")).toThrow(/device/);
    expect(() => restoreEntryCheck(manifest(0, 0))(entry("data/su", { mode: 0o4755 }), "data")).toThrow(/setuid/);
    const allowed = restoreEntryCheck(manifest(1, 1));
    allowed(entry("data/dev", { type: "char" }), "data");
    allowed(entry("data/su", { mode: 0o4755 }), "data");
    expect(() => allowed(entry("data/su2", { mode: 0o2755 }), "data")).toThrow(/setuid/);
  });
  test("escaping links: symlinks only as many as the data had, hard links never", () => {
    expect(() =>
      restoreEntryCheck(manifest(0, 0))(entry("data/l", { type: "symlink", linkname: "/etc" }), "data"),
    ).toThrow(/outside/);
    const own = restoreEntryCheck(manifest(0, 0, 1));
    own(entry("data/localtime", { type: "symlink", linkname: "/usr/share/zoneinfo/UTC" }), "data");
    expect(() => own(entry("data/l2", { type: "symlink", linkname: "../../x" }), "data")).toThrow(/outside/);
    expect(() =>
      restoreEntryCheck(manifest(0, 0, 9))(entry("data/h", { type: "hardlink", linkname: "/etc/passwd" }), "data"),
    ).toThrow(/hard link/);
  });
  test("nothing is written through a symlink, even one that stays inside", () => {
    const check = restoreEntryCheck(manifest(0, 0, 1));
    check(entry("data/etc", { type: "symlink", linkname: "/etc" }), "data");
    expect(() => check(entry("data/etc/passwd"), "data")).toThrow(/through the symlink "data\/etc"/);
    const inside = restoreEntryCheck(manifest(0, 0));
    inside(entry("data/a", { type: "symlink", linkname: "b" }), "data");
    expect(() => inside(entry("data/a/x"), "data")).toThrow(/through the symlink/);
  });
});
