// The S3 server of the offsite measurement: @20minutes/s3rver in its own Node process, so it never
// shares an event loop with the client measured. A copy of the tests'
// launcher (tests/helpers/s3-launcher.mjs on the s3-test-infra branch), so the bench measures
// against the same server the tests use. Argument: a JSON object
// { dir, port, buckets, accessKeyId, secretAccessKey, allowAnonymous }.
// Protocol: one JSON line on stdout when listening ({ ready, port }), then one JSON reply per
// JSON command read from stdin ({ id, op: "createBucket" | "deleteBucket", name }).
// The process exits when stdin closes, so a benchmark that dies takes the server with it.
import { rename, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const require = createRequire(fileURLToPath(import.meta.url));
const S3rver = require("@20minutes/s3rver");
const AWSAccount = require("@20minutes/s3rver/lib/models/account");
const S3Error = require("@20minutes/s3rver/lib/models/error");

const opts = JSON.parse(process.argv[2] ?? "{}");

// The fork accepts exactly the key pairs registered on its account registry; the built-in
// S3RVER/S3RVER pair is revoked so that only the test's credentials sign valid requests.
const account = AWSAccount.DUMMY_ACCOUNT;
account.revokeAccessKey("S3RVER");
account.createKeyPair(opts.accessKeyId, opts.secretAccessKey);

const server = new S3rver({
  address: "127.0.0.1",
  port: opts.port ?? 0,
  silent: true,
  directory: opts.dir,
  configureBuckets: (opts.buckets ?? []).map((name) => ({ name })),
});

const refuse = (ctx, code, message) => {
  ctx.status = 403;
  ctx.type = "application/xml";
  ctx.body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>`;
};
// s3rver's own clock check never fires for an x-amz-date (yyyyMMddTHHmmssZ): it parses it
// as an invalid date, so the check real S3 makes (at most 15 minutes off) is made here.
const skewed = (amzDate) => {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(amzDate);
  if (!m) return false;
  const t = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]);
  return Math.abs(Date.now() - t) > 15 * 60 * 1000;
};
// s3rver lets requests without any signature through as the bucket owner; real S3 refuses
// them on a private bucket, so they get AccessDenied here unless the test asks otherwise.
server.middleware.unshift(async (ctx, next) => {
  if (ctx.method === "OPTIONS") return next();
  if ("authorization" in ctx.headers) {
    if (!skewed(ctx.get("x-amz-date"))) return next();
    return refuse(
      ctx,
      "RequestTimeTooSkewed",
      "The difference between the request time and the current time is too large.",
    );
  }
  if (opts.allowAnonymous || "X-Amz-Algorithm" in ctx.query || "Signature" in ctx.query) return next();
  return refuse(ctx, "AccessDenied", "Access Denied");
});

// s3rver writes a body straight to its final file and keeps whatever arrived of one whose
// connection broke, as if it were complete; S3 stores nothing then. So bodies go to a side
// file first, published by rename only when the request arrived whole.
const putContent = server.store.putContent.bind(server.store);
server.store.putContent = async (file, content) => {
  const partial = `${file}.partial-${process.hrtime.bigint()}`;
  try {
    const result = await putContent(partial, content);
    if (content.complete === false || content.readableAborted) {
      throw new S3Error("IncompleteBody", "The request body terminated unexpectedly");
    }
    await rename(partial, file);
    return result;
  } finally {
    await rm(partial, { force: true });
  }
};

const ops = {
  createBucket: (name) => server.store.putBucket(name),
  deleteBucket: (name) => server.store.deleteBucket(name),
};

const address = await server.run();
process.stdout.write(`${JSON.stringify({ ready: true, port: address.port })}\n`);

const lines = createInterface({ input: process.stdin });
lines.on("line", async (line) => {
  const { id, op, name } = JSON.parse(line);
  try {
    await ops[op](name);
    process.stdout.write(`${JSON.stringify({ id, ok: true })}\n`);
  } catch (err) {
    process.stdout.write(`${JSON.stringify({ id, ok: false, error: String(err) })}\n`);
  }
});
lines.on("close", () => {
  server.close().finally(() => process.exit(0));
  server.httpServer.closeAllConnections();
  // Open keep-alive connections would hold close() forever; the process must still go.
  setTimeout(() => process.exit(0), 2000).unref();
});
