/**
 * The identity (AGE-SECRET-KEY-1...) and the passphrase never show: not in what any command
 * prints (with --debug too), not in the manifests, the crontab line, the state folder's files, nor
 * in any process's arguments or environment while a backup and a restore run.
 */
import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { generateIdentity, identityToRecipient } from "age-encryption";
import { cleanupCliTemp, type RunResult } from "../helpers/cli.ts";
import { cleanupDocker, fillVolume } from "../helpers/docker.ts";
import { fakeCrontab } from "../helpers/fake-crontab.ts";
import { cleanupApps, type Svc, service, state, tb, tbStart } from "../helpers/restore-kit.ts";

setDefaultTimeout(180_000);
afterAll(() => {
  cleanupApps();
  cleanupDocker();
  cleanupCliTemp();
});

const IDENTITY = await generateIdentity();
const RECIPIENT = await identityToRecipient(IDENTITY);
const PASSPHRASE = `tbtest pass ${crypto.randomUUID()}`;

/** The secret, and pieces of it long enough to be telling, in any case. */
function tellTales(secret: string): string[] {
  const body = secret.replace(/^AGE-SECRET-KEY-1/, "");
  return [secret, body.slice(0, 24), body.slice(-24)].map((s) => s.toLowerCase());
}

function expectNoSecret(where: string, text: string, secret: string): void {
  const lower = text.toLowerCase();
  for (const tale of tellTales(secret)) expect({ where, found: lower.includes(tale) }).toEqual({ where, found: false });
}

/** Every file below `dirs`, read whole (archives included: the key must not travel with them). */
function filesBelow(...dirs: string[]): string[] {
  return dirs.flatMap((dir) =>
    fs.existsSync(dir)
      ? (fs.readdirSync(dir, { recursive: true }) as string[])
          .map((rel) => path.join(dir, rel))
          .filter((f) => fs.statSync(f).isFile())
      : [],
  );
}

/** Arguments and environment of every process now, by pid; a process gone meanwhile is skipped. */
function processes(): Map<string, string> {
  const seen = new Map<string, string>();
  for (const pid of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const args = fs.readFileSync(`/proc/${pid}/cmdline`, "latin1");
      const env = fs.readFileSync(`/proc/${pid}/environ`, "latin1");
      seen.set(pid, `${args.replaceAll("\0", " ")}\n${env.replaceAll("\0", " ")}`);
    } catch {
      // Ended between the listing and the read.
    }
  }
  return seen;
}

/**
 * Runs the binary while reading every process's arguments and environment in a loop; returns its
 * result, and every distinct process text seen while it ran (the binary's own among them).
 */
async function watched(s: Svc, args: string[]): Promise<{ r: RunResult; seen: string[]; sweeps: number }> {
  const run = tbStart(s, args);
  let finished = false;
  const done = run.done.finally(() => {
    finished = true;
  });
  const seen = new Set<string>();
  let sweeps = 0;
  while (!finished) {
    for (const text of processes().values()) seen.add(text);
    sweeps++;
    await Bun.sleep(10);
  }
  return { r: await done, seen: [...seen], sweeps };
}

interface Setup {
  name: string;
  secret: string;
  encryption: string;
  files: Record<string, string>;
}

const SETUPS: Setup[] = [
  {
    name: "public key and identity",
    secret: IDENTITY,
    encryption: `encryption:\n  recipients: [${RECIPIENT}]\n  identity: ./backup.key\n`,
    files: { "backup.key": `# created: now\n# public key: ${RECIPIENT}\n${IDENTITY}\n` },
  },
  {
    name: "passphrase",
    secret: PASSPHRASE,
    encryption: "encryption:\n  passphrase_file: ./backup.pass\n",
    files: { "backup.pass": `${PASSPHRASE}\n` },
  },
];

describe.each(SETUPS)("$name: the secret never shows", (setup) => {
  const s = service({ what: "encsecret", fill: "set -e\necho one > a.txt\ndd if=/dev/urandom of=b bs=1k count=512" });
  for (const [name, content] of Object.entries(setup.files))
    fs.writeFileSync(path.join(s.p.root, name), content, { mode: 0o600 });
  s.p.writeConfig(`backup_dir: ${s.p.backupDir}\nservices:\n  ${s.name}: true\n${setup.encryption}`);
  const outputs: [string, RunResult][] = [];
  const ran = (what: string, r: RunResult) => {
    outputs.push([what, r]);
    expect({ what, code: r.code, stderr: r.stderr }).toMatchObject({ what, code: 0 });
    return r;
  };

  test("not in any process's arguments or environment while a backup and a restore run", async () => {
    const original = state(s.vol);
    const backup = await watched(s, ["backup", s.name, "--debug"]);
    ran("backup", backup.r);
    fillVolume(s.vol, "echo changed > a.txt");
    const restore = await watched(s, ["restore", s.name, "--yes", "--debug"]);
    ran("restore", restore.r);
    expect(state(s.vol)).toEqual(original);
    for (const [what, w] of [
      ["backup", backup],
      ["restore", restore],
    ] as const) {
      // The binary itself was seen running, many times over.
      expect(w.sweeps).toBeGreaterThan(5);
      expect(w.seen.some((t) => t.includes(s.p.config) && t.includes(what))).toBe(true);
      for (const text of w.seen) expectNoSecret(`a process during ${what}`, text, setup.secret);
    }
  });

  test("not in what backup, restore, verify --deep, list, status and --dry-run --json print", () => {
    const id = JSON.parse(ran("list", tb(s, ["list", s.name, "--json"])).stdout)[0].id as string;
    ran("verify --deep", tb(s, ["verify", s.name, "--deep", "--debug"]));
    const contents = ran("list --contents", tb(s, ["list", "--contents", id, "--debug"]));
    expect(contents.stdout).toContain("a.txt");
    ran("status", tb(s, ["status", "--debug"]));
    ran("status --json", tb(s, ["status", "--json"]));
    ran("dry run", tb(s, ["backup", s.name, "--dry-run", "--json", "--debug"]));
    expect(outputs.length).toBeGreaterThanOrEqual(8);
    for (const [what, r] of outputs) {
      expectNoSecret(`${what}'s stdout`, r.stdout, setup.secret);
      expectNoSecret(`${what}'s stderr`, r.stderr, setup.secret);
    }
  });

  test("not in the crontab line cron install writes", () => {
    const cron = fakeCrontab();
    const r = tb(s, ["cron", "install"], cron.env);
    expect({ code: r.code, stderr: r.stderr }).toMatchObject({ code: 0 });
    expect(cron.line()).toContain("'backup' '--cron'");
    for (const text of [cron.table(), r.stdout, r.stderr]) expectNoSecret("crontab", text, setup.secret);
  });

  test("not in the manifests, the archives or the state folder's files", () => {
    const files = filesBelow(s.p.backupDir, s.p.stateHome);
    const manifests = files.filter((f) => f.endsWith(".json") && f.startsWith(s.p.backupDir));
    // The backup, the restore's safety backup, and the run's records.
    expect(manifests.length).toBeGreaterThanOrEqual(2);
    expect(files.filter((f) => f.endsWith(".age")).length).toBe(manifests.length);
    expect(files.some((f) => f.startsWith(s.p.stateHome))).toBe(true);
    for (const file of files) expectNoSecret(file, fs.readFileSync(file, "latin1"), setup.secret);
  });
});
