/**
 * Set-up for the end-to-end encryption tests: a service whose archive spans several age chunks,
 * backup.yaml's `encryption:` rewritten between runs, and a manifest made to agree with an
 * archive file changed on purpose (so that only age's own checks are left to find the change).
 */
import fs from "node:fs";
import path from "node:path";
import { sha256 } from "./archive.ts";
import { tempDir } from "./cli.ts";
import { readJson } from "./project.ts";
import { FILL, type Svc, service } from "./restore-kit.ts";

/** The standard content and 384 KiB of random bytes: an archive of several 64 KiB chunks. */
export const CONTENT = `${FILL}dd if=/dev/urandom of=random.bin bs=64k count=6 2>/dev/null\n`;

/** backup.yaml of `s` with the service enabled and this `encryption:` (none when undefined). */
export function setEncryption(s: Svc, encryption: Record<string, unknown> | undefined, extra = {}): void {
  s.p.writeConfig({ services: { [s.name]: true }, ...(encryption ? { encryption } : {}), ...extra });
}

/** A service with a running container, its volume holding CONTENT, and this `encryption:`. */
export function encryptedService(encryption: Record<string, unknown> | undefined, extra = {}): Svc {
  const s = service({ fill: CONTENT, what: "enc" });
  setEncryption(s, encryption, extra);
  return s;
}

/** A passphrase file, 0600. */
export function passphraseFile(passphrase: string): string {
  const file = path.join(tempDir("tbtest-pass-"), "backup.pass");
  fs.writeFileSync(file, `${passphrase}\n`, { mode: 0o600 });
  return file;
}

/** The manifest made to record the archive as it is now: its size and sha256. */
export function agreeManifest(manifest: string, archive: string): void {
  const m = readJson(manifest);
  m.archive.bytes = fs.statSync(archive).size;
  m.archive.sha256 = sha256(archive);
  fs.writeFileSync(manifest, JSON.stringify(m, null, 2), { mode: 0o600 });
}
