/** Marks every container tools-backup makes (helpers and runners): never a user of the data. */
export const HELPER_LABEL = "io.tools-backup.helper";
