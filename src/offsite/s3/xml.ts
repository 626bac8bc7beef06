/**
 * Just enough XML for S3's answers, which are flat and never use attributes we need: the text of
 * named elements. A general parser would be a dependency for a few dozen lines' worth of work.
 */

const ENTITY: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };

export function decodeXml(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#\d+|amp|lt|gt|quot|apos);/g, (_, e: string) => {
    if (e.startsWith("#x")) return String.fromCodePoint(Number.parseInt(e.slice(2), 16));
    if (e.startsWith("#")) return String.fromCodePoint(Number.parseInt(e.slice(1), 10));
    return ENTITY[e]!;
  });
}

/** The raw inner XML of every `<tag>` element, in order (elements of one name are never nested in S3's answers). */
export function elements(xml: string, tag: string): string[] {
  const found: string[] = [];
  const pattern = new RegExp(`<${tag}(?:\\s[^>]*)?>([\\s\\S]*?)</${tag}>`, "g");
  for (const m of xml.matchAll(pattern)) found.push(m[1]!);
  return found;
}

/** The decoded text of the first `<tag>`, or undefined. */
export function textOf(xml: string, tag: string): string | undefined {
  const inner = elements(xml, tag)[0];
  return inner === undefined ? undefined : decodeXml(inner);
}

export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&${Object.entries(ENTITY).find(([, v]) => v === c)![0]};`);
}
