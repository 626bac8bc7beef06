/**
 * A stand-in for the engine's socket (point DOCKER_HOST at it) that passes everything through
 * to the real engine, except the first archive download (a backup reading a volume): answered
 * with a daemon error instead, cut after `cut` bytes, or cut `dropTail` bytes before its end;
 * or the first upload (a restore), refused part-way. Run the tool with `start` (async): this
 * server lives in the test's own event loop.
 */
import net from "node:net";
import path from "node:path";
import { tempDir } from "./cli.ts";

const ENGINE_SOCKET = "/var/run/docker.sock";

/**
 * `error` answers a download; with `upload`, the first extraction into a volume instead, once
 * `after` bytes of its body came in. `swallowUpload` takes the first upload whole and never answers.
 */
export type EngineFault =
  | { cut: number }
  | { dropTail: number }
  | { error: string; upload?: { after: number } }
  | { swallowUpload: true };

export interface FaultyEngine {
  /** For DOCKER_HOST. */
  host: string;
  /** How many downloads were faulted (0 or 1). */
  hits(): number;
  close(): void;
}

export function faultyEngine(fault: EngineFault): FaultyEngine {
  const file = path.join(tempDir("tbtest-engine-"), "engine.sock");
  let hits = 0;
  const server = net.createServer({ allowHalfOpen: true }, (client) => {
    const engine = net.connect({ path: ENGINE_SOCKET, allowHalfOpen: true });
    let faulty = false;
    let sent = 0;
    let received = 0;
    client.on("data", (b: Buffer) => {
      const upload = ("error" in fault && fault.upload) || "swallowUpload" in fault;
      const request = upload ? /^PUT [^ ]*\/archive\?/ : /^GET [^ ]*\/archive\?/;
      if (!faulty && hits === 0 && request.test(b.toString("latin1", 0, 300))) {
        faulty = true;
        if ("swallowUpload" in fault) hits++;
      }
      if (faulty && "swallowUpload" in fault) return;
      if (!faulty || !("error" in fault)) {
        engine.write(b);
        return;
      }
      received += b.length;
      if (hits > 0 || received < (fault.upload?.after ?? 0)) return; // the body is swallowed
      hits++;
      const body = JSON.stringify({ message: fault.error });
      client.end(
        `HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
      );
    });
    let held = Buffer.alloc(0);
    engine.on("data", (b: Buffer) => {
      if (faulty && "dropTail" in fault) {
        held = Buffer.concat([held, b]);
        client.write(held.subarray(0, Math.max(0, held.length - fault.dropTail)));
        held = held.subarray(Math.max(0, held.length - fault.dropTail));
        return;
      }
      if (!faulty || !("cut" in fault)) return void client.write(b);
      client.write(b.subarray(0, Math.max(0, fault.cut - sent)));
      sent += b.length;
      if (sent < fault.cut) return;
      hits++;
      client.destroy();
      engine.destroy();
    });
    // Ends pass on as ends, so that what is still buffered arrives (an HTTP/1.0 answer ends
    // with the connection) and a client's half-close (`docker run` attached) keeps its output.
    engine.on("end", () => {
      if (faulty && "dropTail" in fault) hits++; // the held tail is never sent
      client.end();
    });
    client.on("end", () => engine.end());
    for (const s of [client, engine]) {
      s.on("error", () => {
        client.destroy();
        engine.destroy();
      });
    }
  });
  server.listen(file);
  return { host: `unix://${file}`, hits: () => hits, close: () => server.close() };
}
