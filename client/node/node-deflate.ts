// The Node client's compressor for offloaded activations: node:zlib's raw DEFLATE instead of core's portable fflate.
// Encoding is most of the client's own CPU per offload, and on real split-5 activations of resnet56-fmnist zlib
// (level 6, native) packs a 4-bit payload in about a quarter of fflate's time and 2 % smaller (6.7 kB in 56 us
// against 228 us; `npm run bench:hop`, "client work"). The stream is plain RFC 1951, so the edge and the backend
// decode it with the same code as fflate's. Browsers keep fflate: their only native deflate (CompressionStream) is
// asynchronous and slower at these sizes (core/codec-deflate.ts).

import { deflateRawSync } from 'node:zlib';
import type { Deflate } from '../../core/codec-deflate.js';

/** zlib's level 6, the same ratio/speed point as the portable default. */
const LEVEL = 6;

/** Raw DEFLATE by node:zlib, as a plain Uint8Array (not a Buffer) over the same bytes. */
export const nodeDeflate: Deflate = (raw) => {
  const out = deflateRawSync(raw, { level: LEVEL });
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
};
