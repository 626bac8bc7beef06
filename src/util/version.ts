import pkg from "../../package.json" with { type: "json" };

declare const TOOLS_BACKUP_VERSION: string | undefined;

/** Set by scripts/build.ts through `define`; a run from source reads package.json. */
export const VERSION: string = typeof TOOLS_BACKUP_VERSION === "string" ? TOOLS_BACKUP_VERSION : `${pkg.version}-dev`;
