/** Editing backup.yaml: only the edited values change, comments, order and spacing stay byte for byte. */
import { afterAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parse } from "yaml";
import { loadBackupConfig } from "../../src/config/backup-config.ts";
import { editConfigText } from "../../src/config/edit-config.ts";
import { describeEdits, effectiveEdits } from "../../src/config/edit-summary.ts";
import { newConfigText, saveConfigText } from "../../src/config/write-config.ts";

const EXAMPLE = fs.readFileSync(path.join(import.meta.dir, "..", "..", "backup.yaml.example"), "utf8");
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "tools-backup-edit-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** The lines of `after` that differ from `before`, compared line by line (same line count expected). */
function changedLines(before: string, after: string): string[] {
  const a = before.split("\n");
  const b = after.split("\n");
  expect(b.length).toBe(a.length);
  return b.filter((line, i) => line !== a[i]);
}

describe("editConfigText", () => {
  test("an alias value is replaced by the plain new value; only that key changes", () => {
    const text = "services:\n  a: &on true   # x\n  b: *on\n";
    expect(editConfigText(text, { services: { b: false } })).toBe("services:\n  a: &on true   # x\n  b: false\n");
    expect(editConfigText("retention_days: &r 7\nkeep_last: *r  # same\n", { keep_last: 2 })).toBe(
      "retention_days: &r 7\nkeep_last: 2  # same\n",
    );
  });

  test("an anchored value others refer to: its users keep the old value as copies", () => {
    expect(editConfigText("retention_days: &r 7\nkeep_last: *r\n", { retention_days: 9 })).toBe(
      "retention_days: 9\nkeep_last: 7\n",
    );
    const out = editConfigText("services:\n  a: &on true\n  b: *on\n  c: *on\n", { services: { a: false } });
    expect(parse(out)).toEqual({ services: { a: false, b: true, c: true } });
  });

  test("a key under an aliased mapping is refused, naming it", () => {
    expect(() => editConfigText("x: &s {a: true}\nservices: *s\n", { services: { b: true } })).toThrow("services.b");
  });

  test("keys added to a flow mapping or an empty services: change only that part", () => {
    const head = "backup_dir: /tmp   # c\nretention_days:   7\n";
    expect(editConfigText(`${head}services: {a: true}\n`, { services: { b: true, c: true } })).toBe(
      `${head}services: {a: true, b: true, c: true}\n`,
    );
    expect(editConfigText(`${head}services: {}\n`, { services: { b: true, c: true } })).toBe(
      `${head}services: {b: true, c: true}\n`,
    );
    expect(editConfigText(`${head}services:   # mine\n`, { services: { b: true, c: true } })).toBe(
      `${head}services:   # mine\n  b: true\n  c: true\n`,
    );
    expect(editConfigText(`${head}services:\n  a: true\n`, { services: { b: true, c: true } })).toBe(
      `${head}services:\n  a: true\n  b: true\n  c: true\n`,
    );
  });

  test("toggling a service changes that one line, its comment and spacing kept", () => {
    const out = editConfigText(EXAMPLE, { services: { langfuse: true } });
    expect(changedLines(EXAMPLE, out)).toEqual([
      "  langfuse: true     # too large: its ClickHouse data grows by gigabytes",
    ]);
    expect(parse(out).services.langfuse).toBe(true);
  });

  test("scalars are replaced in place: numbers, a path with spaces, compression", () => {
    const out = editConfigText(EXAMPLE, {
      retention_days: 14,
      keep_last: 5,
      compression: "gzip",
      backup_dir: "~/Dropbox/Backups/tools",
    });
    expect(changedLines(EXAMPLE, out)).toEqual([
      "backup_dir: ~/Dropbox/Backups/tools",
      "retention_days: 14",
      "keep_last: 5",
      "compression: gzip",
    ]);
  });

  test("a value that needs quotes gets them; a quoted value keeps its quote style", () => {
    const quoted = 'backup_dir: "/srv/backups"  # where\nservices:\n  a: true\n';
    const out = editConfigText(quoted, { backup_dir: "/srv/other: place" });
    expect(out).toBe('backup_dir: "/srv/other: place"  # where\nservices:\n  a: true\n');
    const plain = editConfigText("backup_dir: /x\n", { backup_dir: "#not a comment" });
    expect(parse(plain).backup_dir).toBe("#not a comment");
  });

  test("a new service is added as one line at the end of its block, indented like the others", () => {
    const text = "backup_dir: /b\nservices:\n    a: true   # keep me\n    b: false\n# trailing comment\n";
    const out = editConfigText(text, { services: { c: true } });
    expect(out).toBe(
      "backup_dir: /b\nservices:\n    a: true   # keep me\n    b: false\n    c: true\n# trailing comment\n",
    );
  });

  test("turning off a service that is not listed adds nothing", () => {
    expect(editConfigText(EXAMPLE, { services: { nothere: false } })).toBe(EXAMPLE);
    expect(editConfigText(EXAMPLE, { services: { openmemory: true } })).toBe(EXAMPLE);
  });

  test("a missing optional key is added, without a trailing newline too", () => {
    expect(editConfigText("backup_dir: /b # c\nservices:\n  a: true", { keep_last: 9 })).toBe(
      "backup_dir: /b # c\nservices:\n  a: true\nkeep_last: 9\n",
    );
    const both = editConfigText("backup_dir: /b # c\nservices:\n  a: true   # x\n", {
      keep_last: 9,
      services: { b: true },
    });
    expect(both).toBe("backup_dir: /b # c\nservices:\n  a: true   # x\n  b: true\nkeep_last: 9\n");
  });

  test("keys added to an empty services: or a flow mapping keep the rest of the file", () => {
    const empty = "# my comment\nbackup_dir: /b\nservices:\n";
    const out = editConfigText(empty, { services: { a: true, b: true } });
    expect(parse(out)).toEqual({ backup_dir: "/b", services: { a: true, b: true } });
    expect(out).toContain("# my comment");
    const flow = editConfigText("backup_dir: /b\nservices: { a: true }\n", { services: { b: true } });
    expect(parse(flow)).toEqual({ backup_dir: "/b", services: { a: true, b: true } });
  });

  test("an empty file becomes a mapping", () => {
    expect(parse(editConfigText("", { backup_dir: "/b" }))).toEqual({ backup_dir: "/b" });
  });
});

describe("summary", () => {
  test("only real changes are listed", () => {
    const edits = { retention_days: 7, keep_last: 4, services: { openmemory: true, piper: true, langfuse: false } };
    expect(effectiveEdits(EXAMPLE, edits)).toEqual({ keep_last: 4, services: { piper: true } });
    expect(describeEdits(EXAMPLE, edits)).toEqual(["keep_last: 3 -> 4", "services.piper: off -> on"]);
  });
});

describe("new file and saving", () => {
  test("newConfigText is commented, valid and holds the chosen values", async () => {
    const text = newConfigText({
      backup_dir: "~/Google Drive/Backups/tools",
      retention_days: 10,
      keep_last: 3,
      compression: "zstd",
      services: { a: true, b: false },
    });
    expect(text).toContain("# Where archives go");
    expect(parse(text)).toEqual({
      backup_dir: "~/Google Drive/Backups/tools",
      retention_days: 10,
      keep_last: 3,
      compression: "zstd",
      services: { a: true },
    });
    const file = path.join(tmp, "new", "tools", "backup.yaml");
    const config = await saveConfigText(file, text);
    expect(config.retentionDays).toBe(10);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(fs.readFileSync(file, "utf8")).toBe(text);
    expect(fs.readdirSync(path.dirname(file))).toEqual(["backup.yaml"]);
  });

  test("a file that would not load is put back as it was", async () => {
    const file = path.join(tmp, "backup.yaml");
    fs.writeFileSync(file, "backup_dir: /b\n");
    await expect(saveConfigText(file, "backup_dir: /b\nretention_days: 0\n")).rejects.toThrow(/retention_days/);
    expect(fs.readFileSync(file, "utf8")).toBe("backup_dir: /b\n");
    expect(loadBackupConfig(file).backupDir).toBe("/b");
  });
});

describe("retention by calendar or by age", () => {
  const AGE =
    "# mine\nbackup_dir: /b    # synced\nretention_days: 7   # a week\nkeep_last: 3\n\nservices:\n  a: true  # x\n";
  const CAL =
    "# mine\nbackup_dir: /b    # synced\n\nservices:\n  a: true  # x\nretention:\n  keep_daily: 7\n  keep_yearly: 3\n";

  test("by calendar: retention_days and keep_last go with their lines, retention: comes at the end", () => {
    const edits = { retention: { keep_daily: 7, keep_yearly: 3 }, retention_days: 9 };
    expect(editConfigText(AGE, edits)).toBe(CAL);
    expect(describeEdits(AGE, edits)).toEqual(["retention: by age -> keep_daily 7, keep_yearly 3"]);
    const file = path.join(tmp, "cal.yaml");
    fs.writeFileSync(file, CAL);
    expect(loadBackupConfig(file).retention.calendar).toMatchObject({ daily: 7, yearly: 3, last: 0 });
  });

  test("a calendar changed in place; back by age removes it, the days written again", () => {
    const changed = editConfigText(CAL, { retention: { keep_last: 2, keep_daily: 7 } });
    expect(changed).toBe(CAL.replace("  keep_daily: 7\n  keep_yearly: 3\n", "  keep_last: 2\n  keep_daily: 7\n"));
    const back = editConfigText(CAL, { retention: null, retention_days: 10 });
    expect(back).toBe("# mine\nbackup_dir: /b    # synced\n\nservices:\n  a: true  # x\nretention_days: 10\n");
    expect(describeEdits(CAL, { retention: null, retention_days: 10 })).toEqual([
      "retention_days: 7 -> 10",
      "retention: keep_daily 7, keep_yearly 3 -> by age",
    ]);
    expect(effectiveEdits(CAL, { retention: { keep_daily: 7, keep_yearly: 3 } })).toEqual({});
    // By age already: not a byte changes, a missing last newline included.
    expect(editConfigText("backup_dir: /b", { retention: null })).toBe("backup_dir: /b");
  });
});
