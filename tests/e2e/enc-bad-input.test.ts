/**
 * backup.yaml's `encryption:` mistakes through the compiled binary against a real engine: each a
 * configuration error (exit 2) naming file:line:col, before any container stops, nothing written,
 * and a line of an identity file (perhaps a secret key with a typo) never shown.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { generateIdentity, identityToRecipient } from "age-encryption";
import { cleanupCliTemp, type RunResult, stackLines } from "../helpers/cli.ts";
import { cleanupDocker, isRunning, startedAt } from "../helpers/docker.ts";
import { backupOk, cleanupApps, type Listed, type Svc, service, tb } from "../helpers/restore-kit.ts";

setDefaultTimeout(120_000);

const IDENTITY = await generateIdentity();
const RECIPIENT = await identityToRecipient(IDENTITY);
const SSH_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl me@host";

let s: Svc;
let made: Listed;

/** backup.yaml with `encryption` from line 4 on, and files beside it (name -> content, mode). */
function configure(encryption: string, files: Record<string, [string, number]> = {}): void {
  for (const [name, [content, mode]] of Object.entries(files)) {
    const file = path.join(s.p.root, name);
    fs.rmSync(file, { force: true });
    fs.writeFileSync(file, content, { mode });
    fs.chmodSync(file, mode);
  }
  s.p.writeConfig(`backup_dir: ${s.p.backupDir}\nservices:\n  ${s.name}: true\n${encryption}`);
}

/** Every file under the backup folder and the state folder, with its size and mtime. */
function written(): string[] {
  const out: string[] = [];
  for (const top of [s.p.backupDir, s.p.stateHome]) {
    if (!fs.existsSync(top)) continue;
    for (const rel of fs.readdirSync(top, { recursive: true }) as string[]) {
      const st = fs.statSync(path.join(top, rel));
      out.push(`${path.join(top, rel)} ${st.isFile() ? st.size : "dir"} ${st.mtimeMs}`);
    }
  }
  return out.sort();
}

/** Runs `args`; expects exit 2 with `file:line:col: ` and `says`, the container untouched, nothing written. */
function expectConfigError(args: string[], where: [string, number, number], ...says: (string | RegExp)[]): RunResult {
  const before = { files: written(), started: startedAt(s.container!) };
  const r = tb(s, args);
  expect({ code: r.code, stderr: r.stderr }).toMatchObject({ code: 2 });
  expect(stackLines(r.stderr)).toEqual([]);
  expect(r.stdout).toBe("");
  const [file, line, col] = where;
  expect(r.stderr).toContain(`${path.join(s.p.root, file)}:${line}:${col}: `);
  for (const p of says) expect(r.stderr).toMatch(p);
  expect(r.stderr).not.toMatch(/stopping|archiving/);
  expect(isRunning(s.container!)).toBe(true);
  expect(startedAt(s.container!)).toBe(before.started);
  expect(written()).toEqual(before.files);
  return r;
}

beforeAll(() => {
  s = service({ what: "encbad" });
  configure("encryption:\n  identity: ./id.key\n", { "id.key": [`# test\n${IDENTITY}\n`, 0o600] });
  made = backupOk(s);
  expect(made.file).toEndWith(".tar.zst.age");
});

afterAll(() => {
  cleanupApps();
  cleanupDocker();
  cleanupCliTemp();
});

describe("backup refuses a bad encryption: before any container stops", () => {
  const backup = () => ["backup", s.name];

  test("a malformed recipient in backup.yaml", () => {
    configure(`encryption:\n  recipients:\n    - ${RECIPIENT}\n    - age1notakey\n`);
    expectConfigError(backup(), ["backup.yaml", 7, 7], /encryption\.recipients\[1\]: not a valid age public key/);
  });

  test("a malformed line in a recipients file: that file's line and column", () => {
    configure("encryption:\n  recipients: [./team.txt]\n", {
      "team.txt": [`# the team\n${RECIPIENT}\n  age1broken\n`, 0o644],
    });
    expectConfigError(backup(), ["team.txt", 3, 3], /not a valid age public key: "age1broken"/);
  });

  test("an SSH key as recipient", () => {
    configure(`encryption:\n  recipients:\n    - "${SSH_KEY}"\n`);
    expectConfigError(backup(), ["backup.yaml", 6, 7], /SSH keys are not supported as recipients/);
  });

  test("recipients: []", () => {
    configure("encryption:\n  recipients: []\n");
    expectConfigError(backup(), ["backup.yaml", 5, 15], /encryption\.recipients: the list is empty/);
  });

  test("recipients and passphrase_file together", () => {
    configure(`encryption:\n  recipients: [${RECIPIENT}]\n  passphrase_file: ./pass\n`, {
      pass: ["correct horse\n", 0o600],
    });
    expectConfigError(backup(), ["backup.yaml", 6, 20], /use recipients or passphrase_file, not both/);
  });

  test("an empty passphrase file", () => {
    configure("encryption:\n  passphrase_file: ./pass\n", { pass: ["\n", 0o600] });
    expectConfigError(backup(), ["backup.yaml", 5, 20], /encryption\.passphrase_file: \S+pass is empty/);
  });

  test("a passphrase file readable by others, its passphrase not shown", () => {
    configure("encryption:\n  passphrase_file: ./pass\n", { pass: ["correct horse battery\n", 0o644] });
    const r = expectConfigError(backup(), ["backup.yaml", 5, 20], /readable by others \(mode 644\): chmod 600/);
    expect(r.stderr).not.toContain("correct horse");
  });

  test("encryption: {}", () => {
    configure("encryption: {}\n");
    expectConfigError(backup(), ["backup.yaml", 4, 1], /encryption: needs recipients, passphrase_file or identity/);
  });

  test("an unknown key under encryption, with did-you-mean", () => {
    configure(`encryption:\n  recipients: [${RECIPIENT}]\n  pasphrase_file: ./pass\n`);
    expectConfigError(
      backup(),
      ["backup.yaml", 6, 3],
      /unknown key "pasphrase_file" \(did you mean "passphrase_file"\?\)/,
    );
  });

  test("only an identity, readable by others: new archives need it, so the backup (and its dry run) refuse", () => {
    configure("encryption:\n  identity: ./id.key\n", { "id.key": [`${IDENTITY}\n`, 0o644] });
    expectConfigError(backup(), ["backup.yaml", 5, 13], /encryption\.identity: \S+id\.key is readable by others/);
    expectConfigError(["backup", s.name, "--dry-run", "--json"], ["backup.yaml", 5, 13], /readable by others/);
  });
});

describe("opening an archive refuses a bad identity: restore, verify --deep, list --contents", () => {
  const opening = () => [
    ["restore", s.name, "--yes"],
    ["verify", s.name, "--deep"],
    ["list", "--contents", made.id],
  ];

  test("an identity file readable by others (0644)", () => {
    configure(`encryption:\n  recipients: [${RECIPIENT}]\n  identity: ./id.key\n`, {
      "id.key": [`${IDENTITY}\n`, 0o644],
    });
    for (const args of opening())
      expectConfigError(
        args,
        ["backup.yaml", 6, 13],
        /encryption\.identity: \S+id\.key is readable by others \(mode 644\)/,
      );
  });

  test("an identity file with a bad line: its line and column, the line itself never shown", () => {
    const typo = `AGE-SECRET-KEY-1${IDENTITY.slice(16, -1)}${IDENTITY.endsWith("Q") ? "P" : "Q"}`;
    configure(`encryption:\n  recipients: [${RECIPIENT}]\n  identity: [./good.key, ./id.key]\n`, {
      "good.key": [`${IDENTITY}\n`, 0o600],
      "id.key": [`# created: today\n# public key: ${RECIPIENT}\n${typo}\n`, 0o600],
    });
    for (const args of opening()) {
      const r = expectConfigError(args, ["id.key", 3, 1], /not an age identity/);
      for (const secret of [typo, IDENTITY, typo.slice(20, 44)]) expect(r.stderr).not.toContain(secret);
    }
  });

  test("with the identity fixed, verify --deep opens the same backup (nothing else was refused)", () => {
    configure(`encryption:\n  recipients: [${RECIPIENT}]\n  identity: ./id.key\n`, {
      "id.key": [`${IDENTITY}\n`, 0o600],
    });
    const r = tb(s, ["verify", s.name, "--deep"]);
    expect({ code: r.code, stderr: r.stderr }).toMatchObject({ code: 0 });
  });
});
