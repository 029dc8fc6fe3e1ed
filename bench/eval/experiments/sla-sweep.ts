// Experiment 3 (paper Fig. 9): accuracy and server time under a range of latency SLAs. Each policy is asked for the
// most accurate plan within the deadline (then the cheapest for the server); we measure what it really achieved.

import type { Policy } from '../../../core/sla.js';
import { measure, type EvalContext, type Measured } from '../eval-context.js';
import { accuracySla } from '../policies.js';

export const SLA_POLICIES: Policy[] = ['spinn', 'neurosurgeon', 'edgent'];

export interface SlaPoint {
  slaMs: number;
  results: Measured[];
}

export async function slaExperiment(ctx: EvalContext): Promise<SlaPoint[]> {
  ctx.setLink(ctx.cfg.slaLink);
  const out: SlaPoint[] = [];
  let k = 0;
  for (const slaMs of ctx.cfg.slaMs) {
    const results: Measured[] = [];
    for (const policy of SLA_POLICIES) {
      const m = await measure(ctx, policy, accuracySla(policy, slaMs), { n: ctx.cfg.slaImages, slaMs });
      results.push(m);
      ctx.log(
        `[3/6 SLA ${++k}/${ctx.cfg.slaMs.length * SLA_POLICIES.length}] ${slaMs} ms ${policy}: ` +
          `acc ${(m.summary.accuracy * 100).toFixed(1)} %, within SLA ${((m.summary.withinSlaShare ?? 0) * 100).toFixed(0)} %, plan ${m.summary.plan}`,
      );
    }
    out.push({ slaMs, results });
  }
  return out;
}
