import { randomBytes } from "node:crypto";
import type { OffsiteCopy } from "../config/offsite-config.ts";
import { openStore } from "../offsite/open.ts";
import { reasonOf } from "./offsite-orphans.ts";

export type ProbeResult = { ok: true; where: string } | { ok: false; step: string; reason: string };

/**
 * Whether a copy works before it is saved: a small object written, read back and deleted, so that
 * wrong keys, a missing bucket, a closed network or a wrong clock show now, not at 3 a.m.
 */
export async function probeCopy(copy: OffsiteCopy, host: string, signal: AbortSignal): Promise<ProbeResult> {
  let step = "finding the keys";
  try {
    const store = await openStore(copy);
    const key = `.tools-backup-probe-${host.replace(/[^A-Za-z0-9.-]/g, "-")}-${randomBytes(4).toString("hex")}`;
    const data = randomBytes(64);
    step = "writing a test object";
    await store.putBytes(key, data, signal);
    step = "reading it back";
    const back = await store.read(key, signal);
    step = "deleting it";
    await store.remove(key, signal);
    if (!Buffer.from(back).equals(data)) return { ok: false, step: "reading it back", reason: "it came back changed" };
    return { ok: true, where: store.where };
  } catch (e) {
    if (signal.aborted) throw e;
    return { ok: false, step, reason: reasonOf(e) };
  }
}
