/** Editing backup.yaml's `encryption:` section: its lines are rewritten, every other byte stays. */
import { describe, expect, test } from "bun:test";
import { parse } from "yaml";
import { editEncryptionText, encryptionEntry, encryptionLines } from "../../src/config/edit-encryption.ts";

const HEAD = "# mine\nbackup_dir: /x   # synced\nservices:\n  a: true  # yes\n";
const KEY = "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p";
const LINES = `encryption:\n  recipients:\n    - ${KEY}\n  identity: /k/backup.key\n`;

describe("editEncryptionText", () => {
  test("a new section goes at the end after a blank line; the lines are what encryptionLines shows", () => {
    const entry = { recipients: [KEY], identity: "/k/backup.key" };
    expect(`${encryptionLines(entry).join("\n")}\n`).toBe(LINES);
    expect(editEncryptionText(HEAD, entry)).toBe(`${HEAD}\n${LINES}`);
    expect(editEncryptionText(HEAD.trimEnd(), entry)).toBe(`${HEAD}\n${LINES}`);
  });

  test("an existing section is replaced by its new lines; the keys after it and their comments stay", () => {
    const text = `${HEAD}encryption:   # was a passphrase\n  passphrase_file: ~/p   # old\nkeep_last: 5  # five\n`;
    const out = editEncryptionText(text, { recipients: [KEY], identity: ["~/old.key", "/k/new key.key"] });
    expect(out).toBe(
      `${HEAD}encryption:\n  recipients:\n    - ${KEY}\n  identity:\n    - ~/old.key\n    - /k/new key.key\nkeep_last: 5  # five\n`,
    );
    expect(encryptionEntry(out)).toEqual({ recipients: [KEY], identity: ["~/old.key", "/k/new key.key"] });
  });

  test("removing the section removes only its lines; without one, nothing changes", () => {
    const on = editEncryptionText(HEAD, { recipients: [KEY] });
    expect(editEncryptionText(on, undefined)).toBe(`${HEAD}\n`);
    expect(editEncryptionText(HEAD, undefined)).toBe(HEAD);
    expect(encryptionEntry(HEAD)).toBeUndefined();
  });

  test("a flow mapping is rendered, not lost; a shared section is refused", () => {
    expect(parse(editEncryptionText("{backup_dir: /x, encryption: {identity: /k}}", undefined))).toEqual({
      backup_dir: "/x",
    });
    expect(() => editEncryptionText(`${HEAD}encryption: &e\n  identity: /k\n`, undefined)).toThrow(
      "anchors or aliases",
    );
  });
});
