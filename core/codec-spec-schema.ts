// The zod schemas of core/codec-spec.ts's types, kept apart so that code which only reads codec specs (the codec,
// the scheduler, the client's bundle) does not pull zod in; the wire format validates plans with them.

import { z } from 'zod';

/** Per-tensor: one (min, step) pair; per-channel: one per channel (axis 1). */
export const quantGranularitySchema = z.enum(['tensor', 'channel']);

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
