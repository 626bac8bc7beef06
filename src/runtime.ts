import { resolve } from "node:path";

/**
 * The one place that knows which runtime runs us. The crontab line must start this very
 * program again: the compiled binary itself, or the runtime plus the script when run from source.
 */
declare const Bun: { main: string } | undefined;
declare const Deno: { execPath(): string; mainModule: string } | undefined;

export function selfCommand(): string[] {
  if (typeof Bun !== "undefined") {
    // A compiled binary's modules live in Bun's virtual /$bunfs: the executable is the program.
    if (Bun.main.startsWith("/$bunfs/") || Bun.main.startsWith("B:/~BUN/")) return [process.execPath];
    return [process.execPath, resolve(Bun.main)];
  }
  if (typeof Deno !== "undefined") return [Deno.execPath(), "run", "-A", new URL(Deno.mainModule).pathname];
  return [process.execPath, resolve(process.argv[1] ?? "")];
}
