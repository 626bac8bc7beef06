let live = false;
let rawWrite: ((text: string) => boolean) | undefined;

/**
 * Draws the one live progress line on a terminal (stderr). From the first drawing on, whatever
 * else is written to the terminal (a step, the summary, the outcome, an error, a prompt, data on
 * stdout) clears the line first, so nothing is ever joined to the progress text, whoever prints it.
 */
export function drawLive(text: string): void {
  const write = guardStderr();
  // Cut to the width: a wrapped line would leave its first rows behind when cleared.
  const width = process.stderr.columns;
  write(`\r\x1b[K${width ? text.slice(0, width - 1) : text}`);
  live = true;
}

export function clearLive(): void {
  if (live) rawWrite?.("\r\x1b[K");
  live = false;
}

function guardStderr(): (text: string) => boolean {
  if (rawWrite) return rawWrite;
  const raw = clearingFirst(process.stderr);
  if (process.stdout.isTTY) clearingFirst(process.stdout);
  rawWrite = (text) => raw(text);
  return rawWrite;
}

/** Makes the stream's writes clear the live line first; returns its own write. */
function clearingFirst(stream: NodeJS.WriteStream): NodeJS.WriteStream["write"] {
  const raw = stream.write.bind(stream);
  stream.write = ((...args: Parameters<typeof raw>) => {
    clearLive();
    return raw(...args);
  }) as typeof stream.write;
  return raw;
}
