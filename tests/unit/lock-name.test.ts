import { describe, expect, test } from "bun:test";
import { volumeLockName } from "../../src/app/lock.ts";

/** What Docker (and service.yaml) accepts as a volume name. */
const VOLUME_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const name = (length: number, end = "") => "v".repeat(length - end.length) + end;

describe("volumeLockName", () => {
  test("a name that fits is used as it is, up to a lock file name of exactly 255 bytes", () => {
    expect(volumeLockName("openmemory_data")).toBe("openmemory_data.lock");
    expect(volumeLockName(name(250))).toBe(`${name(250)}.lock`);
  });

  test("a longer name (Docker allows 255) fits in 255 bytes and keeps a readable prefix", () => {
    for (const length of [251, 255, 300, 1000]) {
      const lock = volumeLockName(name(length));
      expect(lock.length).toBeLessThanOrEqual(255);
      expect(lock).toEndWith(".lock");
      expect(lock).toStartWith(name(100));
    }
  });

  test("the same volume always gets the same lock; volumes differing only past the prefix get distinct ones", () => {
    expect(volumeLockName(name(255, "a"))).toBe(volumeLockName(name(255, "a")));
    const locks = [name(255, "a"), name(255, "b"), name(254, "a"), name(251), name(252), name(255)].map(volumeLockName);
    expect(new Set(locks).size).toBe(locks.length);
  });

  test("a shortened lock name can never be the plain lock name of another volume", () => {
    const lock = volumeLockName(name(255));
    expect(lock.slice(0, -".lock".length)).not.toMatch(VOLUME_NAME);
  });
});
