/**
 * The reference age CLI (`age`, `age-keygen`; Debian's, installed by .ci/provision.sh), the
 * independent implementation on the other side of the encryption tests. It reads a passphrase
 * only from a terminal, so those runs go through `script`, which gives it one.
 */
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { tempDir } from "./cli.ts";

export interface AgeKey {
  /** The identity file, 0600, in age-keygen's layout. */
  file: string;
  /** Its public key (age1...). */
  recipient: string;
}

function ok(cmd: string, args: string[], input?: Buffer): Buffer {
  const r = spawnSync(cmd, args, { input, maxBuffer: 256 << 20, timeout: 60_000 });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

/** A new identity written by age-keygen. */
export function ageKeygen(dir = tempDir("tbtest-agekey-")): AgeKey {
  const file = path.join(dir, `key-${fs.readdirSync(dir).length}.txt`);
  ok("age-keygen", ["-o", file]);
  fs.chmodSync(file, 0o600);
  const recipient = ok("age-keygen", ["-y", file]).toString().trim();
  return { file, recipient };
}

/** `age -d -i IDENTITY FILE`: the plaintext, or a thrown error with age's message. */
export function ageDecrypt(file: string, identity: string): Buffer {
  return ok("age", ["-d", "-i", identity, file]);
}

/** `age -d`, and its exit code and message, for files it must refuse. */
export function ageDecryptResult(file: string, identity: string): { code: number | null; stderr: string } {
  const r = spawnSync("age", ["-d", "-i", identity, "-o", "/dev/null", file], { encoding: "utf8", timeout: 60_000 });
  return { code: r.status, stderr: r.stderr };
}

/** `age -e -r R1 -r R2 …` of `plain`. */
export function ageEncrypt(plain: Buffer, recipients: string[]): Buffer {
  return ok("age", ["-e", ...recipients.flatMap((r) => ["-r", r])], plain);
}

/**
 * Runs `age ARGS` on a terminal (`script`), typing `passphrase` at each of its prompts; resolves
 * with its exit code and what it printed. `age -p` asks twice, `age -d` once.
 */
export function ageOnTerminal(args: string[], passphrase: string): Promise<{ code: number | null; output: string }> {
  const command = ["age", ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(" ");
  const child = spawn("script", ["-qefc", command, "/dev/null"], { stdio: ["pipe", "pipe", "pipe"] });
  let output = "";
  let answered = 0;
  const onData = (b: Buffer) => {
    output += b.toString();
    const prompts = output.match(/passphrase[^:\n]*:/gi)?.length ?? 0;
    for (; answered < prompts; answered++) child.stdin.write(`${passphrase}\n`);
  };
  child.stdout.on("data", onData);
  child.stderr.on("data", onData);
  const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

/** `age -d` of a passphrase-sealed file on a terminal: the plaintext. */
export async function ageDecryptWithPassphrase(file: string, passphrase: string): Promise<Buffer> {
  const out = path.join(tempDir("tbtest-agepass-"), "plain");
  const r = await ageOnTerminal(["-d", "-o", out, file], passphrase);
  if (r.code !== 0) throw new Error(`age -d failed (${r.code}): ${r.output}`);
  return fs.readFileSync(out);
}

/** `age -p` of `plain` on a terminal: the sealed bytes. */
export async function ageEncryptWithPassphrase(plain: Buffer, passphrase: string): Promise<Buffer> {
  const dir = tempDir("tbtest-agepass-");
  fs.writeFileSync(path.join(dir, "plain"), plain);
  const r = await ageOnTerminal(["-p", "-o", path.join(dir, "sealed"), path.join(dir, "plain")], passphrase);
  if (r.code !== 0) throw new Error(`age -p failed (${r.code}): ${r.output}`);
  return fs.readFileSync(path.join(dir, "sealed"));
}

/**
 * Restoring by hand as the README shows it: `age -d -i IDENTITY FILE | zstd -d | tar -x` (gzip -d
 * for gzip); returns the folder the volumes' folders were extracted into.
 */
export function restoreByHand(file: string, identity: string, compression: "zstd" | "gzip"): string {
  const dir = tempDir("tbtest-byhand-");
  const script = 'set -o pipefail; age -d -i "$1" "$2" | "$3" -d | tar -xpf - --numeric-owner -C "$4"';
  ok("bash", ["-c", script, "bash", identity, file, compression, dir]);
  return dir;
}

/** Where the first sealed chunk starts in an age file: after the header's MAC line and the 16-byte nonce. */
export function payloadStart(sealed: Buffer): number {
  const mac = sealed.indexOf("\n---");
  return sealed.indexOf("\n", mac + 1) + 1 + 16;
}

/** The header's stanza lines (`-> …` and their bodies), between the version line and the MAC line. */
export function stanzaLines(sealed: Buffer): Buffer {
  const first = sealed.indexOf("\n") + 1;
  return sealed.subarray(first, sealed.indexOf("\n---") + 1);
}
