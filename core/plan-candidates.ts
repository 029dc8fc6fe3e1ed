// Enumerates a policy's candidate plans with their estimates. Generation order is the scheduler's last tie-break:
// split ascending, then threshold descending (or exit ascending), then bits descending.
//
// Decisions are on every request's path, so the context-independent part of each candidate — its ⟨split,
// threshold, codec⟩, the codec-independent base of its estimate and its accuracy — is built once per model and
// policy shape and cached; a decision only refills the estimates in place (no allocation per candidate). The
// returned list is therefore reused by the next call: copy what must outlive it.

import { accuracyDeltaAt, type CodecOption } from './codec-options.js';
import {
  estimateTruncated,
  fillEstimate,
  planBase,
  type CostModel,
  type Estimate,
  type PlanBase,
} from './plan-estimator.js';
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

interface CachedCandidate extends Candidate {
  /** Threshold plans: their codec-independent base and expected accuracy (codec loss included). */
  base?: PlanBase;
  accuracy?: number;
}

const blankEstimate = (): Estimate => ({
  latencyMs: 0,
  throughputRps: 0,
  deviceCostMs: 0,
  serverCostMs: 0,
  accuracy: 0,
  offloadProbability: 0,
  uploadBytes: 0,
});

function allowedSplits(m: CostModel, spec: PolicySpec, serverAvailable: boolean) {
  return m.splits.filter((s) => {
    if (!serverAvailable && s.split < m.nBlocks) return false;
    if (spec.splits === 'device') return s.split === m.nBlocks;
    if (spec.splits === 'server') return s.split === 0 || (!serverAvailable && s.split === m.nBlocks);
    return true;
  });
}

/** A split's codec options under the policy (exact ones only for 'lossless'); [undefined] for device-only. */
function optionsOf(s: CostModel['splits'][number], spec: PolicySpec): Array<CodecOption | undefined> {
  const options = spec.codecs === 'lossless' ? s.options.filter((o) => o.spec.scheme !== 'quant') : s.options;
  return options.length ? options : [undefined];
}

function build(m: CostModel, spec: PolicySpec, serverAvailable: boolean): CachedCandidate[] {
  const out: CachedCandidate[] = [];
  const splits = allowedSplits(m, spec, serverAvailable);
  if (spec.truncated) {
    for (const s of splits) {
      for (let exit = 0; exit < m.exitAfter.length; exit++) {
        // A split after the exit's block is the same device-only plan as the device-only entry: skip duplicates.
        if (s.split < m.nBlocks && s.split > m.exitAfter[exit]!) continue;
        for (const o of optionsOf(s, spec))
          out.push({ split: s.split, threshold: 1, option: o, exit, estimate: blankEstimate() });
      }
    }
    return out;
  }
  const thresholds = spec.thresholds === 'all' ? m.thresholds : [noExitProfile(m)];
  for (const s of splits) {
    const options = optionsOf(s, spec);
    for (const t of thresholds) {
      const base = planBase(m, s.split, t); // shared by every codec option of this ⟨split, threshold⟩
      for (const o of options) {
        const delta = base.pOff > 0 && o ? accuracyDeltaAt(o, t.threshold) : 0;
        out.push({
          split: s.split,
          threshold: t.threshold,
          option: o,
          base,
          accuracy: t.accuracy + delta,
          estimate: blankEstimate(),
        });
      }
    }
  }
  return out;
}

const cache = new WeakMap<CostModel, Map<string, CachedCandidate[]>>();

export function enumerateCandidates(m: CostModel, spec: PolicySpec, ctx: SchedulerContext): Candidate[] {
  let perModel = cache.get(m);
  if (!perModel) cache.set(m, (perModel = new Map()));
  const key = `${spec.splits}|${spec.thresholds}|${spec.truncated}|${spec.codecs}|${ctx.serverAvailable}`;
  let list = perModel.get(key);
  if (!list) perModel.set(key, (list = build(m, spec, ctx.serverAvailable)));
  for (const c of list) {
    if (c.base) fillEstimate(c.estimate, c.base, c.accuracy!, c.option, ctx);
    else c.estimate = estimateTruncated(m, c.split, c.exit!, c.option, ctx);
  }
  return list;
}
