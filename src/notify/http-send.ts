import { readFile } from "node:fs/promises";

/** A notification's HTTP request: failed when the server cannot be reached or does not answer 2xx. */
export interface HttpRequest {
  url: string;
  method?: "GET" | "POST";
  headers?: Record<string, string>;
  body?: string;
}

export class DeliveryError extends Error {
  constructor(
    message: string,
    /** Worth one more try: no answer, 5xx or 429. */
    readonly transient: boolean,
  ) {
    super(message);
  }
}

export async function send(request: HttpRequest, timeoutMs: number): Promise<void> {
  let response: Response;
  try {
    response = await fetch(request.url, {
      method: request.method ?? "POST",
      headers: request.headers,
      body: request.body,
      signal: AbortSignal.timeout(timeoutMs),
      redirect: "error",
    });
  } catch (e) {
    const name = (e as Error).name;
    const why = name === "TimeoutError" ? `no answer within ${timeoutMs / 1000} s` : "cannot connect";
    throw new DeliveryError(why, true);
  }
  await response.body?.cancel();
  if (response.ok) return;
  throw new DeliveryError(`answered ${response.status}`, response.status >= 500 || response.status === 429);
}

/** The first line of a password file, read when a message is sent (never kept in the configuration). */
export async function secretOf(file: string | undefined): Promise<string | undefined> {
  if (file === undefined) return undefined;
  return (await readFile(file, "utf8")).split(/\r?\n/)[0];
}
