/**
 * Reading a file's `security.capability` attribute (Linux, libc through Bun's FFI): the one
 * extended attribute the Docker engine keeps in its archives, so an archive read from a
 * volume's folder must keep it too. Undefined where it cannot be read (Deno, macOS, musl):
 * callers then leave the folder to the engine.
 */
export type CapabilityReader = (path: Buffer) => Buffer | undefined;

type Lgetxattr = (path: Buffer, name: Buffer, value: Buffer, size: number) => number | bigint;

let loaded: Promise<CapabilityReader | undefined> | undefined;

export function capabilityReader(): Promise<CapabilityReader | undefined> {
  return (loaded ??= load());
}

async function load(): Promise<CapabilityReader | undefined> {
  if (typeof Bun === "undefined" || process.platform !== "linux") return undefined;
  try {
    // Not a literal: other runtimes must not try to resolve Bun's module when they load this file.
    const ffi = "bun:ffi";
    const { dlopen, FFIType } = (await import(ffi)) as typeof import("bun:ffi");
    const { symbols } = dlopen("libc.so.6", { lgetxattr: { args: [FFIType.ptr, FFIType.ptr, FFIType.ptr, FFIType.u64], returns: FFIType.i64 } });
    const lgetxattr = symbols.lgetxattr as unknown as Lgetxattr;
    const name = Buffer.from("security.capability\0");
    const value = Buffer.alloc(1024);
    return (path) => {
      const n = Number(lgetxattr(Buffer.concat([path, Buffer.from([0])]), name, value, value.length));
      return n > 0 ? Buffer.from(value.subarray(0, n)) : undefined;
    };
  } catch {
    return undefined;
  }
}
