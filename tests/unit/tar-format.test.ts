/** Tar headers as the engine writes them; the e2e test host-folder compares whole archives with the engine's. */
import { describe, expect, test } from "bun:test";
import { headerBlocks, type PackEntry } from "../../src/archive/tar-format.ts";
import { BLOCK, checksumOk, parseHeader } from "../../src/archive/tar-header.ts";
import { TarWalker } from "../../src/archive/tar-walker.ts";

const file = (name: string | Buffer, extra: Partial<PackEntry> = {}): PackEntry => ({
  name: Buffer.isBuffer(name) ? name : Buffer.from(name), type: "file", mode: 0o100644, uid: 0, gid: 0, size: 0, mtime: 1_700_000_000, ...extra,
});

/** The PAX records of a header sequence that starts with one, each checked against its declared length. */
function paxRecords(blocks: Buffer): string[] {
  const h = parseHeader(blocks, 0);
  if (h.type !== "pax") return [];
  const body = blocks.subarray(BLOCK, BLOCK + h.size);
  const records: string[] = [];
  for (let at = 0; at < body.length; ) {
    const len = Number(body.toString("latin1", at, body.indexOf(0x20, at)));
    expect(body[at + len - 1]).toBe(0x0a);
    records.push(body.toString("utf8", at, at + len));
    at += len;
  }
  return records;
}

/** What a reader makes of the entry's header: the walker applies PAX records as verify and restore do. */
function walked(blocks: Buffer) {
  const seen: { name: string; size: number }[] = [];
  const w = new TarWalker({ onEntry: (e) => seen.push({ name: e.name, size: e.size }) });
  w.resume();
  w.write(blocks);
  return seen;
}

describe("tar headers", () => {
  test("a short ASCII name is one ustar header with a valid checksum and root's name", () => {
    const b = headerBlocks(file("vol/a.txt", { size: 5 }));
    expect(b.length).toBe(BLOCK);
    expect(checksumOk(b, 0)).toBe(true);
    expect(parseHeader(b, 0)).toMatchObject({ name: "vol/a.txt", size: 5, mode: 0o100644, type: "file" });
    expect(b.toString("latin1", 257, 265)).toBe("ustar\u000000");
    expect(b.toString("latin1", 265, 269)).toBe("root");
  });

  test("a long name is split into prefix and name where it can be, and goes into PAX where it cannot", () => {
    const splittable = `vol/${"d".repeat(120)}/${"f".repeat(90)}`;
    const split = headerBlocks(file(splittable));
    expect(split.length).toBe(BLOCK);
    expect(parseHeader(split, 0).name).toBe(splittable);

    const oneLongPart = `vol/${"f".repeat(150)}`;
    const pax = headerBlocks(file(oneLongPart));
    expect(paxRecords(pax)).toEqual([`${oneLongPart.length + 10} path=${oneLongPart}\n`]);
    expect(walked(pax)).toEqual([{ name: oneLongPart, size: 0 }]);
  });

  test("non-ASCII and non-UTF-8 names go into PAX as their raw bytes", () => {
    const raw = Buffer.from([...Buffer.from("vol/caf"), 0xe9]);
    const records = paxRecords(headerBlocks(file(raw)));
    expect(records).toHaveLength(1);
    expect(headerBlocks(file(raw)).includes(Buffer.concat([Buffer.from("path="), raw, Buffer.from("\n")]))).toBe(true);
  });

  test("sizes over 8 GiB and ids over 2^21 go into PAX, the header field holding 0", () => {
    const size = 9 * 2 ** 30;
    const b = headerBlocks(file("vol/huge", { size, uid: 3_000_000 }));
    expect(paxRecords(b)).toEqual([`${"size=9663676416".length + 4} size=9663676416\n`, `15 uid=3000000\n`]);
    const main = b.subarray(b.length - BLOCK);
    expect(main.toString("latin1", 124, 136)).toBe("00000000000\u0000");
    expect(walked(b)).toEqual([{ name: "vol/huge", size }]);
  });

  test("a PAX record's length counts its own digits, also where that adds a digit", () => {
    for (let n = 80; n < 100; n++) {
      const name = `vol/${"x".repeat(n)}é`;
      for (const record of paxRecords(headerBlocks(file(name)))) expect(Buffer.byteLength(record)).toBe(Number(record.split(" ")[0]));
    }
  });
});
