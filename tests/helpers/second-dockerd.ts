/**
 * A SECOND Docker daemon of the test's own, to stop and kill -9 without touching the main one
 * (other tests share it). Own socket, data-root, exec-root (so its own containerd) and pidfile.
 *
 * Never `--bridge none`: at start-up dockerd then DELETES the host's `docker0` link (it shares
 * the host's network namespace), which breaks the main daemon's bridge network for everyone.
 * Instead it gets a bridge of its own, no iptables, no ip-forward changes; its containers run
 * with `--network none` anyway. Images come from the main daemon (`docker save | load`): no pulls.
 */
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { alive } from "./alive.ts";

export interface SecondDaemon {
  dir: string;
  /** For DOCKER_HOST. */
  host: string;
  docker(args: string[]): { code: number | null; stdout: string; stderr: string };
  dockerOk(args: string[]): string;
  start(): Promise<void>;
  /** SIGKILL to dockerd only, as a crash would; returns once it is gone. */
  kill9(): Promise<void>;
  /** A clean stop (SIGTERM), e.g. for "the daemon is not running". */
  stop(): Promise<void>;
  isUp(): boolean;
  cleanup(): Promise<void>;
}

const readPid = (file: string) => {
  try {
    return Number(fs.readFileSync(file, "utf8").trim()) || undefined;
  } catch {
    return undefined;
  }
};
async function until(check: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (check()) return true;
    await Bun.sleep(100);
  }
  return check();
}

/** Processes whose command line names our folder (containerd, shims): ours, by construction. */
function pidsMentioning(dir: string): number[] {
  const out: number[] = [];
  for (const p of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(p) || Number(p) === process.pid) continue;
    try {
      if (fs.readFileSync(`/proc/${p}/cmdline`, "utf8").includes(dir)) out.push(Number(p));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

export function secondDaemon(): SecondDaemon {
  const tag = randomBytes(3).toString("hex");
  const dir = `/tmp/tbtest-d-${tag}`;
  const sock = path.join(dir, "docker.sock");
  const pidfile = path.join(dir, "pid");
  const bridge = `tbt${tag}`;
  const host = `unix://${sock}`;
  fs.mkdirSync(dir, { recursive: true });
  const ip = (args: string[]) => spawnSync("ip", args, { encoding: "utf8" });
  const docker = (args: string[]) => {
    const r = spawnSync("docker", ["-H", host, ...args], { encoding: "utf8", maxBuffer: 64 << 20, timeout: 110_000 });
    return { code: r.status, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
  };
  const isUp = () => docker(["version", "--format", "{{.Server.Version}}"]).code === 0;
  const containerdPid = () => readPid(path.join(dir, "exec", "containerd", "containerd.pid"));

  const self: SecondDaemon = {
    dir,
    host,
    docker,
    isUp,
    dockerOk(args) {
      const r = docker(args);
      if (r.code !== 0) throw new Error(`docker -H ${host} ${args.join(" ")} failed (${r.code}): ${r.stderr.trim()}`);
      return r.stdout;
    },
    async start() {
      if (ip(["link", "show", bridge]).status !== 0) {
        const third = 100 + (parseInt(tag, 16) % 150);
        for (const args of [
          ["link", "add", "name", bridge, "type", "bridge"],
          ["addr", "add", `10.213.${third}.1/24`, "dev", bridge],
          ["link", "set", bridge, "up"],
        ]) {
          const r = ip(args);
          if (r.status !== 0) throw new Error(`ip ${args.join(" ")}: ${r.stderr}`);
        }
      }
      // After a kill -9 the pidfile stays and dockerd refuses to start; its containerd dies with it.
      const old = containerdPid();
      if (old && !(await until(() => !alive(old), 15_000))) process.kill(old, "SIGKILL");
      fs.rmSync(pidfile, { force: true });
      const log = fs.openSync(path.join(dir, "dockerd.log"), "a");
      const child = spawn(
        "setsid",
        [
          "dockerd",
          "--host",
          host,
          "--data-root",
          path.join(dir, "data"),
          "--exec-root",
          path.join(dir, "exec"),
          "--pidfile",
          pidfile,
          "--bridge",
          bridge,
          "--iptables=false",
          "--ip-forward=false",
          "--ip-masq=false",
        ],
        { detached: true, stdio: ["ignore", log, log] },
      );
      child.unref();
      fs.closeSync(log);
      if (!(await until(isUp, 60_000)))
        throw new Error(
          `second dockerd did not come up:\n${fs.readFileSync(path.join(dir, "dockerd.log"), "utf8").slice(-3000)}`,
        );
    },
    async kill9() {
      const pid = readPid(pidfile);
      if (!pid) throw new Error("second dockerd has no pidfile");
      process.kill(pid, "SIGKILL");
      await until(() => !alive(pid), 10_000);
    },
    async stop() {
      const pid = readPid(pidfile);
      if (pid && alive(pid)) {
        process.kill(pid, "SIGTERM");
        if (!(await until(() => !alive(pid), 30_000))) process.kill(pid, "SIGKILL");
      }
      await until(() => !isUp(), 5_000);
    },
    async cleanup() {
      if (isUp()) {
        const ids = docker(["ps", "-aq"]).stdout.split("\n").filter(Boolean);
        if (ids.length) docker(["rm", "-f", ...ids]);
      }
      await self.stop();
      for (const pid of pidsMentioning(dir)) {
        try {
          process.kill(pid, "SIGKILL");
        } catch {
          // already gone
        }
      }
      await Bun.sleep(300);
      const mounts = fs
        .readFileSync("/proc/mounts", "utf8")
        .split("\n")
        .map((l) => l.split(" ")[1] ?? "")
        .filter((m) => m === dir || m.startsWith(`${dir}/`));
      for (const m of mounts.sort().reverse()) spawnSync("umount", ["-l", m]);
      fs.rmSync(dir, { recursive: true, force: true });
      ip(["link", "del", bridge]);
    },
  };
  return self;
}

/** Copies an image of the main daemon into the second one (never a pull). */
export function loadImage(d: SecondDaemon, image: string): void {
  const save = spawnSync("docker", ["save", image], { maxBuffer: 1 << 30 });
  if (save.status !== 0) throw new Error(`docker save ${image}: ${save.stderr}`);
  const load = spawnSync("docker", ["-H", d.host, "load", "-q"], { input: save.stdout, encoding: "utf8" });
  if (load.status !== 0) throw new Error(`docker load into the second daemon: ${load.stderr}`);
}
