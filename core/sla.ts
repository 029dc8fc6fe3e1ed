// The user's service-level agreement as the scheduler reads it: hard limits on any of SPINN's five objectives
// (latency, throughput, server cost, device cost, accuracy) and the priority order in which the feasible plans are
// optimised lexicographically, plus the policy (SPINN or one of the baselines). Validated with clear errors, because
// the SLA arrives from clients over the network.

import { z } from 'zod';
import { OBJECTIVES, POLICIES, SlaError } from './sla-objectives.js';

export {
  OBJECTIVES,
  POLICIES,
  SlaError,
  objectiveOrder,
  type Objective,
  type Policy,
} from './sla-objectives.js';

const positive = z.number().finite().positive();
const nonNegative = z.number().finite().nonnegative();

export const slaLimitsSchema = z
  .object({
    /** Expected end-to-end latency per request, ms. */
    maxLatencyMs: positive.optional(),
    /** Inferences per second the device–network–server pipeline sustains (its slowest stage). */
    minThroughputRps: positive.optional(),
    /** Expected server compute per request, ms (what the server operator pays). */
    maxServerCostMs: nonNegative.optional(),
    /** Expected device compute per request, ms (battery, heat). */
    maxDeviceCostMs: nonNegative.optional(),
    /** Lowest acceptable top-1 accuracy in [0, 1]. */
    minAccuracy: z.number().min(0).max(1).optional(),
    /** Most accuracy given up against the best plan of the model, percentage points. */
    maxAccuracyLossPp: z.number().min(0).max(100).optional(),
  })
  .strict();
export type SlaLimits = z.infer<typeof slaLimitsSchema>;

export const slaSchema = z
  .object({
    limits: slaLimitsSchema.default({}),
    /**
     * Objectives in priority order, most important first. Objectives left out follow in the default order, so the
     * result is always a total order.
     */
    priority: z
      .array(z.enum(OBJECTIVES))
      .max(OBJECTIVES.length)
      .refine((p) => new Set(p).size === p.length, 'priority lists an objective twice')
      .default(['latency', 'accuracy']),
    /**
     * Relative slack of the lexicographic order: the i-th objective is minimised among plans that are within
     * this fraction of the best value of every earlier objective. 0 = strict lexicographic order.
     */
    tolerance: z.number().min(0).max(1).default(0.01),
    policy: z.enum(POLICIES).default('spinn'),
  })
  .strict();
export type Sla = z.infer<typeof slaSchema>;
/** What callers may write: every field optional, defaults filled in by parseSla. */
export type SlaInput = z.input<typeof slaSchema>;

export const DEFAULT_SLA: Sla = slaSchema.parse({});

/** Validates an SLA (plain JSON from a client) and fills in defaults; throws SlaError naming every problem. */
export function parseSla(input: unknown): Sla {
  const r = slaSchema.safeParse(input ?? {});
  if (!r.success) {
    throw new SlaError(r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`));
  }
  return r.data;
}
