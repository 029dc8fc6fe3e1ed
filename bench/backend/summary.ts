// Turns bench:backend's measurements into its table rows and its JSON line: medians over rounds per cell, and the
// ratios (batched / unbatched, batched / ceiling, p99 batched / unbatched) taken within each round before the median,
// so drift on a shared machine cancels out of them. The spread over rounds says how noisy the run was. The same
// ratios per CPU-second of the server (cpu*) cross-check them: they barely move when other tenants take cores away.

import { quantile } from '../eval/stats.js';

/** Median (mean of the middle two for an even count). */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export type Mode = 'batched' | 'unbatched' | 'ceiling';

export interface Cell {
  round: number;
  split: number;
  /** Closed-loop clients (for the ceiling: its batch). */
  concurrency: number;
  mode: Mode;
  throughputRps: number;
  latenciesMs: number[];
  failures: number;
  clientCpuMsPerRequest: number;
  /** CPU the backend process (or, for the ceiling, the in-process threads) used per answered request, ms. */
  serverCpuMsPerRequest: number;
}

export interface Row {
  split: number;
  concurrency: number;
  mode: Mode;
  throughputRps: number;
  p50Ms: number;
  p99Ms: number;
  /** (max - min) / median of the per-round throughput. */
  spread: number;
  clientCpuMsPerRequest: number;
  serverCpuMsPerRequest: number;
  failures: number;
}

export interface Spread {
  median: number;
  min: number;
  max: number;
}

const spreadOf = (xs: number[]): Spread => ({
  median: median(xs),
  min: Math.min(...xs),
  max: Math.max(...xs),
});

function row(cells: Cell[]): Row {
  const c = cells[0]!;
  const rps = cells.map((x) => x.throughputRps);
  const med = (f: (x: Cell) => number) => median(cells.map(f));
  return {
    split: c.split,
    concurrency: c.concurrency,
    mode: c.mode,
    throughputRps: median(rps),
    p50Ms: med((x) => quantile(x.latenciesMs, 0.5)),
    p99Ms: med((x) => quantile(x.latenciesMs, 0.99)),
    spread: (Math.max(...rps) - Math.min(...rps)) / median(rps),
    clientCpuMsPerRequest: med((x) => x.clientCpuMsPerRequest),
    serverCpuMsPerRequest: med((x) => x.serverCpuMsPerRequest),
    failures: cells.reduce((a, x) => a + x.failures, 0),
  };
}

export function summarizeCells(cells: Cell[], splits: number[], concurrency: number[]) {
  const groups = new Map<string, Cell[]>();
  for (const c of cells) {
    const k = `${c.split}/${c.mode}/${c.concurrency}`;
    groups.set(k, [...(groups.get(k) ?? []), c]);
  }
  const rows = [...groups.values()].map(row);
  const top = Math.max(...concurrency);
  const rounds = [...new Set(cells.map((c) => c.round))];
  const bySplit = splits.map((split) => {
    const at = (round: number, mode: Mode, conc?: number) =>
      cells.find(
        (c) =>
          c.round === round &&
          c.split === split &&
          c.mode === mode &&
          (conc === undefined || c.concurrency === conc),
      )!;
    const perRound = rounds.map((r) => {
      const b = at(r, 'batched', top);
      const u = at(r, 'unbatched', top);
      const c = at(r, 'ceiling');
      return {
        speedup: b.throughputRps / u.throughputRps,
        share: b.throughputRps / c.throughputRps,
        p99: quantile(b.latenciesMs, 0.99) / quantile(u.latenciesMs, 0.99),
        // The same two ratios in requests per CPU-second: what other tenants of the machine do moves them little.
        cpuSpeedup: u.serverCpuMsPerRequest / b.serverCpuMsPerRequest,
        cpuShare: c.serverCpuMsPerRequest / b.serverCpuMsPerRequest,
      };
    });
    return {
      split,
      speedupAt32: spreadOf(perRound.map((p) => p.speedup)),
      ceilingShareAt32: spreadOf(perRound.map((p) => p.share)),
      p99RatioAt32: spreadOf(perRound.map((p) => p.p99)),
      cpuSpeedupAt32: spreadOf(perRound.map((p) => p.cpuSpeedup)),
      cpuCeilingShareAt32: spreadOf(perRound.map((p) => p.cpuShare)),
    };
  });
  const pick = (k: 'speedupAt32' | 'ceilingShareAt32') => Math.min(...bySplit.map((s) => s[k].median));
  const json = {
    // The worst split decides the headline numbers.
    speedupAt32: pick('speedupAt32'),
    ceilingShareAt32: pick('ceilingShareAt32'),
    p99RatioAt32: Math.max(...bySplit.map((s) => s.p99RatioAt32.median)),
    cpuSpeedupAt32: Math.min(...bySplit.map((s) => s.cpuSpeedupAt32.median)),
    cpuCeilingShareAt32: Math.min(...bySplit.map((s) => s.cpuCeilingShareAt32.median)),
    concurrencyTop: top,
    bySplit: Object.fromEntries(
      bySplit.map((s) => [
        s.split,
        {
          speedupAt32: s.speedupAt32,
          ceilingShareAt32: s.ceilingShareAt32,
          p99RatioAt32: s.p99RatioAt32,
          cpuSpeedupAt32: s.cpuSpeedupAt32,
          cpuCeilingShareAt32: s.cpuCeilingShareAt32,
          rows: rows.filter((r) => r.split === s.split).map(({ split: _s, ...r }) => r),
        },
      ]),
    ),
  };
  return { rows, bySplit, json };
}
