import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import path from "node:path";
import { confirm, note, select } from "@clack/prompts";
import { freeKeyFile, keepCopyAdvice, newBackupKey, sealingFor } from "../app/backup-key.ts";
import type { Session } from "../app/session.ts";
import { loadBackupConfigText } from "../config/backup-config.ts";
import {
  type EncryptionEntry,
  editEncryptionText,
  encryptionEntry,
  encryptionLines,
  identityList,
} from "../config/edit-encryption.ts";
import { recipientProblem } from "../config/encryption-config.ts";
import { expandPath } from "../config/expand-path.ts";
import { saveConfigText } from "../config/write-config.ts";
import type { NewIdentity } from "../encryption/new-identity.ts";
import { isUserFacing, messageOf } from "../util/errors.ts";
import { ask, out, say } from "./io.ts";
import { line } from "./offsite-answers.ts";

/** How new backups are sealed, in a word or three, for the menu. */
export function encryptionKind(entry: EncryptionEntry | undefined): string {
  if (!entry) return "off";
  if (entry.passphrase_file !== undefined) return "with a passphrase";
  const n = entry.recipients?.length ?? 0;
  return n > 0 ? `for ${n} public key${n === 1 ? "" : "s"}` : "for the identity's own key";
}

/** The settings box's line, as backup.yaml says it: public keys and paths, never a secret. */
export function encryptionLine(entry: EncryptionEntry | undefined): string {
  if (!entry) return "off";
  if (entry.passphrase_file !== undefined) return `with the passphrase in ${entry.passphrase_file}`;
  const identities = identityList(entry);
  const opens = identities.length > 0 ? `identity ${identities.join(", ")}` : "no identity here to restore";
  return entry.recipients
    ? `recipients ${entry.recipients.join(", ")}; ${opens}`
    : `${encryptionKind(entry)}; ${opens}`;
}

type Choice = "generate" | "existing" | "off" | "back";

/**
 * Settings > Encryption: a new key made here (the same use case as `key generate`), an existing
 * public key, or encryption turned off. Each change is shown and written to backup.yaml on a yes.
 */
export async function encryptionScreen(session: Session): Promise<Session> {
  const current = encryptionEntry(await readFile(session.config.file, "utf8"));
  const choice: Choice | undefined = await ask(
    select<Choice>({
      ...out,
      message: `Encryption: ${encryptionKind(current)}`,
      options: [
        { value: "generate", label: "Generate a new key", hint: "new backups are encrypted for it" },
        { value: "existing", label: "Use an existing public key", hint: "age1..., made by age-keygen elsewhere" },
        ...(current ? [{ value: "off" as const, label: "Turn encryption off", hint: "for new backups" }] : []),
        { value: "back", label: "Back" },
      ],
    }),
  );
  if (choice === "generate") return generate(session, current);
  if (choice === "existing") return existingKey(session, current);
  if (choice === "off") return turnOff(session, current!);
  return session;
}

async function generate(session: Session, current: EncryptionEntry | undefined): Promise<Session> {
  const baseDir = path.dirname(session.config.file);
  const resolve = (v: string) => expandPath(v, process.env, homedir(), baseDir);
  const answer = await line("Write the new key (age identity) to", freeKeyFile(), (v) => {
    if (v === "") return "enter the file's path";
    try {
      return existsSync(resolve(v)) ? "a file of that name exists: it may be the key to older backups" : undefined;
    } catch (e) {
      return messageOf(e);
    }
  });
  if (answer === undefined) return session;
  let key: NewIdentity;
  try {
    key = await newBackupKey(resolve(answer));
  } catch (e) {
    if (!isUserFacing(e)) throw e;
    say.error(messageOf(e));
    return session;
  }
  note(
    [`Public key: ${key.recipient}`, `Key file:   ${key.file} (mode 600)`, "", ...keepCopyAdvice(key.file)].join("\n"),
    "New key",
    out,
  );
  return save(session, sealingFor(current, key.recipient, key.file), current, `the key stays in ${key.file}`);
}

async function existingKey(session: Session, current: EncryptionEntry | undefined): Promise<Session> {
  const key = await line("Public key (age1...)", "", (v) => recipientProblem(v));
  if (key === undefined) return session;
  const entry = sealingFor(current, key);
  if (identityList(entry).length === 0)
    say.warn("this machine will hold no identity: restoring these backups needs the key's identity file");
  return save(session, entry, current);
}

async function turnOff(session: Session, current: EncryptionEntry): Promise<Session> {
  const identities = identityList(current);
  note(
    [
      "New backups will be written unencrypted.",
      "Older encrypted backups stay encrypted: restoring one still needs its identity",
      identities.length > 0 ? `(${identities.join(", ")}): keep it.` : "(the key file that matches them): keep it.",
    ].join("\n"),
    `Turn encryption off in ${session.config.file}`,
    out,
  );
  const yes = await ask(confirm({ ...out, message: "Turn encryption off?", initialValue: false }));
  if (!yes) {
    say.info("encryption stays as it is");
    return session;
  }
  return write(session, undefined);
}

/** The new section shown, then written on a yes; a passphrase it drops is named. */
async function save(
  session: Session,
  entry: EncryptionEntry,
  current: EncryptionEntry | undefined,
  kept = "",
): Promise<Session> {
  const file = session.config.file;
  const dropped = current?.passphrase_file
    ? ["(replaces passphrase_file: backups sealed with the passphrase still open with it, age -d asks for it)"]
    : [];
  note([...encryptionLines(entry), ...dropped].join("\n"), `Encryption in ${file}`, out);
  const yes = await ask(confirm({ ...out, message: "Write this to backup.yaml?" }));
  if (!yes) {
    say.info(`${file} is unchanged${kept ? `; ${kept}` : ""}`);
    return session;
  }
  return write(session, entry);
}

/** The edit onto the file as it is now, loaded as every command will load it before it is written. */
async function write(session: Session, entry: EncryptionEntry | undefined): Promise<Session> {
  const file = session.config.file;
  try {
    const text = editEncryptionText(await readFile(file, "utf8"), entry);
    loadBackupConfigText(file, text);
    const config = await saveConfigText(file, text);
    say.success(`saved ${file}`);
    return { config, root: session.root };
  } catch (e) {
    if (!isUserFacing(e)) throw e;
    say.error(messageOf(e));
    return session;
  }
}
