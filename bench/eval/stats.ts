// Summaries of one system's requests at one point: mean and p95 latency with 95 % bootstrap CIs over the
// repetitions, on-time accuracy (an answer after the deadline counts as wrong), server time, and the distribution
// of the plans (split/threshold) it ran — the numbers every table and figure of the evaluation is made of.

import { clusterBootstrapCi } from './bootstrap.js';
import type { RequestRecord } from './device-protocol.js';

export type Stat = (xs: readonly number[]) => number;

/** Nearest-rank quantile (the q-th value of the sorted sample; 0.5 = median); NaN when empty. */
export function quantile(xs: readonly number[], q: number): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
}

export const mean: Stat = (xs) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);
export const p95: Stat = (xs) => quantile(xs, 0.95);

export interface Summary {
  n: number;
  answeredShare: number;
  accuracy: number;
  /** Answered, correct and within the deadline. */
  onTimeAccuracy: number;
  /** Answered within the deadline. */
  onTimeShare: number;
  meanMs: number;
  meanCi: [number, number];
  p50Ms: number;
  p95Ms: number;
  p95Ci: [number, number];
  p99Ms: number;
  /** Server compute per request (0 for requests the server did not run), ms. */
  serverMsPerRequest: number;
  offloadShare: number;
  /** Share of requests per plan "split/threshold", most common first. */
  plans: Record<string, number>;
  /** Share of requests per split. */
  splits: Record<string, number>;
  decidedBy: Record<string, number>;
}

const share = <T>(xs: readonly T[], key: (x: T) => string): Record<string, number> => {
  const counts = new Map<string, number>();
  for (const x of xs) counts.set(key(x), (counts.get(key(x)) ?? 0) + 1);
  return Object.fromEntries(
    [...counts.entries()].sort((a, b) => b[1] - a[1]).map(([k, c]) => [k, c / xs.length]),
  );
};

export const latencies = (records: readonly RequestRecord[]) => records.map((r) => r.totalMs);

/** Summary of one system at one point; `byRep[r]` holds repetition r's requests. */
export function summarize(
  byRep: readonly (readonly RequestRecord[])[],
  deadlineMs: number,
  bootstrapIterations = 2000,
): Summary {
  const all = byRep.flat();
  const answered = all.filter((r) => r.answered);
  const t = latencies(all);
  const onTime = (r: RequestRecord) => r.answered && r.totalMs <= deadlineMs;
  const ms = byRep.map(latencies);
  const o = { iterations: bootstrapIterations };
  return {
    n: all.length,
    answeredShare: all.length ? answered.length / all.length : NaN,
    accuracy: all.length ? all.filter((r) => r.correct).length / all.length : NaN,
    onTimeAccuracy: all.length ? all.filter((r) => onTime(r) && r.correct).length / all.length : NaN,
    onTimeShare: all.length ? all.filter(onTime).length / all.length : NaN,
    meanMs: mean(t),
    meanCi: clusterBootstrapCi(ms, mean, o),
    p50Ms: quantile(t, 0.5),
    p95Ms: p95(t),
    p95Ci: clusterBootstrapCi(ms, p95, o),
    p99Ms: quantile(t, 0.99),
    serverMsPerRequest: mean(all.map((r) => r.serverMs ?? 0)),
    offloadShare: all.length ? all.filter((r) => r.bytesSent > 0).length / all.length : NaN,
    plans: share(all, (r) => `${r.split}/${r.threshold}`),
    splits: share(all, (r) => String(r.split)),
    decidedBy: share(all, (r) => r.decidedBy),
  };
}

/** The most common plan, e.g. "28/0.85". */
export const modalPlan = (s: Summary): string => Object.keys(s.plans)[0] ?? '-';
