// Enumerates a policy's candidate plans with their estimates. Generation order is the scheduler's last tie-break:
// split ascending, then threshold descending (or exit ascending), then bits descending.

import { estimatePlan, estimateTruncated, type CostModel, type Estimate } from './plan-estimator.js';
import type { CodecOption } from './codec-options.js';
import type { SchedulerContext } from './scheduler-context.js';
import { noExitProfile, type PolicySpec } from './scheduling-policies.js';

export interface Candidate {
  split: number;
  threshold: number;
  /** Codec for the activation; undefined for device-only plans. */
  option: CodecOption | undefined;
  /** Truncated (Edgent) plans: the one exit that answers. */
  exit?: number;
  estimate: Estimate;
}

function allowedSplits(m: CostModel, spec: PolicySpec, ctx: SchedulerContext) {
  return m.splits.filter((s) => {
    if (!ctx.serverAvailable && s.split < m.nBlocks) return false;
    if (spec.splits === 'device') return s.split === m.nBlocks;
    if (spec.splits === 'server') return s.split === 0 || (!ctx.serverAvailable && s.split === m.nBlocks);
    return true;
  });
}

export function enumerateCandidates(m: CostModel, spec: PolicySpec, ctx: SchedulerContext): Candidate[] {
  const out: Candidate[] = [];
  const splits = allowedSplits(m, spec, ctx);
  if (spec.truncated) {
    for (const s of splits) {
      for (let exit = 0; exit < m.exitAfter.length; exit++) {
        // A split after the exit's block is the same device-only plan as the device-only entry: skip duplicates.
        if (s.split < m.nBlocks && s.split > m.exitAfter[exit]!) continue;
        const options = s.options.length ? s.options : [undefined];
        for (const o of options) {
          const estimate = estimateTruncated(m, s.split, exit, o, ctx);
          out.push({ split: s.split, threshold: 1, option: o, exit, estimate });
        }
      }
    }
    return out;
  }
  const thresholds = spec.thresholds === 'all' ? m.thresholds : [noExitProfile(m)];
  for (const s of splits) {
    const options = s.options.length ? s.options : [undefined];
    for (const t of thresholds) {
      for (const o of options) {
        out.push({
          split: s.split,
          threshold: t.threshold,
          option: o,
          estimate: estimatePlan(m, s.split, t, o, ctx),
        });
      }
    }
  }
  return out;
}
