/** The code's own shape, as docs/development.md states it: short lines, small files. */
import { expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

const SRC = join(import.meta.dir, "..", "..", "src");
const sources = (readdirSync(SRC, { recursive: true }) as string[]).filter((f) => f.endsWith(".ts"));

test("no line in src/ is over 120 characters", () => {
  const long = sources.flatMap((f) =>
    readFileSync(join(SRC, f), "utf8")
      .split("\n")
      .flatMap((line, i) => (line.length > 120 ? [`src/${f}:${i + 1} (${line.length})`] : [])),
  );
  expect(long).toEqual([]);
});

test("no file in src/ is over 200 lines", () => {
  const big = sources.flatMap((f) => {
    const lines = readFileSync(join(SRC, f), "utf8").split("\n").length - 1;
    return lines > 200 ? [`src/${f} (${lines})`] : [];
  });
  expect(big).toEqual([]);
});
