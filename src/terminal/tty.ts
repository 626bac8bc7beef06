/** A terminal is there only when both ends are: never prompt into a pipe or cron. */
export function isInteractive(): boolean {
  return (
    Boolean(process.stdin.isTTY && process.stderr.isTTY) && process.env.CI !== "true" && process.env.TERM !== "dumb"
  );
}

/** Messages go to a terminal that can draw (boxes, prompts), coloured or not. */
export function isTerminal(): boolean {
  return Boolean(process.stderr.isTTY) && process.env.TERM !== "dumb";
}

/** Live progress lines and colour only on a terminal that wants them. */
export function isFancy(): boolean {
  return isTerminal() && !process.env.NO_COLOR;
}
