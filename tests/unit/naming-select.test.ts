import { describe, expect, test } from "bun:test";
import type { Backup } from "../../src/app/catalog.ts";
import { selectBackup, selectUndo } from "../../src/app/select-backup.ts";
import {
  archiveName,
  backupId,
  dateOfStamp,
  manifestName,
  parseArchiveName,
  parseId,
  safeHost,
  stampOf,
} from "../../src/archive/naming.ts";
import { OperationError, UsageError } from "../../src/util/errors.ts";

describe("naming", () => {
  const when = new Date(Date.UTC(2026, 0, 15, 3, 0, 7, 450));
  test("ids are <service>_<UTC stamp>_<host> and parse back", () => {
    const id = backupId("openmemory", when, "my-nas.local");
    expect(id).toBe("openmemory_20260115T030007Z_my-nas.local");
    expect(parseId(id)).toMatchObject({ service: "openmemory", stamp: "20260115T030007Z", host: "my-nas.local" });
    expect(parseId(id)!.created.toISOString()).toBe("2026-01-15T03:00:07.000Z");
    expect(archiveName(id, "zstd")).toBe(`${id}.tar.zst`);
    expect(archiveName(id, "gzip")).toBe(`${id}.tar.gz`);
    expect(manifestName(id)).toBe(`${id}.json`);
    expect(parseArchiveName(`${id}.tar.gz`)?.compression).toBe("gzip");
  });
  test("host names are made safe for file names", () => {
    expect(safeHost("Sasha's MacBook Pro")).toBe("Sasha-s-MacBook-Pro");
    expect(safeHost("--")).toBe("host");
    expect(safeHost("_x")).toBe("x");
  });
  test("foreign names are not ours", () => {
    for (const name of [
      "notes.txt",
      "openmemory_2026_x.tar.zst",
      "Open_20260115T030007Z_h.tar.zst",
      "a_20261315T030007Z_h.tar.zst",
      "a_20260115T030007Z_h.tar.xz",
    ]) {
      expect(parseArchiveName(name)).toBeUndefined();
    }
    expect(dateOfStamp("20260230T000000Z")).toBeUndefined();
    expect(dateOfStamp("20260115T246000Z")).toBeUndefined();
    expect(stampOf(when)).toBe("20260115T030007Z");
  });
});

function backup(id: string): Backup {
  const p = parseId(id)!;
  return { id, service: p.service, host: p.host, createdAt: p.created, kind: "scheduled", complete: true } as Backup;
}

const undoPoint = (id: string): Backup => ({ ...backup(id), kind: "pre-restore" });

describe("--from", () => {
  // Newest first, as the catalog returns them.
  const list = [
    "app_20260116T030000Z_a",
    "app_20260115T230000Z_b",
    "app_20260115T030000Z_a",
    "other_20260117T030000Z_a",
  ].map(backup);
  test("latest, an exact id, a unique prefix", () => {
    expect(selectBackup(list, "app", "latest").backup.id).toBe("app_20260116T030000Z_a");
    expect(selectBackup(list, "app", "app_20260115T030000Z_a").backup.id).toBe("app_20260115T030000Z_a");
    expect(selectBackup(list, "app", "app_20260115T23").backup.id).toBe("app_20260115T230000Z_b");
  });
  test("a date picks that local day's newest", () => {
    const local = list[2]!.createdAt;
    const day = `${local.getFullYear()}-${String(local.getMonth() + 1).padStart(2, "0")}-${String(local.getDate()).padStart(2, "0")}`;
    const chosen = selectBackup(list, "app", day).backup;
    expect(chosen.service).toBe("app");
    expect(chosen.createdAt.getTime()).toBeGreaterThanOrEqual(local.getTime());
  });
  test("latest is the newest complete backup; the newer incomplete ones are named as skipped", () => {
    const downloading = (b: Backup) => ({ ...b, complete: false });
    const [a, b, c] = list as [Backup, Backup, Backup];
    const chosen = selectBackup([downloading(a), downloading(b), c], "app", "latest");
    expect({ id: chosen.backup.id, skipped: chosen.skipped.map((x) => x.id) }).toEqual({
      id: c.id,
      skipped: [a.id, b.id],
    });
    expect(() => selectBackup([downloading(a)], "app", "latest")).toThrow(OperationError);
    expect(selectBackup([downloading(a), c], "app", a.id).backup.id).toBe(a.id); // asked for by id: verify will say why it fails
  });
  test("latest passes over backups dated in the future (a wrong clock) and names them; an id still picks one", () => {
    const now = new Date(Date.UTC(2026, 0, 17, 12, 0, 0));
    const ahead = backup("app_20270301T030000Z_wrongclock");
    const chosen = selectBackup([ahead, ...list], "app", "latest", now);
    expect({ id: chosen.backup.id, future: chosen.future.map((x) => x.id) }).toEqual({
      id: list[0]!.id,
      future: [ahead.id],
    });
    // Within the hour of skew machines sharing a folder may have, a backup still counts as the newest.
    expect(selectBackup([backup("app_20260117T124500Z_b"), ...list], "app", "latest", now).backup.id).toBe(
      "app_20260117T124500Z_b",
    );
    expect(() => selectBackup([ahead], "app", "latest", now)).toThrow(
      /dated in the future .*app_20270301T030000Z_wrongclock/,
    );
    expect(selectBackup([ahead, ...list], "app", ahead.id, now).backup.id).toBe(ahead.id);
  });
  test("a date passes over that day's incomplete backups the same way", () => {
    const same = ["app_20260115T120000Z_a", "app_20260115T110000Z_b"].map(backup) as [Backup, Backup];
    const local = same[0].createdAt;
    const day = `${local.getFullYear()}-${String(local.getMonth() + 1).padStart(2, "0")}-${String(local.getDate()).padStart(2, "0")}`;
    const chosen = selectBackup([{ ...same[0], complete: false }, same[1]], "app", day);
    expect({ id: chosen.backup.id, skipped: chosen.skipped.map((x) => x.id) }).toEqual({
      id: same[1].id,
      skipped: [same[0].id],
    });
    expect(() => selectBackup([{ ...same[0], complete: false }], "app", day)).toThrow(/no complete backup of app on /);
  });
  test("nothing, several, or another service's backup: usage errors", () => {
    expect(() => selectBackup(list, "app", "2020-01-01")).toThrow(UsageError);
    expect(() => selectBackup(list, "app", "app_202601")).toThrow(/matches 3 backups/);
    expect(() => selectBackup(list, "app", "other_20260117T030000Z_a")).toThrow(UsageError);
    expect(() => selectBackup(list, "nothing", "latest")).toThrow(/no backups of nothing/);
  });
  test("latest and a date pick regular backups only; a safety backup is picked by its id", () => {
    const safety = undoPoint("app_20260116T040000Z_a");
    const chosen = selectBackup([safety, ...list], "app", "latest");
    expect(chosen.backup.id).toBe(list[0]!.id);
    const local = safety.createdAt;
    const day = `${local.getFullYear()}-${String(local.getMonth() + 1).padStart(2, "0")}-${String(local.getDate()).padStart(2, "0")}`;
    expect(selectBackup([safety, ...list], "app", day).backup.kind).toBe("scheduled");
    expect(selectBackup([safety, ...list], "app", safety.id).backup.id).toBe(safety.id);
    expect(() => selectBackup([safety], "app", "latest")).toThrow(/only safety backups .*--undo/);
  });
  test("a date that is no date (2026-13-45, 2026-02-30) is a usage error saying so", () => {
    for (const bad of ["2026-13-45", "2026-02-30", "2026-00-10"]) {
      expect(() => selectBackup(list, "app", bad)).toThrow(UsageError);
      expect(() => selectBackup(list, "app", bad)).toThrow(/not a date \(YYYY-MM-DD\)/);
    }
  });
  test("--undo: this host's newest safety backup, not another host's; none is a usage error", () => {
    const mineOld = undoPoint("app_20260114T040000Z_a");
    const mineNew = undoPoint("app_20260115T040000Z_a");
    const theirs = undoPoint("app_20260116T050000Z_b");
    expect(selectUndo([theirs, ...list, mineNew, mineOld], "app", "a").id).toBe(mineNew.id);
    expect(() => selectUndo([theirs, ...list], "app", "a")).toThrow(/nothing to undo/);
  });
});
