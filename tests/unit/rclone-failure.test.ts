/** rclone's remote-control errors turned into our messages: what a user can do about each. */
import { expect, test } from "bun:test";
import { rcloneFailure } from "../../src/offsite/rclone/failure.ts";
import { RcCallError } from "../../src/offsite/rclone/rc-error.ts";

const reading = (status: number, error: string) => rcloneFailure("nas", "reading k", new RcCallError(status, error));
const writing = (status: number, error: string) =>
  rcloneFailure("nas", "upload of k", new RcCallError(status, error), true);

test("a missing file is said so", () => {
  expect(reading(404, "failed to find object: object not found").message).toBe(
    "nas: reading k: no such file on the remote",
  );
});

test("a backup id's date holding 401 is no status code", () => {
  const r = reading(404, "object not found: svc/svc_20240101T000000Z_h.json");
  expect(r.message).not.toContain("login");
});

test("a real 401 is a refused login", () => {
  expect(writing(500, "Update: 401 Unauthorized").message).toContain("the remote refused the login");
});

test("an upload a WebDAV server answers with 404, 405 or 409 was a refused write", () => {
  for (const answer of ["Not Found: 404 Not Found", "Update mkParentDir failed: Conflict: 409 Conflict"]) {
    expect(writing(500, answer).message).toBe(
      `nas: upload of k: the remote refused the write: no permission (a read-only target?); it answered "${answer}"`,
    );
    // Reading, the same answer means what it says.
    expect(reading(500, answer).message).not.toContain("refused the write");
  }
});

test('SFTP\'s "Read only file system" is a refused write', () => {
  expect(writing(500, 'mkdir "/tb" failed: sftp: "Read only file system"').message).toContain(
    "the remote refused the write",
  );
});
