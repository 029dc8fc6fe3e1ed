// Summaries of measured requests: mean, median, p95/p99 latency, accuracy, server time, share within an SLA and
// throughput — the numbers every table and figure of the evaluation is made of.

import type { RequestRecord } from './device-protocol.js';

export function quantile(xs: readonly number[], q: number): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
}

export const mean = (xs: readonly number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);

export interface Summary {
  n: number;
  answeredShare: number;
  accuracy: number;
  meanMs: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  /** Requests per second one device completes back to back (closed loop). */
  throughputRps: number;
  /** Server compute per request (0 for requests the server did not run), ms. */
  serverMsPerRequest: number;
  offloadShare: number;
  withinSlaShare?: number;
  /** Most common plan, e.g. "28/0.85". */
  plan: string;
  decidedBy: Record<string, number>;
}

export function summarize(records: readonly RequestRecord[], wallMs: number, slaMs?: number): Summary {
  const answered = records.filter((r) => r.answered);
  const t = answered.map((r) => r.totalMs);
  const plans = new Map<string, number>();
  const decidedBy: Record<string, number> = {};
  for (const r of records) {
    const k = `${r.split}/${r.threshold}`;
    plans.set(k, (plans.get(k) ?? 0) + 1);
    decidedBy[r.decidedBy] = (decidedBy[r.decidedBy] ?? 0) + 1;
  }
  const plan = [...plans.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? '-';
  return {
    n: records.length,
    answeredShare: records.length ? answered.length / records.length : NaN,
    accuracy: records.length ? records.filter((r) => r.correct).length / records.length : NaN,
    meanMs: mean(t),
    p50Ms: quantile(t, 0.5),
    p95Ms: quantile(t, 0.95),
    p99Ms: quantile(t, 0.99),
    throughputRps: wallMs > 0 ? (answered.length / wallMs) * 1000 : NaN,
    serverMsPerRequest: mean(records.map((r) => r.serverMs ?? 0)),
    offloadShare: records.length ? records.filter((r) => r.bytesSent > 0).length / records.length : NaN,
    ...(slaMs !== undefined
      ? { withinSlaShare: records.filter((r) => r.answered && r.totalMs <= slaMs).length / records.length }
      : {}),
    plan,
    decidedBy,
  };
}
