/** A terminal that goes away (ssh drops, tmux killed) ends the program; it never spins on a dead pty. */
import { afterAll, expect, setDefaultTimeout, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { BIN, cleanupCliTemp, waitFor } from "../helpers/cli.ts";
import { makeProject } from "../helpers/project.ts";
import { startInPty } from "../helpers/pty.ts";

setDefaultTimeout(60_000);
afterAll(cleanupCliTemp);

/** The binary itself, not the shell and `env` that tmux started it through. */
const pidsOf = (config: string) =>
  spawnSync("pgrep", ["-f", `^${BIN} .*${config}`], { encoding: "utf8" })
    .stdout.trim()
    .split("\n")
    .filter(Boolean);

for (const screen of [[], ["settings"]]) {
  test(`closing the terminal at ${screen[0] ?? "the menu"} ends the program`, async () => {
    const p = makeProject({ services: { app: [{ name: "tbtest-unused" }] } });
    const pty = startInPty([...screen, ...p.args], { stateHome: p.stateHome });
    try {
      expect(await pty.waitForScreen(/What would you like to do|Settings/, 20_000)).toBe(true);
      expect(pidsOf(p.config)).toHaveLength(1);
    } finally {
      pty.close();
    }
    expect(await waitFor(() => pidsOf(p.config).length === 0, 10_000, 100)).toBe(true);
  });
}
