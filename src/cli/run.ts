import { type ArgsDef, type CommandDef, parseArgs, renderUsage, runCommand } from "citty";
import { installInterruptHandlers, interruptedBy } from "../terminal/interrupt.ts";
import { clearLive } from "../terminal/live-line.ts";
import { logger } from "../terminal/log.ts";
import { writeOut } from "../terminal/stdout.ts";
import { isInteractive } from "../terminal/tty.ts";
import { EXIT, exitCodeOf, isUserFacing, messageOf, UsageError } from "../util/errors.ts";
import { VERSION_LINE } from "../util/version.ts";
import { root } from "./root.ts";

type Resolvable<T> = T | Promise<T> | (() => T | Promise<T>);
const resolve = async <T>(v: Resolvable<T>): Promise<T> =>
  typeof v === "function" ? await (v as () => T | Promise<T>)() : await v;

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

/**
 * citty accepts any flag, ignores a boolean's `=value` and lets a string flag go without its
 * value: a typo like `--dryrun`, `--yes=no` or `--config` with no file must not silently run
 * something else than what was asked.
 */
function checkFlags(args: ArgsDef, rest: string[]): void {
  const booleans = new Set(["help", "h", "debug"]);
  const hints = new Map<string, string>();
  for (const [name, def] of Object.entries(args)) {
    if (def.type === "positional") continue;
    const alias = (def as { alias?: string | string[] }).alias;
    const names = [name, ...(alias === undefined ? [] : Array.isArray(alias) ? alias : [alias])];
    if (def.type === "boolean") for (const n of [...names, `no-${name}`]) booleans.add(n);
    else for (const n of names) hints.set(n, def.valueHint ?? "VALUE");
  }
  for (let i = 0; i < rest.length; i++) {
    const word = rest[i]!;
    if (word === "--") break;
    if (!isFlag(word)) continue;
    const [, dashes, name, value] = /^(--?)([^=]*)(?:=(.*))?$/s.exec(word)!;
    const flag = `${dashes}${name}`;
    const hint = hints.get(name!);
    if (booleans.has(name!)) {
      if (value !== undefined) throw new UsageError(`${flag} takes no value`);
      continue;
    }
    if (hint === undefined) throw new UsageError(`unknown option "${word}"`);
    // An empty word after the flag (`--from ""`) is a value: the command decides what it means.
    const missing = value === undefined ? i + 1 >= rest.length || isFlag(rest[i + 1]!) : value === "";
    if (missing) throw new UsageError(`${flag} needs a value: ${flag} ${hint}`);
    if (value === undefined) i++; // its value is the next word, not a flag to check
  }
}

/** "-5" is a value (a negative number), not a flag; "-" alone is a value too. */
function isFlag(word: string): boolean {
  return /^-\D/.test(word);
}

export async function runCli(rawArgs: string[]): Promise<number> {
  const debug = rawArgs.includes("--debug");
  let usageFor: CommandDef<ArgsDef> | undefined;
  try {
    if (rawArgs.length === 1 && (rawArgs[0] === "--version" || rawArgs[0] === "-v")) {
      writeOut(`${VERSION_LINE}\n`);
      return EXIT.ok;
    }
    const { chain, rest } = await resolveCommand(rawArgs);
    const cmd = chain[chain.length - 1]!;
    usageFor = cmd;
    if (chain.length === 1 && !rest.includes("--help") && !rest.includes("-h") && isInteractive()) {
      // No command on a terminal: the menu (with --config/--root if given). Never into a pipe or cron.
      const { configArgs } = await import("../commands/_shared.ts");
      checkFlags(configArgs, rest);
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
    checkFlags(await resolve(cmd.args ?? {}), rest);
    installInterruptHandlers();
    await runCommand(cmd, { rawArgs: rest });
    return interruptedBy()?.exitCode ?? EXIT.ok;
  } catch (error) {
    clearLive();
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
  // biome-ignore lint/suspicious/noControlCharactersInRegex: ESC is exactly what is stripped.
  return text.replace(/\x1b\[[0-9;]*m/g, "");
}

function commandPath(rawArgs: string[]): string {
  return rawArgs
    .filter((w) => !w.startsWith("-"))
    .slice(0, 1)
    .join(" ");
}
