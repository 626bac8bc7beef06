import { isDeepStrictEqual } from "node:util";
import { Document, isMap, isScalar, parseDocument, Scalar, visit, type YAMLMap } from "yaml";

/**
 * Text patches for backup.yaml: each edit of the settings screens spliced into the user's own
 * text, so that every byte they did not ask to change stays as they wrote it.
 */
export type Value = string | number | boolean;
export type Patch = { start: number; end: number; text: string };

/** A value written on its own, in the old node's quoting style when it allows it; one line or nothing. */
export function scalarText(value: Value, type?: Scalar["type"]): string | undefined {
  const node = new Scalar(value);
  if (type && !type.startsWith("BLOCK")) node.type = type;
  const out = new Document(node).toString().replace(/\n$/, "");
  return out.includes("\n") ? undefined : out;
}

export function replaceRange(range: readonly number[] | null | undefined, text: string | undefined): Patch | undefined {
  return range && text !== undefined ? { start: range[0]!, end: range[1]!, text } : undefined;
}

function replaceScalar(node: Scalar, value: Value): Patch | undefined {
  return replaceRange(node.range, node.type?.startsWith("BLOCK") ? undefined : scalarText(value, node.type));
}

export function aliasesOf(doc: Document, anchor: string) {
  const found: { range?: readonly number[] | null }[] = [];
  visit(doc, {
    Alias: (_, a) => {
      if (a.source === anchor) found.push(a);
    },
  });
  return found;
}

/**
 * A scalar replaced in place; when other keys refer to it (`&a 7` ... `*a`), its anchor goes and
 * they become copies of the old value (in the Document and as patches), so only this key changes.
 */
export function replaceAnchored(
  text: string,
  doc: Document,
  node: Scalar,
  value: Value,
  patches: Patch[],
): Patch | undefined {
  const anchor = node.anchor;
  if (!anchor || aliasesOf(doc, anchor).length === 0) return replaceScalar(node, value);
  const copyText = scalarText(node.value as Value, node.type);
  visit(doc, {
    Alias: (_, a) => {
      if (a.source !== anchor) return;
      const copy = replaceRange(a.range, copyText);
      if (copy) patches.push(copy);
      return new Scalar(node.value);
    },
  });
  node.anchor = undefined;
  const patch = replaceScalar(node, value);
  // The anchor is written before the value (`&a 7`); without finding it, the file is rendered.
  const before = /&(\S+)[ \t]+$/.exec(text.slice(0, node.range?.[0]));
  if (!patch || before?.[1] !== anchor || !copyText) return undefined;
  return { ...patch, start: before.index };
}

/** Where the entries of an empty `services:` (nothing after the colon) go: after its line, indented. */
export function emptyValuePlace(text: string, root: unknown, parentKeys: string[], node: unknown) {
  if (
    parentKeys.length !== 1 ||
    !isMap(root) ||
    !isScalar(node) ||
    node.value !== null ||
    !node.range ||
    node.range[0] !== node.range[1]
  )
    return undefined;
  const pair = root.items.find((p) => isScalar(p.key) && p.key.value === parentKeys[0]);
  const keyStart = (pair?.key as Scalar | undefined)?.range?.[0];
  if (keyStart === undefined) return undefined;
  const newline = text.indexOf("\n", node.range[0]);
  return {
    at: newline < 0 ? text.length : newline,
    indent: " ".repeat(keyStart - (text.lastIndexOf("\n", keyStart - 1) + 1) + 2),
  };
}

export function pairLine(place: { at: number; indent: string }, key: string, value: Value): Patch {
  return { start: place.at, end: place.at, text: `\n${place.indent}${scalarText(key)}: ${scalarText(value)}` };
}

/**
 * `key: value` after the mapping's last entry that was read from the file (earlier additions
 * have no place in it yet): on a new line indented like its first key, or `, key: value` in
 * a flow mapping (`{a: true}`), or inside an empty `{}`.
 */
export function insertPair(text: string, map: YAMLMap, key: string, value: Value): Patch | undefined {
  const read = map.items.filter((p) => ((p.value ?? p.key) as Scalar | null)?.range);
  const keyStart = (read[0]?.key as Scalar | undefined)?.range?.[0];
  const end = ((read.at(-1)?.value ?? read.at(-1)?.key) as Scalar | undefined)?.range?.[1];
  const keyText = scalarText(key);
  const valueText = scalarText(value);
  if (!keyText || !valueText) return undefined;
  if (map.flow) {
    if (end !== undefined) return { start: end, end, text: `, ${keyText}: ${valueText}` };
    const open = map.range?.[0];
    // Right after `{`; patches at one place end up in the order they were made.
    return open !== undefined && text[open] === "{" && read.length === 0
      ? { start: open + 1, end: open + 1, text: `${map.items.length > 0 ? ", " : ""}${keyText}: ${valueText}` }
      : undefined;
  }
  if (keyStart === undefined || end === undefined) return undefined;
  const indent = keyStart - (text.lastIndexOf("\n", keyStart - 1) + 1);
  const newline = text[end - 1] === "\n" ? end - 1 : text.indexOf("\n", end);
  const at = newline < 0 ? text.length : newline + 1;
  const line = `${" ".repeat(indent)}${keyText}: ${valueText}\n`;
  return { start: at, end: at, text: newline < 0 ? `\n${line}` : line };
}

/**
 * The edited text: the patches spliced into the user's text when that reads exactly as the edited
 * Document does, else the Document rendered (comments kept, spacing normalised). No patch and
 * nothing structural: the text unchanged.
 */
export function spliceOrRender(text: string, doc: Document, patches: Patch[], structural: boolean): string {
  if (patches.length === 0 && !structural) return text;
  const rendered = String(doc);
  if (structural) return rendered;
  // Reversed first: of the insertions at one place, the first added is applied last, so it ends up first.
  const spliced = [...patches]
    .reverse()
    .sort((a, b) => b.start - a.start)
    .reduce((t, p) => t.slice(0, p.start) + p.text + t.slice(p.end), text);
  const check = parseDocument(spliced);
  return check.errors.length === 0 && isDeepStrictEqual(check.toJS(), doc.toJS()) ? spliced : rendered;
}
