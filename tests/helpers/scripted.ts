/**
 * A service backed up and restored by its own scripts (lifecycle.backup / lifecycle.restore):
 * its data is data.txt in the service folder, and each script logs what it was given to log.txt.
 */
import fs from "node:fs";
import path from "node:path";
import { makeProject, textIfAny } from "./project.ts";
import { type Svc, svcName } from "./restore-kit.ts";

/** Each script appends `<op> NAME=value` lines to log.txt in its working folder. */
export const LOG = (op: string) =>
  `{ echo "${op} SERVICE=$SERVICE"; echo "${op} BACKUP_DIR=$BACKUP_DIR"; echo "${op} BACKUP_FILE=$BACKUP_FILE"; echo "${op} PWD=$(pwd)"; } >> log.txt`;
export const BACKUP_OK = `${LOG("backup")}\ncat data.txt > "$BACKUP_FILE"`;
export const RESTORE_OK = `${LOG("restore")}\ncat "$BACKUP_FILE" > data.txt`;

export const writeScript = (dir: string, file: string, body: string) =>
  fs.writeFileSync(path.join(dir, file), `#!/bin/sh\nset -e\n${body}\n`, { mode: 0o755 });

export function scripted(
  scripts: Record<string, string>,
  lifecycle = "lifecycle:\n  backup: ./backup.sh\n  restore: ./restore.sh\n",
): Svc & { dir: string; log(): string[] } {
  const name = svcName("lc");
  const p = makeProject({ services: { [name]: `name: ${name}\nports: [8080]\n${lifecycle}` } });
  const dir = path.join(p.root, "services", name);
  for (const [file, body] of Object.entries(scripts)) writeScript(dir, file, body);
  fs.writeFileSync(path.join(dir, "data.txt"), "payload-1\n");
  const log = () => (textIfAny(path.join(dir, "log.txt")) ?? "").split("\n").filter(Boolean);
  return { name, vol: "", p, dir, log };
}

export const data = (s: { dir: string }) => fs.readFileSync(path.join(s.dir, "data.txt"), "utf8");
