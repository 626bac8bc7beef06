import fs from "node:fs";
import path from "node:path";
import * as v from "valibot";
import { SERVICE_NAME } from "../archive/naming.ts";
import { UsageError } from "../util/errors.ts";
import { didYouMean } from "./did-you-mean.ts";
import { configErrorAt, configErrorFromIssues, mappingCheck, strictMapping } from "./schema-errors.ts";
import { parseYamlFile, type YamlSource } from "./yaml-source.ts";

export interface VolumeSpec {
  name: string;
  container?: string;
}

export interface Service {
  name: string;
  dir: string;
  file: string;
  volumes: VolumeSpec[]; // [] when no data section
  hasData: boolean; // data.volumes non-empty or lifecycle.backup set
  lifecycle: { backup?: string; restore?: string }; // absolute paths
}

const DOCKER_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
function dockerName(what: string) {
  const expected = `a docker ${what} name (letters, digits, "_", "." and "-", at most 255)`;
  return v.pipe(v.string(expected), v.regex(DOCKER_NAME, expected), v.maxLength(255, expected));
}
const SCRIPT = "a script path relative to the service folder";
const script = v.pipe(
  v.string(SCRIPT),
  v.check((s) => s.trim() !== "" && !s.includes("\0"), SCRIPT),
);
const VOLUMES = "a non-empty list of volumes";

// service.yaml is shared with other tools: only `data` and `lifecycle` are ours, and those are strict.
const schema = v.pipe(
  mappingCheck(),
  v.object({
    data: v.optional(
      strictMapping({
        volumes: v.pipe(
          v.array(
            strictMapping({ name: dockerName("volume"), container: v.optional(dockerName("container")) }),
            VOLUMES,
          ),
          v.minLength(1, VOLUMES),
        ),
      }),
    ),
    lifecycle: v.optional(strictMapping({ backup: v.optional(script), restore: v.optional(script) })),
  }),
);

const servicesDir = (root: string) => path.join(path.resolve(root), "services");

/** Every service under root/services that has a service.yaml, sorted by name. */
export function loadServices(root: string): Service[] {
  return serviceNames(root).map((name) => loadService(root, name));
}

export function loadService(root: string, name: string): Service {
  if (!SERVICE_NAME.test(name)) throw new UsageError(`invalid service name ${JSON.stringify(name)}`);
  const dir = path.join(servicesDir(root), name);
  const file = path.join(dir, "service.yaml");
  if (!fs.existsSync(file)) {
    // A link whose target is gone is a broken service, not an unknown one.
    if (isPresent(file)) throw new UsageError(`${file} is a symbolic link to a file that does not exist`);
    throw unknownService(root, name);
  }
  const src = parseYamlFile(file);
  const parsed = v.safeParse(schema, src.data);
  if (!parsed.success) throw configErrorFromIssues(src, parsed.issues);
  const { data, lifecycle = {} } = parsed.output;

  const volumes = data?.volumes ?? [];
  const seen = new Set<string>();
  for (const [i, volume] of volumes.entries()) {
    if (seen.has(volume.name)) {
      throw configErrorAt(src, ["data", "volumes", i, "name"], `volume "${volume.name}" is listed twice`);
    }
    seen.add(volume.name);
  }
  const scripts: Service["lifecycle"] = {};
  if (lifecycle.backup !== undefined) scripts.backup = checkScript(src, dir, "backup", lifecycle.backup);
  if (lifecycle.restore !== undefined) scripts.restore = checkScript(src, dir, "restore", lifecycle.restore);
  return { name, dir, file, volumes, hasData: volumes.length > 0 || scripts.backup !== undefined, lifecycle: scripts };
}

/** Whether services/<name> has a service.yaml, even a broken one. */
export function isDefined(root: string, name: string): boolean {
  return isPresent(path.join(servicesDir(root), name, "service.yaml"));
}

/** The error for a name that is no service; `alsoKnown`: other names worth suggesting. */
export function unknownService(root: string, name: string, alsoKnown: string[] = []): UsageError {
  const suggestion = didYouMean(name, [...serviceNames(root), ...alsoKnown]);
  const hint = suggestion ? ` (did you mean "${suggestion}"?)` : "";
  return new UsageError(`unknown service "${name}"${hint}; services are read from ${servicesDir(root)}`);
}

/** Names of the folders holding a service.yaml; a bad folder name is an error, not a silent skip. */
function serviceNames(root: string): string[] {
  const dir = servicesDir(root);
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch (error) {
    const code = (error as { code?: string }).code;
    throw new UsageError(
      code === "ENOENT"
        ? `no services folder at ${dir} (set --root or TOOLS_ROOT)`
        : `cannot read ${dir}: ${code ?? error}`,
    );
  }
  const names: string[] = [];
  for (const entry of entries) {
    const full = path.join(dir, entry.name);
    // Follow symlinks: a service folder may be linked in from elsewhere.
    if (!isDirectory(full) || !isPresent(path.join(full, "service.yaml"))) continue;
    if (!SERVICE_NAME.test(entry.name)) {
      throw new UsageError(
        `invalid service folder name ${JSON.stringify(entry.name)} in ${dir} ` +
          '(lowercase letters, digits, "_", "." and "-")',
      );
    }
    names.push(entry.name);
  }
  return names.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

function isDirectory(file: string): boolean {
  try {
    return fs.statSync(file).isDirectory();
  } catch {
    return false;
  }
}

/** Lifecycle scripts run as the user: they must stay inside the service folder and be executable. */
function checkScript(src: YamlSource, dir: string, key: "backup" | "restore", value: string): string {
  const fail = (text: string) => configErrorAt(src, ["lifecycle", key], text);
  const resolved = path.resolve(dir, value);
  if (!inside(dir, resolved)) throw fail(`script ${JSON.stringify(value)} is outside the service folder ${dir}`);
  if (!fs.existsSync(resolved)) throw fail(`script not found: ${resolved}`);
  // Check the real path too, so a symlink cannot lead out of the folder.
  if (!inside(fs.realpathSync(dir), fs.realpathSync(resolved))) {
    throw fail(`script ${JSON.stringify(value)} links outside the service folder ${dir}`);
  }
  if (!fs.statSync(resolved).isFile()) throw fail(`script ${resolved} is not a file`);
  try {
    fs.accessSync(resolved, fs.constants.X_OK);
  } catch {
    throw fail(`script ${resolved} is not executable (chmod +x it)`);
  }
  return resolved;
}

function inside(dir: string, file: string): boolean {
  const rel = path.relative(dir, file);
  return rel !== "" && rel !== ".." && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel);
}

/** Exists as a name, even when it is a link to nothing (existsSync follows links). */
function isPresent(file: string): boolean {
  try {
    fs.lstatSync(file);
    return true;
  } catch {
    return false;
  }
}
