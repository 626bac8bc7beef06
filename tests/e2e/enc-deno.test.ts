/**
 * Encrypted backups under Deno, whose payload cipher is node:crypto's ChaCha20-Poly1305 where the
 * compiled Bun binary uses the system's libcrypto: each restores what the other wrote, byte-exact,
 * and the age CLI opens Deno's archive.
 */
import { afterAll, afterEach, expect, setDefaultTimeout, test } from "bun:test";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { generateIdentity, identityToRecipient } from "age-encryption";
import { binaryEnv, cleanupCliTemp, REPO } from "../helpers/cli.ts";
import { denoBinary } from "../helpers/deno.ts";
import { checksums, cleanupDocker, fillVolume, isRunning } from "../helpers/docker.ts";
import { cleanupApps, FAST, FILL, type Listed, type Svc, service, state, tb } from "../helpers/restore-kit.ts";

setDefaultTimeout(180_000);
afterEach(() => {
  cleanupApps();
  cleanupDocker();
});
afterAll(cleanupCliTemp);

const IDENTITY = await generateIdentity();
const RECIPIENT = await identityToRecipient(IDENTITY);
/** Several 64 KiB chunks of random bytes: every chunk boundary and the last chunk's flag are crossed. */
const CONTENT = `${FILL}dd if=/dev/urandom of=random.bin bs=64k count=9 2>/dev/null\n`;

function encrypted(): Svc {
  const s = service({ fill: CONTENT, what: "encdeno" });
  const identity = path.join(s.p.root, "backup.key");
  fs.writeFileSync(identity, `${IDENTITY}\n`, { mode: 0o600 });
  s.p.writeConfig({ services: { [s.name]: true }, encryption: { recipients: [RECIPIENT], identity } });
  return s;
}

/** `deno run -A src/cli.ts` with the service's project, as the compiled binary is run. */
function denoRun(s: Svc, args: string[]) {
  const r = spawnSync(denoBinary(REPO), ["run", "-A", path.join(REPO, "src/cli.ts"), ...args, ...s.p.args], {
    cwd: REPO,
    env: binaryEnv({ stateHome: s.p.stateHome, env: FAST }),
    encoding: "utf8",
    timeout: 170_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function listed(s: Svc): Listed[] {
  const r = tb(s, ["list", s.name, "--json"]);
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout);
}

test("Deno writes an encrypted backup: the Bun binary verifies it deeply and restores it, age opens it", () => {
  const s = encrypted();
  const made = denoRun(s, ["backup", s.name]);
  expect({ code: made.code, stderr: made.stderr }).toMatchObject({ code: 0 });
  const [b] = listed(s);
  expect(b!.file).toEndWith(".tar.zst.age");
  expect(fs.readFileSync(b!.file).subarray(0, 22).toString()).toBe("age-encryption.org/v1\n");

  const deep = tb(s, ["verify", s.name, "--deep"]);
  expect({ code: deep.code, stderr: deep.stderr }).toMatchObject({ code: 0 });
  const idFile = path.join(s.p.root, "backup.key");
  const age = spawnSync("sh", ["-c", 'age -d -i "$1" "$2" | zstd -dc | tar -t', "sh", idFile, b!.file], {
    encoding: "utf8",
  });
  expect({ code: age.status, stderr: age.stderr }).toEqual({ code: 0, stderr: "" });
  expect(age.stdout).toContain("random.bin");

  const sums = checksums(s.vol);
  const before = state(s.vol);
  fillVolume(s.vol, "echo changed > keep.txt && rm random.bin && echo new > new.txt");
  const restored = tb(s, ["restore", s.name, "--yes", "--from", b!.id]);
  expect({ code: restored.code, stderr: restored.stderr }).toMatchObject({ code: 0 });
  expect(checksums(s.vol)).toEqual(sums);
  expect(state(s.vol)).toEqual(before);
  expect(isRunning(s.container!)).toBe(true);
});

test("the Bun binary writes an encrypted backup: Deno verifies it deeply and restores it", () => {
  const s = encrypted();
  const made = tb(s, ["backup", s.name]);
  expect({ code: made.code, stderr: made.stderr }).toMatchObject({ code: 0 });
  const [b] = listed(s);
  expect(b!.file).toEndWith(".tar.zst.age");

  const deep = denoRun(s, ["verify", s.name, "--deep"]);
  expect({ code: deep.code, stderr: deep.stderr }).toMatchObject({ code: 0 });

  const sums = checksums(s.vol);
  const before = state(s.vol);
  fillVolume(s.vol, "echo changed > keep.txt && rm -r sub && echo new > new.txt");
  const restored = denoRun(s, ["restore", s.name, "--yes", "--from", b!.id]);
  expect({ code: restored.code, stderr: restored.stderr }).toMatchObject({ code: 0 });
  expect(checksums(s.vol)).toEqual(sums);
  expect(state(s.vol)).toEqual(before);
  expect(isRunning(s.container!)).toBe(true);
  // Deno's safety backup, encrypted with the same settings, opens in the Bun binary.
  const safety = listed(s).find((x) => x.kind === "pre-restore")!;
  expect(safety.file).toEndWith(".tar.zst.age");
  const again = tb(s, ["verify", s.name, "--deep"]);
  expect({ code: again.code, stderr: again.stderr }).toMatchObject({ code: 0 });
  expect(again.stderr).toContain(safety.id);
});
