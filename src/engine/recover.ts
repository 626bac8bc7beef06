import { containerState, startContainer } from "../docker/engine.ts";
import { messageOf } from "../errors.ts";
import { clearJournal, readJournal } from "./journal.ts";
import type { RunContext } from "./context.ts";

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * A journal left by a run that is no longer alive means that run was killed while containers
 * were stopped: start the ones that are still stopped, and say so.
 */
export async function recoverInterrupted(ctx: RunContext, service: string): Promise<void> {
  const journal = await readJournal(ctx.stateDir, service);
  if (!journal || journal.pid === process.pid || alive(journal.pid)) return;
  const { reporter } = ctx;
  reporter.warn(service, `a ${journal.operation} started ${journal.started_at} (pid ${journal.pid}) was killed while containers were stopped; recovering`);
  if (journal.operation === "restore") {
    reporter.warn(service, "that restore may have left its volumes partly written: check the data, or restore the pre-restore safety backup (tools-backup list " + service + ")");
  }
  for (const name of journal.stopped) {
    try {
      const state = await containerState(name);
      if (state.exists && !state.running) {
        await startContainer(name);
        reporter.step(service, `started ${name}, which the killed run had left stopped`);
      }
    } catch (e) {
      reporter.warn(service, `could not start ${name}: ${messageOf(e)}`);
    }
  }
  await clearJournal(ctx.stateDir, service);
}
