import { isAlias, isMap, isScalar, type Node, parseDocument, visit, type YAMLMap } from "yaml";
import { UsageError } from "../util/errors.ts";
import { type Patch, scalarText, spliceOrRender } from "./yaml-patch.ts";

/** backup.yaml's `encryption:` as written (paths unexpanded), for the screens to show and rewrite. */
export interface EncryptionEntry {
  recipients?: string[];
  identity?: string | string[];
  passphrase_file?: string;
}

/** The `encryption:` section as written, or undefined when there is none (encryption off). */
export function encryptionEntry(text: string): EncryptionEntry | undefined {
  const data = parseDocument(text).toJS() as { encryption?: unknown } | null;
  const raw = data?.encryption;
  return raw !== null && typeof raw === "object" && !Array.isArray(raw) ? (raw as EncryptionEntry) : undefined;
}

/** The identity files as a list, however many were written. */
export function identityList(entry: EncryptionEntry | undefined): string[] {
  const identity = entry?.identity;
  return identity === undefined ? [] : typeof identity === "string" ? [identity] : identity;
}

/** The section as backup.yaml lines: what `key generate` tells the user to add and what the screen writes. */
export function encryptionLines(entry: EncryptionEntry): string[] {
  const item = (value: string) => `    - ${scalarText(value)}`;
  const lines = ["encryption:"];
  if (entry.recipients) lines.push("  recipients:", ...entry.recipients.map(item));
  const identities = identityList(entry);
  if (identities.length === 1) lines.push(`  identity: ${scalarText(identities[0]!)}`);
  else if (identities.length > 1) lines.push("  identity:", ...identities.map(item));
  if (entry.passphrase_file !== undefined) lines.push(`  passphrase_file: ${scalarText(entry.passphrase_file)}`);
  return lines;
}

/**
 * backup.yaml's text with `encryption:` replaced by `entry` (undefined: removed). The section's own
 * lines are rewritten as a whole; every other byte, comments included, stays, unless the splice
 * cannot be made or reads differently, when the edited Document is rendered instead.
 */
export function editEncryptionText(text: string, entry: EncryptionEntry | undefined): string {
  const doc = parseDocument(text);
  if (doc.errors.length > 0) throw new Error(`cannot edit: ${doc.errors[0]!.message}`);
  if (!isMap(doc.contents)) throw new UsageError("cannot edit backup.yaml: it is not a mapping of keys");
  const root = doc.contents;
  const pair = root.items.find((p) => isScalar(p.key) && p.key.value === "encryption");
  if (!pair && !entry) return text;
  refuseShared(pair?.value);
  const lines = entry ? `${encryptionLines(entry).join("\n")}\n` : "";
  // Worked out on the nodes as they were read, before the Document changes.
  const patch = pair ? sectionLines(text, root, pair.key, pair.value, lines) : appended(text, lines);
  if (entry) doc.set("encryption", doc.createNode(entry));
  else doc.delete("encryption");
  return spliceOrRender(text, doc, patch ? [patch] : [], patch === undefined);
}

/** A section that anchors or aliases share would change elsewhere too: that is for the user to edit. */
function refuseShared(value: unknown): void {
  let shared = isAlias(value) || Boolean((value as Node | null)?.anchor);
  if (isMap(value))
    visit(value, {
      Node: (_, n) => {
        if (isAlias(n) || (n as Node).anchor) shared = true;
      },
    });
  if (shared)
    throw new UsageError("cannot edit encryption: it uses YAML anchors or aliases (& or *); edit backup.yaml by hand");
}

/** A new section at the end of the file, after a blank line. */
function appended(text: string, lines: string): Patch | undefined {
  if (lines === "") return undefined;
  const end = text === "" || text.endsWith("\n") ? "" : "\n";
  return { start: text.length, end: text.length, text: `${end}\n${lines}` };
}

/** The section's whole lines (from its key at a line's start to its value's last line) replaced by `lines`. */
function sectionLines(text: string, root: YAMLMap, key: unknown, value: unknown, lines: string): Patch | undefined {
  const keyRange = (key as { range?: number[] } | null)?.range;
  const valueRange = (value as { range?: number[] } | null)?.range;
  if (root.flow || !keyRange) return undefined;
  const start = text.lastIndexOf("\n", keyRange[0]! - 1) + 1;
  if (start !== keyRange[0]) return undefined;
  const end = Math.max(keyRange[1]!, valueRange?.[1] ?? 0);
  const newline = text[end - 1] === "\n" ? end - 1 : text.indexOf("\n", end);
  return { start, end: newline < 0 ? text.length : newline + 1, text: lines };
}
