/**
 * A stand-in for the engine's socket (point DOCKER_HOST at it) that passes everything through
 * to the real engine, except the first archive download (a backup reading a volume): answered
 * with a daemon error instead, cut after `cut` bytes, or cut `dropTail` bytes before its end. Run the tool with `start` (async):
 * this server lives in the test's own event loop.
 */
import net from "node:net";
import path from "node:path";
import { tempDir } from "./cli.ts";

const ENGINE_SOCKET = "/var/run/docker.sock";

export type EngineFault = { cut: number } | { dropTail: number } | { error: string };

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
  const server = net.createServer((client) => {
    const engine = net.connect(ENGINE_SOCKET);
    let faulty = false;
    let sent = 0;
    client.on("data", (b: Buffer) => {
      faulty ||= hits === 0 && /^GET [^ ]*\/archive\?/.test(b.toString("latin1", 0, 300));
      if (faulty && "error" in fault) {
        hits++;
        const body = JSON.stringify({ message: fault.error });
        return void client.end(`HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`);
      }
      engine.write(b);
    });
    let held = Buffer.alloc(0);
    engine.on("data", (b: Buffer) => {
      if (faulty && "dropTail" in fault) {
        held = Buffer.concat([held, b]);
        client.write(held.subarray(0, Math.max(0, held.length - fault.dropTail)));
        return void (held = held.subarray(Math.max(0, held.length - fault.dropTail)));
      }
      if (!faulty || !("cut" in fault)) return void client.write(b);
      client.write(b.subarray(0, Math.max(0, fault.cut - sent)));
      sent += b.length;
      if (sent < fault.cut) return;
      hits++;
      client.destroy();
      engine.destroy();
    });
    engine.on("end", () => {
      if (!faulty || !("dropTail" in fault)) return;
      hits++;
      client.end(); // a clean close, as the daemon's own at the end of an answer
    });
    for (const s of [client, engine]) s.on("error", () => undefined).on("close", () => (client.destroy(), engine.destroy()));
  });
  server.listen(file);
  return { host: `unix://${file}`, hits: () => hits, close: () => server.close() };
}
