import { type Alias, Document, isAlias, isMap, isScalar, parseDocument, type Scalar } from "yaml";
import type { Compression } from "../archive/naming.ts";
import { UsageError } from "../util/errors.ts";
import {
  aliasesOf,
  emptyValuePlace,
  insertPair,
  type Patch,
  pairLine,
  replaceAnchored,
  replaceRange,
  scalarText,
  spliceOrRender,
  type Value,
} from "./yaml-patch.ts";

/** backup.yaml's `retention:` mapping as the settings screen writes it: only the rules above 0. */
export type CalendarKeeps = Partial<Record<(typeof KEEP_KEYS)[number], number>> & { keep_within?: string };

export const KEEP_KEYS = [
  "keep_last",
  "keep_hourly",
  "keep_daily",
  "keep_weekly",
  "keep_monthly",
  "keep_yearly",
] as const;

/**
 * What the settings screens may change in backup.yaml; absent means "leave as it is". `retention`:
 * a calendar replaces retention_days and keep_last; null goes back to them (by age).
 */
export interface ConfigEdits {
  backup_dir?: string;
  retention_days?: number;
  keep_last?: number;
  compression?: Compression;
  services?: Record<string, boolean>;
  retention?: CalendarKeeps | null;
}

/**
 * Applies edits to backup.yaml's text. The yaml Document is edited (doc.setIn) and is the
 * truth; but String(doc) normalises spacing before comments and the like, so when every edit is
 * a scalar (or an alias) replaced in place or a key added to a mapping (or to an empty
 * `services:`), the same edits are spliced into the original text instead, and kept only if the
 * result parses to exactly the same data. Every byte the user did not ask to change then stays.
 * An edited value other keys refer to (`&anchor`) is not changed under them: they get copies of
 * the old value. A mapping that is itself an alias or aliased is refused, not edited for two keys.
 */
export function editConfigText(text: string, edits: ConfigEdits): string {
  const doc = parseDocument(text);
  if (doc.errors.length > 0) throw new Error(`cannot edit: ${doc.errors[0]!.message}`);
  const patches: Patch[] = [];
  let structural = false;
  // Mappings made from an empty `services:`, and where their lines go.
  const fromEmpty = new Map<unknown, { at: number; indent: string }>();
  const set = (keys: string[], value: Value) => {
    const parentKeys = keys.slice(0, -1);
    const key = keys[keys.length - 1]!;
    const parent = parentKeys.length > 0 ? doc.getIn(parentKeys, true) : doc.contents;
    if (isAlias(parent) || (isMap(parent) && parent.anchor && aliasesOf(doc, parent.anchor).length > 0)) {
      throw new UsageError(
        `cannot edit ${keys.join(".")}: ` +
          `${parentKeys.join(".")} is shared with another key through a YAML alias (*); ` +
          `edit ${keys.join(".")} by hand`,
      );
    }
    const existing = isMap(parent) ? parent.get(key, true) : undefined;
    const old = isAlias(existing) ? existing.resolve(doc) : existing;
    if (isScalar(old) && old.value === value) return;
    if (parentKeys.length > 0 && !isMap(parent)) {
      // `services:` left empty (or not a mapping at all): it becomes a mapping.
      const map = doc.createNode({ [key]: value });
      const place = emptyValuePlace(text, doc.contents, parentKeys, parent);
      if (place) fromEmpty.set(map, place);
      doc.setIn(parentKeys, map);
      if (place) patches.push(pairLine(place, key, value));
      else structural = true;
      return;
    }
    const empty = fromEmpty.get(parent);
    if (empty) {
      doc.setIn(keys, value);
      patches.push(pairLine(empty, key, value));
      return;
    }
    if (!isMap(doc.contents)) {
      doc.contents = doc.createNode({ [key]: value }) as unknown as typeof doc.contents;
      structural = true;
      return;
    }
    // The patch is worked out on the nodes as they were read, before the Document changes.
    const patch = isScalar(existing)
      ? replaceAnchored(text, doc, existing, value, patches)
      : isAlias(existing)
        ? replaceRange((existing as Alias).range, scalarText(value))
        : existing === undefined && isMap(parent)
          ? insertPair(text, parent, key, value)
          : undefined;
    doc.setIn(keys, value);
    if (patch) patches.push(patch);
    else structural = true;
  };
  for (const [name, on] of Object.entries(edits.services ?? {})) {
    // Off and absent mean the same: never add a `false` line the user did not have.
    const cur = doc.getIn(["services", name], true);
    if (!on && !isScalar(cur) && !isAlias(cur)) continue;
    set(["services", name], on);
  }
  // After services: a key added at the end of the file goes after services' own new lines.
  const byCalendar = edits.retention !== undefined && edits.retention !== null;
  for (const k of ["backup_dir", "retention_days", "keep_last", "compression"] as const) {
    const v = edits[k];
    if (v !== undefined && !(byCalendar && (k === "retention_days" || k === "keep_last"))) set([k], v);
  }
  if (edits.retention !== undefined) {
    const lines = retentionPatches(text, doc, edits.retention);
    if (lines) patches.push(...lines);
    else structural = true;
  }
  return spliceOrRender(text, doc, patches, structural);
}

/**
 * Writes or removes `retention:` (and the two keys a calendar replaces) in the Document, and as
 * patches: each replaced key's whole lines cut, the new mapping where the old one was or at the end.
 * Undefined when a key is not a plain top-level one (the Document is then rendered).
 */
function retentionPatches(text: string, doc: Document, keeps: CalendarKeeps | null): Patch[] | undefined {
  if (!isMap(doc.contents)) return undefined;
  const root = doc.contents;
  const linesOf = (key: string): Patch | undefined | null => {
    const pair = root.items.find((p) => isScalar(p.key) && p.key.value === key);
    if (!pair) return null;
    const [from, to] = [(pair.key as Scalar).range?.[0], (pair.value as { range?: number[] } | null)?.range?.[2]];
    if (from === undefined || to === undefined || text.lastIndexOf("\n", from - 1) + 1 !== from) return undefined;
    const end = text[to - 1] === "\n" ? to : text.indexOf("\n", to) + 1 || text.length;
    return { start: from, end, text: "" };
  };
  const old = linesOf("retention");
  const cut = keeps === null ? [] : [linesOf("retention_days"), linesOf("keep_last")];
  if (old === undefined || cut.includes(undefined)) return undefined;
  if (keeps === null && old === null) return [];
  if (keeps === null) doc.delete("retention");
  else {
    for (const k of ["retention_days", "keep_last"]) doc.delete(k);
    doc.set("retention", doc.createNode(keeps));
  }
  const block = keeps === null ? "" : new Document({ retention: keeps }).toString();
  const at = old ?? { start: text.length, end: text.length, text: "" };
  const lead = old || text.length === 0 || text.endsWith("\n") ? "" : "\n";
  return [...(cut.filter(Boolean) as Patch[]), { ...at, text: lead + block }];
}
