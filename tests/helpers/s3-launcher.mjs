// Runs @20minutes/s3rver in its own Node process for tests/helpers/s3-server.ts, so the server
// never shares an event loop with the code under test. Argument: a JSON object
// { dir, port, buckets, accessKeyId, secretAccessKey, allowAnonymous }.
// Protocol: one JSON line on stdout when listening ({ ready, port }), then one JSON reply per
// JSON command read from stdin ({ id, op: "createBucket" | "deleteBucket", name }).
// The process exits when stdin closes, so a test runner that dies takes the server with it.
import { createRequire } from "node:module";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const require = createRequire(fileURLToPath(import.meta.url));
const S3rver = require("@20minutes/s3rver");
const AWSAccount = require("@20minutes/s3rver/lib/models/account");

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

// s3rver lets requests without any signature through as the bucket owner; real S3 refuses
// them on a private bucket, so they get AccessDenied here unless the test asks otherwise.
const anonymousDenied = `<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>`;
server.middleware.unshift(async (ctx, next) => {
  const signed = "authorization" in ctx.headers || "X-Amz-Algorithm" in ctx.query || "Signature" in ctx.query;
  if (signed || opts.allowAnonymous || ctx.method === "OPTIONS") return next();
  ctx.status = 403;
  ctx.type = "application/xml";
  ctx.body = anonymousDenied;
});

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
