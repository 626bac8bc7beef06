/**
 * The Docker API over a local engine's Unix socket, for the two bulk transfers: a volume's tar
 * read out (download.ts) and written back (upload.ts). The CLI would copy every byte once more,
 * so on a local engine we speak plain HTTP on the socket ourselves; every other call, and every
 * engine that is not local, goes through the CLI. docs/design.md has the measurements.
 */

export { openArchiveOnSocket } from "./download.ts";
export { localEngineSocket } from "./endpoint.ts";
export { uploadArchiveOnSocket } from "./upload.ts";
