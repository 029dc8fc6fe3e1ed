// SPINN's dynamic scheduler: estimate every candidate plan of the policy, drop those that break a hard limit of
// the SLA, then optimise the objectives lexicographically in priority order — the i-th objective is minimised
// among the plans within `tolerance` of the best value of every earlier one. Remaining ties go to the strictly
// better plan in priority order, then to the earlier candidate (smaller split, higher threshold, more bits). When
// nothing is feasible it returns the least-violating plan and says which limits could not be met.

import { codecLabel, type CodecSpec } from './codec-spec.js';
import type { ModelManifest } from './manifest.js';
import { enumerateCandidates, type Candidate } from './plan-candidates.js';
import { costModel, type Estimate } from './plan-estimator.js';
import type { SchedulerContext } from './scheduler-context.js';
import { POLICY_SPECS, policyContext, policyObjectives, type PolicySpec } from './scheduling-policies.js';
import { objectiveOrder, type Objective, type Policy } from './sla-objectives.js';
import type { Sla, SlaLimits } from './sla.js';
import type { Plan } from './wire.js';

export interface Decision {
  policy: Policy;
  split: number;
  threshold: number;
  bits: number;
  /** Truncated (Edgent) plans only. */
  exit?: number;
  estimate: Estimate;
  feasible: boolean;
  reason: string;
  /** Candidates evaluated, and how many met every hard limit. */
  candidates: number;
  feasibleCount: number;
  /** The context as the policy saw it. */
  context: SchedulerContext;
  codec: CodecSpec;
}

/** The "smaller is better" value of an objective. */
export function metric(e: Estimate, o: Objective): number {
  switch (o) {
    case 'latency':
      return e.latencyMs;
    case 'throughput':
      return -e.throughputRps;
    case 'serverCost':
      return e.serverCostMs;
    case 'deviceCost':
      return e.deviceCostMs;
    case 'accuracy':
      return 1 - e.accuracy;
  }
}

const excess = (value: number, limit: number) => Math.max(0, value - limit) / Math.max(Math.abs(limit), 1e-6);

/** Relative amount by which an estimate breaks the limits (0 = feasible), summed over limits. */
export function violation(e: Estimate, l: SlaLimits, bestAccuracy: number): number {
  let v = 0;
  if (l.maxLatencyMs !== undefined) v += excess(e.latencyMs, l.maxLatencyMs);
  if (l.minThroughputRps !== undefined) v += excess(l.minThroughputRps, e.throughputRps);
  if (l.maxServerCostMs !== undefined)
    v += Math.max(0, e.serverCostMs - l.maxServerCostMs) / Math.max(l.maxServerCostMs, 1);
  if (l.maxDeviceCostMs !== undefined)
    v += Math.max(0, e.deviceCostMs - l.maxDeviceCostMs) / Math.max(l.maxDeviceCostMs, 1);
  if (l.minAccuracy !== undefined) v += excess(l.minAccuracy, e.accuracy);
  if (l.maxAccuracyLossPp !== undefined)
    v +=
      Math.max(0, (bestAccuracy - e.accuracy) * 100 - l.maxAccuracyLossPp) /
      Math.max(l.maxAccuracyLossPp, 0.1);
  return v;
}

const EPS = 1e-9;

/**
 * Lexicographic choice among `pool` (non-empty): narrows by each objective with relative `tolerance`, then picks
 * the strictly smallest in order, first candidate on exact ties. Returns the index into `pool`.
 */
export function lexicographicPick(
  pool: readonly Candidate[],
  order: readonly Objective[],
  tolerance: number,
): number {
  // Survivors are compacted in place in one index buffer: this runs for every request over thousands of plans.
  const idx = new Int32Array(pool.length);
  for (let i = 0; i < idx.length; i++) idx[i] = i;
  let n = idx.length;
  for (const o of order) {
    let best = Infinity;
    for (let k = 0; k < n; k++) best = Math.min(best, metric(pool[idx[k]!]!.estimate, o));
    const bound = best + tolerance * Math.abs(best) + EPS;
    let kept = 0;
    for (let k = 0; k < n; k++) if (metric(pool[idx[k]!]!.estimate, o) <= bound) idx[kept++] = idx[k]!;
    n = kept;
    if (n === 1) break;
  }
  let pick = idx[0]!;
  for (let k = 1; k < n; k++) {
    const i = idx[k]!;
    for (const o of order) {
      const a = metric(pool[i]!.estimate, o);
      const b = metric(pool[pick]!.estimate, o);
      if (a < b - EPS) pick = i;
      if (Math.abs(a - b) > EPS) break;
    }
  }
  return pick;
}

const fmt = (x: number, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : String(x));

function describeLimits(l: SlaLimits): string {
  const parts = Object.entries(l)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k} ${String(v)}`);
  return parts.length ? parts.join(', ') : 'none';
}

function describePlan(c: Candidate): string {
  const e = c.estimate;
  const what =
    c.exit !== undefined ? `split ${c.split} exit ${c.exit}` : `split ${c.split} thr ${c.threshold}`;
  return (
    `${what} ${c.option ? codecLabel(c.option.spec) : 'device'}: latency ${fmt(e.latencyMs)} ms, ` +
    `acc ${fmt(e.accuracy * 100)}%, device ${fmt(e.deviceCostMs)} ms, server ${fmt(e.serverCostMs)} ms, ` +
    `${fmt(e.throughputRps, 0)} rps, offload ${fmt(e.offloadProbability * 100, 0)}%`
  );
}

/** Which limits even the best candidate on that single limit cannot meet. */
function unmetLimits(cands: readonly Candidate[], l: SlaLimits, bestAccuracy: number): string {
  const out: string[] = [];
  for (const [key, value] of Object.entries(l)) {
    if (value === undefined) continue;
    const only = { [key]: value } as SlaLimits;
    if (cands.every((c) => violation(c.estimate, only, bestAccuracy) > 0))
      out.push(`${key} ${String(value)}`);
  }
  return out.join(', ') || 'their combination';
}

export interface ScheduleInput {
  manifest: ModelManifest;
  sla: Sla;
  context: SchedulerContext;
  /**
   * The client runs nothing locally (POST /v1/classify): only split 0 is a candidate, whatever the policy would
   * otherwise consider; its thresholds and objectives still apply.
   */
  serverOnly?: boolean;
}

/** Chooses the plan for one request. Pure; throws only for a manifest without a profile. */
export function schedule({ manifest, sla, context, serverOnly }: ScheduleInput): Decision {
  const m = costModel(manifest);
  const spec: PolicySpec = serverOnly
    ? { ...POLICY_SPECS[sla.policy], splits: 'server' }
    : POLICY_SPECS[sla.policy];
  const ctx = policyContext(spec, context);
  const { priority, limits } = policyObjectives(spec, sla);
  const order = objectiveOrder(priority);
  const cands = enumerateCandidates(m, spec, ctx);
  if (cands.length === 0) throw new Error(`policy ${sla.policy} has no candidate plans for ${manifest.id}`);

  const v = new Float64Array(cands.length);
  const feasible: Candidate[] = [];
  let least = Infinity;
  for (let i = 0; i < cands.length; i++) {
    const x = (v[i] = violation(cands[i]!.estimate, limits, m.bestAccuracy));
    if (x === 0) feasible.push(cands[i]!);
    least = Math.min(least, x);
  }
  let pool = feasible;
  if (pool.length === 0) pool = cands.filter((_, i) => v[i]! <= least + EPS);
  const chosen = pool[lexicographicPick(pool, order, sla.tolerance)]!;
  const head =
    `${sla.policy}: ${feasible.length}/${cands.length} feasible (limits: ${describeLimits(limits)}); ` +
    `order ${priority.join('>')} tol ${sla.tolerance}` +
    (ctx.serverAvailable ? '' : '; server unreachable, device plans only');
  const reason = feasible.length
    ? `${head}; chose ${describePlan(chosen)}`
    : `${head}; INFEASIBLE: cannot meet ${unmetLimits(cands, limits, m.bestAccuracy)}; least-violating ${describePlan(chosen)}`;
  return {
    policy: sla.policy,
    split: chosen.split,
    threshold: chosen.threshold,
    bits: chosen.option?.bits ?? 32,
    ...(chosen.exit !== undefined ? { exit: chosen.exit } : {}),
    estimate: { ...chosen.estimate }, // the candidate list is reused by the next decision
    feasible: feasible.length > 0,
    reason: reason.slice(0, 500),
    candidates: cands.length,
    feasibleCount: feasible.length,
    context: ctx,
    codec: chosen.option?.spec ?? { scheme: 'fp32' },
  };
}

/** The decision as the plan carried on the wire (result.plan and POST /v1/plan). */
export function decisionToPlan(d: Decision): Plan {
  return {
    split: d.split,
    threshold: d.threshold,
    codec: d.codec,
    reason: d.reason,
    bits: d.bits,
    ...(d.exit !== undefined ? { exit: d.exit } : {}),
    policy: d.policy,
    feasible: d.feasible,
    estimate: { ...d.estimate, throughputRps: Math.min(d.estimate.throughputRps, 1e9) },
    seen: { ...d.context },
  };
}
