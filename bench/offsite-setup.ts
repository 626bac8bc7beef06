/** What the offsite measurements of one shape set up and share: types only, so that they import none of each other. */
import type { ListedBackup, Project } from "./project.ts";
import type { S3Server } from "./s3.ts";
import type { WebdavServer } from "./webdav.ts";

export interface OffsiteSetup {
  server: S3Server;
  /** The shape's project with an offsite copy configured (same service and backup_dir). */
  project: Project;
  /** The archive rclone uploads: the latest one made without a copy, moved out of backup_dir. */
  source?: string;
  /** The rclone-remote measurement's WebDAV server and the project whose copy goes to it. */
  dav?: { server: WebdavServer; project: Project };
  /** The restore measurements' backup and fresh project (measure-offsite-restore.ts). */
  restore?: OffsiteRestoreSetup;
}

export interface OffsiteRestoreSetup {
  /** The backup uploaded to the copy and kept in the shape's backup_dir. */
  backup: ListedBackup;
  /** The same services and offsite entry, its own empty backup_dir: a new machine. */
  fresh: Project;
}
