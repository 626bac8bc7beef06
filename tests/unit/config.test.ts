import { afterAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { loadBackupConfig } from "../../src/config/backup-config.ts";
import { ConfigError } from "../../src/config/config-error.ts";
import { didYouMean } from "../../src/config/did-you-mean.ts";
import { expandPath } from "../../src/config/expand-path.ts";
import { locateConfig, locateRoot } from "../../src/config/locate.ts";
import { loadService, loadServices } from "../../src/config/service-config.ts";
import { UsageError } from "../../src/util/errors.ts";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "tools-backup-config-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
let counter = 0;

/** A fresh folder with the given files; a leading "!" in the content makes the file executable. */
function tree(files: Record<string, string>): string {
  const dir = path.join(tmp, `t${counter++}`);
  for (const [rel, content] of Object.entries(files)) {
    const file = path.join(dir, rel);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const exec = content.startsWith("!");
    fs.writeFileSync(file, exec ? content.slice(1) : content, { mode: exec ? 0o755 : 0o644 });
  }
  return dir;
}

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error("expected a ConfigError");
}

const backup = (yaml: string) => path.join(tree({ "backup.yaml": yaml }), "backup.yaml");
const loadErr = (yaml: string) => configError(() => loadBackupConfig(backup(yaml), {}, "/home/u"));

describe("backup.yaml", () => {
  test("defaults and expansion", () => {
    const file = backup("backup_dir: ./store\nservices:\n  openmemory: false\n");
    const c = loadBackupConfig(file, {}, "/home/u");
    expect(c).toMatchObject({
      file,
      backupDir: path.join(path.dirname(file), "store"),
      retentionDays: 7,
      keepLast: 3,
      compression: "zstd",
    });
    expect({ ...c.services }).toEqual({ openmemory: false });
    expect(loadBackupConfig(backup("backup_dir: ~/b\nservices:\n"), {}, "/home/u").services).toEqual({});
  });

  test("wrong type points at the value", () => {
    const e = loadErr("backup_dir: /b\n# comment\nretention_days: seven\n");
    expect(e.message).toEndWith(':3:17: retention_days: expected a whole number from 1 to 36500, found "seven"');
    expect([e.line, e.col, e.keyPath]).toEqual([3, 17, "retention_days"]);
    expect(e).toBeInstanceOf(UsageError);
  });

  test("unknown key points at the key, with a suggestion", () => {
    const e = loadErr("backup_dir: /b\n  \nretension_days: 3\n");
    expect(e.message).toEndWith(':3:1: unknown key "retension_days" (did you mean "retention_days"?)');
    expect(loadErr("Backup_Dir: /b\n").message).toContain('unknown key "Backup_Dir" (did you mean "backup_dir"?)');
  });

  test("YAML syntax error has a position", () => {
    const e = loadErr("backup_dir: /b\nservices: [a, b\nkeep_last: 2\n");
    expect(e.message).toMatch(/backup\.yaml:\d+:\d+: /);
    expect(loadErr("a: 1\na: 2\n").message).toContain(":2:1: Map keys must be unique");
  });

  test("value errors", () => {
    expect(loadErr("retention_days: 3\n").message).toEndWith(":1:1: backup_dir: expected a folder path, found nothing");
    expect(loadErr("").message).toEndWith(":1:1: backup_dir: expected a folder path, found nothing");
    expect(loadErr("backup_dir: '  '\n").message).toEndWith(':1:13: backup_dir: expected a folder path, found "  "');
    expect(loadErr("backup_dir:\n").message).toEndWith(":1:1: backup_dir: expected a folder path, found nothing");
    expect(loadErr("backup_dir: /b\nretention_days: -1\n").message).toEndWith(
      ":2:17: retention_days: expected a whole number from 1 to 36500, found -1",
    );
    expect(loadErr("backup_dir: /b\nretention_days: 99999999\n").message).toContain(
      ":2:17: retention_days: expected a whole number from 1 to 36500, found 99999999",
    );
    expect(loadErr("backup_dir: /b\nkeep_last: 1.5\n").message).toContain(
      ":2:12: keep_last: expected a whole number from 1 to 10000, found 1.5",
    );
    expect(loadErr("backup_dir: /b\ncompression: xz\n").message).toContain(
      ':2:14: compression: expected "zstd" or "gzip", found "xz"',
    );
    expect(loadErr("- a\n- b\n").message).toEndWith(":1:1: expected a mapping, found a list");
    expect(loadErr("backup_dir: [a]\n").message).toContain(":1:13: backup_dir: expected a folder path, found a list");
  });

  test("services", () => {
    expect(loadErr("backup_dir: /b\nservices:\n  openmemory: yes\n").message).toEndWith(
      ':3:15: services.openmemory: expected true or false, found "yes"',
    );
    expect(loadErr("backup_dir: /b\nservices:\n  openmemory: 1\n").message).toContain(
      ":3:15: services.openmemory: expected true or false, found 1",
    );
    expect(loadErr("backup_dir: /b\nservices:\n  ok: true\n  Bad;Name: true\n").message).toContain(
      ':4:3: services["Bad;Name"]: invalid service name "Bad;Name"',
    );
    expect(loadErr("backup_dir: /b\nservices: [a]\n").message).toContain(
      ":2:11: services: expected a mapping of service names to true or false, found a list",
    );
  });

  test("backup_dir variables", () => {
    const file = backup("backup_dir: $ROOT/b\n");
    expect(loadBackupConfig(file, { ROOT: "/srv" }, "/h").backupDir).toBe("/srv/b");
    const e = configError(() => loadBackupConfig(file, {}, "/h"));
    expect(e.message).toEndWith(":1:13: backup_dir: environment variable ROOT is not set");
  });
});

describe("expandPath", () => {
  const env = { A: "/a", B: "b" };
  test("expands ~, $VAR and ${VAR}, relative to baseDir", () => {
    expect(expandPath("~", env, "/home/u", "/base")).toBe("/home/u");
    expect(expandPath("~/x", env, "/home/u", "/base")).toBe("/home/u/x");
    expect(expandPath("$A/x", env, "/h", "/base")).toBe("/a/x");
    expect(expandPath("${B}x/y", env, "/h", "/base")).toBe("/base/bx/y");
    expect(expandPath("rel", env, "/h", "/base")).toBe("/base/rel");
    expect(expandPath("a~b$", env, "/h", "/base")).toBe("/base/a~b$");
  });
  test("unset variables and unsupported forms throw", () => {
    expect(() => expandPath("$NOPE/x", env, "/h", "/b")).toThrow("environment variable NOPE is not set");
    expect(() => expandPath("${NOPE}", env, "/h", "/b")).toThrow("environment variable NOPE is not set");
    expect(() => expandPath("${A:-x}", env, "/h", "/b")).toThrow("unsupported variable syntax");
    expect(() => expandPath("~bob/x", env, "/h", "/b")).toThrow("not supported");
  });
});

describe("service.yaml", () => {
  const svc = (yaml: string, extra: Record<string, string> = {}) =>
    tree({ "services/app/service.yaml": yaml, ...extra });
  const svcErr = (yaml: string, extra?: Record<string, string>) =>
    configError(() => loadService(svc(yaml, extra), "app"));

  test("other keys are ignored, ours are read", () => {
    const root = svc(
      "name: App\nports: [1]\ndata:\n  volumes:\n    - name: app_data\n      container: app\nlifecycle:\n  backup: ./b.sh\n",
      { "services/app/b.sh": "!#!/bin/sh\n" },
    );
    const s = loadService(root, "app");
    expect(s).toEqual({
      name: "app",
      dir: path.join(root, "services/app"),
      file: path.join(root, "services/app/service.yaml"),
      volumes: [{ name: "app_data", container: "app" }],
      hasData: true,
      lifecycle: { backup: path.join(root, "services/app/b.sh") },
    });
    expect(loadService(svc("name: App\n"), "app")).toMatchObject({ volumes: [], hasData: false, lifecycle: {} });
  });

  test("strict data validation with positions", () => {
    expect(svcErr("data:\n  volumes:\n    - name: ok\n    - name: bad;name\n").message).toEndWith(
      ':4:13: data.volumes[1].name: expected a docker volume name (letters, digits, "_", "." and "-", at most 255), found "bad;name"',
    );
    expect(svcErr("data:\n  volumes:\n    - name: ok\n      contaner: x\n").message).toContain(
      ':4:7: unknown key "contaner" (did you mean "container"?)',
    );
    expect(svcErr("data:\n  volumes: []\n").message).toContain(
      ":2:12: data.volumes: expected a non-empty list of volumes, found a list",
    );
    expect(svcErr("data:\n  vols: []\n").message).toContain(':2:3: unknown key "vols"');
    expect(svcErr("data:\n  volumes:\n    - container: x\n").message).toContain(
      ":3:7: data.volumes[0].name: expected a docker volume name",
    );
    expect(svcErr("data:\n  volumes:\n    - name: a\n    - name: a\n").message).toContain(
      ':4:13: data.volumes[1].name: volume "a" is listed twice',
    );
    expect(svcErr("lifecycle: ./b.sh\n").message).toContain(':1:12: lifecycle: expected a mapping, found "./b.sh"');
  });

  test("lifecycle scripts", () => {
    expect(svcErr("lifecycle:\n  backup: ../../x.sh\n", { "x.sh": "!" }).message).toContain(
      ':2:11: lifecycle.backup: script "../../x.sh" is outside',
    );
    expect(svcErr("lifecycle:\n  restore: ./r.sh\n").message).toContain(":2:12: lifecycle.restore: script not found");
    expect(svcErr("lifecycle:\n  backup: b.sh\n", { "services/app/b.sh": "#!/bin/sh\n" }).message).toContain(
      ":2:11: lifecycle.backup: script",
    );
    expect(svcErr("lifecycle:\n  backup: b.sh\n", { "services/app/b.sh": "#!/bin/sh\n" }).message).toContain(
      "is not executable",
    );
    const root = svc("lifecycle:\n  backup: link.sh\n", { "outside.sh": "!" });
    fs.symlinkSync(path.join(root, "outside.sh"), path.join(root, "services/app/link.sh"));
    expect(configError(() => loadService(root, "app")).message).toContain("links outside the service folder");
  });

  test("service names and discovery", () => {
    const root = tree({
      "services/web/service.yaml": "",
      "services/api/service.yaml": "x: 1\n",
      "services/notes/readme": "",
    });
    expect(loadServices(root).map((s) => s.name)).toEqual(["api", "web"]);
    expect(() => loadService(root, "../etc")).toThrow('invalid service name "../etc"');
    expect(() => loadService(root, "a b")).toThrow(UsageError);
    expect(() => loadService(root, "wbe")).toThrow(
      `unknown service "wbe" (did you mean "web"?); services are read from ${path.join(root, "services")}`,
    );
    expect(() => loadServices(tree({ "services/Bad/service.yaml": "" }))).toThrow('invalid service folder name "Bad"');
    expect(() => loadServices(tree({ "services/dir/service.yaml/x": "" }))).toThrow("is a directory");
    expect(() => loadServices(tree({ x: "" }))).toThrow("no services folder");
  });
});

describe("locate", () => {
  test("locateConfig order", () => {
    const cwd = tree({ "backup.yaml": "", "other.yaml": "", "xdg/tools/backup.yaml": "" });
    const home = path.join(cwd, "home");
    expect(locateConfig({ config: "other.yaml" }, { TOOLS_BACKUP_CONFIG: "/nope" }, cwd, home)).toEqual({
      configFile: path.join(cwd, "other.yaml"),
      found: true,
    });
    expect(locateConfig({}, { TOOLS_BACKUP_CONFIG: "other.yaml" }, cwd, home).configFile).toBe(
      path.join(cwd, "other.yaml"),
    );
    expect(() => locateConfig({ config: "missing.yaml" }, {}, cwd, home)).toThrow(
      `config file not found: ${path.join(cwd, "missing.yaml")}`,
    );
    expect(() => locateConfig({}, { TOOLS_BACKUP_CONFIG: "/no/such" }, cwd, home)).toThrow(
      "config file not found: /no/such",
    );
    expect(locateConfig({}, {}, cwd, home).configFile).toBe(path.join(cwd, "backup.yaml"));
    const empty = tree({ x: "" });
    expect(locateConfig({}, { XDG_CONFIG_HOME: path.join(cwd, "xdg") }, empty, home)).toEqual({
      configFile: path.join(cwd, "xdg/tools/backup.yaml"),
      found: true,
    });
    expect(locateConfig({}, {}, empty, home)).toEqual({
      configFile: path.join(home, ".config/tools/backup.yaml"),
      found: false,
    });
  });

  test("locateRoot order", () => {
    const base = tree({ "cfg/backup.yaml": "", "cfg/services/a/service.yaml": "", "r/x": "", "plain/backup.yaml": "" });
    const cfg = path.join(base, "cfg/backup.yaml");
    expect(locateRoot({ root: "r" }, cfg, { TOOLS_ROOT: "/nope" }, base)).toBe(path.join(base, "r"));
    expect(locateRoot({}, cfg, { TOOLS_ROOT: path.join(base, "r") }, base)).toBe(path.join(base, "r"));
    expect(() => locateRoot({ root: "missing" }, cfg, {}, base)).toThrow("root folder not found");
    expect(locateRoot({}, cfg, {}, "/")).toBe(path.join(base, "cfg"));
    expect(locateRoot({}, path.join(base, "plain/backup.yaml"), {}, base)).toBe(base);
    expect(locateRoot({}, undefined, {}, base)).toBe(base);
  });
});

test("didYouMean", () => {
  expect(didYouMean("kep_last", ["keep_last", "backup_dir"])).toBe("keep_last");
  expect(didYouMean("KEEP_LAST", ["keep_last"])).toBe("keep_last");
  expect(didYouMean("zzz", ["keep_last"])).toBeUndefined();
  expect(didYouMean("x", ["ab"])).toBeUndefined();
});
