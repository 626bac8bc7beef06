/** The machine a result came from: numbers from different machines are not comparable. */
import os from "node:os";
import { run } from "./proc.ts";

export interface Machine {
  date: string;
  hostname: string;
  os: string;
  cpuModel: string;
  cores: number;
  memoryBytes: number;
  dockerServer: string;
  dockerClient: string;
  storageDriver: string;
  /** 1/5/15-minute load when the run began: a shared machine's numbers need this context. */
  loadAverage: number[];
  bun: string;
  toolsBackup: string;
}

export async function machine(toolsBackupVersion: string): Promise<Machine> {
  const v = await run("docker", ["version", "--format", "{{.Server.Version}}|{{.Client.Version}}"]);
  const [server = "?", client = "?"] = v.stdout.trim().split("|");
  const info = await run("docker", ["info", "--format", "{{.Driver}}"]);
  return {
    date: new Date().toISOString(),
    hostname: os.hostname(),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    cpuModel: os.cpus()[0]?.model ?? "?",
    cores: os.cpus().length,
    memoryBytes: os.totalmem(),
    dockerServer: server,
    dockerClient: client,
    storageDriver: info.stdout.trim() || "?",
    loadAverage: os.loadavg().map((l) => Math.round(l * 100) / 100),
    bun: Bun.version,
    toolsBackup: toolsBackupVersion,
  };
}
