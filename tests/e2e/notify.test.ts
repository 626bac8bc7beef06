/**
 * Notifications (issue 33) from the compiled binary against the real engine: a stand-in HTTP
 * server on loopback plays ntfy, Healthchecks and a webhook, a real SMTP server receives email.
 */
import { afterAll, afterEach, expect, setDefaultTimeout, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import parsePrometheus from "parse-prometheus-text-format";
import YAML from "yaml";
import { cleanupCliTemp, type RunResult, tempDir } from "../helpers/cli.ts";
import {
  cleanupDocker,
  createVolume,
  dockerOk,
  fillVolume,
  isRunning,
  runContainer,
  uniqueName,
} from "../helpers/docker.ts";
import { refusedPort, runAsync, type StandIn, startSmtp, startStandIn } from "../helpers/notify-server.ts";
import { localBackups, makeProject, type Project, readJson } from "../helpers/project.ts";
import { startInPty } from "../helpers/pty.ts";
import { count, press, waitMore, waitPrompt } from "../helpers/tui.ts";

setDefaultTimeout(150_000);
const stops: (() => unknown)[] = [];
afterEach(async () => {
  for (const s of stops.splice(0)) await s();
  cleanupDocker();
});
afterAll(cleanupCliTemp);

const HOST = "nas1";
const TOKEN = "tk_9f8e7d6c5b4a-secret";

/** A 0600 file holding `secret` (and a trailing newline, as editors leave one). */
function secretFile(secret = TOKEN): string {
  const file = path.join(tempDir("tbtest-secret-"), "token");
  fs.writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  return file;
}

function server(): StandIn {
  const s = startStandIn();
  stops.push(s.stop);
  return s;
}

interface Setup {
  p: Project;
  container: string;
  /** Runs the binary with this project's config and state, the stand-ins answering meanwhile. */
  tb(args: string[], env?: Record<string, string>): Promise<RunResult>;
  setNotify(notify: unknown[], extra?: Record<string, unknown>): void;
}

/** Service app (a volume used by a running container) and, with `broken`, service gone whose volume is missing. */
function setup(notify: unknown[], opts: { broken?: boolean; extra?: Record<string, unknown> } = {}): Setup {
  const volume = createVolume();
  fillVolume(volume, "echo hello > note.txt && dd if=/dev/urandom of=blob bs=64k count=4 2>/dev/null");
  const container = runContainer(uniqueName("ctr"), [volume]);
  const services: Record<string, { name: string; container?: string }[]> = { app: [{ name: volume, container }] };
  if (opts.broken) services.gone = [{ name: uniqueName("missing") }];
  const p = makeProject({ services });
  const enabled = Object.fromEntries(Object.keys(services).map((s) => [s, true]));
  const setNotify = (list: unknown[], extra = opts.extra) =>
    void p.writeConfig({ services: enabled, notify: list, ...extra });
  setNotify(notify);
  const tb = (args: string[], env: Record<string, string> = {}) =>
    runAsync([...args, ...p.args], { stateHome: p.stateHome, env: { TOOLS_BACKUP_HOST: HOST, ...env } });
  return { p, container, tb, setNotify };
}

function statusJson(p: Project) {
  return readJson(path.join(p.stateHome, "tools-backup", "status.json"));
}

/** When the engine sent the container its stop signal, in ms (from `docker events`). */
function stopSignalAt(container: string, sinceMs: number): number {
  const out = dockerOk([
    "events",
    "--since",
    (sinceMs / 1000 - 1).toFixed(3),
    "--until",
    (Date.now() / 1000).toFixed(3),
    "--filter",
    `container=${container}`,
    "--filter",
    "event=kill",
    "--format",
    "{{.TimeNano}}",
  ]);
  const times = out
    .split("\n")
    .filter(Boolean)
    .map((n) => Number(BigInt(n) / 1_000_000n));
  const at = times.find((t) => t >= sinceMs);
  if (at === undefined) throw new Error(`no stop signal for ${container} since ${sinceMs}: ${out}`);
  return at;
}

function expectNoSecret(r: RunResult, ...secrets: string[]) {
  for (const s of secrets) {
    expect(r.stdout).not.toContain(s);
    expect(r.stderr).not.toContain(s);
  }
}

test("success: webhook JSON per service, ntfy title and body, Healthchecks /start before the stop and /0 after", async () => {
  const s = server();
  const token = secretFile();
  const { p, container, tb } = setup([
    { url: `ntfy://${s.host}/backups?scheme=http`, password_file: token, on: ["success"] },
    { url: `ntfy://alice@${s.host}/basic-topic?scheme=http`, password_file: token, on: ["success", "failure"] },
    { url: `${s.base}/hc/0f1e2d3c-uuid`, kind: "healthchecks" },
    { url: `generic+http://${s.host}/hook?via=test`, password_file: token, on: ["success"] },
    { url: `generic+http://${s.host}/failures-only` },
  ]);
  const begun = Date.now();
  const r = await tb(["backup"]);
  expect(r.code).toBe(0);
  expect(isRunning(container)).toBe(true);
  expectNoSecret(r, TOKEN);

  const [backup] = localBackups(p, "app");
  const manifest = readJson(backup!.manifest);

  const [hook] = s.to("/hook");
  expect(s.to("/hook")).toHaveLength(1);
  expect(hook!.method).toBe("POST");
  expect(hook!.headers["content-type"]).toBe("application/json");
  expect(hook!.headers.authorization).toBe(`Bearer ${TOKEN}`);
  const event = JSON.parse(hook!.body);
  expect(event).toMatchObject({ version: 1, source: "tools-backup", kind: "success", host: HOST, exitCode: 0 });
  expect(event.title).toBe(`tools-backup on ${HOST}: app backed up`);
  expect(event.services).toHaveLength(1);
  const app = event.services[0];
  expect(app).toMatchObject({ service: "app", ok: true, bytes: manifest.archive.bytes, offsite: [] });
  expect(app.durationMs).toBeGreaterThan(0);
  expect(app.downtimeMs).toBeGreaterThan(0);
  expect(app.downtimeMs).toBeLessThanOrEqual(app.durationMs);
  expect(event.text).toContain(`app: ${backup!.archive} (`);

  const [ntfy] = s.to("/backups");
  expect(s.to("/backups")).toHaveLength(1);
  expect(ntfy!.method).toBe("POST");
  expect(ntfy!.headers.title).toBe(`tools-backup on ${HOST}: app backed up`);
  expect(ntfy!.headers.priority).toBe("default");
  expect(ntfy!.headers.tags).toBe("white_check_mark");
  expect(ntfy!.headers.authorization).toBe(`Bearer ${TOKEN}`);
  expect(ntfy!.body).toContain(`app: ${backup!.archive} (`);
  const basic = s.to("/basic-topic");
  expect(basic).toHaveLength(1);
  expect(basic[0]!.headers.authorization).toBe(`Basic ${Buffer.from(`alice:${TOKEN}`).toString("base64")}`);

  // The default `on: [failure]`: nothing on success.
  expect(s.to("/failures-only")).toHaveLength(0);

  const hc = s.to("/hc/");
  expect(hc.map((h) => `${h.method} ${h.path}`)).toEqual(["POST /hc/0f1e2d3c-uuid/start", "POST /hc/0f1e2d3c-uuid/0"]);
  const stoppedAt = stopSignalAt(container, begun);
  expect(hc[0]!.at).toBeLessThan(stoppedAt);
  expect(hc[1]!.at).toBeGreaterThan(stoppedAt);
  // The engine's times have nanoseconds, which Date.parse does not take.
  const restarted = dockerOk(["inspect", "-f", "{{.State.StartedAt}}", container])
    .trim()
    .replace(/(\.\d{3})\d*/, "$1");
  expect(hc[1]!.at).toBeGreaterThanOrEqual(Date.parse(restarted));
  expect(hc[1]!.body).toContain(`tools-backup on ${HOST}: app backed up`);
  expect(hc[1]!.body).toContain(`app: ${backup!.archive} (`);
});

test("failure: a service whose volume is missing; webhook, ntfy and Healthchecks /1 tell it, a success-only target nothing", async () => {
  const s = server();
  const { container, tb } = setup(
    [
      { url: `generic+http://${s.host}/hook` },
      { url: `ntfy://${s.host}/alerts?scheme=http` },
      { url: `${s.base}/hc/abc`, kind: "healthchecks" },
      { url: `generic+http://${s.host}/success-only`, on: ["success"] },
    ],
    { broken: true },
  );
  const r = await tb(["backup"]);
  expect(r.code).toBe(1);
  expect(isRunning(container)).toBe(true);
  const error = /gone: (.+)/.exec(r.stderr)?.[1];
  expect(error).toBeDefined();

  const [hook] = s.to("/hook");
  expect(s.to("/hook")).toHaveLength(1);
  const event = JSON.parse(hook!.body);
  expect(event).toMatchObject({ kind: "failure", exitCode: 1, host: HOST });
  expect(event.title).toBe(`tools-backup on ${HOST}: 1 of 2 backups failed: gone`);
  const byName = Object.fromEntries(event.services.map((x: { service: string }) => [x.service, x]));
  expect(byName.app).toMatchObject({ ok: true });
  expect(byName.gone).toMatchObject({ ok: false, bytes: 0 });
  expect(byName.gone.error).toContain(error!.trim().slice(0, 30));

  const [ntfy] = s.to("/alerts");
  expect(s.to("/alerts")).toHaveLength(1);
  expect(ntfy!.headers.title).toBe(`tools-backup on ${HOST}: 1 of 2 backups failed: gone`);
  expect(ntfy!.headers.priority).toBe("high");
  expect(ntfy!.headers.tags).toBe("warning");
  expect(ntfy!.body).toContain(`error: gone: ${error!.trim()}`);

  const hc = s.to("/hc/");
  expect(hc.map((h) => h.path)).toEqual(["/hc/abc/start", "/hc/abc/1"]);
  expect(hc[1]!.body).toContain(`error: gone: ${error!.trim()}`);
  expect(hc[1]!.body).toContain("app: ");

  expect(s.to("/success-only")).toHaveLength(0);
});

test("email: a real SMTP server on loopback gets recipients, subject and body, login from password_file", async () => {
  const pass = "smtp-pw-Zq81!x";
  const smtp = await startSmtp("backup-bot", pass);
  stops.push(smtp.stop);
  const url = `smtp://backup-bot@127.0.0.1:${smtp.port}/?to=ops@example.test,me@example.test&from=nas@example.test&encryption=none`;
  const { p, tb } = setup([{ url, password_file: secretFile(pass), on: ["success", "failure"] }]);
  const r = await tb(["backup"]);
  expect(r.code).toBe(0);
  expectNoSecret(r, pass);
  expect(r.stderr).not.toContain("could not notify");
  expect(smtp.mails).toHaveLength(1);
  const [mail] = smtp.mails;
  expect(mail!.user).toBe("backup-bot");
  expect(mail!.from).toBe("nas@example.test");
  expect(mail!.to.sort()).toEqual(["me@example.test", "ops@example.test"]);
  expect(mail!.subject).toBe(`tools-backup on ${HOST}: app backed up`);
  expect(mail!.text).toContain(`app: ${localBackups(p, "app")[0]!.archive} (`);

  // A wrong password: the server refuses the login, which is not tried again (a server may lock the
  // account after a few); the backup still succeeds, the warning names the label only.
  const wrong = secretFile("not-the-password");
  const config = YAML.parse(fs.readFileSync(p.config, "utf8"));
  config.notify[0].password_file = wrong;
  fs.writeFileSync(p.config, YAML.stringify(config));
  const again = await tb(["backup"]);
  expect(again.code).toBe(0);
  expect(again.stderr).toContain("could not notify email via 127.0.0.1: refused the login (535)");
  expectNoSecret(again, "not-the-password", "backup-bot");
  expect(smtp.mails).toHaveLength(1);
  expect(smtp.logins).toEqual([true, false]);
});

test("faults: refused, stalled past the timeout, 500 twice: the backup succeeds, status shows it until a clean round", async () => {
  const s = server();
  s.answer("/stall", "stall");
  s.answer("/err", 500);
  const closed = refusedPort();
  const targets = [
    { url: `ntfy://127.0.0.1:${closed}/refused-topic?scheme=http`, on: ["success"] },
    { url: `generic+http://${s.host}/stall/secret-path`, on: ["success"] },
    { url: `generic+http://${s.host}/err/secret-path`, on: ["success"] },
  ];
  const { p, container, tb } = setup(targets);
  const begun = Date.now();
  const r = await tb(["backup"], { TOOLS_BACKUP_NOTIFY_TIMEOUT: "1" });
  const took = Date.now() - begun;
  expect(r.code).toBe(0);
  expect(isRunning(container)).toBe(true);
  expect(localBackups(p, "app")).toHaveLength(1);
  expect(r.stderr).toContain(`could not notify ntfy 127.0.0.1:${closed}: cannot connect`);
  expect(r.stderr).toContain(`could not notify webhook ${s.host}: no answer within 1 s`);
  expect(r.stderr).toContain(`could not notify webhook ${s.host}: answered 500`);
  for (const hidden of ["refused-topic", "secret-path", "/stall", "/err"])
    expect(r.stderr + r.stdout).not.toContain(hidden);
  // One retry each, 1 s apart: two requests, and the stalled one gave up after its timeout twice.
  expect(s.to("/err")).toHaveLength(2);
  expect(s.to("/stall")).toHaveLength(2);
  expect(s.to("/err")[1]!.at - s.to("/err")[0]!.at).toBeGreaterThanOrEqual(900);
  expect(took).toBeLessThan(30_000);

  const text = await tb(["status"]);
  expect(text.code).toBe(0);
  expect(text.stderr).toMatch(/a notification could not be delivered .*: (ntfy|webhook) 127\.0\.0\.1:\d+: /);
  const json = await tb(["status", "--json"]);
  const failure = JSON.parse(json.stdout).notify_failure;
  expect(failure.error).toMatch(/^(ntfy|webhook) 127\.0\.0\.1:\d+: /);
  expect(Date.parse(failure.at)).toBeGreaterThan(begun);

  // Every target reachable again: the next run clears it.
  s.answer("/stall", 200);
  s.answer("/err", 200);
  const revived = Bun.serve({ hostname: "127.0.0.1", port: closed, fetch: () => new Response("OK") });
  stops.push(() => revived.stop(true));
  const clean = await tb(["backup"]);
  expect(clean.code).toBe(0);
  expect(clean.stderr).not.toContain("could not notify");
  expect(JSON.parse((await tb(["status", "--json"])).stdout).notify_failure).toBeNull();
  const after = await tb(["status"]);
  expect(after.stderr).not.toContain("could not be delivered");
});

test("a target that failed stays in status while other targets are reached, until backup.yaml drops it", async () => {
  const s = server();
  s.answer("/fail-hook", 500);
  const { tb, setNotify } = setup(
    [
      { url: `generic+http://${s.host}/fail-hook`, on: ["failure"] },
      { url: `${s.base}/hc/pending`, kind: "healthchecks" },
    ],
    { broken: true },
  );
  const notifyFailure = async () => JSON.parse((await tb(["status", "--json"])).stdout).notify_failure;
  expect((await tb(["backup"])).code).toBe(1);
  expect(s.to("/fail-hook")).toHaveLength(2);
  expect((await notifyFailure()).error).toBe(`webhook ${s.host}: answered 500`);

  // A success reaches Healthchecks only: the failure-only webhook is as broken as it was.
  const ok = await tb(["backup", "app"]);
  expect(ok.code).toBe(0);
  expect(ok.stderr).not.toContain("could not notify");
  expect(s.to("/hc/pending/0")).toHaveLength(1);
  expect(s.to("/fail-hook")).toHaveLength(2);
  expect((await notifyFailure())?.error).toBe(`webhook ${s.host}: answered 500`);
  expect((await tb(["status"])).stderr).toContain(`could not be delivered`);

  // A target taken out of backup.yaml is no longer waited for.
  setNotify([{ url: `${s.base}/hc/pending`, kind: "healthchecks" }]);
  expect((await tb(["backup", "app"])).code).toBe(0);
  expect(await notifyFailure()).toBeNull();
});

test("status: a stale service is told once to a target with on: [stale], not again for the same state", async () => {
  const s = server();
  const { tb } = setup([
    { url: `generic+http://${s.host}/stale-hook`, on: ["stale"] },
    { url: `generic+http://${s.host}/failure-hook` },
    { url: `${s.base}/hc/stale`, kind: "healthchecks" },
  ]);
  const first = await tb(["status"]);
  expect(first.code).toBe(1);
  expect(s.to("/stale-hook")).toHaveLength(1);
  const event = JSON.parse(s.to("/stale-hook")[0]!.body);
  expect(event.kind).toBe("stale");
  expect(event.title).toMatch(
    new RegExp(`^tools-backup on ${HOST}: backups are stale: no backup newer than .* for app`),
  );
  const second = await tb(["status", "--json"]);
  expect(second.code).toBe(1);
  expect(s.to("/stale-hook")).toHaveLength(1);
  expect(s.received.filter((x) => !x.path.startsWith("/stale-hook"))).toHaveLength(0);
});

test("notify test: every target reported; exit 1 when one fails; exit 2 without targets", async () => {
  const s = server();
  const closed = refusedPort();
  const ok = [
    { url: `ntfy://${s.host}/t1?scheme=http` },
    { url: `${s.base}/hc/test-uuid`, kind: "healthchecks" },
    { url: `generic+http://${s.host}/hook`, on: ["stale"] },
  ];
  const { tb, setNotify } = setup(ok);
  const good = await tb(["notify", "test"]);
  expect(good.code).toBe(0);
  for (const label of [`ntfy ${s.host}`, `healthchecks ${s.host}`, `webhook ${s.host}`])
    expect(good.stderr).toContain(`${label}: delivered`);
  expect(s.received.map((x) => x.path).sort()).toEqual(["/hc/test-uuid/log", "/hook", "/t1"]);
  expect(JSON.parse(s.to("/hook")[0]!.body).kind).toBe("test");

  setNotify([...ok, { url: `generic+http://127.0.0.1:${closed}/down` }]);
  const json = await tb(["notify", "test", "--json"], { TOOLS_BACKUP_NOTIFY_TIMEOUT: "1" });
  expect(json.code).toBe(1);
  const results = JSON.parse(json.stdout);
  expect(results).toHaveLength(4);
  expect(results.filter((d: { ok: boolean }) => d.ok)).toHaveLength(3);
  expect(results.find((d: { ok: boolean }) => !d.ok)).toMatchObject({ target: `webhook 127.0.0.1:${closed}` });
  expect(json.stderr).toContain(`could not notify webhook 127.0.0.1:${closed}: cannot connect`);
  expect(json.stderr).toContain("1 target of 4 failed");

  setNotify([]);
  const none = await tb(["notify", "test"]);
  expect(none.code).toBe(2);
  expect(none.stderr).toContain("has no notify: targets to test");
});

/** The metrics file parsed by an independent parser: family name -> service -> value. */
function parseMetrics(text: string): Record<string, Record<string, number>> {
  return Object.fromEntries(
    parsePrometheus(text).map((f) => [
      f.name,
      Object.fromEntries(f.metrics.map((m) => [m.labels?.service ?? "", Number(m.value)])),
    ]),
  );
}

test("metrics file: Prometheus text the parser reads, values from the manifest, failures counted, never half written", async () => {
  const dir = tempDir("tbtest-metrics-");
  const file = path.join(dir, "tools_backup.prom");
  const { p, tb } = setup([], { broken: true, extra: { metrics_file: file } });

  // A reader like node_exporter's, polling while the runs go on.
  const seen: string[] = [];
  let polling = true;
  const poller = (async () => {
    while (polling) {
      try {
        seen.push(fs.readFileSync(file, "utf8"));
      } catch {}
      await Bun.sleep(1);
    }
  })();
  const first = await tb(["backup"]);
  const second = await tb(["backup"]);
  polling = false;
  await poller;
  expect(first.code).toBe(1);
  expect(second.code).toBe(1);

  expect((fs.statSync(file).mode & 0o777).toString(8)).toBe("644");
  const m = parseMetrics(fs.readFileSync(file, "utf8"));
  const backups = localBackups(p, "app");
  expect(backups).toHaveLength(2);
  const newest = readJson(backups[1]!.manifest);
  const status = statusJson(p);
  expect(m.tools_backup_last_success_size_bytes!.app).toBe(newest.archive.bytes);
  expect(m.tools_backup_last_success_timestamp_seconds!.app).toBe(Date.parse(status.last_success.app.at) / 1000);
  // The manifest's created_at is when the backup began, to the second; the success is after it.
  const created = Date.parse(newest.created_at) / 1000;
  expect(m.tools_backup_last_success_timestamp_seconds!.app).toBeGreaterThanOrEqual(created);
  expect(m.tools_backup_last_success_timestamp_seconds!.app).toBeLessThan(created + 60);
  expect(m.tools_backup_last_success_duration_seconds!.app).toBeGreaterThan(0);
  expect(m.tools_backup_last_success_downtime_seconds!.app).toBeGreaterThanOrEqual(0);
  expect(m.tools_backup_last_run_success).toEqual({ app: 1, gone: 0 });
  expect(m.tools_backup_failures_total).toEqual({ app: 0, gone: 2 });
  expect(m.tools_backup_last_success_size_bytes!.gone).toBeUndefined();

  // Every read during the runs was a whole file: it parses, with all six families and both services.
  expect(seen.length).toBeGreaterThan(0);
  const partial = seen.filter((t) => {
    try {
      const parsed = parseMetrics(t);
      return Object.keys(parsed).length !== 6 || Object.keys(parsed.tools_backup_failures_total!).length !== 2;
    } catch {
      return true;
    }
  });
  expect(partial).toEqual([]);
});

test("a notify: mistake is a configuration error at its file:line:col, before anything runs", async () => {
  const s = server();
  const { p, tb } = setup([]);
  fs.writeFileSync(
    p.config,
    `backup_dir: ${p.backupDir}\nservices:\n  app: true\nnotify:\n  - url: slack://hooks/T000/B000\n`,
  );
  const r = await tb(["backup"]);
  expect(r.code).toBe(2);
  expect(r.stderr).toContain(`${p.config}:5:10: `);
  expect(r.stderr).toContain('unsupported scheme "slack"');
  expect(r.stderr).toContain("ntfy://HOST/TOPIC, generic+https://");
  expect(r.stderr).not.toContain("T000");
  expect(localBackups(p, "app")).toHaveLength(0);
  expect(s.received).toHaveLength(0);
});

test("menu: a backup started from the menu notifies the webhook", async () => {
  const s = server();
  const { p, container } = setup([{ url: `generic+http://${s.host}/menu-hook`, on: ["success"] }]);
  const MENU = "What would you like to do?";
  const t = startInPty(p.args, { stateHome: p.stateHome, env: { TOOLS_BACKUP_HOST: HOST } });
  try {
    await waitPrompt(t, MENU);
    const menus = count(t, MENU);
    await press(t, "Enter");
    await waitPrompt(t, "Back up which service?");
    await press(t, "Enter");
    await waitMore(t, MENU, menus, 90_000);
    await waitPrompt(t, MENU);
    expect(s.to("/menu-hook")).toHaveLength(1);
    const event = JSON.parse(s.to("/menu-hook")[0]!.body);
    expect(event).toMatchObject({ kind: "success", exitCode: 0, host: HOST });
    expect(event.services.map((x: { service: string }) => x.service)).toEqual(["app"]);
    expect(event.services[0].bytes).toBe(readJson(localBackups(p, "app")[0]!.manifest).archive.bytes);
    expect(t.screen()).not.toContain("could not notify");
    expect(isRunning(container)).toBe(true);
    await press(t, "C-c");
    expect(await t.exitCode(20_000)).toBe(0);
  } finally {
    t.close();
  }
});
