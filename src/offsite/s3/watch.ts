import { OffsiteError } from "../store.ts";
import { networkFailure } from "./failure.ts";

/**
 * A request's deadline: the answer must start within the timeout, and a body must keep coming
 * (each piece re-arms it), so a large download is never cut for being large, only for stalling.
 */
export class Watch {
  private readonly idle = new AbortController();
  readonly signal: AbortSignal;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly copy: string,
    private readonly host: string,
    private readonly seconds: number,
    private readonly outer: AbortSignal,
  ) {
    this.signal = AbortSignal.any([outer, this.idle.signal]);
    this.rearm();
  }

  rearm(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.idle.abort(), this.seconds * 1000);
  }

  stop(): void {
    clearTimeout(this.timer);
  }

  failure(e: unknown): unknown {
    if (this.outer.aborted) return this.outer.reason;
    if (e instanceof OffsiteError) return e;
    const timedOut = this.idle.signal.aborted ? { name: "TimeoutError" } : e;
    return networkFailure(this.copy, this.host, timedOut, this.seconds);
  }
}
