/**
 * How restore keeps data safe: the typed confirmation (no terminal, a real pty), archives that
 * must be refused before anything is touched, and rollback when the replacement fails or is interrupted.
 */
import { afterAll, afterEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { sha256 } from "../helpers/archive.ts";
import { cleanupCliTemp, type Started, tempDir, waitFor } from "../helpers/cli.ts";
import {
  cleanupDocker,
  docker,
  dockerOk,
  fillVolume,
  isRunning,
  leftoverHelpers,
  removeVolume,
  startedAt,
} from "../helpers/docker.ts";
import { dockerStandIn } from "../helpers/docker-stand-in.ts";
import { containerInfo, expectClean, folderState, mountTmpfs, randomFill, unmountAll } from "../helpers/faults.ts";
import { faultyEngine } from "../helpers/faulty-engine.ts";
import { type Pty, startInPty } from "../helpers/pty.ts";
import {
  backupOk,
  cleanupApps,
  exists,
  FAST,
  fileInfo,
  journalFile,
  listed,
  lockFile,
  type Svc,
  service,
  state,
  tb,
  tbStart,
} from "../helpers/restore-kit.ts";

setDefaultTimeout(120_000);
afterEach(() => {
  unmountAll();
  cleanupApps();
  cleanupDocker();
});
afterAll(cleanupCliTemp);

/** A service with a backup, then changed: restoring must bring "old content" back, refusing must not. */
function changedAfterBackup(fill?: string) {
  const s = service(fill ? { fill } : {});
  const b = backupOk(s);
  fillVolume(s.vol, "echo added > added.txt && echo changed > modify.txt");
  return { s, b, current: state(s.vol), started: startedAt(s.container!) };
}

/** Nothing was touched: same data, container never stopped, no safety backup made. */
function untouched(x: ReturnType<typeof changedAfterBackup>) {
  expect(state(x.s.vol)).toEqual(x.current);
  expect(isRunning(x.s.container!)).toBe(true);
  expect(startedAt(x.s.container!)).toBe(x.started);
  expect(listed(x.s).filter((b) => b.kind === "pre-restore")).toEqual([]);
}

describe("confirmation", () => {
  test("no terminal and no --yes: exit 2 naming --yes, nothing changed", () => {
    const x = changedAfterBackup();
    const r = tb(x.s, ["restore", x.s.name]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--yes");
    expect(r.stderr).not.toMatch(/^\s+at /m);
    untouched(x);
  });

  // --from given: without it a terminal opens the backup picker first (covered by the TUI tests).
  const pty = (s: Svc, id: string) =>
    startInPty(["restore", s.name, "--from", id, ...s.p.args], { stateHome: s.p.stateHome, env: FAST });

  test("on a terminal: a wrong word aborts (exit 1), Ctrl-C aborts, RESTORE restores", async () => {
    const x = changedAfterBackup();
    const answers: [string, (t: Pty) => void][] = [
      [
        "lowercase word",
        (t) => {
          t.type("restore");
          t.key("Enter");
        },
      ],
      ["Ctrl-C", (t) => t.key("C-c")],
    ];
    for (const [label, answer] of answers) {
      const t = pty(x.s, x.b.id);
      try {
        expect(await t.waitForScreen(/Type RESTORE/, 60_000)).toBe(true);
        const shown = t.screen();
        expect(shown).toContain(x.b.id);
        expect(shown).toContain(x.s.container!);
        answer(t);
        const code = await t.exitCode(60_000);
        expect({ label, code }).toEqual({ label, code: 1 });
        expect(t.screen()).toContain("restore aborted: nothing was changed");
      } finally {
        t.close();
      }
      untouched(x);
    }

    const t = pty(x.s, x.b.id);
    try {
      expect(await t.waitForScreen(/Type RESTORE/, 60_000)).toBe(true);
      t.type("RESTORE");
      t.key("Enter");
      expect(await t.exitCode(90_000)).toBe(0);
      expect(t.screen()).toContain(`restored from ${x.b.id}`);
    } finally {
      t.close();
    }
    expect(exists(x.s.vol, "added.txt")).toBe(false);
    expect(fileInfo(x.s.vol, "modify.txt").content).toBe("old content\n");
    expect(isRunning(x.s.container!)).toBe(true);
    expect(listed(x.s).filter((b) => b.kind === "pre-restore")).toHaveLength(1);
  });
});

describe("verified before the confirmation", () => {
  // The prompt would ask to confirm a restore that is going to fail.
  test("on a terminal a damaged archive is refused (exit 1) before any RESTORE prompt, with --from and from the picker", async () => {
    const x = changedAfterBackup(
      "dd if=/dev/urandom of=blob bs=1k count=512 2>/dev/null; echo old content > modify.txt",
    );
    const bytes = fs.readFileSync(x.b.file);
    const mid = bytes.length >> 1;
    bytes[mid] = bytes[mid]! ^ 0xff;
    fs.writeFileSync(x.b.file, bytes);
    for (const args of [["--from", x.b.id], []]) {
      const t = startInPty(["restore", x.s.name, ...args, ...x.s.p.args], { stateHome: x.s.p.stateHome, env: FAST });
      try {
        const code = await t.exitCode(60_000);
        const screen = t.screen();
        expect({ args, code, prompt: /Type RESTORE/.test(screen) }).toEqual({ args, code: 1, prompt: false });
        expect(screen).toMatch(/cannot be restored: sha256 is/);
        expect(screen).not.toContain(`Restore ${x.s.name} from`); // no summary either
      } finally {
        t.close();
      }
      untouched(x);
    }
  });
  test("an archive removed while the RESTORE prompt waits (retention of another run): refused, nothing changed", async () => {
    const x = changedAfterBackup();
    const t = startInPty(["restore", x.s.name, "--from", x.b.id, ...x.s.p.args], {
      stateHome: x.s.p.stateHome,
      env: FAST,
    });
    try {
      expect(await t.waitForScreen(/Type RESTORE/, 60_000)).toBe(true);
      fs.rmSync(x.b.file);
      t.type("RESTORE");
      t.key("Enter");
      expect(await t.exitCode(60_000)).toBe(1);
      expect(t.screen()).toContain(`${x.b.file} was removed or changed after it was verified; nothing was changed`);
    } finally {
      t.close();
    }
    untouched(x);
  });
});

describe("no safety backup when there is nothing to save", () => {
  test("every volume missing: the summary says no safety backup is made, none is, and the data comes back", () => {
    const s = service({ container: false });
    const b = backupOk(s);
    const before = state(s.vol);
    removeVolume(s.vol);
    const r = tb(s, ["restore", s.name, "--yes", "--from", b.id]);
    try {
      expect(r.code).toBe(0);
      expect(r.stderr).toContain(`${s.vol}: does not exist, will be created`);
      expect(r.stderr).toContain("No safety backup: every volume is created by this restore");
      expect(r.stderr).not.toContain("kept as");
      expect(listed(s).map((l) => l.kind)).toEqual(["manual"]);
      expect(state(s.vol)).toEqual(before);
    } finally {
      removeVolume(s.vol);
    }
  });
});

describe("refused before anything is touched", () => {
  test("a flipped byte and a truncation: exit 1, volume untouched", () => {
    const x = changedAfterBackup(
      "dd if=/dev/urandom of=blob bs=1k count=512 2>/dev/null; echo old content > modify.txt",
    );
    const file = x.b.file;
    const good = fs.readFileSync(file);
    const flipped = Buffer.from(good);
    const mid = flipped.length >> 1;
    flipped[mid] = flipped[mid]! ^ 0xff;
    for (const [label, bytes] of [
      ["flipped", flipped],
      ["truncated", good.subarray(0, good.length >> 1)],
    ] as const) {
      fs.writeFileSync(file, bytes);
      const r = tb(x.s, ["restore", x.s.name, "--yes"]);
      expect({ label, code: r.code }).toEqual({ label, code: 1 });
      // A short archive looks like a download still under way: `latest` names it and finds no other.
      expect(r.stderr).toContain(label === "flipped" ? file : x.b.id);
      expect(r.stderr).toMatch(label === "flipped" ? /sha256/ : /size|truncat|unreadable/);
      expect(r.stderr).not.toMatch(/^\s+at /m);
      untouched(x);
    }
  });

  // Each crafted with GNU tar from a folder holding VOL/ok.txt; `prepare` adds the hostile part.
  const crafted: [string, string, RegExp][] = [
    [
      "VOL/../../etc/evil",
      `echo evil > evil && tar -P --transform 's,^evil$,VOL/../../etc/evil,' -cf "$OUT" VOL evil`,
      /\.\./,
    ],
    [
      "absolute /etc/evil",
      `echo evil > evil && tar -P --transform 's,^evil$,/etc/evil,' -cf "$OUT" VOL evil`,
      /absolute/,
    ],
    ["symlink to /etc", `ln -s /etc VOL/etc-link && tar -cf "$OUT" VOL`, /outside volume/],
    ["symlink up and out", `ln -s ../../../etc VOL/up && tar -cf "$OUT" VOL`, /outside volume/],
    ["setuid file", `echo x > VOL/suid && chmod 4755 VOL/suid && tar -cf "$OUT" VOL`, /setuid/],
    ["device node", `mknod VOL/mem c 1 1 && tar -cf "$OUT" VOL`, /device node/],
  ];
  for (const [label, prepare, reason] of crafted) {
    test(`a hostile archive (${label}) with a matching manifest: exit 1, volume untouched`, () => {
      const x = changedAfterBackup();
      const { s, b } = x;
      const work = tempDir("tbtest-craft-");
      fs.mkdirSync(path.join(work, s.vol));
      fs.writeFileSync(path.join(work, s.vol, "ok.txt"), "ok\n");
      const id = `${s.name}_20200101T000000Z_crafted`;
      const out = path.join(path.dirname(b.file), `${id}.tar.zst`);
      const script = `${prepare.replaceAll("VOL", s.vol)} && zstd -q --rm -f "$OUT" -o "$OUT.zst" && mv "$OUT.zst" "$OUT"`;
      const sh = spawnSync("sh", ["-c", script], { cwd: work, env: { ...process.env, OUT: out }, encoding: "utf8" });
      expect(sh.stderr).not.toMatch(/error/i);
      expect(sh.status).toBe(0);
      const manifest = JSON.parse(fs.readFileSync(b.manifest, "utf8"));
      const regular = (fs.readdirSync(work, { recursive: true }) as string[])
        .map((f) => fs.lstatSync(path.join(work, f)))
        .filter((st) => st.isFile());
      Object.assign(manifest, { id, host: "crafted", created_at: "2020-01-01T00:00:00.000Z" });
      manifest.archive = {
        ...manifest.archive,
        file: `${id}.tar.zst`,
        bytes: fs.statSync(out).size,
        sha256: sha256(out),
      };
      manifest.volumes = [
        { ...manifest.volumes[0], files: regular.length, bytes: regular.reduce((n, st) => n + st.size, 0) },
      ];
      fs.writeFileSync(path.join(path.dirname(b.file), `${id}.json`), JSON.stringify(manifest));
      expect(listed(s).map((l) => l.id)).toContain(id);

      const r = tb(s, ["restore", s.name, "--yes", "--from", id]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(reason);
      expect(r.stderr).not.toMatch(/^\s+at /m);
      untouched(x);
    });
  }
});

describe("a paused container using the volumes", () => {
  // `docker stop` of a frozen process and a volume swapped under its open files are both unsafe.
  test("restore and --dry-run refuse it (exit 1, named, unpause or stop it), nothing touched, it stays paused", () => {
    const x = changedAfterBackup();
    const app = x.s.container!;
    dockerOk(["pause", app]);
    try {
      for (const flag of ["--yes", "--dry-run"]) {
        const r = tb(x.s, ["restore", x.s.name, flag]);
        expectClean(
          r,
          1,
          `container ${app} is paused`,
          `docker unpause ${app}`,
          `docker stop ${app}`,
          "nothing was changed",
        );
        expect({ flag, status: containerInfo(app).status, startedAt: containerInfo(app).startedAt }).toEqual({
          flag,
          status: "paused",
          startedAt: x.started,
        });
        expect(state(x.s.vol)).toEqual(x.current);
        expect(listed(x.s).filter((b) => b.kind === "pre-restore")).toEqual([]);
        expect(fs.existsSync(journalFile(x.s))).toBe(false);
      }
    } finally {
      docker(["unpause", app]);
    }
    untouched(x);
  });
});

describe("nothing is replaced when the restore cannot go ahead safely", () => {
  test("backup_dir too full for the safety backup: exit 1 saying so, data as before, container running, no partial archive", () => {
    const s = service({ fill: "echo small > small.txt" });
    mountTmpfs(s.p.backupDir, "size=8m");
    const b = backupOk(s);
    fillVolume(s.vol, randomFill(30));
    const current = state(s.vol);
    const before = folderState(path.dirname(b.file));

    const r = tb(s, ["restore", s.name, "--yes"]);
    expectClean(
      r,
      1,
      /safety backup of the current data failed/,
      /no space left on device/,
      new RegExp(`nothing was replaced: ${s.name} has its data as before`),
    );
    expect(state(s.vol)).toEqual(current);
    expect(isRunning(s.container!)).toBe(true);
    expect(folderState(path.dirname(b.file))).toEqual(before); // no .tmp-, no partial safety archive
    expect(fs.existsSync(journalFile(s))).toBe(false);
    expect(leftoverHelpers(s.name)).toEqual([]);
  });

  test("SIGINT while a 300 MiB archive is verified: exit 130, the container never stopped, no safety backup", async () => {
    const x = changedAfterBackup(
      "dd if=/dev/urandom of=big.bin bs=1M count=300 2>/dev/null; echo old content > modify.txt",
    );
    const child = tbStart(x.s, ["restore", x.s.name, "--yes"]);
    await interruptedUntouched(x, child, () => /verifying/.test(child.stderr()));
  });

  // The verification (a small archive) is over; the summary is still being gathered.
  test("SIGINT after the verification, before the stop: exit 130, the container never stopped", async () => {
    const x = changedAfterBackup();
    const slow = fakeDocker("ps --filter volume=", "sleep 2");
    const child = tbStart(x.s, ["restore", x.s.name, "--yes"], { TOOLS_BACKUP_DOCKER: slow.file });
    await interruptedUntouched(x, child, () => fs.existsSync(slow.reached) && /verifying/.test(child.stderr()));
  });
});

/** SIGINT once `ready()`: exit 130 with nothing touched, no journal or lock left. */
async function interruptedUntouched(x: ReturnType<typeof changedAfterBackup>, child: Started, ready: () => boolean) {
  expect(await waitFor(ready, 60_000, 5)).toBe(true);
  child.child.kill("SIGINT");
  const r = await child.done;
  expect(r.code).toBe(130);
  expect(r.stderr).not.toContain(`stopping ${x.s.container}`);
  untouched(x);
  expect(fs.existsSync(journalFile(x.s))).toBe(false);
  expect(fs.existsSync(lockFile(x.s))).toBe(false);
}

/**
 * A docker CLI stand-in: the first call whose arguments contain `pattern` runs the shell code
 * `first` (and `reached` appears); every call not ended by it goes on to docker.
 */
function fakeDocker(pattern: string, first: string): { file: string; reached: string } {
  const marker = (dir: string) => path.join(dir, "reached");
  const { bin, dir } = dockerStandIn(
    (d) => `case "$*" in *'${pattern}'*) if mkdir '${marker(d)}' 2>/dev/null; then ${first}; fi;; esac`,
    "tbtest-fakedocker-",
  );
  return { file: bin, reached: marker(dir) };
}

/** The first emptying's container: it measures (as if empty) for the summary, then fails at the go. */
const failingEmptying = () =>
  fakeDocker("-exec rm -rf", "echo measured; cat >/dev/null; echo 'injected failure' >&2; exit 1").file;

describe("a failed or interrupted replacement puts the previous data back", () => {
  // The tool's own empty helper image: local (nothing is pulled), but it has no shell.
  test("runner image without a shell: exit 1 saying why, before anything is touched", () => {
    const x = changedAfterBackup();
    const r = tb(x.s, ["restore", x.s.name, "--yes"], { TOOLS_BACKUP_RUNNER_IMAGE: "tools-backup-helper:1" });
    expect(r.code).toBe(1);
    expect(r.stderr).not.toMatch(/^\s+at /m);
    untouched(x);
    // docker's last stderr line is only "Run 'docker run --help' for more information"; the cause is the line before.
    expect(r.stderr).toContain("executable file not found");
  });

  /** Each restore step failing: the emptying in its one-shot container, the extraction refused by the engine part-way (4 of 20 MiB). */
  const BIG = "dd if=/dev/urandom of=blob bs=1M count=20 2>/dev/null; echo old content > modify.txt";
  const failures = {
    "emptying the volume": () => ({ env: { TOOLS_BACKUP_DOCKER: failingEmptying() }, close: () => undefined }),
    "extracting the archive (volume already emptied)": () => {
      const engine = faultyEngine({ error: "injected failure", upload: { after: 4 << 20 } });
      return {
        env: { DOCKER_HOST: engine.host },
        close: () => {
          expect(engine.hits()).toBe(1);
          return engine.close();
        },
      };
    },
  };

  for (const [step, inject] of Object.entries(failures)) {
    test(`failure while ${step}: rolled back, exit 1, container running`, async () => {
      const x = changedAfterBackup(BIG);
      const fault = inject();
      const r = await tbStart(x.s, ["restore", x.s.name, "--yes"], fault.env).done;
      fault.close();
      expect(r.code).toBe(1);
      expect(r.stderr).toContain("injected failure");
      expect(r.stderr).toMatch(/rolled back/);
      expect(r.stderr).not.toMatch(/ROLLBACK FAILED/);
      const safety = listed(x.s).filter((b) => b.kind === "pre-restore");
      expect(safety).toHaveLength(1);
      expect(r.stderr).toContain(safety[0]!.file);
      expect(state(x.s.vol)).toEqual(x.current);
      expect(isRunning(x.s.container!)).toBe(true);
      expect(fs.existsSync(journalFile(x.s))).toBe(false);
      expect(leftoverHelpers(x.s.name)).toEqual([]);
    });
  }

  test("--no-safety-backup and the extraction fails: the data may be partial, so backups refuse until a restore completes", async () => {
    const x = changedAfterBackup(BIG);
    const fault = failures["extracting the archive (volume already emptied)"]();
    const r = await tbStart(x.s, ["restore", x.s.name, "--yes", "--no-safety-backup"], fault.env).done;
    fault.close();
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/no safety backup .* may be partly written/);
    expect(isRunning(x.s.container!)).toBe(true);

    const refused = tb(x.s, ["backup", x.s.name]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/did not finish .* no backup is taken until that is resolved/);
    expect(refused.stderr).toContain(`tools-backup restore ${x.s.name} --from ${x.b.id}`);
    expect(listed(x.s).map((b) => b.id)).toEqual([x.b.id]);

    expect(tb(x.s, ["restore", x.s.name, "--yes", "--no-safety-backup", "--from", x.b.id]).code).toBe(0);
    expect(tb(x.s, ["backup", x.s.name]).code).toBe(0);
    expect(listed(x.s)).toHaveLength(2);
  });

  test("Ctrl-C while the engine has the whole upload but has not answered: rolled back at once, exit 130", async () => {
    const x = changedAfterBackup();
    const engine = faultyEngine({ swallowUpload: true });
    try {
      const child = tbStart(x.s, ["restore", x.s.name, "--yes"], { DOCKER_HOST: engine.host });
      expect(await waitFor(() => engine.hits() === 1, 60_000, 5)).toBe(true);
      await Bun.sleep(1500); // the small archive is sent by now; the answer never comes
      child.child.kill("SIGINT");
      const r = await Promise.race([child.done, Bun.sleep(30_000).then(() => undefined)]);
      expect(r).toBeDefined();
      expect(r!.stderr).toMatch(/rolled back/);
      expect(r!.code).toBe(130);
    } finally {
      engine.close();
    }
    expect(state(x.s.vol)).toEqual(x.current);
    expect(isRunning(x.s.container!)).toBe(true);
    expect(leftoverHelpers(x.s.name)).toEqual([]);
  });

  test("SIGTERM during the replacement of a 300 MiB volume: rolled back, container running, exit 143", async () => {
    const x = changedAfterBackup(
      "dd if=/dev/urandom of=big.bin bs=1M count=300 2>/dev/null; echo old content > modify.txt",
    );
    const child = tbStart(x.s, ["restore", x.s.name, "--yes"]);
    expect(await waitFor(() => /replacing the content/.test(child.stderr()), 90_000, 5)).toBe(true);
    await Bun.sleep(700);
    child.child.kill("SIGTERM");
    const r = await child.done;

    expect(r.stderr).toMatch(/interrupted; putting back/);
    expect(r.stderr).toMatch(/rolled back/);
    expect(r.stderr).toContain(listed(x.s).find((b) => b.kind === "pre-restore")!.file);
    expect(r.signal).toBeNull();
    expect(r.code).toBe(143);
    expect(state(x.s.vol)).toEqual(x.current);
    expect(isRunning(x.s.container!)).toBe(true);
    expect(fs.existsSync(journalFile(x.s))).toBe(false);
    expect(fs.existsSync(lockFile(x.s))).toBe(false);
    expect(leftoverHelpers(x.s.name)).toEqual([]);
  });
});
