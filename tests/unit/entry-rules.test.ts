import { describe, expect, test } from "bun:test";
import { linkStaysInside, volumeOfEntry } from "../../src/archive/entry-rules.ts";
import { restoreEntryCheck } from "../../src/archive/restore-rules.ts";
import type { TarHeader } from "../../src/archive/tar-header.ts";
import type { Manifest } from "../../src/archive/manifest.ts";

const entry = (name: string, more: Partial<TarHeader> = {}): TarHeader => ({ name, linkname: "", type: "file", size: 0, mode: 0o644, uid: 0, gid: 0, mtime: 0, ...more });
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
  const manifest = (devices: number, setuid: number) => ({ volumes: [{ name: "data", bytes: 0, files: 0, entries: 0, devices, setuid }] }) as unknown as Manifest;
  test("device nodes and setuid files only up to the recorded counts", () => {
    expect(() => restoreEntryCheck(manifest(0, 0))(entry("data/dev", { type: "char" }), "data")).toThrow(/device/);
    expect(() => restoreEntryCheck(manifest(0, 0))(entry("data/su", { mode: 0o4755 }), "data")).toThrow(/setuid/);
    const allowed = restoreEntryCheck(manifest(1, 1));
    allowed(entry("data/dev", { type: "char" }), "data");
    allowed(entry("data/su", { mode: 0o4755 }), "data");
    expect(() => allowed(entry("data/su2", { mode: 0o2755 }), "data")).toThrow(/setuid/);
  });
  test("escaping links", () => {
    expect(() => restoreEntryCheck(manifest(0, 0))(entry("data/l", { type: "symlink", linkname: "/etc" }), "data")).toThrow(/outside/);
  });
});
