import { checkDaemon, containerState, startContainer } from "../docker/daemon.ts";
import { messageOf } from "../util/errors.ts";
import { isAlive } from "../util/process.ts";
import type { RunContext } from "./context.ts";
import { clearJournal, readJournal } from "./journal.ts";
import { markUnfinished } from "./unfinished-restore.ts";

/**
 * Finishes what a run killed outright left: a journal of a run that is no longer alive means
 * containers were stopped; start the ones still stopped, and say so. (Its helper containers
 * are removeStaleHelpers' job.) Docker is asked nothing unless there is such a journal.
 */
export async function recoverInterrupted(ctx: RunContext, service: string): Promise<void> {
  const journal = await readJournal(ctx.stateDir, service);
  if (!journal || journal.pid === process.pid || isAlive(journal.pid)) return;
  // With the daemon down every start below would fail, and the journal must then stay.
  await checkDaemon();
  const { reporter } = ctx;
  reporter.warn(
    service,
    `a ${journal.operation} started ${journal.started_at} (pid ${journal.pid}) ` +
      "was killed while containers were stopped; recovering",
  );
  // The dead run's `docker stop` calls outlive it; a container seen running now may still be
  // stopped by one of them. Wait until each could have finished (only right after a kill).
  const settled = Date.parse(journal.started_at) + journal.stopped.length * (ctx.stopTimeout + 5) * 1000;
  if (settled > Date.now()) {
    reporter.step(
      service,
      `waiting ${Math.ceil((settled - Date.now()) / 1000)} s for the killed run's docker stop to finish`,
    );
    await new Promise((r) => setTimeout(r, settled - Date.now()));
  }
  if (journal.operation === "restore" && journal.replacing !== false) {
    const back = journal.safety_backup
      ? `tools-backup restore ${service} --from ${journal.safety_backup}`
      : `tools-backup restore ${service} --from <id> (see tools-backup list ${service})`;
    reporter.warn(
      service,
      `that restore may have left its volumes partly written; to go back to the data from before it: ${back}`,
    );
    await markUnfinished(ctx.stateDir, {
      service,
      started_at: journal.started_at,
      restoring: journal.restoring,
      safety_backup: journal.safety_backup,
      why: `pid ${journal.pid} was killed while it replaced the volumes`,
    });
  }
  for (const name of journal.stopped) {
    try {
      const state = await containerState(name);
      const was = journal.ids?.[name];
      if (state.exists && was !== undefined && state.id !== was) {
        reporter.warn(
          service,
          `${name} was not started: ` +
            "it has been re-created since the killed run stopped it, and the new one is left as it is",
        );
      } else if (state.exists && !state.running) {
        await startContainer(name);
        reporter.step(service, `started ${name}, which the killed run had left stopped`);
      }
    } catch (e) {
      reporter.warn(service, `could not start ${name}: ${messageOf(e)}`);
    }
  }
  await clearJournal(ctx.stateDir, service);
}
