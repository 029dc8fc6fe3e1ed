// The general byte compressor behind the sparsity and quantisation stages: raw DEFLATE from `fflate`. Chosen by
// measurement over resnet56-fmnist activations (100 test images, splits 1/10/19/27, Node 20, 2 cores): fflate
// level 6 encodes in 0.17-0.52 ms and decodes in 0.04-0.14 ms; the platform's CompressionStream('deflate-raw')
// was 1-2 % smaller but took 0.44-0.57 ms to encode and 0.31-0.35 ms to decode (stream set-up dominates at
// these sizes), is asynchronous (the codec would turn async everywhere), and its output differs between
// runtimes. fflate is pure JS and runs unchanged in browsers, workerd and Node.
// Encoding is the client's per-offload CPU, so a client may bring its platform's own raw DEFLATE instead (`Deflate`;
// the Node client uses node:zlib, client/node/node-deflate.ts). Any raw DEFLATE stream decodes the same here: the
// format is the contract, not the encoder, and every decoder (edge, backend) uses inflateExact below.

import { deflateSync, inflateSync } from 'fflate';

/** A raw DEFLATE (RFC 1951, no zlib or gzip wrapper) compressor: what the sparse codecs' payloads are packed with. */
export type Deflate = (raw: Uint8Array) => Uint8Array;

/** The portable compressor: fflate, level 6 (pure JS; the default everywhere the platform offers no faster one). */
export const deflate: Deflate = (raw) => deflateSync(raw, { level: 6 });

/**
 * Inflates into a buffer of exactly `expected` bytes and reports whether the stream had exactly that length. A
 * stream that would grow past it is cut off at `expected + 1` bytes (fflate stops writing into a fixed buffer), so
 * a decompression bomb costs at most the time to scan its input, never memory.
 */
export function inflateExact(data: Uint8Array, expected: number): Uint8Array {
  const out = new Uint8Array(expected + 1);
  let got: Uint8Array;
  try {
    got = inflateSync(data, { out });
  } catch (e) {
    throw new RangeError(`deflate stream is corrupt (${(e as Error).message})`);
  }
  if (got.byteLength !== expected) {
    throw new RangeError(
      got.byteLength > expected
        ? `deflate stream inflates to more than the ${expected} bytes its header announces`
        : `deflate stream inflates to ${got.byteLength} bytes, header announces ${expected}`,
    );
  }
  return got.byteLength === out.byteLength ? got : got.subarray(0, expected);
}

/** Largest deflate stream for `raw` bytes (stored blocks: 5 bytes per 65535 + slack), for payload-size checks. */
export const maxDeflatedBytes = (raw: number): number => raw + 5 * Math.ceil((raw + 1) / 65535) + 16;
