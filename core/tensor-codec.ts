// The codec that turns an activation into bytes for the wire and back: raw fp32, a lossless scheme (zero bitmap +
// non-zero float32 values, deflated) and a lossy one (zero bitmap + non-zero values linearly quantised to 8/6/4 bits,
// deflated). Callers pass what a plan asks for (a CodecSpec) and get back the full header the wire carries. The
// decoder treats its input as hostile: header fields, counts and every length are checked before anything is
// allocated, and any malformed input is a CodecError, never a crash, a hang or a huge allocation.

import { bitmapBytes, bitmapCount, buildBitmap } from './codec-bitmap.js';
import { deflate, inflateExact, maxDeflatedBytes, type Deflate } from './codec-deflate.js';
import {
  codeBytes,
  codesFit,
  groupCount,
  quantParams,
  readCodes,
  writeBitmapAndCodes,
} from './codec-quantize.js';
import {
  DEFAULT_GRANULARITY,
  QUANT_BITS,
  type CodecSpec,
  type QuantBits,
  type QuantGranularity,
} from './codec-spec.js';

/** How an activation is encoded on the wire. */
export type CodecScheme = CodecSpec['scheme'];

/** How the sparse schemes' bytes were compressed (`none` when deflate would not have made them smaller). */
export type ByteCompression = 'deflate' | 'none';

/** The codec header carried in every offload, next to the payload bytes. */
export type CodecHeader =
  | { scheme: 'fp32' }
  /** One uint8 value per element (input pixels, core/input-pixels.ts); decodes to their float values 0..255. */
  | { scheme: 'u8' }
  | {
      scheme: 'lossless';
      layout: 'bitmap';
      compression: ByteCompression;
      /** Elements whose float32 bits are not all zero (the set bits of the bitmap). */
      nonZero: number;
    }
  | {
      scheme: 'quant';
      bits: QuantBits;
      granularity: QuantGranularity;
      /** Per group (1, or shape[1] per channel): value of code 0 and step between codes (float32 values). */
      min: number[];
      step: number[];
      layout: 'bitmap';
      compression: ByteCompression;
      /** Elements that are not 0 (the set bits of the bitmap). */
      nonZero: number;
    };

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

export interface EncodeOptions {
  /** Run the byte compressor (default true). The profiler turns it off: same values, a fraction of the time. */
  compress?: boolean;
  /** The raw DEFLATE compressor (default: fflate, core/codec-deflate.ts); any one decodes the same. */
  deflate?: Deflate;
}

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

/** Bytes the payload holds before byte compression, from the header alone. */
function rawBytes(h: CodecHeader, n: number): number {
  switch (h.scheme) {
    case 'fp32':
      return n * 4;
    case 'u8':
      return n;
    case 'lossless':
      return bitmapBytes(n) + h.nonZero * 4;
    case 'quant':
      return bitmapBytes(n) + codeBytes(h.bits, h.nonZero);
  }
}

/** The smallest and largest payload a well-formed header allows for n elements (what the edge checks). */
export function payloadBounds(h: CodecHeader, n: number): { min: number; max: number } {
  const raw = rawBytes(h, n);
  if (h.scheme === 'fp32' || h.scheme === 'u8' || h.compression === 'none') return { min: raw, max: raw };
  // DEFLATE cannot shrink data more than 1032:1, nor grow it past its stored-block overhead.
  return { min: Math.max(1, Math.floor(raw / 1032)), max: maxDeflatedBytes(raw) };
}

function fail(msg: string): never {
  throw new CodecError(msg);
}

const isFloat32 = (x: unknown): x is number =>
  typeof x === 'number' && Number.isFinite(x) && Math.fround(x) === x;

/** Checks every header field against the shape before a byte is allocated; returns the header typed. */
export function checkHeader(h: unknown, shape: readonly number[], n: number): CodecHeader {
  if (typeof h !== 'object' || h === null) fail('codec header must be an object');
  const c = h as Record<string, unknown>;
  switch (c.scheme) {
    case 'fp32':
      return { scheme: 'fp32' };
    case 'u8':
      return { scheme: 'u8' };
    case 'lossless':
    case 'quant': {
      if (c.layout !== 'bitmap') fail(`unknown sparsity layout ${JSON.stringify(c.layout ?? null)}`);
      if (c.compression !== 'deflate' && c.compression !== 'none')
        fail(`unknown byte compression ${JSON.stringify(c.compression ?? null)}`);
      const nz = c.nonZero;
      if (typeof nz !== 'number' || !Number.isSafeInteger(nz) || nz < 0 || nz > n)
        fail(`nonZero must be an integer in [0, ${n}], got ${String(nz)}`);
      if (c.scheme === 'lossless')
        return { scheme: 'lossless', layout: 'bitmap', compression: c.compression, nonZero: nz };
      if (!(QUANT_BITS as readonly unknown[]).includes(c.bits))
        fail(`quant bits must be one of ${QUANT_BITS.join('/')}, got ${String(c.bits)}`);
      if (c.granularity !== 'tensor' && c.granularity !== 'channel')
        fail(`unknown quant granularity ${JSON.stringify(c.granularity ?? null)}`);
      const groups = groupCount(shape, c.granularity);
      for (const k of ['min', 'step'] as const) {
        const a = c[k];
        if (!Array.isArray(a) || a.length !== groups) fail(`quant ${k} must hold ${groups} numbers`);
        if (!a.every(isFloat32)) fail(`quant ${k} must be finite float32 values`);
        if (k === 'step' && a.some((s: number) => s < 0)) fail('quant step must not be negative');
      }
      // Finite fields can still decode past float32's range (min + levels × step): refuse before decoding.
      const levels = (1 << (c.bits as QuantBits)) - 1;
      const min = c.min as number[];
      const step = c.step as number[];
      if (min.some((m, g) => !Number.isFinite(Math.fround(m + levels * step[g]!))))
        fail('quant min + levels × step overflows float32');
      return {
        scheme: 'quant',
        bits: c.bits as QuantBits,
        granularity: c.granularity,
        min: c.min as number[],
        step: c.step as number[],
        layout: 'bitmap',
        compression: c.compression,
        nonZero: nz,
      };
    }
    default:
      return fail(`unknown codec scheme ${JSON.stringify(c.scheme ?? null)}`);
  }
}

/** Payload of the sparse schemes: compressed unless asked not to or deflate would not help. */
function pack(
  raw: Uint8Array,
  compressor: Deflate | null,
): { data: Uint8Array; compression: ByteCompression } {
  if (compressor) {
    const z = compressor(raw);
    if (z.byteLength < raw.byteLength) return { data: z, compression: 'deflate' };
  }
  return { data: raw, compression: 'none' };
}

export function encodeTensor(
  values: Float32Array,
  shape: readonly number[],
  spec: CodecSpec | CodecHeader,
  opts: EncodeOptions = {},
): EncodedTensor {
  if (!LITTLE_ENDIAN) throw new CodecError('big-endian hosts are not supported');
  const n = elementCount(shape, { maxElements: Number.MAX_SAFE_INTEGER, maxRank: 8 });
  if (n !== values.length)
    throw new CodecError(`shape [${shape.join(',')}] holds ${n} values, got ${values.length}`);
  const compressor = (opts.compress ?? true) ? (opts.deflate ?? deflate) : null;
  switch (spec.scheme) {
    case 'fp32':
      return {
        codec: { scheme: 'fp32' },
        shape: [...shape],
        data: new Uint8Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength)),
      };
    case 'u8': {
      const data = new Uint8Array(n);
      for (let i = 0; i < n; i++) {
        const v = values[i]!;
        if (!(Number.isInteger(v) && v >= 0 && v <= 255))
          throw new CodecError(`u8 carries integer pixel values 0..255, got ${v} at ${i}`);
        data[i] = v;
      }
      return { codec: { scheme: 'u8' }, shape: [...shape], data };
    }
    case 'lossless': {
      // Zero by bits, so -0 and every NaN payload survive bit for bit.
      const bitsOf = new Uint32Array(values.buffer, values.byteOffset, n);
      const mapBytes = bitmapBytes(n);
      const probe = new Uint8Array(mapBytes);
      const nonZero = buildBitmap(n, (i) => bitsOf[i] !== 0, probe);
      const raw = new Uint8Array(mapBytes + nonZero * 4);
      raw.set(probe);
      const dv = new DataView(raw.buffer);
      for (let i = 0, k = mapBytes; i < n; i++) {
        const b = bitsOf[i]!;
        if (b !== 0) {
          dv.setUint32(k, b, true);
          k += 4;
        }
      }
      const { data, compression } = pack(raw, compressor);
      return {
        codec: { scheme: 'lossless', layout: 'bitmap', compression, nonZero },
        shape: [...shape],
        data,
      };
    }
    case 'quant': {
      if (!(QUANT_BITS as readonly number[]).includes(spec.bits))
        throw new CodecError(`quant bits must be one of ${QUANT_BITS.join('/')}, got ${String(spec.bits)}`);
      const granularity = spec.granularity ?? DEFAULT_GRANULARITY;
      let params;
      try {
        params = quantParams(values, shape, spec.bits, granularity);
      } catch (e) {
        throw new CodecError((e as Error).message);
      }
      const mapBytes = bitmapBytes(n);
      const buffer = new Uint8Array(mapBytes + codeBytes(spec.bits, n));
      const nonZero = writeBitmapAndCodes(values, shape, spec.bits, granularity, params, buffer, mapBytes);
      const raw = buffer.subarray(0, mapBytes + codeBytes(spec.bits, nonZero));
      const { data, compression } = pack(raw, compressor);
      return {
        codec: {
          scheme: 'quant',
          bits: spec.bits,
          granularity,
          ...params,
          layout: 'bitmap',
          compression,
          nonZero,
        },
        shape: [...shape],
        data,
      };
    }
    default:
      throw new CodecError(`unknown codec scheme ${String((spec as { scheme: unknown }).scheme)}`);
  }
}

/** A tensor's header and payload length checked against its shape (what every decode starts with). */
function checkedPayload(t: EncodedTensor, limits: DecodeLimits): { h: CodecHeader; n: number } {
  if (!LITTLE_ENDIAN) throw new CodecError('big-endian hosts are not supported');
  const n = elementCount(t.shape, limits);
  if (!(t.data instanceof Uint8Array)) throw new CodecError('tensor payload must be bytes');
  const h = checkHeader(t.codec, t.shape, n);
  const { min, max } = payloadBounds(h, n);
  const len = t.data.byteLength;
  if (len < min || len > max) {
    throw new CodecError(
      h.scheme === 'fp32'
        ? `fp32 payload is ${len} bytes, shape needs ${n * 4}`
        : `${h.scheme} payload is ${len} bytes; its header allows ${min === max ? min : `${min}..${max}`}`,
    );
  }
  return { h, n };
}

type SparseHeader = Extract<CodecHeader, { scheme: 'lossless' | 'quant' }>;

/** A sparse scheme's bytes inflated, its bitmap checked against the header's count (and, for quant, its codes). */
function sparseParts(t: EncodedTensor, h: SparseHeader, n: number) {
  const expected = rawBytes(h, n);
  let raw: Uint8Array;
  try {
    raw = h.compression === 'deflate' ? inflateExact(t.data, expected) : t.data;
  } catch (e) {
    throw new CodecError(`${h.scheme} payload: ${(e as Error).message}`);
  }
  const mapBytes = bitmapBytes(n);
  const bitmap = raw.subarray(0, mapBytes);
  const count = bitmapCount(bitmap, n);
  if (count !== h.nonZero)
    throw new CodecError(
      count < 0
        ? 'zero bitmap has bits set past the tensor'
        : `zero bitmap has ${count} bits set, header says ${h.nonZero}`,
    );
  const rest = raw.subarray(mapBytes);
  if (h.scheme === 'quant' && !codesFit(rest, h.bits, h.nonZero))
    throw new CodecError(`quant codes do not fit ${h.bits} bits`);
  return { raw, mapBytes, bitmap, rest };
}

/**
 * Every check decodeTensor makes, without building the values when the header alone bounds them: a quant tensor's
 * values are min + code × step with codes checked to fit, so they lie between min and min + levels × step (rounding
 * to float32 keeps that order). Returns the header, or the decoded values for the schemes whose bytes must be read
 * to know them (fp32, lossless, u8). For a hop that forwards a tensor and never runs it (the edge).
 */
export function checkTensor(
  t: EncodedTensor,
  limits: DecodeLimits = DEFAULT_DECODE_LIMITS,
): { header: CodecHeader; values: Float32Array | null } {
  const { h, n } = checkedPayload(t, limits);
  if (h.scheme !== 'quant') return { header: h, values: decodeTensor(t, limits).values };
  sparseParts(t, h, n);
  return { header: h, values: null };
}

export function decodeTensor(
  t: EncodedTensor,
  limits: DecodeLimits = DEFAULT_DECODE_LIMITS,
): { values: Float32Array; shape: number[] } {
  const { h, n } = checkedPayload(t, limits);
  if (h.scheme === 'u8') return { values: Float32Array.from(t.data), shape: [...t.shape] };
  if (h.scheme === 'fp32') {
    // Copy into a fresh aligned buffer: the payload may sit at any offset of the message buffer.
    const values = new Float32Array(n);
    new Uint8Array(values.buffer).set(t.data);
    return { values, shape: [...t.shape] };
  }
  const { raw, mapBytes, bitmap, rest } = sparseParts(t, h, n);
  const values = new Float32Array(n);
  if (h.scheme === 'lossless') {
    const bits = new Uint32Array(values.buffer);
    const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    for (let i = 0, k = mapBytes; i < n; i++) {
      if ((bitmap[i >> 3]! >> (i & 7)) & 1) {
        bits[i] = dv.getUint32(k, true);
        k += 4;
      }
    }
    return { values, shape: [...t.shape] };
  }
  readCodes(bitmap, rest, t.shape, h.bits, h.granularity, h, values);
  return { values, shape: [...t.shape] };
}

/** Input pixels (uint8, model resolution, CHW with batch 1 first in `shape`) as a `u8` tensor. */
export function encodePixels(pixels: Uint8Array, shape: readonly number[]): EncodedTensor {
  const n = elementCount(shape, { maxElements: Number.MAX_SAFE_INTEGER, maxRank: 8 });
  if (n !== pixels.length)
    throw new CodecError(`shape [${shape.join(',')}] holds ${n} values, got ${pixels.length}`);
  return { codec: { scheme: 'u8' }, shape: [...shape], data: pixels.slice() };
}

/** The spec a header was encoded with (what a plan would ask for to get it again). */
export function specOf(h: CodecHeader): CodecSpec {
  return h.scheme === 'quant'
    ? { scheme: 'quant', bits: h.bits, granularity: h.granularity }
    : { scheme: h.scheme };
}
