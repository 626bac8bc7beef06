/** `status`: is there a recent backup made by THIS machine? (Pure: backups as the catalog gives them.) */
import { expect, test } from "bun:test";
import type { Backup } from "../../src/app/catalog.ts";
import { serviceHealth } from "../../src/app/health.ts";

const NOW = new Date("2026-11-25T12:00:00Z");
const HOUR = 3_600_000;

function backup(host: string, hoursAgo: number): Backup {
  const createdAt = new Date(NOW.getTime() - hoursAgo * HOUR);
  return {
    id: `app_${hoursAgo}_${host}`,
    service: "app",
    host,
    createdAt,
    kind: "manual",
    file: "",
    manifestFile: "",
    bytes: 1,
    complete: true,
    manifest: {} as Backup["manifest"],
    locations: ["local"],
  };
}

test("another machine's recent backup does not make this one's stale backups fresh, even with the same file-name form of its name", () => {
  const backups = [backup("bäro", 1), backup("büro", 40)];
  const [health] = serviceHealth(["app"], backups, {}, "büro", 26 * HOUR, NOW);
  expect(health!.newest?.id).toBe("app_40_büro");
  expect(health!.stale).toBe(true);
  const [other] = serviceHealth(["app"], backups, {}, "bäro", 26 * HOUR, NOW);
  expect(other!.stale).toBe(false);
});
