import { describe, expect, test } from "bun:test";
import { findEntry, MARKER, withEntry, withoutEntry } from "../../src/cron/crontab-text.ts";
import { formatCronLine, parseCronLine } from "../../src/cron/line.ts";
import { describeSchedule, longestIntervalMs, validateSchedule } from "../../src/cron/schedule.ts";

const other = "# my jobs\nMAILTO=me@example.com\n\n*/5 * * * * /usr/bin/backup-photos  # keep\n";

describe("crontab text", () => {
  test("install appends, re-install replaces in place, uninstall restores byte for byte", () => {
    const once = withEntry(other, "0 3 * * * a");
    expect(once).toBe(`${other}${MARKER}\n0 3 * * * a\n`);
    const twice = withEntry(once, "0 4 * * * b");
    expect(twice).toBe(`${other}${MARKER}\n0 4 * * * b\n`);
    expect(findEntry(twice)?.line).toBe("0 4 * * * b");
    expect(withoutEntry(twice)).toBe(other);
  });
  test("a crontab without a final newline, and an empty one", () => {
    expect(withEntry("x", "l")).toBe(`x\n${MARKER}\nl\n`);
    expect(withEntry("", "l")).toBe(`${MARKER}\nl\n`);
    expect(withoutEntry(withEntry("", "l"))).toBe("");
  });
  test("lines after ours stay", () => {
    const mid = `a\n${MARKER}\nold\nb\n`;
    expect(withEntry(mid, "new")).toBe(`a\n${MARKER}\nnew\nb\n`);
    expect(withoutEntry(mid)).toBe("a\nb\n");
  });
});

describe("cron line", () => {
  const line = {
    schedule: "0 3 * * *",
    env: { PATH: "/usr/local/bin:/usr/bin:/bin", DOCKER_HOST: "ssh://me@nas" },
    command: ["/home/me/My Tools/tools-backup", "backup", "--cron", "--config", "/home/me/it's 100% here/backup.yaml"],
    log: "/home/me/.local/state/tools-backup/cron.log",
  };
  test("quotes spaces and quotes, escapes % for cron, and parses back", () => {
    const text = formatCronLine(line);
    expect(text).toContain(`'/home/me/My Tools/tools-backup'`);
    expect(text).toContain(`'\\''`);
    expect(text).toContain("100\\%");
    expect(parseCronLine(text)).toEqual(line);
  });
  test("macro schedules", () => {
    expect(parseCronLine(formatCronLine({ ...line, schedule: "@daily" }))?.schedule).toBe("@daily");
  });
});

describe("schedule", () => {
  test("validates five fields with the parser's reason", () => {
    expect(validateSchedule(" 0  3 * * * ")).toBe("0 3 * * *");
    expect(() => validateSchedule("0 3 * *")).toThrow(/five fields/);
    expect(() => validateSchedule("61 3 * * *")).toThrow(/invalid schedule/);
    expect(() => validateSchedule("0 0 3 * * *")).toThrow(/five fields/);
  });
  test("words and intervals", () => {
    expect(describeSchedule("0 3 * * *")).toBe("every day at 03:00");
    expect(describeSchedule("* * * * *")).toBe("every minute");
    expect(describeSchedule("30 2 * * 1,5")).toBe("at 02:30 on Monday, Friday");
    expect(longestIntervalMs("0 3 * * *")).toBe(86_400_000);
    expect(longestIntervalMs("0 3 * * 1")).toBe(7 * 86_400_000);
  });
});

describe("docs/scheduling.md and the cron line agree", () => {
  test("every variable the line carries is named where docs/scheduling.md says what it carries", async () => {
    const { CARRIED_ENV } = await import("../../src/cron/entry.ts");
    const page = await Bun.file(new URL("../../docs/scheduling.md", import.meta.url)).text();
    const paragraph = page.slice(page.indexOf("Cron's environment is minimal"));
    const said = paragraph.slice(0, paragraph.indexOf("nothing else from your environment"));
    expect(said.length).toBeGreaterThan(0);
    expect(CARRIED_ENV.filter((k) => !said.includes(`\`${k}\``))).toEqual([]);
  });
});
