// What a plan asks the codec for (`fp32`, `lossless`, or `quant` at 8/6/4 bits), separate from the full header an
// encoded tensor carries (core/tensor-codec.ts), which adds what only the encoder knows (scales, counts). Plans, the
// manifest's codec profile and the codec choice all speak this small type; it lives apart so the manifest and the
// wire format can both import it without pulling in each other. Its zod schemas are core/codec-spec-schema.ts, so
// importing these types and helpers costs no validation code.

import type { z } from 'zod';
import type { codecSpecSchema, quantGranularitySchema } from './codec-spec-schema.js';

/** Bit-widths of the lossy scheme, smallest first (the order the accuracy-aware choice tries them in). */
export const QUANT_BITS = [4, 6, 8] as const;
export type QuantBits = (typeof QUANT_BITS)[number];

/** Per-tensor: one (min, step) pair; per-channel: one per channel (axis 1). */
export type QuantGranularity = z.infer<typeof quantGranularitySchema>;

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
