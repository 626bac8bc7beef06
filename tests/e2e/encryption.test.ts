/**
 * Encrypted backups (issue 32) through the compiled binary and the real engine, with the reference
 * age CLI as the independent implementation on the other side: it opens every kind of archive we
 * write, we restore what it seals; round trips with one and two recipients and a passphrase;
 * encryption turned on, and a key changed, with older backups still restorable.
 */
import { afterAll, afterEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { ageDecrypt, ageDecryptWithPassphrase, ageEncrypt, ageKeygen, restoreByHand } from "../helpers/age-cli.ts";
import { extract, sha256, snapshot } from "../helpers/archive.ts";
import { cleanupCliTemp, tempDir } from "../helpers/cli.ts";
import { cleanupDocker, fillVolume, isRunning } from "../helpers/docker.ts";
import { agreeManifest, encryptedService, passphraseFile, setEncryption } from "../helpers/encryption-kit.ts";
import { readJson } from "../helpers/project.ts";
import { backupOk, cleanupApps, exists, listed, state, tb } from "../helpers/restore-kit.ts";
import { data, RESTORE_OK, scripted } from "../helpers/scripted.ts";

setDefaultTimeout(150_000);
afterEach(() => {
  cleanupApps();
  cleanupDocker();
});
afterAll(cleanupCliTemp);

const CHANGE = "echo added > added.txt && echo changed > modify.txt && rm sub/deep.txt";

/** The manifest's `archive.encryption`. */
const encryptionOf = (manifest: string) => readJson(manifest).archive.encryption;

describe("the age CLI opens every kind of archive we write", () => {
  test("a regular backup, made with recipients only: age -d | zstd -d | tar -x gives the volume back", () => {
    const a = ageKeygen();
    const s = encryptedService({ recipients: [a.recipient] });
    const original = state(s.vol);
    const b = backupOk(s);
    expect(b.file).toEndWith(".tar.zst.age");
    expect(encryptionOf(b.manifest)).toEqual({
      format: "age-encryption.org/v1",
      recipients: [a.recipient],
      passphrase: false,
    });
    expect(readJson(b.manifest).archive.sha256).toBe(sha256(b.file)); // the ciphertext's
    expect(fs.readFileSync(b.file).subarray(0, 22).toString()).toBe("age-encryption.org/v1\n");
    expect(snapshot(path.join(restoreByHand(b.file, a.file, "zstd"), s.vol))).toEqual(original);
  });

  test("a gzip-compressed backup: age -d | gzip -d | tar -x", () => {
    const a = ageKeygen();
    const s = encryptedService({ recipients: [a.recipient] }, { compression: "gzip" });
    const original = state(s.vol);
    const b = backupOk(s);
    expect(b.file).toEndWith(".tar.gz.age");
    expect(readJson(b.manifest).archive).toMatchObject({ compression: "gzip", sha256: sha256(b.file) });
    expect(snapshot(path.join(restoreByHand(b.file, a.file, "gzip"), s.vol))).toEqual(original);
  });

  test("X25519 round trip through restore; the safety backup it makes opens with age -d to the data before", () => {
    const a = ageKeygen();
    const s = encryptedService({ recipients: [a.recipient], identity: a.file });
    const original = state(s.vol);
    backupOk(s);
    fillVolume(s.vol, CHANGE);
    const changed = state(s.vol);

    const r = tb(s, ["restore", s.name, "--yes"]);
    expect({ code: r.code, stderr: r.stderr }).toMatchObject({ code: 0 });
    expect(state(s.vol)).toEqual(original);
    expect(isRunning(s.container!)).toBe(true);

    const safety = listed(s).filter((x) => x.kind === "pre-restore");
    expect(safety).toHaveLength(1);
    expect(safety[0]!.file).toEndWith(".tar.zst.age");
    expect(encryptionOf(safety[0]!.manifest)).toMatchObject({ recipients: [a.recipient], passphrase: false });
    expect(snapshot(path.join(restoreByHand(safety[0]!.file, a.file, "zstd"), s.vol))).toEqual(changed);
  });

  test("a lifecycle script's backup: age -d gives the script's file; restore.sh gets it in the clear, then it is gone", () => {
    const a = ageKeygen();
    const s = scripted({
      "backup.sh": 'cat data.txt > "$BACKUP_FILE"',
      "restore.sh": `echo "$BACKUP_FILE" >> restored-from.txt\n${RESTORE_OK}`,
    });
    setEncryption(s, { recipients: [a.recipient], identity: a.file });
    const b = backupOk(s);
    expect(b.file).toEndWith(".age");
    expect(encryptionOf(b.manifest)).toMatchObject({ recipients: [a.recipient] });
    expect(fs.readFileSync(b.file).includes("payload-1")).toBe(false);
    expect(ageDecrypt(b.file, a.file).toString()).toBe("payload-1\n");

    fs.writeFileSync(path.join(s.dir, "data.txt"), "payload-2\n");
    const r = tb(s, ["restore", s.name, "--yes"]);
    expect({ code: r.code, stderr: r.stderr }).toMatchObject({ code: 0 });
    expect(data(s)).toBe("payload-1\n");
    const given = fs.readFileSync(path.join(s.dir, "restored-from.txt"), "utf8").trim();
    expect(given.startsWith(s.p.stateHome)).toBe(true); // decrypted on this machine's state folder only
    expect(fs.existsSync(given)).toBe(false);
    const safety = listed(s).find((x) => x.kind === "pre-restore")!;
    expect(ageDecrypt(safety.file, a.file).toString()).toBe("payload-2\n");
  });
});

describe("we open what the age CLI seals", () => {
  test("an archive decrypted by age and sealed again by `age -r` (manifest's size and sha256 fixed) restores", () => {
    const a = ageKeygen();
    const s = encryptedService({ identity: a.file });
    const original = state(s.vol);
    const b = backupOk(s);
    const resealed = ageEncrypt(ageDecrypt(b.file, a.file), [a.recipient]);
    expect(resealed.equals(fs.readFileSync(b.file))).toBe(false);
    fs.writeFileSync(b.file, resealed);
    agreeManifest(b.manifest, b.file);
    fillVolume(s.vol, CHANGE);

    expect(tb(s, ["verify", s.name, "--deep"]).code).toBe(0);
    const r = tb(s, ["restore", s.name, "--yes", "--from", b.id]);
    expect({ code: r.code, stderr: r.stderr }).toMatchObject({ code: 0 });
    expect(state(s.vol)).toEqual(original);
  });
});

describe("round trips through the binary", () => {
  test("two recipients: each of the two identities alone restores, byte for byte", () => {
    const [a, b2] = [ageKeygen(), ageKeygen()];
    const s = encryptedService({ recipients: [a.recipient, b2.recipient] });
    const original = state(s.vol);
    const b = backupOk(s);
    expect(encryptionOf(b.manifest).recipients).toEqual([a.recipient, b2.recipient]);
    for (const key of [a, b2]) {
      setEncryption(s, { recipients: [a.recipient, b2.recipient], identity: key.file });
      fillVolume(s.vol, CHANGE);
      const r = tb(s, ["restore", s.name, "--yes", "--from", b.id, "--no-safety-backup"]);
      expect({ code: r.code, stderr: r.stderr }).toMatchObject({ code: 0 });
      expect(state(s.vol)).toEqual(original);
    }
  });

  test("passphrase_file: restores, and the age CLI opens the archive with the passphrase", async () => {
    const s = encryptedService({ passphrase_file: passphraseFile("a long passphrase, 7 words") });
    const original = state(s.vol);
    const b = backupOk(s);
    expect(encryptionOf(b.manifest)).toEqual({ format: "age-encryption.org/v1", recipients: [], passphrase: true });
    expect(fs.readFileSync(b.file).toString("latin1")).toContain("\n-> scrypt ");

    const plain = path.join(tempDir("tbtest-plain-"), "archive.tar.zst");
    fs.writeFileSync(plain, await ageDecryptWithPassphrase(b.file, "a long passphrase, 7 words"));
    expect(snapshot(path.join(extract(plain, "zstd"), s.vol))).toEqual(original);

    fillVolume(s.vol, CHANGE);
    const r = tb(s, ["restore", s.name, "--yes"]);
    expect({ code: r.code, stderr: r.stderr }).toMatchObject({ code: 0 });
    expect(state(s.vol)).toEqual(original);
    expect(encryptionOf(listed(s).find((x) => x.kind === "pre-restore")!.manifest)).toMatchObject({
      passphrase: true,
    });
  });
});

describe("turning encryption on, changing the key", () => {
  test("after encryption is turned on, the older unencrypted backup stays listed, verified and restorable", () => {
    const a = ageKeygen();
    const s = encryptedService(undefined);
    const first = state(s.vol);
    const plain = backupOk(s);
    expect(plain.file).toEndWith(".tar.zst");
    expect(encryptionOf(plain.manifest)).toBeUndefined();

    setEncryption(s, { recipients: [a.recipient], identity: a.file });
    fillVolume(s.vol, "echo second > second.txt");
    const second = state(s.vol);
    const sealed = backupOk(s);
    expect(sealed.file).toEndWith(".tar.zst.age");
    expect(listed(s).map((x) => x.id)).toEqual([sealed.id, plain.id]);
    const v = tb(s, ["verify", s.name, "--deep"]);
    expect({ code: v.code, stderr: v.stderr }).toMatchObject({ code: 0 });
    expect(v.stderr).toContain(`${plain.id}: ok`);

    const r = tb(s, ["restore", s.name, "--yes", "--from", plain.id]);
    expect({ code: r.code, stderr: r.stderr }).toMatchObject({ code: 0 });
    expect(state(s.vol)).toEqual(first);
    expect(exists(s.vol, "second.txt")).toBe(false);
    const again = tb(s, ["restore", s.name, "--yes", "--from", sealed.id]);
    expect({ code: again.code, stderr: again.stderr }).toMatchObject({ code: 0 });
    expect(state(s.vol)).toEqual(second);
  });

  test("after a key change (identity: the old and the new file), old and new archives both restore", () => {
    const [old, now] = [ageKeygen(), ageKeygen()];
    const s = encryptedService({ identity: old.file });
    const first = state(s.vol);
    const before = backupOk(s);
    expect(encryptionOf(before.manifest).recipients).toEqual([old.recipient]);

    setEncryption(s, { recipients: [now.recipient], identity: [old.file, now.file] });
    fillVolume(s.vol, "echo second > second.txt");
    const second = state(s.vol);
    const after = backupOk(s);
    expect(encryptionOf(after.manifest).recipients).toEqual([now.recipient]);

    for (const [b, want] of [
      [before, first],
      [after, second],
      [before, first],
    ] as const) {
      const r = tb(s, ["restore", s.name, "--yes", "--from", b.id]);
      expect({ code: r.code, stderr: r.stderr }).toMatchObject({ code: 0 });
      expect(state(s.vol)).toEqual(want);
    }
    // The safety backups the restores made are sealed for the new key only.
    for (const x of listed(s).filter((x) => x.kind === "pre-restore"))
      expect(encryptionOf(x.manifest).recipients).toEqual([now.recipient]);

    // Without the old file in the list, the old archive no longer opens.
    setEncryption(s, { recipients: [now.recipient], identity: now.file });
    const r = tb(s, ["restore", s.name, "--yes", "--from", before.id]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(old.recipient);
  });
});
