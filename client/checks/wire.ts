// The client's check of what the edge answers: the result of an offload (msgpack) and the plans it suggests (in a
// result, or from `POST /v1/plan`). zod/mini mirrors of core/wire.ts's planSchema and resultMessageSchema (and
// core/codec-spec.ts's codecSpecSchema); see ./mini.ts for why and for the test that keeps them equal.

import type { CodecSpec } from '../../core/codec-spec.js';
import { validationMessage } from '../../core/public-error.js';
import type { Plan, ResultMessage } from '../../core/wire.js';
import { PROTOCOL_VERSION, unpack, WireError } from '../../core/wire-envelope.js';
import * as z from 'zod/mini';
import { PARSE_OPTIONS, type Same } from './mini.js';

const int = () => z.number().check(z.int());
const nonNegativeInt = () => z.number().check(z.int(), z.nonnegative());
const quantBits = z.union([z.literal(4), z.literal(6), z.literal(8)]);

export const codecSpecSchema = z.discriminatedUnion('scheme', [
  z.object({ scheme: z.literal('fp32') }),
  z.object({ scheme: z.literal('u8') }),
  z.object({ scheme: z.literal('lossless') }),
  z.object({
    scheme: z.literal('quant'),
    bits: quantBits,
    granularity: z.optional(z.enum(['tensor', 'channel'])),
  }),
]);

export const planSchema = z.object({
  split: nonNegativeInt(),
  threshold: z.number().check(z.minimum(0), z.maximum(1)),
  codec: codecSpecSchema,
  reason: z.optional(z.string().check(z.maxLength(500))),
  bits: z.optional(int().check(z.positive(), z.maximum(32))),
  exit: z.optional(nonNegativeInt()),
  policy: z.optional(z.string().check(z.maxLength(40))),
  feasible: z.optional(z.boolean()),
  estimate: z.optional(
    z.object({
      latencyMs: z.number(),
      throughputRps: z.number(),
      deviceCostMs: z.number(),
      serverCostMs: z.number(),
      accuracy: z.number(),
      offloadProbability: z.number(),
      uploadBytes: z.number(),
    }),
  ),
  seen: z.optional(
    z.object({
      deviceScale: z.number(),
      bandwidthBps: z.number(),
      rttMs: z.number(),
      offloadOverheadMs: z.optional(z.number()),
      serverScale: z.number(),
      serverLoad: z.number(),
      serverAvailable: z.boolean(),
    }),
  ),
});

export const resultMessageSchema = z.object({
  v: z.literal(PROTOCOL_VERSION),
  requestId: z.optional(
    z.string().check(z.regex(/^[A-Za-z0-9_-]{8,64}$/, 'request id must be 8-64 characters of [A-Za-z0-9_-]')),
  ),
  status: z.enum(['done', 'cancelled', 'failed']),
  exit: z.nullable(nonNegativeInt()),
  label: z.nullable(nonNegativeInt()),
  confidence: z.nullable(z.number().check(z.minimum(0), z.maximum(1))),
  serverMs: z.number().check(z.nonnegative()),
  queueMs: z.number().check(z.nonnegative()),
  blocksRun: nonNegativeInt(),
  error: z.optional(z.string().check(z.maxLength(2000))),
  plan: z.optional(z.nullable(planSchema)),
  load: z.optional(
    z.object({
      busy: nonNegativeInt(),
      queued: nonNegativeInt(),
      workers: int().check(z.positive()),
    }),
  ),
});

/** A plan the edge suggested (JSON of `POST /v1/plan`, or inside a result); throws a WireError. */
export function parsePlan(value: unknown): Plan {
  const r = planSchema.safeParse(value, PARSE_OPTIONS);
  if (!r.success) throw new WireError(validationMessage('plan', r.error.issues));
  return r.data;
}

/** Decodes and checks a result body, as core's decodeResult does (a WireError saying what was wrong). */
export function decodeResult(body: Uint8Array): ResultMessage {
  const r = resultMessageSchema.safeParse(unpack(body), PARSE_OPTIONS);
  if (!r.success) throw new WireError(validationMessage('result', r.error.issues));
  return r.data;
}

// The mirrors must describe core's types exactly (the test compares their JSON Schemas too).
const typesMatch: [
  Same<z.infer<typeof planSchema>, Plan>,
  Same<z.infer<typeof codecSpecSchema>, CodecSpec>,
  Same<z.infer<typeof resultMessageSchema>, ResultMessage>,
] = [true, true, true];
void typesMatch;
