/** backup.yaml's `notify:` list (src/config/notify-config.ts): the URL forms taken, and each mistake at its file:line:col. */
import { afterAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { loadBackupConfig } from "../../src/config/backup-config.ts";
import { ConfigError } from "../../src/config/config-error.ts";
import { parseTarget } from "../../src/config/notify-config.ts";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "tools-backup-notify-config-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
let counter = 0;

/** backup.yaml with `notify:` lines, in a folder of its own beside a 0600 token file and a 0644 one. */
function load(notify: string) {
  const dir = path.join(tmp, `t${counter++}`);
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, "token"), "secret\n", { mode: 0o600 });
  fs.writeFileSync(path.join(dir, "open-token"), "secret\n", { mode: 0o644 });
  fs.chmodSync(path.join(dir, "open-token"), 0o644);
  const file = path.join(dir, "backup.yaml");
  fs.writeFileSync(file, `backup_dir: /b\nnotify:\n${notify}`);
  return { file, dir, config: () => loadBackupConfig(file, {}, "/home/u") };
}

function errorOf(notify: string): { error: ConfigError; file: string } {
  const { file, config } = load(notify);
  try {
    config();
  } catch (error) {
    if (error instanceof ConfigError) return { error, file };
    throw error;
  }
  throw new Error("expected a ConfigError");
}

describe("notify: targets", () => {
  test("each scheme becomes its target, labelled by kind and host only", () => {
    const { config, dir } = load(
      [
        "  - url: ntfy://alice@ntfy.example.com/my-backups",
        "    password_file: token",
        "    on: [failure, success]",
        "  - url: ntfy://10.0.0.5:8080/topic?scheme=http",
        "  - url: https://hc-ping.com/0f1e-uuid/",
        "    kind: healthchecks",
        "  - url: generic+https://hooks.example.com/x/y?key=k",
        "  - url: smtp://bob@mail.example.com:465/?to=a@x.test,b@x.test&encryption=implicittls",
        "    password_file: token",
        "    on: [stale]",
        "",
      ].join("\n"),
    );
    const token = path.join(dir, "token");
    expect(config().notify).toEqual([
      {
        kind: "ntfy",
        label: "ntfy ntfy.example.com",
        url: "https://ntfy.example.com/my-backups",
        user: "alice",
        on: ["failure", "success"],
        passwordFile: token,
      },
      {
        kind: "ntfy",
        label: "ntfy 10.0.0.5:8080",
        url: "http://10.0.0.5:8080/topic",
        user: undefined,
        on: ["failure"],
        passwordFile: undefined,
      },
      {
        kind: "healthchecks",
        label: "healthchecks hc-ping.com",
        url: "https://hc-ping.com/0f1e-uuid",
        on: ["failure"],
        passwordFile: undefined,
      },
      {
        kind: "generic",
        label: "webhook hooks.example.com",
        url: "https://hooks.example.com/x/y?key=k",
        on: ["failure"],
        passwordFile: undefined,
      },
      {
        kind: "smtp",
        label: "email via mail.example.com",
        host: "mail.example.com",
        port: 465,
        user: "bob",
        from: "tools-backup@mail.example.com",
        to: ["a@x.test", "b@x.test"],
        encryption: "implicit",
        on: ["stale"],
        passwordFile: token,
      },
    ]);
  });

  test("no notify: no targets", () => {
    expect(loadBackupConfig(load("").file, {}, "/home/u").notify).toEqual([]);
  });
});

describe("notify: mistakes are configuration errors at file:line:col that never repeat the URL", () => {
  const cases: { name: string; yaml: string; at: [number, number]; says: string; hidden?: string }[] = [
    {
      name: "unsupported scheme lists the supported ones",
      yaml: "  - url: slack://tokenA/tokenB/tokenC\n",
      at: [3, 10],
      says:
        'notify[0].url: unsupported scheme "slack"; expected ntfy://HOST/TOPIC, generic+https://..., ' +
        "smtp://USER@HOST:PORT/?to=ADDRESS, or https://... with kind: healthchecks",
      hidden: "tokenA",
    },
    {
      name: "a password in the URL",
      yaml: "  - on: [failure]\n    url: ntfy://alice:hunter2@ntfy.sh/topic\n",
      at: [4, 10],
      says: "notify[0].url: a password in the URL would be shown with it: put it in password_file",
      hidden: "hunter2",
    },
    {
      name: "a bare https URL without kind",
      yaml: "  - url: https://hc-ping.com/uuid-123\n",
      at: [3, 10],
      says: "notify[0].url: an http(s) URL needs kind: healthchecks, or generic+https:// for a webhook",
      hidden: "uuid-123",
    },
    {
      name: "a bad email address",
      yaml: "  - url: smtp://mail.example.com/?to=me-at-example.com\n",
      at: [3, 10],
      says: 'notify[0].url: "me-at-example.com" is not an email address',
    },
    {
      name: "an email without recipients",
      yaml: "  - url: smtp://mail.example.com:587/\n",
      at: [3, 10],
      says: "notify[0].url: expected smtp://[USER@]HOST[:PORT]/?to=ADDRESS[,ADDRESS]",
    },
    {
      name: "an SMTP user without password_file",
      yaml: "  - url: smtp://bob@mail.example.com/?to=a@x.test\n",
      at: [3, 10],
      says: "notify[0].url: a USER@ in the URL needs password_file",
    },
    {
      name: "a bad ntfy topic",
      yaml: "  - url: ntfy://ntfy.sh/\n",
      at: [3, 10],
      says: "notify[0].url: expected ntfy://HOST/TOPIC",
    },
    {
      name: "an unknown event",
      yaml: "  - url: ntfy://ntfy.sh/t\n    on: [failure, sucess]\n",
      at: [4, 19],
      says: "notify[0].on[1]: expected one of failure, success, stale",
    },
    {
      name: "an unknown kind",
      yaml: "  - url: https://x.test/u\n    kind: uptime-kuma\n",
      at: [4, 11],
      says: 'notify[0].kind: expected "healthchecks" (other kinds follow from the URL)',
    },
  ];
  for (const c of cases)
    test(c.name, () => {
      const { error, file } = errorOf(c.yaml);
      expect(error.message).toStartWith(`${file}:${c.at[0]}:${c.at[1]}: ${c.says}`);
      expect([error.line, error.col]).toEqual(c.at);
      if (c.hidden) expect(error.message).not.toContain(c.hidden);
    });

  test("a password_file others may read", () => {
    const { error, file } = errorOf("  - url: generic+https://x.test/h\n    password_file: open-token\n");
    const open = path.join(path.dirname(file), "open-token");
    expect(error.message).toBe(
      `${file}:4:20: notify[0].password_file: ${open} is readable by others (mode 644): chmod 600 ${open}`,
    );
  });

  test("a password_file that is missing", () => {
    const { error, file } = errorOf("  - url: generic+https://x.test/h\n    password_file: nope\n");
    expect(error.message).toStartWith(`${file}:4:20: notify[0].password_file: cannot read `);
  });
});

describe("parseTarget", () => {
  test("http is chosen for ntfy only with ?scheme=http; a trailing slash leaves a Healthchecks URL", () => {
    expect(parseTarget("ntfy://ntfy.sh/t", undefined, ["failure"])).toMatchObject({ url: "https://ntfy.sh/t" });
    expect(parseTarget("https://hc.test/u///", "healthchecks", ["failure"])).toMatchObject({
      url: "https://hc.test/u",
    });
    expect(parseTarget("ntfy://ntfy.sh/t", "healthchecks", ["failure"])).toBe(
      "kind: healthchecks needs an http:// or https:// URL",
    );
  });

  test("encryption modes of smtp://", () => {
    const mode = (m: string) => parseTarget(`smtp://h.test/?to=a@b.test&encryption=${m}`, undefined, ["failure"]);
    expect(mode("explicittls")).toMatchObject({ encryption: "starttls", port: 587 });
    expect(mode("none")).toMatchObject({ encryption: "none" });
    expect(mode("ssl")).toBe("encryption: expected one of auto, implicittls, explicittls, none");
  });
});
