// Markdown building blocks of bench/RESULTS.md: tables, numbers with confidence intervals, plan distributions.

import type { Summary } from './stats.js';

export const f1 = (x: number | undefined) => (x !== undefined && Number.isFinite(x) ? x.toFixed(1) : '-');
export const f2 = (x: number | undefined) => (x !== undefined && Number.isFinite(x) ? x.toFixed(2) : '-');
export const pct = (x: number | undefined) =>
  x !== undefined && Number.isFinite(x) ? `${(x * 100).toFixed(1)} %` : '-';

export const withCi = (x: number, ci: [number, number], f = f1) => `${f(x)} [${f(ci[0])}, ${f(ci[1])}]`;

export function table(head: string[], rows: Array<Array<string | number>>): string {
  return [
    `| ${head.join(' | ')} |`,
    `|${head.map(() => '---').join('|')}|`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
}

/** The most common plans with their shares, e.g. "28/0.85 70 %, 5/0.85 30 %". */
export function planMix(s: Summary, top = 3): string {
  const entries = Object.entries(s.plans);
  const shown = entries
    .slice(0, top)
    .map(([k, v]) => `${k} ${(v * 100).toFixed(0)} %`)
    .join(', ');
  return entries.length > top ? `${shown}, …` : shown;
}

/** The per-system columns of a point's detail table. */
export const summaryCells = (s: Summary) => [
  withCi(s.meanMs, s.meanCi),
  withCi(s.p95Ms, s.p95Ci),
  pct(s.onTimeAccuracy),
  pct(s.accuracy),
  f1(s.serverMsPerRequest),
  pct(s.offloadShare),
  planMix(s),
];

export const SUMMARY_HEAD = [
  'mean ms [95 % CI]',
  'p95 ms [95 % CI]',
  'on-time accuracy',
  'accuracy',
  'server ms/req',
  'offloaded',
  'plans (split/thr)',
];
