/** Exit codes, one contract for every command. */
export const EXIT = { ok: 0, failed: 1, usage: 2, sighup: 129, sigint: 130, sigterm: 143 } as const;

/** A mistake in how the tool was called or configured: message shown, no stack, exit 2. */
export class UsageError extends Error {
  readonly exitCode: number = EXIT.usage;
  override name = "UsageError";
}

/** An operation that could not be done (docker down, corrupt archive): message shown, exit 1. */
export class OperationError extends Error {
  readonly exitCode: number = EXIT.failed;
  override name = "OperationError";
}

/** The run was stopped by SIGINT or SIGTERM; cleanup has already happened when this surfaces. */
export class InterruptedError extends Error {
  override name = "InterruptedError";
  constructor(readonly signal: "SIGHUP" | "SIGINT" | "SIGTERM") {
    super(`interrupted by ${signal}`);
  }
  get exitCode(): number {
    return { SIGHUP: EXIT.sighup, SIGINT: EXIT.sigint, SIGTERM: EXIT.sigterm }[this.signal];
  }
}

export function exitCodeOf(error: unknown): number {
  if (error instanceof UsageError || error instanceof OperationError || error instanceof InterruptedError) {
    return error.exitCode;
  }
  return EXIT.failed;
}

/** Errors whose message is for the user as it stands; anything else is a bug and keeps its stack. */
export function isUserFacing(error: unknown): error is UsageError | OperationError | InterruptedError {
  return error instanceof UsageError || error instanceof OperationError || error instanceof InterruptedError;
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * A system call's failure without the code and call around it:
 * "ENOSPC: no space left on device, write" is "no space left on device".
 */
export function systemErrorText(error: unknown): string {
  return /^E[A-Z0-9]+: (.+?), \w+\b/.exec(messageOf(error))?.[1] ?? messageOf(error);
}
