import { writeOut } from "./stdout.ts";
import { parseArgs, renderUsage, runCommand, type ArgsDef, type CommandDef } from "citty";
import { EXIT, UsageError, exitCodeOf, isUserFacing, messageOf } from "../errors.ts";
import { VERSION } from "../version.ts";
import { installInterruptHandlers, interruptedBy } from "./interrupt.ts";
import { endLive, logger } from "./log.ts";
import { root } from "./root.ts";
import { isInteractive } from "./terminal.ts";

type Resolvable<T> = T | Promise<T> | (() => T | Promise<T>);
const resolve = async <T>(v: Resolvable<T>): Promise<T> => (typeof v === "function" ? await (v as () => T | Promise<T>)() : await v);

/** Walks the command tree along the leading words; returns the command and the words left. */
async function resolveCommand(rawArgs: string[]) {
  const chain: CommandDef<ArgsDef>[] = [root as CommandDef<ArgsDef>];
  let rest = rawArgs;
  for (;;) {
    const cmd = chain[chain.length - 1]!;
    const subs = cmd.subCommands ? await resolve(cmd.subCommands) : undefined;
    const word = rest[0];
    if (!subs || !word || word.startsWith("-")) return { chain, rest };
    const sub = subs[word];
    if (!sub) throw new UsageError(`unknown command "${word}"; run \`tools-backup --help\` for the list`);
    chain.push(await resolve(sub));
    rest = rest.slice(1);
  }
}

/** citty accepts any flag; a typo like `--dryrun` must not silently do the real thing. */
function rejectUnknownFlags(args: ArgsDef, rest: string[]): void {
  const known = new Set(["help", "h", "debug"]);
  for (const [name, def] of Object.entries(args)) {
    known.add(name);
    const alias = (def as { alias?: string | string[] }).alias;
    for (const a of alias === undefined ? [] : Array.isArray(alias) ? alias : [alias]) known.add(a);
    if (def.type === "boolean") known.add(`no-${name}`);
  }
  for (const word of rest) {
    if (word === "--") break;
    const m = /^--?([^=]+)/.exec(word);
    if (m && !/^-\d/.test(word) && !known.has(m[1]!)) throw new UsageError(`unknown option "${word}"`);
  }
}

export async function runCli(rawArgs: string[]): Promise<number> {
  const debug = rawArgs.includes("--debug");
  let usageFor: CommandDef<ArgsDef> | undefined;
  try {
    if (rawArgs.length === 1 && (rawArgs[0] === "--version" || rawArgs[0] === "-v")) {
      writeOut(`${VERSION}\n`);
      return EXIT.ok;
    }
    const { chain, rest } = await resolveCommand(rawArgs);
    const cmd = chain[chain.length - 1]!;
    usageFor = cmd;
    if (chain.length === 1 && !rest.includes("--help") && !rest.includes("-h") && isInteractive()) {
      // No command on a terminal: the menu (with --config/--root if given). Never into a pipe or cron.
      const { configArgs } = await import("../commands/_shared.ts");
      rejectUnknownFlags(configArgs, rest);
      installInterruptHandlers();
      const { mainMenu } = await import("../tui/menu.ts");
      const { config, root } = parseArgs(rest, configArgs) as { config?: string; root?: string };
      const code = await mainMenu({ config, root });
      return interruptedBy()?.exitCode ?? code;
    }
    if (rest.includes("--help") || rest.includes("-h") || (!cmd.run && rest.length === 0)) {
      const usage = await renderUsage(cmd, chain[chain.length - 2]);
      writeOut((process.stdout.isTTY && !process.env.NO_COLOR ? usage : stripAnsi(usage)) + "\n");
      return EXIT.ok;
    }
    rejectUnknownFlags(await resolve(cmd.args ?? {}), rest);
    installInterruptHandlers();
    await runCommand(cmd, { rawArgs: rest });
    return interruptedBy()?.exitCode ?? EXIT.ok;
  } catch (error) {
    endLive();
    const interrupted = interruptedBy();
    if (interrupted) {
      logger.error(`interrupted by ${interrupted.signal}`);
      return interrupted.exitCode;
    }
    if ((error as Error)?.name === "CLIError") {
      logger.error(`${messageOf(error)}${usageFor ? `; see \`tools-backup ${commandPath(rawArgs)} --help\`` : ""}`);
      return EXIT.usage;
    }
    if (isUserFacing(error)) {
      logger.error(messageOf(error));
      if (debug) logger.error((error as Error).stack);
      return exitCodeOf(error);
    }
    logger.error(`unexpected error: ${messageOf(error)}${debug ? "" : " (run with --debug for details)"}`);
    if (debug) logger.error((error as Error)?.stack ?? String(error));
    return EXIT.failed;
  }
}

function stripAnsi(text: string): string {
  return text.replace(/\x1b\[[0-9;]*m/g, "");
}

function commandPath(rawArgs: string[]): string {
  return rawArgs.filter((w) => !w.startsWith("-")).slice(0, 1).join(" ");
}
