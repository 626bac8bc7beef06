/** Marks every container tools-backup makes (helper and emptying containers): never a user of the data. */
export const HELPER_LABEL = "io.tools-backup.helper";
