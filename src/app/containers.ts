import type { VolumeSpec } from "../config/service-config.ts";
import { containerState, runningContainersUsing, startContainer, stopContainer } from "../docker/daemon.ts";
import { messageOf, OperationError } from "../util/errors.ts";

export interface ContainerPlan {
  /** Declared containers that exist, in declared order. */
  declared: string[];
  /** Declared containers that are running now, so the ones to stop and start again. */
  running: string[];
  missing: string[];
  /** Running (or paused) containers that use a volume without being declared: their writes may go on. */
  undeclared: string[];
  /** Paused containers using a volume, declared or not: a backup leaves them frozen as they are. */
  paused: string[];
  /** Docker's id of each container named above that exists, by name (for the journal). */
  ids: Record<string, string>;
}

/** The questions are asked together: each docker CLI call is a process start, before any downtime. */
export async function planContainers(volumes: VolumeSpec[]): Promise<ContainerPlan> {
  const declared = [...new Set(volumes.flatMap((v) => (v.container ? [v.container] : [])))];
  const plan: ContainerPlan = { declared: [], running: [], missing: [], undeclared: [], paused: [], ids: {} };
  const [states, users] = await Promise.all([
    Promise.all(declared.map(containerState)),
    Promise.all(volumes.map((v) => runningContainersUsing(v.name))),
  ]);
  declared.forEach((name, i) => {
    const state = states[i]!;
    if (!state.exists) plan.missing.push(name);
    else plan.declared.push(name);
    if (state.running) plan.running.push(name);
    if (state.paused) plan.paused.push(name);
    if (state.id) plan.ids[name] = state.id;
  });
  plan.undeclared = [...new Set(users.flat())].filter((c) => !declared.includes(c)).sort();
  const undeclaredStates = await Promise.all(plan.undeclared.map(containerState));
  plan.paused.push(...plan.undeclared.filter((_, i) => undeclaredStates[i]!.paused));
  for (const state of undeclaredStates) if (state.id) plan.ids[state.name] = state.id;
  return plan;
}

/**
 * Stops in reverse declared order. Each name is recorded before its stop is asked for,
 * so whatever happens next, the caller knows to start it again. The signal is checked before
 * each stop, the last point where a Ctrl-C can still cost no downtime.
 */
export async function stopAll(
  running: string[],
  stopped: string[],
  stopTimeout: number,
  signal: AbortSignal,
): Promise<void> {
  for (const name of [...running].reverse()) {
    signal.throwIfAborted();
    stopped.push(name);
    await stopContainer(name, stopTimeout);
  }
}

/** The stopped containers in the order they start again: declared order. */
export function startOrder(stopped: string[], declaredOrder: string[]): string[] {
  return [...stopped].sort((a, b) => declaredOrder.indexOf(a) - declaredOrder.indexOf(b));
}

/** Starts in declared order; tries every container even when one fails, then reports all. */
export async function startAll(stopped: string[], declaredOrder: string[]): Promise<string[]> {
  const failures: string[] = [];
  for (const name of startOrder(stopped, declaredOrder)) {
    try {
      await startContainer(name);
    } catch (e) {
      failures.push(messageOf(e));
    }
  }
  return failures;
}

export interface RestoreUsers {
  /** Running containers that use any of the volumes, declared or not. */
  running: string[];
  /** Start order: declared containers first, in declared order, then the others. */
  order: string[];
  ids: Record<string, string>;
}

/**
 * A restore stops every container that uses the volumes, not only the declared ones. It refuses
 * a paused one: stopping it is not clean, and leaving it frozen would swap its files under it.
 */
export async function restoreUsers(volumes: VolumeSpec[]): Promise<RestoreUsers> {
  const plan = await planContainers(volumes);
  if (plan.paused.length > 0) {
    const [what, are, it] = plan.paused.length === 1 ? ["container", "is", "it"] : ["containers", "are", "them"];
    const names = plan.paused.join(" ");
    throw new OperationError(
      `${what} ${plan.paused.join(", ")} ${are} paused: ` +
        `unpause ${it} (docker unpause ${names}) or stop ${it} (docker stop ${names}), ` +
        "then restore again; nothing was changed",
    );
  }
  const running = [...plan.running, ...plan.undeclared];
  return { running, order: [...plan.declared, ...plan.undeclared], ids: plan.ids };
}
