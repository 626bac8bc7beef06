import { readFile } from "node:fs/promises";
import { confirm, note, select, unicodeOr } from "@clack/prompts";
import { hostName } from "../app/context.ts";
import { probeCopy } from "../app/offsite-probe.ts";
import type { Session } from "../app/session.ts";
import { loadBackupConfigText } from "../config/backup-config.ts";
import { editOffsiteText, type OffsiteEdit, offsiteEntries } from "../config/edit-offsite.ts";
import type { OffsiteCopy, OffsiteEntryInput } from "../config/offsite-config.ts";
import { saveConfigText } from "../config/write-config.ts";
import { interrupt } from "../terminal/interrupt.ts";
import { isUserFacing, messageOf } from "../util/errors.ts";
import { ask, out, say } from "./io.ts";
import { askEntry } from "./offsite-questions.ts";

/** The copy's address as backup.yaml's `url` says it. */
export const copyUrl = (c: OffsiteCopy) => c.url;

/** Where the copy's server is: the S3 endpoint (AWS without one), or rclone's remote. */
const serverOf = (c: OffsiteCopy) => (c.kind === "s3" ? (c.endpoint ?? "AWS") : "rclone remote");

/** Where a copy's backups are, in the words of its kind. */
const holder = (c: OffsiteCopy) => (c.kind === "s3" ? "the bucket" : "the remote");

/** The settings box's line: each copy and where it goes, or "none". */
export function offsiteLine(copies: OffsiteCopy[]): string {
  return copies.map((c) => `${c.name} ${unicodeOr("→", "->")} ${copyUrl(c)}`).join(", ") || "none";
}

/** Menu values that no copy name can be (names start with a letter or digit). */
const ADD = "+add";
const BACK = "+back";

/**
 * Settings > Offsite copies: the copies in backup.yaml, each one tested, edited or removed, and new
 * ones added. A copy is tested before it is saved, and nothing is written without a yes.
 */
export async function offsiteScreen(session: Session): Promise<Session> {
  let current = session;
  let last = ADD;
  for (;;) {
    const copies = current.config.offsite;
    const choice = await ask(
      select<string>({
        ...out,
        message: `Offsite copies (${copies.length})`,
        initialValue: last,
        options: [
          ...copies.map((c) => ({ value: c.name, label: `${c.name}  ${copyUrl(c)}`, hint: serverOf(c) })),
          { value: ADD, label: "Add an offsite copy", hint: "every backup is also uploaded to it" },
          { value: BACK, label: "Back" },
        ],
      }),
    );
    if (choice === undefined || choice === BACK) return current;
    last = choice;
    const copy = copies.find((c) => c.name === choice);
    current = copy ? await copyScreen(current, copy) : await addOrEdit(current, undefined);
  }
}

async function copyScreen(session: Session, copy: OffsiteCopy): Promise<Session> {
  const choice = await ask(
    select({
      ...out,
      message: `${copy.name}: ${copyUrl(copy)}${copy.kind === "s3" && copy.endpoint ? ` at ${copy.endpoint}` : ""}`,
      options: [
        { value: "test" as const, label: "Test it", hint: "writes, reads back and deletes a small object" },
        { value: "edit" as const, label: "Edit" },
        { value: "remove" as const, label: "Remove", hint: `the backups in ${holder(copy)} stay` },
        { value: "back" as const, label: "Back" },
      ],
    }),
  );
  if (choice === "test") await testCopy(copy);
  if (choice === "edit") return addOrEdit(session, copy.name);
  if (choice === "remove") return removeCopy(session, copy);
  return session;
}

/** The probe's verdict on the screen; true when the copy works. The keys themselves are never shown. */
async function testCopy(copy: OffsiteCopy): Promise<boolean> {
  const keys =
    copy.kind === "rclone"
      ? `keys in ${copy.rcloneConfig ?? "rclone's own rclone.conf"}`
      : copy.credentials
        ? `keys from ${copy.credentials}`
        : "keys from the environment or ~/.aws/credentials";
  say.info(`testing ${copy.name} (${copyUrl(copy)}, ${keys}): writing, reading back and deleting a small object`);
  const result = await probeCopy(copy, hostName(), interrupt.signal);
  if (result.ok) say.success(`${copy.name} works: ${result.where} can be written, read and deleted`);
  else say.error(`${copy.name} does not work: ${result.step} failed: ${result.reason}`);
  return result.ok;
}

/** The copy's keys as they will be written, one per line, for the summary before saving. */
function entrySummary(entry: OffsiteEntryInput): string {
  return Object.entries(entry)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}: ${String(v)}`)
    .join("\n");
}

/**
 * Add (name undefined) or edit a copy: the answers, then the file as it would be, loaded as every
 * command will load it, then the test; saved only on a yes, which is the default only when the test passed.
 */
async function addOrEdit(session: Session, name: string | undefined): Promise<Session> {
  const file = session.config.file;
  const entries = offsiteEntries(await readFile(file, "utf8"));
  const old = name === undefined ? undefined : entries.find((e) => e.name === name);
  if (name !== undefined && !old) {
    say.error(`${file} has no offsite copy called "${name}" any more`);
    return session;
  }
  const entry = await askEntry(
    session,
    old,
    entries.map((e) => e.name),
  );
  if (entry === undefined) return session;
  const edit: OffsiteEdit = old ? { replace: old.name, entry } : { add: entry };
  const next = await checkedEdit(file, edit);
  if (next === undefined) return session;
  const copy = next.copies.find((c) => c.name === entry.name)!;
  const works = await testCopy(copy);
  note(entrySummary(entry), `${old ? "Changed" : "New"} offsite copy in ${file}`, out);
  const save = await ask(
    confirm({
      ...out,
      message: works ? `Save ${entry.name} to backup.yaml?` : `The test failed. Save ${entry.name} anyway?`,
      initialValue: works,
    }),
  );
  if (!save) {
    say.info(`${entry.name} not saved: ${file} is unchanged`);
    return session;
  }
  return write(session, edit, next.text);
}

/** The edited text and the copies it configures, or undefined (said on the screen) when the loader refuses it. */
async function checkedEdit(
  file: string,
  edit: OffsiteEdit,
): Promise<{ text: string; copies: OffsiteCopy[] } | undefined> {
  try {
    const text = editOffsiteText(await readFile(file, "utf8"), edit);
    return { text, copies: loadBackupConfigText(file, text).offsite };
  } catch (e) {
    if (!isUserFacing(e)) throw e;
    say.error(messageOf(e));
    return undefined;
  }
}

/** Writes the edit onto the file as it is now: if it changed since `shown` was made, a warning says so. */
async function write(session: Session, edit: OffsiteEdit, shown?: string): Promise<Session> {
  const file = session.config.file;
  const next = await checkedEdit(file, edit);
  if (next === undefined) return session;
  if (shown !== undefined && next.text !== shown)
    say.warn(`${file} changed on disk meanwhile; the edit is applied to its new content`);
  const config = await saveConfigText(file, next.text);
  say.success(`saved ${file}`);
  return { config, root: session.root };
}

async function removeCopy(session: Session, copy: OffsiteCopy): Promise<Session> {
  note(
    [
      `Backups stop being uploaded to ${copyUrl(copy)}.`,
      `The backups already in ${holder(copy)} stay there: tools-backup never deletes a copy's contents`,
      "when a copy is removed (delete them with the provider's tools if they should go).",
    ].join("\n"),
    `Remove ${copy.name} from ${session.config.file}`,
    out,
  );
  const yes = await ask(confirm({ ...out, message: `Remove ${copy.name} from backup.yaml?`, initialValue: false }));
  if (!yes) {
    say.info(`${copy.name} kept`);
    return session;
  }
  return write(session, { remove: copy.name });
}
