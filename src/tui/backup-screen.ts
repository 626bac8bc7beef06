import { select } from "@clack/prompts";
import { backUpNow } from "../app/backup-now.ts";
import { runContext, type Session } from "../app/session.ts";
import { loadServices } from "../config/service-config.ts";
import { interrupt } from "../terminal/interrupt.ts";
import { ask, out, say } from "./io.ts";
import { tuiReporter } from "./progress.ts";

/** Not a valid service name (those start with a letter or digit), so it cannot collide with one. */
const ALL = "*all";

/**
 * Pick one service (enabled or not: a one-off backup is always allowed) or all enabled ones,
 * then the same backUpNow as `tools-backup backup`, with live progress.
 */
export async function backupScreen(session: Session): Promise<void> {
  const services = loadServices(session.root);
  const on = (name: string) => session.config.services[name] === true;
  const enabled = services.filter((s) => s.hasData && on(s.name));
  const choice = await ask(
    select({
      ...out,
      message: "Back up which service?",
      options: [
        ...(enabled.length > 0
          ? [{ value: ALL, label: `All enabled services (${enabled.map((s) => s.name).join(", ")})` }]
          : []),
        ...services.map((s) => ({
          value: s.name,
          label: s.name,
          disabled: !s.hasData,
          hint: !s.hasData
            ? "no data declared in service.yaml"
            : on(s.name)
              ? "enabled"
              : "not enabled; backed up once anyway",
        })),
      ],
    }),
  );
  if (choice === undefined) return;
  const chosen = choice === ALL ? enabled : services.filter((s) => s.name === choice);
  const reporter = tuiReporter();
  const ctx = runContext(session, reporter, interrupt.signal);
  try {
    await backUpNow(ctx, chosen, { kind: "manual", wait: false, cron: false, downWord: "containers down" }, say);
  } finally {
    reporter.end();
  }
}
