/**
 * DOCKER_HOST at a socket that does not exist: every command that asks Docker says once, in one
 * sentence, that the engine cannot be reached (exit 1), and `services` never calls the volumes
 * missing. The project and its backup are made against the real engine first.
 */
import { afterAll, afterEach, expect, setDefaultTimeout, test } from "bun:test";
import { cleanupCliTemp } from "../helpers/cli.ts";
import { cleanupDocker, uniqueName } from "../helpers/docker.ts";
import { startInPty } from "../helpers/pty.ts";
import { backupOk, cleanupApps, FAST, service, tb } from "../helpers/restore-kit.ts";
import { count, press, waitPrompt } from "../helpers/tui.ts";

setDefaultTimeout(120_000);
afterEach(() => {
  cleanupApps();
  cleanupDocker();
});
afterAll(cleanupCliTemp);

const OFF = { DOCKER_HOST: "unix:///nonexistent.sock" };
const UNREACHABLE = "cannot reach the Docker engine at unix:///nonexistent.sock; is it running?";
const times = (text: string, part: string) => text.split(part).length - 1;

/** A backed-up service, and a second one declaring two volumes that need not exist. */
function project() {
  const s = service({ what: "unr" });
  const other = `${s.name}b`;
  s.p.writeService(other, [{ name: uniqueName("vol") }, { name: uniqueName("vol") }]);
  s.p.writeConfig({ services: { [s.name]: true, [other]: true } });
  const backup = backupOk(s);
  return { s, other, backup };
}

test("services: the services and their newest backups shown, every volume unknown (never missing), the engine named once, exit 1", () => {
  const { s, other, backup } = project();
  const json = tb(s, ["services", "--json"], OFF);
  expect(json.code).toBe(1);
  const rows = JSON.parse(json.stdout) as {
    name: string;
    volumes: { exists: boolean | null }[];
    newest: { id: string } | null;
  }[];
  expect(rows.map((r) => r.name).sort()).toEqual([s.name, other].sort());
  expect(rows.flatMap((r) => r.volumes.map((v) => v.exists))).toEqual([null, null, null]);
  expect(rows.find((r) => r.name === s.name)!.newest).toMatchObject({ id: backup.id });
  expect(times(json.stderr, "Docker engine")).toBe(1);
  expect(json.stderr).toContain(UNREACHABLE);

  const text = tb(s, ["services"], OFF);
  expect(text.code).toBe(1);
  expect(text.stdout).not.toContain("missing");
  expect(times(text.stdout, "(unknown)")).toBe(3);
  expect(times(text.stderr, "Docker engine")).toBe(1);
  expect(text.stderr).toContain(UNREACHABLE);
});

test("backup and restore --yes: exit 1 with the same single message, the docker CLI's own question not repeated", () => {
  const { s } = project();
  for (const cmd of [
    ["backup", s.name],
    ["restore", s.name, "--yes"],
  ]) {
    const r = tb(s, cmd, OFF);
    expect({ cmd, code: r.code }).toEqual({ cmd, code: 1 });
    expect({ cmd, stderr: r.stderr }).toMatchObject({ cmd, stderr: expect.stringContaining(UNREACHABLE) });
    expect({ cmd, said: times(r.stderr, "Docker engine"), asked: times(r.stderr, "running?") }).toEqual({
      cmd,
      said: 1,
      asked: 1,
    });
    expect(r.stderr).not.toMatch(/Is the docker daemon running|not reachable/i);
  }
});

test("the menu says it once, at the top of the status, not for each service", async () => {
  const { s } = project();
  const t = startInPty(s.p.args, { stateHome: s.p.stateHome, env: { ...FAST, ...OFF } });
  try {
    await waitPrompt(t, "What would you like to do?");
    const screen = t.screen();
    expect(count(t, "Docker engine")).toBe(1);
    expect(screen).toContain(UNREACHABLE);
    expect(screen.indexOf(UNREACHABLE)).toBeLessThan(screen.indexOf("backup_dir:"));
    await press(t, "C-c");
    expect(await t.exitCode(20_000)).toBe(0);
  } finally {
    t.close();
  }
});
