// The versioned binary wire format between client, edge worker and backend (msgpack via msgpackr). Offloads carry
// the activation and everything the server and the scheduler need; results carry the answer and the next plan.
// Every decode goes through core/msgpack.ts's hardened decoder and then the schemas, so a hostile or outdated body
// becomes a WireError (a 4xx) whose message says what was wrong, never a crash. What an offload must be for a given
// model (split, shape, codec fields, payload, values) is core/offload-validation.ts.

import { z } from 'zod';
import { validationMessage } from './public-error.js';
import { PROTOCOL_VERSION, unpack, WireError } from './wire-envelope.js';
import { slaSchema } from './sla.js';
import { codecSpecSchema, quantBitsSchema, quantGranularitySchema } from './codec-spec-schema.js';
import type { CodecHeader, EncodedTensor } from './tensor-codec.js';

export {
  encodeMessage,
  PROTOCOL_VERSION,
  SPOKEN_PROTOCOL_VERSIONS,
  WIRE_CONTENT_TYPE,
  WireError,
} from './wire-envelope.js';

/**
 * Largest offload body the edge accepts by default (its MAX_OFFLOAD_BYTES): the largest fp32 activation served is
 * 576 KiB (mobilenetv2-fmnist96 split 3, 1x64x48x48); resnet56-fmnist's is 64 KiB.
 */
export const DEFAULT_MAX_OFFLOAD_BYTES = 1024 * 1024;

/**
 * The backend's default body limit: the edge's plus room for the edge's re-encoding of what it accepted (the same
 * payload bytes; a header number may grow from float32 to float64), so every body the edge forwards fits and an
 * oversized body is always refused at the edge, never half-sent to the backend.
 */
export const DEFAULT_BACKEND_MAX_BODY_BYTES = DEFAULT_MAX_OFFLOAD_BYTES + 64 * 1024;

export const requestIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9_-]{8,64}$/, 'request id must be 8-64 characters of [A-Za-z0-9_-]');

// The codec header (core/tensor-codec.ts). Schemes were added after v1 without a version bump: every v1 message is
// still valid, and a peer that predates a scheme rejects it with a 400 naming `tensor.codec.scheme`. The codec
// re-checks these fields against the shape before decoding.
const float32 = z
  .number()
  .refine((x) => Number.isFinite(x) && Math.fround(x) === x, 'must be a float32 value');
const sparseFields = {
  layout: z.literal('bitmap'),
  compression: z.enum(['deflate', 'none']),
  nonZero: z.number().int().nonnegative(),
};
export const codecHeaderSchema = z.discriminatedUnion('scheme', [
  z.object({ scheme: z.literal('fp32') }),
  // Input pixels (split 0 of a model with preprocessing; core/input-pixels.ts checks where it may appear).
  z.object({ scheme: z.literal('u8') }),
  z.object({ scheme: z.literal('lossless'), ...sparseFields }),
  z.object({
    scheme: z.literal('quant'),
    bits: quantBitsSchema,
    granularity: quantGranularitySchema,
    min: z.array(float32).min(1).max(4096),
    step: z
      .array(float32.refine((x) => x >= 0, 'must not be negative'))
      .min(1)
      .max(4096),
    ...sparseFields,
  }),
]);
// The schema and the codec's own type must describe the same header.
const _headerMatches: CodecHeader = {} as z.infer<typeof codecHeaderSchema>;
void _headerMatches;

const bytes = z.custom<Uint8Array>((v) => v instanceof Uint8Array, 'payload must be binary');

export const encodedTensorSchema = z.object({
  codec: codecHeaderSchema,
  shape: z.array(z.number().int().positive()).min(1).max(8),
  data: bytes,
});

export const planSchema = z.object({
  /** Blocks the device runs before offloading; equal to the block count means device-only. */
  split: z.number().int().nonnegative(),
  /** Early-exit confidence threshold; ≥ 1 disables early exits. */
  threshold: z.number().min(0).max(1),
  /** What to encode the activation with (the encoder fills in the rest of the header). */
  codec: codecSpecSchema,
  /** Why the scheduler chose it (for logs and plots). */
  reason: z.string().max(500).optional(),
  /** Bits per transferred value of the chosen codec option (32 = raw fp32). */
  bits: z.number().int().positive().max(32).optional(),
  /** Edgent-style truncation: only this exit answers (every sample leaves there); other exits are skipped. */
  exit: z.number().int().nonnegative().optional(),
  /** Scheduling policy that produced the plan (SPINN or a baseline). */
  policy: z.string().max(40).optional(),
  /** Whether the plan meets every hard limit of the SLA (false: the least-violating plan). */
  feasible: z.boolean().optional(),
  /** The scheduler's prediction for this plan. */
  estimate: z
    .object({
      latencyMs: z.number(),
      throughputRps: z.number(),
      deviceCostMs: z.number(),
      serverCostMs: z.number(),
      accuracy: z.number(),
      offloadProbability: z.number(),
      uploadBytes: z.number(),
    })
    .optional(),
  /** Everything the scheduler saw when it chose (the resolved context). */
  seen: z
    .object({
      deviceScale: z.number(),
      bandwidthBps: z.number(),
      rttMs: z.number(),
      offloadOverheadMs: z.number().optional(),
      serverScale: z.number(),
      serverLoad: z.number(),
      serverAvailable: z.boolean(),
    })
    .optional(),
});
export type Plan = z.infer<typeof planSchema>;

/** What the client knows and reports so the scheduler (and logs) can see it. All optional. */
export const clientContextSchema = z.object({
  /** Device compute time spent before the offload, ms. */
  deviceMs: z.number().nonnegative().optional(),
  /** Client clock (ms since epoch) when the offload left; used only for differences on the client's side. */
  sentAt: z.number().nonnegative().optional(),
  /** Bandwidth (bytes per second) and RTT the client last measured (moving averages). */
  bandwidthBps: z.number().positive().optional(),
  rttMs: z.number().nonnegative().optional(),
  /**
   * Fixed cost of an offload beyond the RTT and its bytes, ms (the client's moving average over its offloads);
   * negative when the RTT, measured on plan requests, overstates it. The scheduler keeps RTT + overhead ≥ 0.
   */
  offloadOverheadMs: z.number().min(-600_000).max(600_000).optional(),
  /** Device slowdown vs. the offline profile (T_real / T_offline). */
  deviceScale: z.number().positive().optional(),
  /** Server compute time vs. the offline server-estimate profile, as the client observed it. */
  serverScale: z.number().positive().optional(),
});
export type ClientContext = z.infer<typeof clientContextSchema>;

export const offloadMessageSchema = z.object({
  v: z.literal(PROTOCOL_VERSION),
  requestId: requestIdSchema,
  modelId: z.string().min(1).max(64),
  split: z.number().int().nonnegative(),
  threshold: z.number().min(0).max(1),
  tensor: encodedTensorSchema,
  context: clientContextSchema
    .optional()
    .describe(
      'what the client measured; sent with sla when it asks the edge to plan again; absent in the steady state',
    ),
  sla: slaSchema
    .optional()
    .describe('present when the edge should plan the next request (a replan); absent: no plan in the result'),
  /** Edgent-style truncated plan: only this exit answers. */
  exit: z.number().int().nonnegative().optional(),
  debug: z
    .boolean()
    .optional()
    .describe(
      "ask for the next plan's reason, estimate and context seen, and the backend's load, in the result",
    ),
});
export type OffloadMessage = z.infer<typeof offloadMessageSchema>;

export const resultStatusSchema = z.enum(['done', 'cancelled', 'failed']);
export type ResultStatus = z.infer<typeof resultStatusSchema>;

export const resultMessageSchema = z.object({
  v: z.literal(PROTOCOL_VERSION),
  requestId: requestIdSchema
    .optional()
    .describe(
      'the request answered: always from the backend, omitted by the edge (the HTTP exchange pairs them)',
    ),
  status: resultStatusSchema,
  /** Index into the manifest's exits of the exit that answered; null unless done. */
  exit: z.number().int().nonnegative().nullable(),
  label: z.number().int().nonnegative().nullable(),
  confidence: z.number().min(0).max(1).nullable(),
  /** Backend compute time (blocks + exits) and time spent queued before it, ms. */
  serverMs: z.number().nonnegative(),
  queueMs: z.number().nonnegative(),
  /** Blocks the server ran before it stopped (answered or cancelled). */
  blocksRun: z.number().int().nonnegative(),
  error: z.string().max(2000).optional(),
  /** The plan the edge suggests for the client's next request; absent when it equals the plan this offload ran. */
  plan: planSchema.nullable().optional(),
  /** Backend load when it answered (requests running and queued, worker slots), for the scheduler; edge: on debug. */
  load: z
    .object({
      busy: z.number().int().nonnegative(),
      queued: z.number().int().nonnegative(),
      workers: z.number().int().positive(),
    })
    .optional(),
});
export type ResultMessage = z.infer<typeof resultMessageSchema>;

/** Body of `POST /v1/plan` (JSON): a first plan, or a refresh while the client runs without offloading. */
export const planRequestSchema = z.object({
  modelId: z.string().min(1).max(64),
  context: clientContextSchema.default({}),
  sla: slaSchema.optional(),
});
export type PlanRequest = z.infer<typeof planRequestSchema>;

export type WireMessage = OffloadMessage | ResultMessage;

function check<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const r = schema.safeParse(value);
  if (!r.success) {
    throw new WireError(validationMessage(what, r.error.issues));
  }
  return r.data;
}

export function decodeOffload(body: Uint8Array): OffloadMessage {
  return check(offloadMessageSchema, unpack(body), 'offload');
}

export function decodeResult(body: Uint8Array): ResultMessage {
  return check(resultMessageSchema, unpack(body), 'result');
}

export type { EncodedTensor };
