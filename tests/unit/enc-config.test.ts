/**
 * backup.yaml's `encryption:` mistakes: each a ConfigError at the file, line and column it is
 * about (backup.yaml's, or the recipients or identity file's), and never quoting a secret key.
 */
import { afterAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { generateIdentity, identityToRecipient } from "age-encryption";
import { openingKeys, sealingKeys } from "../../src/app/archive-sealing.ts";
import { loadBackupConfig } from "../../src/config/backup-config.ts";
import { ConfigError } from "../../src/config/config-error.ts";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "tools-backup-enc-config-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
let counter = 0;

const IDENTITY = await generateIdentity();
const RECIPIENT = await identityToRecipient(IDENTITY);
const SSH_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl me@host";

/** A fresh folder holding backup.yaml (`yaml`, `$D` standing for the folder) and the given files with modes. */
function project(yaml: string, files: Record<string, [string, number]> = {}): { dir: string; config: string } {
  const dir = path.join(tmp, `t${counter++}`);
  fs.mkdirSync(dir, { recursive: true });
  for (const [name, [content, mode]] of Object.entries(files)) {
    fs.writeFileSync(path.join(dir, name), content, { mode });
    fs.chmodSync(path.join(dir, name), mode);
  }
  const config = path.join(dir, "backup.yaml");
  fs.writeFileSync(config, `backup_dir: ./b\n${yaml.replaceAll("$D", dir)}`);
  return { dir, config };
}

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error("expected a ConfigError");
}

const load = (config: string) => loadBackupConfig(config, {}, "/home/u");
/** The error loading backup.yaml gives, and where it points. */
function loadErr(yaml: string, files: Record<string, [string, number]> = {}) {
  const { dir, config } = project(yaml, files);
  const e = configError(() => load(config));
  return { e, dir, config, where: [path.relative(dir, e.file), e.line, e.col] };
}
/** The error opening the identities gives (they are read only when an archive is opened). */
function openErr(yaml: string, files: Record<string, [string, number]>) {
  const { dir, config } = project(yaml, files);
  const e = configError(() => openingKeys(load(config).encryption));
  return { e, where: [path.relative(dir, e.file), e.line, e.col] };
}

describe("encryption: in backup.yaml", () => {
  test("a good configuration loads: keys, files of keys, identities", () => {
    const { config, dir } = project(
      `encryption:\n  recipients:\n    - ${RECIPIENT}\n    - ./r.txt\n  identity: ./id.key\n`,
      { "r.txt": [`# team\n\n  ${RECIPIENT}\n`, 0o644], "id.key": [`# created\n${IDENTITY}\n`, 0o600] },
    );
    const enc = load(config).encryption!;
    expect(enc.recipients).toEqual([RECIPIENT, RECIPIENT]);
    expect(enc.identities.map((i) => i.file)).toEqual([path.join(dir, "id.key")]);
    expect(openingKeys(enc).identities).toEqual([IDENTITY]);
  });

  test("a malformed recipient points at it in backup.yaml", () => {
    const { e, where } = loadErr(`encryption:\n  recipients:\n    - ${RECIPIENT}\n    - age1qqqqnotakey\n`);
    expect(where).toEqual(["backup.yaml", 5, 7]);
    expect(e.message).toContain('encryption.recipients[1]: not a valid age public key: "age1qqqqnotakey"');
  });

  test("a malformed line of a recipients file points at that file's line and column", () => {
    const { e, where } = loadErr("encryption:\n  recipients: [./r.txt]\n", {
      "r.txt": [`# keys\n${RECIPIENT}\n\n   age1broken\n`, 0o644],
    });
    expect(where).toEqual(["r.txt", 4, 4]);
    expect(e.message).toContain('not a valid age public key: "age1broken"');
  });

  test("an SSH key as recipient is named as such, in backup.yaml and in a recipients file", () => {
    const inline = loadErr(`encryption:\n  recipients:\n    - "${SSH_KEY}"\n`);
    expect(inline.where).toEqual(["backup.yaml", 4, 7]);
    expect(inline.e.message).toContain("encryption.recipients[0]: SSH keys are not supported as recipients");
    const inFile = loadErr("encryption:\n  recipients: [./r.txt]\n", { "r.txt": [`${SSH_KEY}\n`, 0o644] });
    expect(inFile.where).toEqual(["r.txt", 1, 1]);
    expect(inFile.e.message).toContain("SSH keys are not supported as recipients");
  });

  test("an empty list of recipients", () => {
    const { e, where } = loadErr("encryption:\n  recipients: []\n");
    expect(where).toEqual(["backup.yaml", 3, 15]);
    expect(e.message).toContain("encryption.recipients: the list is empty");
  });

  test("recipients and passphrase_file together", () => {
    const { e, where } = loadErr(`encryption:\n  recipients: [${RECIPIENT}]\n  passphrase_file: ./pass\n`, {
      pass: ["secret words\n", 0o600],
    });
    expect(where).toEqual(["backup.yaml", 4, 20]);
    expect(e.message).toContain("use recipients or passphrase_file, not both");
  });

  test("an empty passphrase file, and one readable by others", () => {
    const empty = loadErr("encryption:\n  passphrase_file: ./pass\n", { pass: ["\n", 0o600] });
    expect(empty.where).toEqual(["backup.yaml", 3, 20]);
    expect(empty.e.message).toMatch(/encryption\.passphrase_file: \S+pass is empty/);
    const open = loadErr("encryption:\n  passphrase_file: ./pass\n", { pass: ["a long secret phrase\n", 0o644] });
    expect(open.where).toEqual(["backup.yaml", 3, 20]);
    expect(open.e.message).toMatch(/readable by others \(mode 644\): chmod 600 /);
    expect(open.e.message).not.toContain("a long secret phrase");
  });

  test("encryption: {} says what it needs, at the key", () => {
    const { e, where } = loadErr("encryption: {}\n");
    expect(where).toEqual(["backup.yaml", 2, 1]);
    expect(e.message).toContain("encryption: needs recipients, passphrase_file or identity");
  });

  test("an unknown key under encryption suggests the known one", () => {
    const { e, where } = loadErr(`encryption:\n  identity: ./id.key\n  recipiants: [${RECIPIENT}]\n`);
    expect(where).toEqual(["backup.yaml", 4, 3]);
    expect(e.message).toContain('unknown key "recipiants" (did you mean "recipients"?)');
  });

  test("a secret key written as a recipient or as the identity's path is refused without quoting it", () => {
    const asRecipient = loadErr(`encryption:\n  recipients: [${IDENTITY}]\n`);
    expect(asRecipient.where).toEqual(["backup.yaml", 3, 16]);
    expect(asRecipient.e.message).toContain("a secret key (identity) is not a recipient");
    const asIdentity = loadErr(`encryption:\n  identity: [./id.key, ${IDENTITY}]\n`);
    expect(asIdentity.where).toEqual(["backup.yaml", 3, 24]);
    expect(asIdentity.e.message).toContain("encryption.identity[1]: give the path of a file holding the identity");
    // The identity file named as a recipients file: the mistake most likely to print a secret key.
    const idFile = loadErr("encryption:\n  recipients: [./id.key]\n", { "id.key": [`# k\n${IDENTITY}\n`, 0o600] });
    expect(idFile.where).toEqual(["id.key", 2, 1]);
    for (const { e } of [asRecipient, asIdentity, idFile]) {
      expect(e.message).not.toContain(IDENTITY);
      expect(e.message).not.toContain(IDENTITY.slice(16, 40));
    }
  });
});

describe("identity files, read when an archive is opened", () => {
  test("readable by others: an error at the identity's place in backup.yaml", () => {
    const { e, where } = openErr(`encryption:\n  recipients: [${RECIPIENT}]\n  identity: ./id.key\n`, {
      "id.key": [`${IDENTITY}\n`, 0o644],
    });
    expect(where).toEqual(["backup.yaml", 4, 13]);
    expect(e.message).toMatch(/encryption\.identity: \S+id\.key is readable by others \(mode 644\): chmod 600/);
  });

  test("a bad line: the identity file's line and column, never the line itself", () => {
    const typo = `AGE-SECRET-KEY-1${IDENTITY.slice(16, -1)}${IDENTITY.endsWith("Q") ? "P" : "Q"}`;
    const { e, where } = openErr(`encryption:\n  identity: [./good.key, ./id.key]\n`, {
      "good.key": [`${IDENTITY}\n`, 0o600],
      "id.key": [`# created: today\n# public key: ${RECIPIENT}\n  ${typo}\n`, 0o600],
    });
    expect(where).toEqual(["id.key", 3, 3]);
    expect(e.message).toContain("not an age identity");
    expect(e.message).not.toContain(typo);
    expect(e.message).not.toContain(typo.slice(16, 40));
  });

  test("a file with no identity points at its entry in backup.yaml, by its index", () => {
    const { e, where } = openErr(`encryption:\n  identity: [./good.key, ./id.key]\n`, {
      "good.key": [`${IDENTITY}\n`, 0o600],
      "id.key": ["# nothing here\n", 0o600],
    });
    expect(where).toEqual(["backup.yaml", 3, 26]);
    expect(e.message).toMatch(/encryption\.identity\[1\]: \S+id\.key holds no age identity/);
  });

  test("only identities: new archives are sealed to their public keys, a bad file is an error then", async () => {
    const { config } = project("encryption:\n  identity: ./id.key\n", { "id.key": [`${IDENTITY}\n`, 0o600] });
    expect((await sealingKeys(load(config).encryption!)).recipients).toEqual([RECIPIENT]);
    fs.chmodSync(path.join(path.dirname(config), "id.key"), 0o640);
    expect(sealingKeys(load(config).encryption!)).rejects.toBeInstanceOf(ConfigError);
  });
});
