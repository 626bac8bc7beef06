import * as zlib from "node:zlib";
import type { Transform } from "node:stream";
import type { Compression } from "./naming.ts";

/** zstd level 3: several hundred MB/s in-process and smaller than gzip -6; gzip for old tools. */
export function compressor(kind: Compression): Transform {
  if (kind === "gzip") return zlib.createGzip({ level: 6 });
  return zlib.createZstdCompress({ params: { [zlib.constants.ZSTD_c_compressionLevel]: 3, [zlib.constants.ZSTD_c_checksumFlag]: 1 } });
}

export function decompressor(kind: Compression): Transform {
  return kind === "gzip" ? zlib.createGunzip() : zlib.createZstdDecompress();
}
