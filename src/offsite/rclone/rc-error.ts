/** A remote-control call rclone answered with an error: its HTTP status (0: no answer) and its words. */
export class RcCallError extends Error {
  override name = "RcCallError";
  constructor(
    readonly status: number,
    readonly error: string,
  ) {
    super(error);
  }
}
