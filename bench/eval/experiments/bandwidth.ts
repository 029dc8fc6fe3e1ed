// Experiment 1 (paper Fig. 7): latency and throughput versus uplink/downlink bandwidth for SPINN and every
// baseline, at a fixed accuracy floor, each policy measured at every bandwidth in the same run.

import { measure, type EvalContext, type Measured } from '../eval-context.js';
import { EVAL_POLICIES, latencySla } from '../policies.js';

export interface BandwidthPoint {
  mbps: number;
  rttMs: number;
  results: Measured[];
}

export async function bandwidthExperiment(ctx: EvalContext): Promise<BandwidthPoint[]> {
  const out: BandwidthPoint[] = [];
  const { bandwidthsMbps, rttMs, accuracyLossPp } = ctx.cfg;
  let k = 0;
  for (const mbps of bandwidthsMbps) {
    ctx.setLink({ mbps, rttMs });
    const results: Measured[] = [];
    for (const policy of EVAL_POLICIES) {
      const m = await measure(ctx, policy, latencySla(policy, accuracyLossPp));
      results.push(m);
      ctx.log(
        `[1/6 bandwidth ${++k}/${bandwidthsMbps.length * EVAL_POLICIES.length}] ${mbps} Mbit/s ${policy}: ` +
          `mean ${m.summary.meanMs.toFixed(1)} ms, plan ${m.summary.plan}, acc ${(m.summary.accuracy * 100).toFixed(0)} %`,
      );
    }
    out.push({ mbps, rttMs, results });
  }
  return out;
}
