// The client's check of its own SLA option (it plans with it on the device and sends it to the edge, which checks it
// again with core's schema): a zod/mini mirror of core/sla.ts's slaSchema, defaults included; see ./mini.ts.

import { OBJECTIVES, POLICIES, SlaError } from '../../core/sla-objectives.js';
import type { Sla, SlaInput } from '../../core/sla.js';
import * as z from 'zod/mini';
import { issueLines, PARSE_OPTIONS, type Same } from './mini.js';

const positive = () => z.number().check(z.positive());
const nonNegative = () => z.number().check(z.nonnegative());

export const slaLimitsSchema = z.strictObject({
  maxLatencyMs: z.optional(positive()),
  minThroughputRps: z.optional(positive()),
  maxServerCostMs: z.optional(nonNegative()),
  maxDeviceCostMs: z.optional(nonNegative()),
  minAccuracy: z.optional(z.number().check(z.minimum(0), z.maximum(1))),
  maxAccuracyLossPp: z.optional(z.number().check(z.minimum(0), z.maximum(100))),
});

export const slaSchema = z.strictObject({
  limits: z._default(slaLimitsSchema, {}),
  priority: z._default(
    z.array(z.enum(OBJECTIVES)).check(
      z.maxLength(OBJECTIVES.length),
      z.refine((p) => new Set(p).size === p.length, 'priority lists an objective twice'),
    ),
    ['latency', 'accuracy'],
  ),
  tolerance: z._default(z.number().check(z.minimum(0), z.maximum(1)), 0.01),
  policy: z._default(z.enum(POLICIES), 'spinn'),
});

/** core's parseSla on the mirror: defaults filled in, or an SlaError naming every problem. */
export function parseSla(input: unknown): Sla {
  const r = slaSchema.safeParse(input ?? {}, PARSE_OPTIONS);
  if (!r.success) throw new SlaError(issueLines(r.error.issues));
  return r.data;
}

const typesMatch: [Same<z.output<typeof slaSchema>, Sla>, Same<z.input<typeof slaSchema>, SlaInput>] = [
  true,
  true,
];
void typesMatch;
