/**
 * Driving the interactive screens (clack prompts) in the real pseudo-terminal of pty.ts.
 * clack marks the prompt waiting for an answer with "◆" and turns it into "◇" once answered,
 * so "◆  <message>" on the screen means: that prompt is the one asking now.
 */
import { expect } from "bun:test";
import type { Pty } from "./pty.ts";

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

export const ACTIVE = "◆";

/** Occurrences of `pattern` on the screen, scroll-back included. */
export function count(t: Pty, pattern: RegExp | string): number {
  const re = typeof pattern === "string" ? new RegExp(escapeRegExp(pattern), "g") : new RegExp(pattern.source, "g");
  return t.screen().match(re)?.length ?? 0;
}

/** Waits until the prompt with this message is the active one; fails with the screen otherwise. */
export async function waitPrompt(t: Pty, message: string, timeoutMs = 60_000): Promise<void> {
  const ok = await t.waitForScreen(new RegExp(`${ACTIVE}  [^\\n]*${escapeRegExp(message)}`), timeoutMs);
  if (!ok) expect(`prompt "${message}" never appeared; screen:\n${t.screen()}`).toBe("");
}

/** Waits until `pattern` appears more often than `before` times (the next occurrence of a line seen before). */
export async function waitMore(t: Pty, pattern: RegExp | string, before: number, timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (count(t, pattern) > before) return;
    await Bun.sleep(100);
  }
  expect(`"${String(pattern)}" did not appear a ${before + 1}th time; screen:\n${t.screen()}`).toBe("");
}

/** Presses keys one tmux call each, with a pause so clack has redrawn before the next. */
export async function press(t: Pty, ...keys: string[]): Promise<void> {
  for (const k of keys) {
    t.key(k);
    await Bun.sleep(60);
  }
}

/** Types text literally, then Enter. */
export async function answer(t: Pty, text: string): Promise<void> {
  t.type(text);
  await Bun.sleep(60);
  await press(t, "Enter");
}
