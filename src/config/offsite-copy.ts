import type { RetentionPolicy } from "../retention/plan.ts";
import type { Position } from "./yaml-source.ts";

/** What every offsite copy has, whatever holds it. */
interface CopyBase {
  name: string;
  /** The address as written in backup.yaml, for messages and screens. */
  url: string;
  retentionDays: number;
  keepLast: number;
  /** What this copy keeps: its own settings, or backup.yaml's. */
  retention: RetentionPolicy;
  /** backup.yaml and where the entry starts in it, for errors found when the copy is used. */
  file: string;
  at: Position;
}

/** One entry of `offsite:`: where every backup is also copied. Secrets are never held here, only where they are. */
export type OffsiteCopy = S3Copy | RcloneCopy;

/** A copy in an rclone remote: rclone.conf holds how to reach it, and its secrets. */
export interface RcloneCopy extends CopyBase {
  kind: "rclone";
  /** REMOTE:PATH as rclone writes it. */
  remote: string;
  /** rclone.conf to use; rclone's own default when absent. */
  rcloneConfig?: string;
}

export interface S3Copy extends CopyBase {
  kind: "s3";
  bucket: string;
  /** Key prefix without slashes at either end; "" for the bucket's root. */
  prefix: string;
  /** Absent: AWS. */
  endpoint?: string;
  region?: string;
  pathStyle: boolean;
  /** An absolute path of a 0600 file with AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY. */
  credentials?: string;
  /** The ~/.aws/credentials section to read when neither a file nor the environment has keys. */
  profile?: string;
}

/** An entry's keys as written, before they become a copy. */
export interface CopyEntry {
  url: string;
  endpoint?: string;
  region?: string;
  path_style: boolean;
  credentials?: string;
  profile?: string;
  rclone_config?: string;
}
