import fs from "node:fs";
import path from "node:path";
import { type Document, isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument } from "yaml";
import { UsageError } from "../util/errors.ts";
import { ConfigError } from "./config-error.ts";

export type PathKey = string | number;

export interface Position {
  line: number;
  col: number;
}

/** A parsed YAML file that still knows where every value came from, for error messages. */
export interface YamlSource {
  file: string; // absolute
  doc: Document;
  lineCounter: LineCounter;
  data: unknown; // plain JS value; an empty file is `{}`
}

export function parseYamlFile(file: string): YamlSource {
  const absolute = path.resolve(file);
  return parseYamlText(absolute, readText(absolute));
}

/** Text that is, or is about to be, the file's content: errors name the file. */
export function parseYamlText(absolute: string, text: string): YamlSource {
  const lineCounter = new LineCounter();
  // prettyErrors off: we print our own file:line:col. logLevel: no yaml warnings on stderr.
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, logLevel: "error" });
  const first = doc.errors[0];
  if (first) {
    const { line, col } = lineCounter.linePos(first.pos[0]);
    throw new ConfigError({ file: absolute, line, col, keyPath: "", text: first.message });
  }
  let data: unknown;
  try {
    data = doc.toJS();
  } catch (error) {
    // toJS only throws for alias bombs and the like, which have no better position.
    const text = `cannot read YAML: ${error instanceof Error ? error.message : String(error)}`;
    throw new ConfigError({ file: absolute, line: 1, col: 1, keyPath: "", text });
  }
  return { file: absolute, doc, lineCounter, data: data ?? {} };
}

function readText(file: string): string {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch (error) {
    if (codeOf(error) === "ENOENT") throw new UsageError(`file not found: ${file}`);
    throw new UsageError(`cannot read ${file}: ${codeOf(error) ?? String(error)}`);
  }
  // Checked up front because reading a directory fails differently on each runtime.
  if (stat.isDirectory()) throw new UsageError(`${file} is a directory, expected a YAML file`);
  try {
    return fs.readFileSync(file, "utf8");
  } catch (error) {
    throw new UsageError(`cannot read ${file}: ${codeOf(error) ?? String(error)}`);
  }
}

function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

/**
 * Line and column of the deepest node that exists along `keys`.
 * `at: "key"` points at the last key itself (unknown keys), otherwise at its value.
 */
export function positionOf(src: YamlSource, keys: readonly PathKey[], at: "key" | "value" = "value"): Position {
  let node: unknown = src.doc.contents;
  let offset = startOf(node) ?? 0;
  for (const [i, key] of keys.entries()) {
    if (isAlias(node)) node = node.resolve(src.doc);
    let keyNode: unknown;
    let valueNode: unknown;
    if (isMap(node)) {
      const pair = node.items.find((p) => String(isScalar(p.key) ? p.key.value : p.key) === String(key));
      if (!pair) break;
      keyNode = pair.key;
      valueNode = pair.value;
    } else if (isSeq(node)) {
      valueNode = node.items[Number(key)];
      if (valueNode === undefined) break;
    } else {
      break;
    }
    // `key:` with nothing after it has an empty value node at the end of the line; the key reads better.
    const emptyValue = isScalar(valueNode) && valueNode.range?.[0] === valueNode.range?.[1];
    const target = (at === "key" && i === keys.length - 1) || emptyValue || !valueNode ? keyNode : valueNode;
    offset = startOf(target) ?? offset;
    node = valueNode;
  }
  return src.lineCounter.linePos(offset);
}

function startOf(node: unknown): number | undefined {
  return (node as { range?: [number, number, number] } | null | undefined)?.range?.[0];
}
