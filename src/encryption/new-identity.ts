import { chmod, mkdir, open, rm } from "node:fs/promises";
import { dirname } from "node:path";
import { generateIdentity, identityToRecipient } from "age-encryption";
import { OperationError, systemErrorText, UsageError } from "../util/errors.ts";
import { DIR_MODE, FILE_MODE } from "../util/fs-safe.ts";

export interface NewIdentity {
  file: string;
  /** The public key (`age1…`) that backup.yaml's encryption.recipients takes. */
  recipient: string;
}

/**
 * Writes a new age identity to `file` (0600, a folder it makes 0700) in age-keygen's layout, so the
 * age CLI reads it too. An existing file is never replaced: it may be the only key to old backups.
 * An existing folder keeps its mode: it may be the user's project folder, or /tmp.
 */
export async function writeNewIdentity(file: string, now = new Date()): Promise<NewIdentity> {
  const identity = await generateIdentity();
  const recipient = await identityToRecipient(identity);
  const text = `# created: ${now.toISOString()}\n# public key: ${recipient}\n${identity}\n`;
  try {
    if (await mkdir(dirname(file), { recursive: true, mode: DIR_MODE })) await chmod(dirname(file), DIR_MODE);
    const fh = await open(file, "wx", FILE_MODE);
    try {
      await fh.writeFile(text);
      await fh.sync();
    } catch (e) {
      await rm(file, { force: true });
      throw e;
    } finally {
      await fh.close();
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EEXIST")
      throw new UsageError(`${file} already exists; it is left as it is (it may be the key to older backups)`);
    throw new OperationError(`cannot write ${file}: ${systemErrorText(e)}`);
  }
  return { file, recipient };
}
