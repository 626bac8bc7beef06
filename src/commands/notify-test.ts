import { defineCommand } from "citty";
import { notifyTest } from "../app/notify-events.ts";
import { logger } from "../terminal/log.ts";
import { OperationError, UsageError } from "../util/errors.ts";
import { count } from "../util/format.ts";
import { configArgs, context, jsonArg, loadConfig, printJson } from "./_shared.ts";

export default defineCommand({
  meta: { name: "test", description: "Send one test notification to every target in backup.yaml and report each" },
  args: { ...configArgs, ...jsonArg },
  async run({ args }) {
    const session = loadConfig(args);
    if (session.config.notify.length === 0)
      throw new UsageError(`${session.config.file} has no notify: targets to test`);
    const deliveries = await notifyTest(context(session));
    if (args.json) printJson(deliveries);
    for (const d of deliveries.filter((d) => d.ok)) logger.success(`${d.target}: delivered`);
    const failed = deliveries.filter((d) => !d.ok);
    if (failed.length > 0) throw new OperationError(`${count(failed.length, "target")} of ${deliveries.length} failed`);
  },
});
