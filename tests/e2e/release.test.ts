/**
 * `npm run release` and what it makes: every platform's binary, SHA256SUMS and install.sh. The
 * linux-x64 binary backs up, lists, verifies and restores against the real engine; the arm64 one
 * runs under qemu (binfmt_misc is not mounted here, so qemu-aarch64-static is called directly);
 * the macOS ones are checked for their format and processor with `file`.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { binaryEnv, cleanupCliTemp, REPO, run, tempDir } from "../helpers/cli.ts";
import { cleanupDocker, createVolume, inVolume, isRunning, runContainer, uniqueName } from "../helpers/docker.ts";
import { fakeCrontab } from "../helpers/fake-crontab.ts";
import { filesIn, makeProject } from "../helpers/project.ts";

const RELEASE = path.join(REPO, "dist", "release");
const ARM64_LIBC = "/usr/aarch64-linux-gnu";
const TARGETS = ["linux-x64", "linux-arm64", "linux-x64-musl", "linux-arm64-musl", "darwin-arm64", "darwin-x64"];

beforeAll(() => {
  const r = spawnSync("npm", ["run", "--silent", "release"], { cwd: REPO, encoding: "utf8", timeout: 900_000 });
  if (r.status !== 0) throw new Error(`npm run release failed:\n${r.stderr}`);
}, 900_000);

afterAll(() => {
  cleanupDocker();
  cleanupCliTemp();
});

/** A release binary run like the tests' own binary: no terminal, its own state and config folders. */
function release(target: string, args: string[], opts: { prefix?: string[]; env?: Record<string, string> } = {}) {
  const bin = path.join(RELEASE, `tools-backup-${target}`);
  const [cmd, ...pre] = opts.prefix ? [...opts.prefix, bin] : [bin];
  const r = spawnSync(cmd!, [...pre, ...args], {
    env: binaryEnv({ env: opts.env }),
    encoding: "utf8",
    timeout: 120_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const fileType = (name: string) => spawnSync("file", ["-b", path.join(RELEASE, name)], { encoding: "utf8" }).stdout;

describe("npm run release", () => {
  test("every platform's binary, install.sh and SHA256SUMS, which sha256sum -c accepts", () => {
    const names = TARGETS.map((t) => `tools-backup-${t}`);
    expect(filesIn(RELEASE).sort()).toEqual([...names, "SHA256SUMS", "install.sh"].sort());
    const sums = fs.readFileSync(path.join(RELEASE, "SHA256SUMS"), "utf8");
    expect(
      sums
        .trim()
        .split("\n")
        .map((l) => l.split("  ")[1])
        .sort(),
    ).toEqual([...names, "install.sh"].sort());
    const check = spawnSync("sha256sum", ["-c", "SHA256SUMS"], { cwd: RELEASE, encoding: "utf8" });
    expect(check.stdout).not.toContain("FAILED");
    expect(check.status).toBe(0);
  });

  test("the macOS binaries are Mach-O for arm64 and x86_64; the Linux ones ELF, musl's with musl's loader", () => {
    expect(fileType("tools-backup-darwin-arm64")).toMatch(/Mach-O 64-bit .*arm64/);
    expect(fileType("tools-backup-darwin-x64")).toMatch(/Mach-O 64-bit .*x86_64/);
    expect(fileType("tools-backup-linux-x64")).toMatch(/ELF 64-bit .*x86-64.*ld-linux-x86-64/);
    expect(fileType("tools-backup-linux-arm64")).toMatch(/ELF 64-bit .*aarch64.*ld-linux-aarch64/);
    expect(fileType("tools-backup-linux-x64-musl")).toMatch(/ELF 64-bit .*x86-64.*ld-musl/);
    expect(fileType("tools-backup-linux-arm64-musl")).toMatch(/ELF 64-bit .*aarch64.*ld-musl/);
  });

  test("the linux-x64 binary: --version names its platform; backup, list, verify and restore on the engine", () => {
    expect(release("linux-x64", ["--version"]).stdout).toMatch(/^\d+\.\d+\.\d+\S* \(linux-x64\)\n$/);
    const volume = createVolume();
    const app = uniqueName("app");
    inVolume(volume, "echo release > a.txt");
    runContainer(app, [volume]);
    const p = makeProject({ services: { rel: [{ name: volume, container: app }] } });
    const env = { XDG_STATE_HOME: p.stateHome };
    expect(release("linux-x64", ["backup", "rel", ...p.args], { env }).code).toBe(0);
    const listed = release("linux-x64", ["list", "--json", ...p.args], { env });
    const [backup] = JSON.parse(listed.stdout) as { id: string }[];
    expect(backup?.id).toStartWith("rel_");
    expect(release("linux-x64", ["verify", ...p.args], { env }).code).toBe(0);
    inVolume(volume, "echo changed > a.txt");
    const restored = release("linux-x64", ["restore", "rel", "--yes", ...p.args], { env });
    expect(restored.code).toBe(0);
    expect(inVolume(volume, "cat a.txt").trim()).toBe("release");
    expect(isRunning(app)).toBe(true);
  });

  test("the linux-arm64 binary runs under qemu: --version, --help, and list on a backup_dir", () => {
    const qemu = ["qemu-aarch64-static", "-L", ARM64_LIBC];
    const version = release("linux-arm64", ["--version"], { prefix: qemu });
    expect(version.stderr).toBe("");
    expect(version.stdout).toMatch(/ \(linux-arm64\)\n$/);
    expect(release("linux-arm64", ["--help"], { prefix: qemu }).stdout).toContain("restore");
    // A backup_dir the x64 binary filled: the arm64 one reads the same catalog.
    const volume = createVolume();
    inVolume(volume, "echo arm > b.txt");
    const p = makeProject({ services: { arm: [{ name: volume }] } });
    expect(run(["backup", "arm", ...p.args], { stateHome: p.stateHome }).code).toBe(0);
    const x64 = JSON.parse(run(["list", "--json", ...p.args]).stdout) as { id: string }[];
    const arm = release("linux-arm64", ["list", "--json", ...p.args], { prefix: qemu });
    expect(arm.code).toBe(0);
    expect((JSON.parse(arm.stdout) as { id: string }[]).map((b) => b.id)).toEqual(x64.map((b) => b.id));
  });
});

describe("install.sh", () => {
  const linux = path.join(RELEASE, "tools-backup-linux-x64");
  const sh = (args: string[], env: Record<string, string> = {}, script = path.join(RELEASE, "install.sh")) =>
    spawnSync("sh", [script, ...args], { env: binaryEnv({ env }), encoding: "utf8", timeout: 120_000 });

  test("a fresh install into ~/.local/bin: the binary for this machine, checked, nothing else left there", () => {
    const home = tempDir("tbtest-home-");
    const r = sh([], { HOME: home });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const bin = path.join(home, ".local", "bin", "tools-backup");
    expect(r.stdout).toContain(`installed ${bin}: `);
    expect(r.stdout).toContain("(linux-x64)");
    expect(fs.readFileSync(bin).equals(fs.readFileSync(linux))).toBe(true);
    expect(fs.statSync(bin).mode & 0o777).toBe(0o755);
    expect(filesIn(path.dirname(bin))).toEqual(["tools-backup"]);
  });

  test("an upgrade keeps an installed schedule and points it at the new binary; cron status sees other versions", () => {
    const home = tempDir("tbtest-home-");
    const cron = fakeCrontab();
    const p = makeProject({ services: { up: [{ name: "unused-volume" }] } });
    const old = path.join(home, "old", "tools-backup");
    fs.mkdirSync(path.dirname(old));
    fs.copyFileSync(linux, old);
    const installed = spawnSync(old, ["cron", "install", "--schedule", "17 4 * * *", ...p.args], {
      env: binaryEnv({ env: cron.env }),
      encoding: "utf8",
    });
    expect(installed.status).toBe(0);
    expect(cron.line()).toContain(`'${old}' 'backup' '--cron'`);
    // The old binary, of another version: what cron status compares with its own.
    fs.writeFileSync(old, "#!/bin/sh\necho '0.0.1 (linux-x64)'\n", { mode: 0o755 });
    const status = spawnSync(linux, ["cron", "status"], { env: binaryEnv({ env: cron.env }), encoding: "utf8" });
    expect(status.stderr).toContain(`runs ${old}, version 0.0.1 (linux-x64)`);

    const prefix = path.join(home, "bin");
    const r = sh(["--prefix", prefix], cron.env);
    expect(r.status).toBe(0);
    const line = cron.line()!;
    expect(line).toStartWith("17 4 * * * ");
    expect(line).toContain(`'${path.join(prefix, "tools-backup")}' 'backup' '--cron' '--config' '${p.config}'`);
    expect(line).not.toContain(old);
    const after = spawnSync(linux, ["cron", "status"], { env: binaryEnv({ env: cron.env }), encoding: "utf8" });
    expect(after.stderr).not.toContain("version");
  });

  test("a binary that does not match SHA256SUMS is refused and the installed one stays", () => {
    const copy = tempDir("tbtest-release-");
    for (const f of filesIn(RELEASE)) fs.copyFileSync(path.join(RELEASE, f), path.join(copy, f));
    const target = path.join(copy, "tools-backup-linux-x64");
    const bytes = fs.readFileSync(target);
    bytes[bytes.length >> 1]! ^= 1;
    fs.writeFileSync(target, bytes);
    const prefix = tempDir("tbtest-prefix-");
    fs.writeFileSync(path.join(prefix, "tools-backup"), "the old binary\n", { mode: 0o755 });
    const r = sh(["--prefix", prefix], {}, path.join(copy, "install.sh"));
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("tools-backup-linux-x64 does not match SHA256SUMS");
    expect(r.stderr).toContain("nothing was installed");
    expect(fs.readFileSync(path.join(prefix, "tools-backup"), "utf8")).toBe("the old binary\n");
    expect(filesIn(prefix)).toEqual(["tools-backup"]);
  });

  test("--from URL: the files downloaded over HTTP (curl), checked and installed the same way", async () => {
    const server = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch(req) {
        const name = path.basename(new URL(req.url).pathname);
        const file = path.join(RELEASE, name);
        return fs.existsSync(file) ? new Response(Bun.file(file)) : new Response("missing", { status: 404 });
      },
    });
    try {
      const prefix = path.join(tempDir("tbtest-prefix-"), "bin");
      const from = `http://127.0.0.1:${server.port}/release`;
      const script = path.join(tempDir("tbtest-script-"), "install.sh");
      fs.copyFileSync(path.join(RELEASE, "install.sh"), script);
      const child = Bun.spawn(["sh", script, "--prefix", prefix, "--from", from], {
        env: binaryEnv(),
        stdout: "pipe",
        stderr: "pipe",
      });
      const [code, out, err] = await Promise.all([
        child.exited,
        new Response(child.stdout).text(),
        new Response(child.stderr).text(),
      ]);
      expect(err).toBe("");
      expect(code).toBe(0);
      expect(out).toContain("(linux-x64)");
      expect(fs.readFileSync(path.join(prefix, "tools-backup")).equals(fs.readFileSync(linux))).toBe(true);
    } finally {
      server.stop(true);
    }
  });

  test("an unknown system or processor is refused clearly, nothing installed", () => {
    const cases: [string, string, string][] = [
      ["SunOS", "x86_64", "no release binary for SunOS"],
      ["Linux", "riscv64", "no release binary for the riscv64 processor"],
    ];
    for (const [system, machine, said] of cases) {
      const fake = tempDir("tbtest-uname-");
      const uname = `#!/bin/sh\ncase "$1" in -s) echo ${system} ;; -m) echo ${machine} ;; esac\n`;
      fs.writeFileSync(path.join(fake, "uname"), uname, { mode: 0o755 });
      const prefix = path.join(tempDir("tbtest-prefix-"), "bin");
      const r = sh(["--prefix", prefix], { PATH: `${fake}:${process.env.PATH}` });
      expect(r.status).toBe(1);
      expect(r.stderr).toContain(said);
      expect(fs.existsSync(prefix)).toBe(false);
    }
  });
});
