import fs from "node:fs";
import path from "node:path";

/** Folders that sync clients create in the home folder; backups put there reach the other machines. */
const NAMES = ["Google Drive", "GoogleDrive", "My Drive", "Dropbox", "OneDrive"];

function isDir(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** Cloud-synced folders that exist, as `~/...` paths: the home folder's, then macOS's CloudStorage ones. */
export function cloudFolders(home: string): string[] {
  const found = NAMES.filter((n) => isDir(path.join(home, n))).map((n) => `~/${n}`);
  const storage = path.join(home, "Library", "CloudStorage");
  let entries: string[] = [];
  try {
    entries = fs.readdirSync(storage).sort();
  } catch {
    // not a Mac, or no sync client
  }
  for (const e of entries) {
    // Google Drive for desktop keeps the user's files one level down, in "My Drive".
    const inner = isDir(path.join(storage, e, "My Drive")) ? `${e}/My Drive` : e;
    if (isDir(path.join(storage, inner))) found.push(`~/Library/CloudStorage/${inner}`);
  }
  return found;
}

/** What first-run setup offers for backup_dir: inside the first cloud folder, else ~/Backups/tools. */
export function suggestBackupDir(home: string): { value: string; cloud?: string } {
  const cloud = cloudFolders(home)[0];
  return cloud ? { value: `${cloud}/Backups/tools`, cloud } : { value: "~/Backups/tools" };
}
