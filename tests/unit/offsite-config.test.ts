/** backup.yaml's `offsite:` list through the public loader: what each entry becomes, and where a mistake is. */
import { afterAll, expect, test } from "bun:test";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { loadBackupConfig } from "../../src/config/backup-config.ts";
import { ConfigError } from "../../src/config/config-error.ts";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "tools-backup-offsite-config-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
let counter = 0;

/** backup.yaml in a fresh folder beside a keys file b2.env of the given mode. */
function configFile(yaml: string, keysMode = 0o600): string {
  const dir = path.join(tmp, `t${counter++}`);
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, "b2.env"), "AWS_ACCESS_KEY_ID=k\nAWS_SECRET_ACCESS_KEY=s\n", { mode: keysMode });
  fs.chmodSync(path.join(dir, "b2.env"), keysMode);
  fs.writeFileSync(path.join(dir, "backup.yaml"), yaml);
  return path.join(dir, "backup.yaml");
}

const load = (file: string) => loadBackupConfig(file, {}, "/home/u");

function errorOf(yaml: string, keysMode?: number): ConfigError {
  try {
    load(configFile(yaml, keysMode));
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error("expected a ConfigError");
}

const HEAD = "backup_dir: /b\nretention_days: 9\nkeep_last: 4\noffsite:\n";

test("an entry: bucket and prefix from the url, endpoint without its slash, defaults and overrides", () => {
  const file = configFile(
    `${HEAD}  - name: b2\n    url: s3://my-bucket/a/b/\n    endpoint: http://127.0.0.1:9000/\n` +
      "    credentials: b2.env\n    keep_last: 2\n" +
      "  - name: aws\n    url: s3://other.bucket\n    path_style: true\n    region: eu-west-1\n",
  );
  const [b2, aws] = load(file).offsite;
  expect(b2).toMatchObject({
    name: "b2",
    bucket: "my-bucket",
    prefix: "a/b",
    endpoint: "http://127.0.0.1:9000",
    pathStyle: false,
    credentials: path.join(path.dirname(file), "b2.env"),
    retentionDays: 9,
    keepLast: 2,
  });
  expect(aws).toMatchObject({ bucket: "other.bucket", prefix: "", pathStyle: true, region: "eu-west-1" });
  expect(aws?.kind === "s3" && aws.endpoint).toBeUndefined();
  expect(load(configFile("backup_dir: /b\n")).offsite).toEqual([]);
});

test("a keys file anyone but its owner can read is an error at its line; 0600 and 0400 are fine", () => {
  const yaml = `${HEAD}  - name: b2\n    url: s3://my-bucket\n    credentials: b2.env\n`;
  for (const mode of [0o640, 0o604, 0o660]) {
    const e = errorOf(yaml, mode);
    expect([e.line, e.col]).toEqual([7, 18]);
    expect(e.message).toContain(`(mode ${mode.toString(8)}): chmod 600 `);
  }
  for (const mode of [0o600, 0o400]) expect(load(configFile(yaml, mode)).offsite[0]?.name).toBe("b2");
});

test("mistakes name their line and column", () => {
  const entry = (lines: string) => `${HEAD}  - name: b2\n    url: s3://my-bucket\n${lines}`;
  const cases: [string, [number, number], string][] = [
    [`${HEAD}  - name: B2\n    url: s3://my-bucket\n`, [5, 11], "lowercase letters"],
    [`${HEAD}  - name: b2\n    url: https://my-bucket\n`, [6, 10], 'found "https://my-bucket"'],
    [`${HEAD}  - name: b2\n    url: s3://My_Bucket\n`, [6, 10], "3 to 63 lowercase"],
    [entry("    endpoint: http://h:9000/path\n"), [7, 15], 'found "http://h:9000/path"'],
    [entry("    path_style: yes\n"), [7, 17], "true or false"],
    [entry("    keep_last: 0\n"), [7, 16], "a whole number from 1 to 10000"],
    [entry("    secret: abc\n"), [7, 5], "secret"],
    [entry("  - name: b2\n    url: s3://my-bucket\n"), [7, 11], 'another copy is already called "b2"'],
    ["backup_dir: /b\noffsite: s3://my-bucket\n", [2, 10], "a list of offsite copies"],
  ];
  for (const [yaml, at, text] of cases) {
    const e = errorOf(yaml);
    expect({ yaml, at: [e.line, e.col] }).toEqual({ yaml, at });
    expect(e.message).toContain(text);
  }
});
