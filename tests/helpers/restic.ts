/**
 * A restic repository as the retention oracle: Debian's restic makes the snapshots and decides
 * what `forget` keeps. Its key is re-wrapped with cheap scrypt parameters so that each of the many
 * `restic backup` runs does not spend most of its time deriving the key (only the KDF changes).
 */
import { spawn, spawnSync } from "node:child_process";
import { createCipheriv, createHash, randomBytes, scryptSync } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { poly1305 } from "@noble/ciphers/_poly1305.js";
import { tempDir } from "./cli.ts";

export interface Restic {
  env: Record<string, string>;
  tiny: string;
}

export interface ResticSnapshot {
  time: string;
  hostname: string;
  id: string;
}

function restic(r: Restic, args: string[], tz: string): string {
  const res = spawnSync("restic", args, { env: { ...r.env, TZ: tz }, encoding: "utf8", maxBuffer: 64 << 20 });
  if (res.status !== 0) throw new Error(`restic ${args.join(" ")} failed (${res.status}): ${res.stderr}`);
  return res.stdout;
}

/** restic's sealing: nonce, AES-256-CTR ciphertext, Poly1305-AES of the ciphertext. */
function seal(encrypt: Buffer, macK: Buffer, macR: Buffer, plain: Buffer): Buffer {
  const nonce = randomBytes(16);
  const c = createCipheriv("aes-256-ctr", encrypt, nonce);
  const ciphertext = Buffer.concat([c.update(plain), c.final()]);
  const s = createCipheriv("aes-128-ecb", macK, null).setAutoPadding(false).update(nonce);
  const mac = poly1305(ciphertext, Buffer.concat([macR, s]));
  return Buffer.concat([nonce, ciphertext, mac]);
}

/** Replaces the repository's one key by the same master key under scrypt N=1024, r=1, p=1. */
function cheapKey(r: Restic, password: string): void {
  const master = restic(r, ["cat", "masterkey"], "UTC");
  const keys = path.join(r.env.RESTIC_REPOSITORY!, "keys");
  const [old] = fs.readdirSync(keys);
  const meta = JSON.parse(fs.readFileSync(path.join(keys, old!), "utf8"));
  const salt = randomBytes(64);
  const derived = scryptSync(password, salt, 64, { N: 1024, r: 1, p: 1 });
  const data = seal(derived.subarray(0, 32), derived.subarray(32, 48), derived.subarray(48, 64), Buffer.from(master));
  const text = JSON.stringify({
    ...meta,
    N: 1024,
    r: 1,
    p: 1,
    salt: salt.toString("base64"),
    data: data.toString("base64"),
  });
  fs.writeFileSync(path.join(keys, createHash("sha256").update(text).digest("hex")), text);
  fs.rmSync(path.join(keys, old!));
}

/** In memory when it can: restic syncs each file it writes, slow on a busy disk. */
function workDir(): string {
  return fs.existsSync("/dev/shm") ? fs.mkdtempSync("/dev/shm/tbtest-restic-") : tempDir("tbtest-restic-");
}

/** A new repository (with its password file and a tiny folder to back up) in its own folder. */
export function initRestic(): Restic {
  const dir = workDir();
  const password = "oracle";
  fs.writeFileSync(path.join(dir, "pw"), password);
  const tiny = path.join(dir, "tiny");
  fs.mkdirSync(tiny);
  fs.writeFileSync(path.join(tiny, "a"), "a\n");
  const env = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: dir,
    RESTIC_REPOSITORY: path.join(dir, "repo"),
    RESTIC_PASSWORD_FILE: path.join(dir, "pw"),
    RESTIC_CACHE_DIR: path.join(dir, "cache"),
  };
  const r = { env, tiny };
  restic(r, ["init"], "UTC");
  cheapKey(r, password);
  return r;
}

/**
 * A copy of `r` in a folder of its own: restic runs in one repository wait for each other's locks,
 * in copies they run side by side.
 */
export function cloneRestic(r: Restic): Restic {
  const dir = workDir();
  fs.cpSync(path.dirname(r.env.RESTIC_REPOSITORY!), dir, { recursive: true });
  const env = {
    ...r.env,
    HOME: dir,
    RESTIC_REPOSITORY: path.join(dir, "repo"),
    RESTIC_PASSWORD_FILE: path.join(dir, "pw"),
    RESTIC_CACHE_DIR: path.join(dir, "cache"),
  };
  return { env, tiny: path.join(dir, "tiny") };
}

export function removeRestic(r: Restic): void {
  fs.rmSync(path.dirname(r.env.RESTIC_REPOSITORY!), { recursive: true, force: true });
}

/** `restic backup --time LOCAL --host HOST` under `tz` for each local time, one after the other. */
export async function backups(r: Restic, host: string, locals: string[], tz: string): Promise<void> {
  for (const local of locals) {
    const args = ["backup", "-q", "--no-cache", "--time", local, "--host", host, "--tag", "x", r.tiny];
    await new Promise<void>((resolve, reject) => {
      const p = spawn("restic", args, { env: { ...r.env, TZ: tz }, stdio: ["ignore", "ignore", "pipe"] });
      let err = "";
      p.stderr.on("data", (d) => (err += d));
      p.on("close", (code) => (code === 0 ? resolve() : reject(new Error(`restic backup ${local}: ${err}`))));
    });
  }
}

export function snapshots(r: Restic, host: string, tz: string): ResticSnapshot[] {
  return JSON.parse(restic(r, ["snapshots", "--no-cache", "--json", "--host", host], tz));
}

/** The ids `restic forget --dry-run` keeps for `host` under `flags`. */
export function forgetKeeps(r: Restic, host: string, flags: string[], tz: string): Set<string> {
  const out = JSON.parse(restic(r, ["forget", "--no-cache", "--dry-run", "--json", "--host", host, ...flags], tz));
  return new Set(out.flatMap((g: { keep: ResticSnapshot[] | null }) => (g.keep ?? []).map((s) => s.id)));
}
