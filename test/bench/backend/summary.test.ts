// bench:backend's arithmetic: ratios are taken within each round before the median, so a round where the machine
// was slow for everyone does not move them; the headline is the worse split; medians of even counts average.

import { describe, expect, it } from 'vitest';
import { median, summarizeCells, type Cell, type Mode } from '../../../bench/backend/summary.js';

const cell = (
  round: number,
  split: number,
  mode: Mode,
  concurrency: number,
  rps: number,
  p99 = 10,
): Cell => ({
  round,
  split,
  mode,
  concurrency,
  throughputRps: rps,
  // 100 latencies whose p99 is `p99`.
  latenciesMs: Array.from({ length: 100 }, (_, i) => (i === 99 ? p99 : 1)),
  failures: 0,
  clientCpuMsPerRequest: 0.1,
  serverCpuMsPerRequest: 1000 / rps,
});

describe('bench:backend summary', () => {
  it('takes ratios within rounds, medians over rounds, and the worse split as the headline', () => {
    const cells: Cell[] = [];
    // Round 1 ran on a machine twice as slow: its absolute numbers halve, its ratios do not change.
    for (const [round, f] of [
      [0, 1],
      [1, 0.5],
      [2, 1],
    ] as const) {
      cells.push(cell(round, 0, 'batched', 32, 300 * f, 20), cell(round, 0, 'unbatched', 32, 200 * f, 40));
      cells.push(cell(round, 0, 'ceiling', 32, 400 * f));
      cells.push(cell(round, 20, 'batched', 32, 900 * f, 10), cell(round, 20, 'unbatched', 32, 1000 * f, 10));
      cells.push(cell(round, 20, 'ceiling', 32, 1500 * f));
    }
    const s = summarizeCells(cells, [0, 20], [32]);
    expect(s.bySplit[0]).toMatchObject({
      speedupAt32: { median: 1.5, min: 1.5, max: 1.5 },
      ceilingShareAt32: { median: 0.75 },
      p99RatioAt32: { median: 0.5 },
    });
    expect(s.bySplit[1]!.speedupAt32.median).toBeCloseTo(0.9, 10);
    expect(s.json).toMatchObject({ speedupAt32: 0.9, ceilingShareAt32: 0.6, p99RatioAt32: 1 });
    // CPU per request here is 1000 / rps: the CPU ratios follow the wall ones.
    expect(s.bySplit[0]!.cpuSpeedupAt32.median).toBeCloseTo(1.5, 10);
    expect(s.json.cpuCeilingShareAt32).toBeCloseTo(0.6, 10);
    const row = s.rows.find((r) => r.split === 0 && r.mode === 'batched')!;
    expect(row.throughputRps).toBe(300);
    expect(row.spread).toBeCloseTo(0.5, 10);
  });

  it('averages the middle two of an even count', () => {
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([5, 1, 3])).toBe(3);
  });
});
