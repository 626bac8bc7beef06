import { defineCommand } from "citty";
import { keepCopyAdvice, newBackupKey, sealingFor } from "../app/backup-key.ts";
import { encryptionLines } from "../config/edit-encryption.ts";
import { logger } from "../terminal/log.ts";
import { writeOut } from "../terminal/stdout.ts";
import { jsonArg, printJson } from "./_shared.ts";

export default defineCommand({
  meta: {
    name: "generate",
    description: "Write a new age identity (0600, never over an existing file) and print its public key",
  },
  args: {
    output: {
      type: "string",
      description: "where to write it (default: $XDG_CONFIG_HOME/tools/backup.key)",
      valueHint: "FILE",
    },
    ...jsonArg,
    debug: { type: "boolean", description: "show stack traces of unexpected errors" },
  },
  async run({ args }) {
    const { file, recipient } = await newBackupKey(args.output);
    // The public key is the data; the identity itself is never printed.
    if (args.json) printJson({ file, recipient });
    else writeOut(`${recipient}\n`);
    logger.success(`wrote a new age identity to ${file} (mode 600); its public key: ${recipient}`);
    for (const line of keepCopyAdvice(file)) logger.warn(line);
    const yaml = encryptionLines(sealingFor(undefined, recipient, file));
    logger.info(`To encrypt new backups with it, add to backup.yaml:\n\n${yaml.join("\n")}\n`);
  },
});
