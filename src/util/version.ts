import pkg from "../../package.json" with { type: "json" };

declare const TOOLS_BACKUP_VERSION: string | undefined;
declare const TOOLS_BACKUP_TARGET: string | undefined;

/** Set by scripts/build.ts through `define`; a run from source reads package.json. */
export const VERSION: string = typeof TOOLS_BACKUP_VERSION === "string" ? TOOLS_BACKUP_VERSION : `${pkg.version}-dev`;

/** The platform the binary was built for (linux-x64, darwin-arm64, ...); from source, the one running it. */
export const TARGET: string =
  typeof TOOLS_BACKUP_TARGET === "string" ? TOOLS_BACKUP_TARGET : `${process.platform}-${process.arch}`;

/** What `--version` prints: the version, then the platform. */
export const VERSION_LINE = `${VERSION} (${TARGET})`;
