/**
 * Hands the memory of stream chunks back as soon as they are used. Native buffers (socket and
 * file reads, zstd results) are freed only when the collector runs, and it hardly notices them:
 * they pile up, and every fresh buffer the allocator takes from the system costs page faults.
 * Detaching an ArrayBuffer frees its memory at once (docs/design.md has the figures).
 *
 * A chunk may be cut into pieces on its way (the tar walker does), so the stage that makes a
 * chunk marks it disposable, and the last stage, the one that copies, sends or writes the bytes,
 * calls `consumed` with every piece: the piece that ends the chunk releases it. Stages between
 * them may cut and pass on pieces but must keep none (they copy what they keep).
 */
const disposable = new WeakSet<ArrayBuffer>();

function owned(chunk: Uint8Array): ArrayBuffer | undefined {
  const backing = chunk.buffer;
  // Never a slice of Node's shared pool of small buffers, never shared memory.
  return backing instanceof ArrayBuffer && chunk.byteOffset === 0 && chunk.byteLength === backing.byteLength
    ? backing
    : undefined;
}

/** Frees the memory of a buffer its holder owns whole and will not read again. */
export function release(chunk: Uint8Array): void {
  const backing = owned(chunk);
  if (backing && !backing.detached) backing.transfer(0);
}

/** `chunk` is new and nothing but the stream it enters will read it. */
export function markDisposable(chunk: Uint8Array): void {
  const backing = owned(chunk);
  if (backing) disposable.add(backing);
}

/** The last stage is done with `piece`: frees the chunk it was cut from when it was the chunk's last piece. */
export function consumed(piece: Uint8Array): void {
  const backing = piece.buffer;
  if (
    !(backing instanceof ArrayBuffer) ||
    piece.byteOffset + piece.byteLength !== backing.byteLength ||
    !disposable.has(backing)
  )
    return;
  disposable.delete(backing);
  backing.transfer(0);
}
