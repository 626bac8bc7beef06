import type { RcloneCopy } from "../../config/offsite-config.ts";
import { UsageError } from "../../util/errors.ts";
import { findOnPath } from "../../util/which.ts";
import { RcCallError } from "./rc-error.ts";
import { RcloneServer } from "./rc-server.ts";
import { rcloneOutput } from "./run.ts";

/** The oldest rclone whose commands, flags and remote-control calls we use behave as we rely on. */
const OLDEST = [1, 53] as const;

/**
 * rclone, checked before anything is done: on PATH, recent enough, and the copy's remote in its
 * rclone.conf. Each problem is a configuration error that says how to fix it. Resolves with the
 * rclone that then serves the copy, already running.
 */
export async function rcloneFor(copy: RcloneCopy, timeoutSeconds: number, signal: AbortSignal): Promise<RcloneServer> {
  const bin = findOnPath("rclone");
  if (!bin)
    throw new UsageError(`${copy.name}: rclone is not on PATH: install it (apt install rclone, or rclone.org/install)`);
  const tool = { bin, config: copy.rcloneConfig, timeoutSeconds };
  const m = /rclone v(\d+)\.(\d+)/.exec(await rcloneOutput(tool, ["version"], signal));
  const [major, minor] = m ? [Number(m[1]), Number(m[2])] : [0, 0];
  if (major < OLDEST[0] || (major === OLDEST[0] && minor < OLDEST[1]))
    throw new UsageError(
      `${copy.name}: ${bin} is too old (${m?.[0] ?? "unknown version"}): rclone 1.53 or newer is needed`,
    );
  const server = new RcloneServer(tool);
  const remotes = await server.call<{ remotes?: string[] }>("config/listremotes", {}, signal).catch((e) => {
    server.close();
    if (!(e instanceof RcCallError)) throw e;
    throw new UsageError(`${copy.name}: rclone did not start: ${e.error}`);
  });
  const name = copy.remote.slice(0, copy.remote.indexOf(":"));
  if (!(remotes.remotes ?? []).includes(name)) {
    server.close();
    const where = copy.rcloneConfig ?? "rclone's rclone.conf (`rclone config file` says where)";
    throw new UsageError(`${copy.name}: the remote "${name}:" is not in ${where}: add it with \`rclone config\``);
  }
  return server;
}
