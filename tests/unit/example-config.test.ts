/** backup.yaml.example documents every key an offsite copy may have. */
import { expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { OFFSITE_KEYS } from "../../src/config/offsite-config.ts";

const EXAMPLE = fs.readFileSync(path.join(import.meta.dir, "..", "..", "backup.yaml.example"), "utf8");

test("every key of an offsite entry is documented in backup.yaml.example", () => {
  const missing = OFFSITE_KEYS.filter((key) => !new RegExp(`^#\\s+(- )?${key}:`, "m").test(EXAMPLE));
  expect(missing).toEqual([]);
});
