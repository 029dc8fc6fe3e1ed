// Turns an evaluation's records into its numbers: per point every system's summary, SPINN against the best
// baseline (mean and p95, with paired 95 % bootstrap CIs), the component costs from the probes and the
// pre-registered oracle; per K the shared server's SLA-meeting throughput and server compute per answer; per
// failure scenario the on-time share. Pure: `--from` re-runs it on saved records.

import { accuracyDeltaAt, codecOptionsBySplit } from '../../core/codec-options.js';
import { DEFAULT_ACCURACY_BUDGET_PP } from '../../core/codec-choice.js';
import { shouldExit } from '../../core/exit-policy.js';
import type { ModelManifest } from '../../core/manifest.js';
import { costModel } from '../../core/plan-estimator.js';
import { pairedBootstrapCi } from './bootstrap.js';
import { componentCosts } from './component-costs.js';
import type { EvalConfig } from './config.js';
import type { RequestRecord } from './device-protocol.js';
import type { PointRecords } from './experiments/grid.js';
import type { ResilienceRun, Scenario } from './experiments/resilience.js';
import type { SharedRun } from './experiments/shared-server.js';
import type { GridPoint } from './grid.js';
import { oracle, pricedPlans, type ComponentCosts, type ImageExits, type OracleResult } from './oracle.js';
import { PROBES, SPINN } from './policies.js';
import { latencies, mean, p95, quantile, summarize, type Stat, type Summary } from './stats.js';

export interface PointResult {
  point: GridPoint;
  slaKind: PointRecords['slaKind'];
  device: string;
  summaries: Record<string, Summary>;
  /** The baseline with the lowest mean (and p95), and SPINN's ratios to it with paired bootstrap CIs. */
  bestMean: string;
  bestP95: string;
  spinnVsBestMean: number;
  spinnVsBestMeanCi: [number, number];
  spinnVsBestP95: number;
  spinnVsBestP95Ci: [number, number];
  /** SPINN's most common split, and whether it lies strictly inside the network. */
  spinnSplit: number;
  spinnSplitInside: boolean;
  costs?: ComponentCosts;
  oracle?: OracleResult;
  /** SPINN's own plans priced the oracle's way (execution = measured / this, foresight = this / oracle). */
  spinnPricedMs?: number;
  spinnVsOracle?: number;
}

/** Bytes the client sends at a split under a threshold: the smallest codec within its default accuracy budget. */
export function clientBytes(manifest: ModelManifest): (split: number, threshold: number) => number {
  const options = codecOptionsBySplit(manifest);
  return (split, threshold) =>
    Math.min(
      ...(options.get(split) ?? [])
        .filter((o) => -accuracyDeltaAt(o, threshold) * 100 <= DEFAULT_ACCURACY_BUDGET_PP)
        .map((o) => o.bytes),
    );
}

const exitRule = (c: number, t: number) => shouldExit(c, t, false);

function ratioCi(
  byRep: Record<string, RequestRecord[][]>,
  baselines: string[],
  stat: Stat,
  iterations: number,
): [number, number] {
  const systems = [SPINN, ...baselines].map((id) => byRep[id]!.map(latencies));
  return pairedBootstrapCi(systems, (s) => s[0]! / Math.min(...s.slice(1)), stat, { iterations });
}

export function analysePoint(
  p: PointRecords,
  cfg: EvalConfig,
  manifest: ModelManifest,
  exits: (image: number) => ImageExits,
): PointResult {
  const ids = Object.keys(p.records).filter((id) => !(PROBES as string[]).includes(id));
  const summaries = Object.fromEntries(
    ids.map((id) => [id, summarize(p.records[id]!, cfg.deadlineMs, cfg.bootstrapIterations)]),
  );
  const baselines = ids.filter((id) => id !== SPINN);
  const by = (k: 'meanMs' | 'p95Ms') =>
    baselines.reduce((a, b) => (summaries[b]![k] < summaries[a]![k] ? b : a));
  const bestMean = by('meanMs');
  const bestP95 = by('p95Ms');
  const spinn = summaries[SPINN]!;
  const spinnSplit = Number(Object.keys(spinn.splits)[0] ?? NaN);
  const nBlocks = manifest.blocks.length;
  const out: PointResult = {
    point: p.point,
    slaKind: p.slaKind,
    device: p.device,
    summaries,
    bestMean,
    bestP95,
    spinnVsBestMean: spinn.meanMs / summaries[bestMean]!.meanMs,
    spinnVsBestMeanCi: ratioCi(p.records, baselines, mean, cfg.bootstrapIterations),
    spinnVsBestP95: spinn.p95Ms / summaries[bestP95]!.p95Ms,
    spinnVsBestP95Ci: ratioCi(p.records, baselines, p95, cfg.bootstrapIterations),
    spinnSplit,
    spinnSplitInside: spinnSplit > 0 && spinnSplit < nBlocks,
  };
  const devProbe = p.records['probe: device']?.flat();
  const offProbe = p.records['probe: offload']?.flat();
  if (!devProbe?.length || !offProbe?.length) return out;
  const costs = componentCosts(manifest, devProbe, offProbe, p.point.mbps);
  const spinnRecords = p.records[SPINN]!.flat().filter((r) => r.answered);
  const input = {
    model: costModel(manifest),
    costs,
    samples: spinnRecords.map((r) => exits(r.image)),
    bytesAt: clientBytes(manifest),
    shouldExit: exitRule,
  };
  const o = oracle({ ...input, accuracyLossPp: cfg.accuracyLossPp });
  const spinnPricedMs = pricedPlans(input, spinnRecords);
  return { ...out, costs, oracle: o, spinnPricedMs, spinnVsOracle: mean(latencies(spinnRecords)) / o.meanMs };
}

export interface SharedResult {
  clients: number;
  policy: string;
  /** Answers within the deadline per second, summed over the clients. */
  onTimeRps: number;
  answeredRps: number;
  /** Server compute per answered request, ms. */
  serverMsPerAnswer: number;
  meanMs: number;
  p95Ms: number;
}

export function analyseShared(runs: readonly SharedRun[], deadlineMs: number): SharedResult[] {
  return runs.map((r) => {
    const rate = (f: (x: RequestRecord) => boolean) =>
      r.perClient.reduce((a, c) => a + (c.records.filter(f).length / c.wallMs) * 1000, 0);
    const all = r.perClient.flatMap((c) => c.records);
    const answered = all.filter((x) => x.answered);
    return {
      clients: r.clients,
      policy: r.policy,
      onTimeRps: rate((x) => x.answered && x.totalMs <= deadlineMs),
      answeredRps: rate((x) => x.answered),
      serverMsPerAnswer: answered.reduce((a, x) => a + (x.serverMs ?? 0), 0) / answered.length,
      meanMs: mean(latencies(all)),
      p95Ms: quantile(latencies(all), 0.95),
    };
  });
}

export interface ResilienceResult {
  scenario: Scenario;
  system: string;
  answeredShare: number;
  onTimeShare: number;
  accuracy: number;
  p50Ms: number;
  p99Ms: number;
  decidedBy: Record<string, number>;
}

export function analyseResilience(runs: readonly ResilienceRun[], slaMs: number): ResilienceResult[] {
  return runs.map((r) => {
    const s = summarize([r.records], slaMs, 0);
    return {
      scenario: r.scenario,
      system: r.system,
      answeredShare: s.answeredShare,
      onTimeShare: s.onTimeShare,
      accuracy: s.accuracy,
      p50Ms: s.p50Ms,
      p99Ms: s.p99Ms,
      decidedBy: s.decidedBy,
    };
  });
}
