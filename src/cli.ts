#!/usr/bin/env bun
/** Entry point: glue only. The work happens in the core; the exit code contract in cli/run.ts. */
import { runCli } from "./cli/run.ts";

// A closed terminal or a reader that went away (`| head`) must not turn into a crash or a hang.
for (const stream of [process.stdout, process.stderr]) stream.on("error", () => undefined);

const code = await runCli(process.argv.slice(2));
process.exitCode = code;
// Child pipes or timers must not keep a finished run alive (cron would pile them up).
setTimeout(() => process.exit(code), 50).unref();
