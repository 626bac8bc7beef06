import path from "node:path";

const VARIABLE = /\$(?:\{([^}]*)\}|([A-Za-z_][A-Za-z0-9_]*))/g;
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Expand a leading `~`, `$VAR` and `${VAR}`, then make the path absolute against `baseDir`.
 * Throws a plain Error so the caller can attach the YAML position.
 */
export function expandPath(
  value: string,
  env: Record<string, string | undefined>,
  home: string,
  baseDir: string,
): string {
  let expanded = value;
  if (expanded === "~" || expanded.startsWith("~/")) {
    expanded = home + expanded.slice(1);
  } else if (expanded.startsWith("~")) {
    // Silently treating "~bob/x" as a relative folder would back up to a surprising place.
    throw new Error(`"${expanded.split("/")[0]}" is not supported, only "~" (your home folder)`);
  }
  expanded = expanded.replace(VARIABLE, (_match, braced: string | undefined, bare: string | undefined) => {
    const name = braced ?? bare ?? "";
    if (!NAME.test(name)) throw new Error(`unsupported variable syntax "\${${name}}", use $NAME or \${NAME}`);
    const found = env[name];
    // An empty value is as bad as none: "$X/backups" would silently become "/backups".
    if (found === undefined || found === "") throw new Error(`environment variable ${name} is not set`);
    return found;
  });
  return path.resolve(baseDir, expanded);
}
