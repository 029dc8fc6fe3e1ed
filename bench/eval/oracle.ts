// The pre-registered per-sample oracle of evaluation v2: its definition, fixed before the first v2 run, and the
// pricing it uses. RESULTS.md prints ORACLE_DEFINITION verbatim. If the definition must ever change, bump
// ORACLE_VERSION and say in bench/eval/reading.md when and why (issue 16, item 4). Pure; tested in
// test/bench/eval/oracle.test.ts.

import type { CostModel } from '../../core/plan-estimator.js';
import { mean } from './stats.js';

export const ORACLE_VERSION = 'v2 (registered 2026-11-29, before any v2 run)';

export const ORACLE_DEFINITION = [
  'For one grid point and the measured images S of all its repetitions: for every profiled threshold t whose',
  'calibration-half accuracy is within the SLA’s accuracy floor, each sample s gets the cheapest of all candidate',
  'splits (0 … n, n = every block on the device), knowing the exit e(s, t) where s leaves the network at t; the',
  'oracle is the smallest, over t, of the mean over S of these per-sample minima. A plan answered on the device',
  'costs the device’s blocks and exits up to e plus its per-request overhead; a plan offloaded at split k ≤ the',
  'block of e costs the device’s blocks and exits before k, the fixed cost of an offload, the activation’s bytes',
  '(the smallest codec within the client’s default accuracy budget) at the emulated bandwidth, and the server’s',
  'blocks and exits from k up to e. Every component is measured in the same run at that point, independently of',
  'any policy, by two probes interleaved with the policies: the whole model at threshold 1 on the device (per-block',
  'and per-exit device times; overhead = wall time − block and exit time) and split 0 at threshold 1 (fixed cost =',
  'wall time − device compute − server time − bytes / bandwidth; server per-block times = the server profile scaled',
  'to the measured server time). Reference exits come from the single exported model on onnxruntime-node.',
].join(' ');

/** What one point's probes measured; every time in ms. */
export interface ComponentCosts {
  deviceBlockMs: number[];
  deviceExitMs: number[];
  /** Device wall time per request beyond its blocks and exits (pre-processing, executor, JS). */
  deviceOverheadMs: number;
  serverBlockMs: number[];
  serverExitMs: number[];
  /** What an offload costs beyond device compute, the bytes on the link and server time. */
  fixedOffloadMs: number;
  /** Link rate, bytes per ms (the emulated bandwidth). */
  bytesPerMs: number;
}

/** Per-sample reference: top-1 confidence and correctness at every exit. */
export interface ImageExits {
  confidence: number[];
  correct: boolean[];
}

/** The exit a sample leaves at under `threshold` (the last exit when none is confident enough). */
export function exitAt(
  x: ImageExits,
  threshold: number,
  shouldExit: (c: number, t: number) => boolean,
): number {
  const last = x.confidence.length - 1;
  for (let e = 0; e < last; e++) if (shouldExit(x.confidence[e]!, threshold)) return e;
  return last;
}

const sum = (xs: readonly number[], from: number, to: number) => {
  let s = 0;
  for (let i = from; i < to; i++) s += xs[i]!;
  return s;
};

/** Exits that hang after a block before `split` (the device runs them before it offloads). */
const exitsBefore = (exitAfter: readonly number[], split: number) =>
  exitAfter.filter((b) => b < split).length;

/**
 * One sample answered at exit `e` under a plan splitting at `split` (nBlocks = device-only), `bytes` sent when it
 * offloads: the oracle's price.
 */
export function samplePlanCost(
  c: ComponentCosts,
  exitAfter: readonly number[],
  nBlocks: number,
  e: number,
  split: number,
  bytes: number,
): number {
  const lastBlock = exitAfter[e]!;
  if (split >= nBlocks || split > lastBlock)
    return sum(c.deviceBlockMs, 0, lastBlock + 1) + sum(c.deviceExitMs, 0, e + 1) + c.deviceOverheadMs;
  const nd = exitsBefore(exitAfter, split);
  const device = sum(c.deviceBlockMs, 0, split) + sum(c.deviceExitMs, 0, nd);
  const server = sum(c.serverBlockMs, split, lastBlock + 1) + sum(c.serverExitMs, nd, e + 1);
  return device + c.fixedOffloadMs + bytes / c.bytesPerMs + server;
}

export interface OracleInput {
  model: CostModel;
  costs: ComponentCosts;
  /** Reference exits of the measured samples (one entry per measured request, repeats allowed). */
  samples: readonly ImageExits[];
  /** The SLA's accuracy floor, pp below the best calibration accuracy. */
  accuracyLossPp: number;
  /** Bytes sent at a split under a threshold (the codec the client would choose). */
  bytesAt: (split: number, threshold: number) => number;
  shouldExit: (confidence: number, threshold: number) => boolean;
}

export interface OracleResult {
  meanMs: number;
  threshold: number;
  /** How often each split was the per-sample best (at the chosen threshold). */
  splits: Record<number, number>;
}

/** The pre-registered oracle (ORACLE_DEFINITION). */
export function oracle(o: OracleInput): OracleResult {
  const m = o.model;
  const splits = [...m.splits.map((s) => s.split)];
  let best: OracleResult = { meanMs: Infinity, threshold: 1, splits: {} };
  for (const t of m.thresholds) {
    if ((m.bestAccuracy - t.accuracy) * 100 > o.accuracyLossPp + 1e-9) continue;
    const chosen: Record<number, number> = {};
    const costs = o.samples.map((s) => {
      const e = exitAt(s, t.threshold, o.shouldExit);
      let bestCost = Infinity;
      let bestSplit = m.nBlocks;
      for (const k of splits) {
        // A split after the exit's block answers on the device: the device-only plan (k = n) stands for it.
        if (k < m.nBlocks && k > m.exitAfter[e]!) continue;
        const bytes = k < m.nBlocks ? o.bytesAt(k, t.threshold) : 0;
        const cost = samplePlanCost(o.costs, m.exitAfter, m.nBlocks, e, k, bytes);
        if (cost < bestCost) [bestCost, bestSplit] = [cost, k];
      }
      chosen[bestSplit] = (chosen[bestSplit] ?? 0) + 1;
      return bestCost;
    });
    const meanMs = mean(costs);
    if (meanMs < best.meanMs) best = { meanMs, threshold: t.threshold, splits: chosen };
  }
  return best;
}

/**
 * Plans a system really ran (each request's split and threshold), priced the oracle's way: measured / this is
 * execution (noise, stalls, the cost of trying plans), this / oracle is foresight (knowing each sample's exit).
 */
export function pricedPlans(
  o: Omit<OracleInput, 'accuracyLossPp'>,
  plans: ReadonlyArray<{ split: number; threshold: number }>,
): number {
  const m = o.model;
  return mean(
    plans.map((p, i) => {
      const split = Math.min(p.split, m.nBlocks);
      const e = exitAt(o.samples[i]!, p.threshold, o.shouldExit);
      const bytes = split < m.nBlocks ? o.bytesAt(split, p.threshold) : 0;
      return samplePlanCost(o.costs, m.exitAfter, m.nBlocks, e, split, bytes);
    }),
  );
}
