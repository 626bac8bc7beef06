/**
 * Container downtime as the engine saw it: `docker events` runs during the measurement, and
 * downtime is the sum of every `die` -> next `start` interval (engine timeNano), so a restore
 * that stops the app twice (safety backup, then the restore proper) counts both gaps.
 */
import { start } from "./proc.ts";

interface Event {
  action: string;
  nano: bigint;
}

export interface DowntimeWatch {
  /** Ends the watch; the downtime in ms, 0 when the container never went down, or undefined when it was left down. */
  stop(): Promise<number | undefined>;
}

export function watchDowntime(container: string): DowntimeWatch {
  // --since replays what happened before the subscription was ready: no race with a fast stop.
  const sinceMs = Date.now();
  const since = (sinceMs / 1000).toFixed(3);
  // The engine may round --since down to the second: drop anything older than the watch itself.
  const sinceNano = BigInt(sinceMs) * 1_000_000n;
  const { child, done } = start("docker", [
    "events",
    "--since",
    since,
    "--filter",
    `container=${container}`,
    "--filter",
    "type=container",
    "--format",
    "{{json .}}",
  ]);
  const events: Event[] = [];
  let buffered = "";
  child.stdout!.on("data", (b: Buffer) => {
    buffered += b.toString();
    const lines = buffered.split("\n");
    buffered = lines.pop() ?? "";
    for (const line of lines.filter(Boolean)) {
      const e = JSON.parse(line) as { Action?: string; status?: string; timeNano?: number | string };
      const action = e.Action ?? e.status ?? "";
      if ((action === "die" || action === "start") && e.timeNano !== undefined && BigInt(e.timeNano) >= sinceNano)
        events.push({ action, nano: BigInt(e.timeNano) });
    }
  });

  const settled = () => {
    const lastDie = events.findLastIndex((e) => e.action === "die");
    return lastDie >= 0 && events.slice(lastDie).some((e) => e.action === "start");
  };

  return {
    async stop() {
      // Events arrive a little after the command that caused them returned.
      for (let waited = 0; waited < 3000 && !settled(); waited += 50) {
        if (waited >= 500 && !events.some((e) => e.action === "die")) break;
        await Bun.sleep(50);
      }
      child.kill("SIGTERM");
      await done;
      let total = 0n;
      let downAt: bigint | undefined;
      for (const e of [...events].sort((a, b) => (a.nano < b.nano ? -1 : a.nano > b.nano ? 1 : 0))) {
        if (e.action === "die" && downAt === undefined) downAt = e.nano;
        if (e.action === "start" && downAt !== undefined) {
          total += e.nano - downAt;
          downAt = undefined;
        }
      }
      if (downAt !== undefined) return undefined;
      return Number(total) / 1e6;
    },
  };
}
