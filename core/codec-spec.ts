// What a plan asks the codec for (`fp32`, `lossless`, or `quant` at 8/6/4 bits), separate from the full header an
// encoded tensor carries (core/tensor-codec.ts), which adds what only the encoder knows (scales, counts). Plans, the
// manifest's codec profile and the codec choice all speak this small type; it lives apart so the manifest and the
// wire format can both import it without pulling in each other.

import { z } from 'zod';

/** Bit-widths of the lossy scheme, smallest first (the order the accuracy-aware choice tries them in). */
export const QUANT_BITS = [4, 6, 8] as const;
export type QuantBits = (typeof QUANT_BITS)[number];

/** Per-tensor: one (min, step) pair; per-channel: one per channel (axis 1). */
export const quantGranularitySchema = z.enum(['tensor', 'channel']);
export type QuantGranularity = z.infer<typeof quantGranularitySchema>;

export const quantBitsSchema = z.union([z.literal(4), z.literal(6), z.literal(8)]);

export const codecSpecSchema = z.discriminatedUnion('scheme', [
  /** Raw little-endian float32. */
  z.object({ scheme: z.literal('fp32') }),
  /**
   * The input image as uint8 pixels at model resolution, one byte per value, exact: what a client sends for a
   * server-only request of a model with preprocessing (core/input-pixels.ts); the server normalises it.
   */
  z.object({ scheme: z.literal('u8') }),
  /** Zero bitmap + the non-zero float32 values, deflated: bit-exact. */
  z.object({ scheme: z.literal('lossless') }),
  /** Zero bitmap + non-zero values linearly quantised to `bits`, deflated. */
  z.object({
    scheme: z.literal('quant'),
    bits: quantBitsSchema,
    /** Defaults to DEFAULT_GRANULARITY when absent. */
    granularity: quantGranularitySchema.optional(),
  }),
]);
export type CodecSpec = z.infer<typeof codecSpecSchema>;

/**
 * Per-tensor scales, chosen by measurement on resnet56-fmnist (`npm run model:profile -- --codec-only
 * --granularity channel`, first 500 test images, vs. per-tensor on the first 1000): per-channel payloads were
 * 15-50 % larger at every split and bit-width (the codes spread over more levels and deflate worse; 61.6 kB vs
 * 74.9 kB summed over splits at 4 bits) before counting the header's per-channel (min, step) pairs (up to 64 × 2
 * numbers), and the accuracy change was not measurably better (summed over splits at 4 bits: −0.9 pp per-tensor,
 * −0.6 pp per-channel; worst over thresholds −5.7 vs −5.8 pp).
 */
export const DEFAULT_GRANULARITY: QuantGranularity = 'tensor';

/** Short label for tables and logs: `fp32`, `lossless`, `q4`, `q6`, `q8` (`q4c` per-channel). */
export function codecLabel(spec: CodecSpec): string {
  if (spec.scheme !== 'quant') return spec.scheme;
  return `q${spec.bits}${(spec.granularity ?? DEFAULT_GRANULARITY) === 'channel' ? 'c' : ''}`;
}

/** Bits each transferred value costs before the byte compressor (32 for fp32 and lossless values, 8 for pixels). */
export function codecBits(spec: CodecSpec): number {
  return spec.scheme === 'quant' ? spec.bits : spec.scheme === 'u8' ? 8 : 32;
}
