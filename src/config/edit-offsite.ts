import { type Document, isAlias, isMap, isScalar, isSeq, type Node, parseDocument, visit, type YAMLMap } from "yaml";
import { UsageError } from "../util/errors.ts";
import { type OffsiteEntryInput, type OffsiteKey, SCALAR_KEYS } from "./offsite-config.ts";
import { emptyValuePlace, insertPair, type Patch, replaceRange, scalarText, spliceOrRender } from "./yaml-patch.ts";

/** A change of backup.yaml's `offsite:` list; copies are found by name. */
export type OffsiteEdit =
  | { add: OffsiteEntryInput }
  | { replace: string; entry: OffsiteEntryInput }
  | { remove: string };

/** The order a new copy's keys are written in, as backup.yaml.example documents them. */
const KEY_ORDER = SCALAR_KEYS;

/** The copies as written in backup.yaml (keys absent stay absent), for a screen's initial answers. */
export function offsiteEntries(text: string): OffsiteEntryInput[] {
  const data = parseDocument(text).toJS() as { offsite?: unknown } | null;
  return Array.isArray(data?.offsite) ? (data.offsite as OffsiteEntryInput[]) : [];
}

/**
 * Applies one edit of `offsite:` to backup.yaml's text the way editConfigText edits the other keys:
 * spliced into the user's text (every other byte, comments included, stays), checked against the
 * edited Document, which is rendered instead when a splice cannot be made or reads differently.
 */
export function editOffsiteText(text: string, edit: OffsiteEdit): string {
  const doc = parseDocument(text);
  if (doc.errors.length > 0) throw new Error(`cannot edit: ${doc.errors[0]!.message}`);
  if (!isMap(doc.contents)) throw new UsageError("cannot edit backup.yaml: it is not a mapping of keys");
  const list = doc.contents.get("offsite", true);
  refuseShared(list);
  const patches: Patch[] = [];
  let structural: boolean;
  if ("add" in edit) structural = !add(text, doc, list, edit.add, patches);
  else {
    const name = "remove" in edit ? edit.remove : edit.replace;
    const index = isSeq(list) ? list.items.findIndex((i) => isMap(i) && i.get("name") === (name as unknown)) : -1;
    if (!isSeq(list) || index < 0) throw new UsageError(`backup.yaml has no offsite copy called "${name}"`);
    const item = list.items[index] as YAMLMap;
    if ("remove" in edit) {
      const patch = itemLines(text, item);
      list.items.splice(index, 1);
      // An empty list reads as `offsite:` with nothing after it, as the splice leaves it.
      if (list.items.length === 0) doc.set("offsite", null);
      structural = !patch;
      if (patch) patches.push({ ...patch, text: "" });
    } else structural = !replace(text, item, edit.entry, patches);
  }
  return spliceOrRender(text, doc, patches, structural);
}

/** An `offsite:` that anchors or aliases share would change elsewhere too: that is for the user to edit. */
function refuseShared(list: unknown): void {
  let shared = isAlias(list);
  if (isSeq(list) || isMap(list))
    visit(list, {
      Node: (_, n) => {
        if (isAlias(n) || (n as Node).anchor) shared = true;
      },
    });
  if (shared)
    throw new UsageError("cannot edit offsite: it uses YAML anchors or aliases (& or *); edit backup.yaml by hand");
}

/** A copy as block lines: `- name: ...` at `indent`, its other keys two columns further in. */
function entryLines(entry: OffsiteEntryInput, indent: string): string[] | undefined {
  const lines: string[] = [];
  for (const key of KEY_ORDER) {
    const value = entry[key];
    if (value === undefined) continue;
    const valueText = scalarText(value);
    if (valueText === undefined) return undefined;
    lines.push(`${indent}${lines.length === 0 ? "- " : "  "}${key}: ${valueText}`);
  }
  return lines;
}

/** The new copy goes after the list's last one, or makes the list; false when only rendering can. */
function add(text: string, doc: Document, list: unknown, entry: OffsiteEntryInput, patches: Patch[]): boolean {
  const root = doc.contents as YAMLMap;
  const pair = root.items.find((p) => isScalar(p.key) && p.key.value === "offsite");
  const keyStart = (pair?.key as { range?: number[] } | undefined)?.range?.[0];
  const indentOf = (at: number) => " ".repeat(at - lineStart(text, at));
  const node = doc.createNode(entry);
  if (list === undefined || list === null) {
    doc.set("offsite", doc.createNode([entry]));
    const lines = entryLines(entry, "  ");
    if (!lines) return false;
    const end = text === "" || text.endsWith("\n") ? "" : "\n";
    patches.push({ start: text.length, end: text.length, text: `${end}\noffsite:\n${lines.join("\n")}\n` });
    return true;
  }
  const empty = emptyValuePlace(text, root, ["offsite"], list);
  if (isSeq(list)) list.items.push(node);
  else doc.set("offsite", doc.createNode([entry]));
  if (empty) {
    const lines = entryLines(entry, empty.indent);
    if (lines) patches.push({ start: empty.at, end: empty.at, text: `\n${lines.join("\n")}` });
    return lines !== undefined;
  }
  if (!isSeq(list) || !list.range || keyStart === undefined) return false;
  if (list.flow) {
    // `offsite: []`: the brackets give way to block lines under the key (after its comment, if any).
    const lines = list.items.length === 1 ? entryLines(entry, `${indentOf(keyStart)}  `) : undefined;
    list.flow = false;
    if (!lines) return false;
    const open = text.slice(0, list.range[0]).replace(/[ \t]+$/, "").length;
    const newline = text.indexOf("\n", list.range[1]);
    const at = newline < 0 ? text.length : newline;
    patches.push({ start: open, end: list.range[1], text: "" }, { start: at, end: at, text: `\n${lines.join("\n")}` });
    return true;
  }
  const last = list.items.at(-2) as { range?: number[] } | undefined;
  const lines = entryLines(entry, indentOf(list.range[0]));
  const after = last?.range?.[1];
  if (!lines || after === undefined) return false;
  const newline = text[after - 1] === "\n" ? after - 1 : text.indexOf("\n", after);
  const at = newline < 0 ? text.length : newline + 1;
  patches.push({ start: at, end: at, text: `${newline < 0 ? "\n" : ""}${lines.join("\n")}\n` });
  return true;
}

/** Each key of the copy changed in place, added after its last key or its line removed; false when that cannot be. */
function replace(text: string, item: YAMLMap, entry: OffsiteEntryInput, patches: Patch[]): boolean {
  let spliced = true;
  const gone: string[] = [];
  const keys = new Set([...KEY_ORDER, ...item.items.map((p) => String(isScalar(p.key) ? p.key.value : p.key))]);
  for (const key of keys) {
    const value = entry[key as OffsiteKey];
    const old = item.get(key, true);
    if (value === undefined) {
      if (old === undefined) continue;
      const pair = item.items.find((p) => isScalar(p.key) && p.key.value === key)!;
      const patch = pairLine(text, pair.key, pair.value);
      gone.push(key);
      if (patch) patches.push(patch);
      spliced &&= patch !== undefined;
    } else if (old === undefined) {
      const patch = insertPair(text, item, key, value);
      item.set(key, value);
      if (patch) patches.push(patch);
      spliced &&= patch !== undefined;
    } else if (!isScalar(old) || old.value !== value) {
      const patch =
        isScalar(old) && !old.type?.startsWith("BLOCK")
          ? replaceRange(old.range, scalarText(value, old.type))
          : undefined;
      item.set(key, value);
      if (patch) patches.push(patch);
      spliced &&= patch !== undefined;
    }
  }
  // Only now: insertPair places new keys after the last key read from the file, removed ones included.
  for (const key of gone) item.delete(key);
  return spliced;
}

const lineStart = (text: string, at: number) => text.lastIndexOf("\n", at - 1) + 1;

/** From the start of a line to after its newline (or the text's end). */
function wholeLines(text: string, start: number, end: number): Patch {
  const newline = text[end - 1] === "\n" ? end - 1 : text.indexOf("\n", end);
  return { start, end: newline < 0 ? text.length : newline + 1, text: "" };
}

/** A copy's lines, its `- ` included, when it starts a line of its own. */
function itemLines(text: string, item: YAMLMap): Patch | undefined {
  const range = item.range;
  if (!range) return undefined;
  const start = lineStart(text, range[0]);
  return /^[ \t]*-[ \t]+$/.test(text.slice(start, range[0])) ? wholeLines(text, start, range[1]) : undefined;
}

/** The line of a `key: value` pair on a line of its own (not the `- ` line), for removal. */
function pairLine(text: string, key: unknown, value: unknown): Patch | undefined {
  const keyRange = (key as { range?: number[] } | null)?.range;
  const valueRange = (value as { range?: number[] } | null)?.range;
  if (!keyRange || !valueRange) return undefined;
  const start = lineStart(text, keyRange[0]!);
  const single = !text.slice(keyRange[0], valueRange[1]).includes("\n");
  return single && /^[ \t]*$/.test(text.slice(start, keyRange[0]))
    ? wholeLines(text, start, valueRange[1]!)
    : undefined;
}
