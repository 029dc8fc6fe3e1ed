// The codec that turns an activation into bytes for the wire and back. This is the fp32 baseline; the
// communication optimiser (sparsity + quantisation) adds schemes behind the same two functions, so callers never
// change. The decoder treats its input as hostile: every length is checked before anything is allocated.

/** How an activation is encoded on the wire. */
export type CodecScheme = 'fp32';

/** The codec header carried in every offload, next to the payload bytes. */
export interface CodecHeader {
  scheme: CodecScheme;
}

/** An encoded activation: header, logical shape (batch first) and payload bytes. */
export interface EncodedTensor {
  codec: CodecHeader;
  shape: number[];
  data: Uint8Array;
}

/** Limits the decoder enforces before allocating; defaults fit any activation of the models we ship. */
export interface DecodeLimits {
  /** Most elements a decoded tensor may hold. */
  maxElements: number;
  /** Most dimensions a shape may have. */
  maxRank: number;
}

export const DEFAULT_DECODE_LIMITS: DecodeLimits = { maxElements: 4 * 1024 * 1024, maxRank: 8 };

export class CodecError extends Error {
  override readonly name = 'CodecError';
}

// Raw fp32 on the wire is little-endian; every platform we target (x86, ARM browsers, workerd) is too, which this
// check makes explicit instead of silently producing garbage on a big-endian host.
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

export function elementCount(shape: readonly number[], limits: DecodeLimits = DEFAULT_DECODE_LIMITS): number {
  if (!Array.isArray(shape) || shape.length === 0 || shape.length > limits.maxRank) {
    throw new CodecError(`tensor shape must have 1..${limits.maxRank} dimensions`);
  }
  let n = 1;
  for (const d of shape) {
    if (!Number.isSafeInteger(d) || d <= 0) throw new CodecError(`invalid tensor dimension ${String(d)}`);
    n *= d;
    if (n > limits.maxElements) throw new CodecError(`tensor has more than ${limits.maxElements} elements`);
  }
  return n;
}

export function encodeTensor(
  values: Float32Array,
  shape: readonly number[],
  header: CodecHeader,
): EncodedTensor {
  if (!LITTLE_ENDIAN) throw new CodecError('big-endian hosts are not supported');
  const n = elementCount(shape, { maxElements: Number.MAX_SAFE_INTEGER, maxRank: 8 });
  if (n !== values.length)
    throw new CodecError(`shape [${shape.join(',')}] holds ${n} values, got ${values.length}`);
  switch (header.scheme) {
    case 'fp32':
      return {
        codec: { scheme: 'fp32' },
        shape: [...shape],
        data: new Uint8Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength)),
      };
    default:
      throw new CodecError(`unknown codec scheme ${String((header as { scheme: unknown }).scheme)}`);
  }
}

export function decodeTensor(
  t: EncodedTensor,
  limits: DecodeLimits = DEFAULT_DECODE_LIMITS,
): { values: Float32Array; shape: number[] } {
  if (!LITTLE_ENDIAN) throw new CodecError('big-endian hosts are not supported');
  const n = elementCount(t.shape, limits);
  if (!(t.data instanceof Uint8Array)) throw new CodecError('tensor payload must be bytes');
  switch (t.codec?.scheme) {
    case 'fp32': {
      if (t.data.byteLength !== n * 4) {
        throw new CodecError(`fp32 payload is ${t.data.byteLength} bytes, shape needs ${n * 4}`);
      }
      // Copy into a fresh aligned buffer: the payload may sit at any offset of the message buffer.
      const values = new Float32Array(n);
      new Uint8Array(values.buffer).set(t.data);
      return { values, shape: [...t.shape] };
    }
    default:
      throw new CodecError(`unknown codec scheme ${JSON.stringify(t.codec?.scheme ?? null)}`);
  }
}
