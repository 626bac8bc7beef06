/** rclone's stderr turned into our messages: only its error words count, never its log's digits. */
import { expect, test } from "bun:test";
import { rcloneFailure } from "../../src/offsite/rclone/failure.ts";

const stats = (time: string) =>
  `{"level":"info","msg":"\\nTransferred: 2 MiB","stats":{"bytes":2097152,"elapsedTime":1.4012},"time":"${time}"}`;
const error = (msg: string) =>
  `{"level":"error","msg":"${msg}","source":"cmd/cmd.go:283","time":"2026-12-06T08:51:29Z"}`;
const result = (lines: string[], code = 1) => ({ code, stdout: Buffer.alloc(0), stderr: `${lines.join("\n")}\n` });

test("a 401 in a stats line's time or numbers is no refused login", () => {
  const r = result([stats("2026-12-06T08:51:29.401762+00:00"), error("Failed to copy: Not Found: 404 Not Found")]);
  expect(rcloneFailure("nas", "reading k", r).message).toBe("nas: reading k: no such file on the remote");
});

test("a backup id's date holding 401 is no status code", () => {
  const r = result(["2026/12/06 08:51:29 Failed to cat: object not found: svc/svc_20240101T000000Z_h.json"]);
  expect(rcloneFailure("nas", "reading k", r).message).not.toContain("login");
});

test("a real 401 is a refused login", () => {
  const r = result([stats("2026-12-06T08:51:29Z"), error("Failed to copy: 401 Unauthorized")]);
  expect(rcloneFailure("nas", "upload of k", r, true).message).toContain("the remote refused the login");
});

test("an upload a WebDAV server answers with 404, 405 or 409 was a refused write", () => {
  for (const answer of ["Not Found: 404 Not Found", "Update mkParentDir failed: Conflict: 409 Conflict"]) {
    const r = result([error(`Failed to copy: ${answer}`), `2026/12/06 08:51:29 Failed to copyto: ${answer}`]);
    const message = rcloneFailure("nas", "upload of k", r, true).message;
    expect(message).toBe(
      `nas: upload of k: the remote refused the write: no permission (a read-only target?); it answered "${answer}"`,
    );
    // Reading, the same answer means what it says.
    expect(rcloneFailure("nas", "reading k", r).message).not.toContain("refused the write");
  }
});

test('SFTP\'s "Read only file system" is a refused write', () => {
  const r = result(['2026/12/06 08:55:07 Failed to copyto: mkdir "/tb" failed: sftp: "Read only file system"']);
  expect(rcloneFailure("nas", "upload of k", r, true).message).toContain("the remote refused the write");
});
